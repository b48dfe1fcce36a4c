"""GOV.UK Frontend's widgets carry English of their own (the hidden "Error:" before an inline error, the password
show/hide button, the date boxes); the provider shadows those templates so they follow the citizen's language."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovPasswordInput, GovTextInput
from wtforms import DateField, PasswordField, StringField
from wtforms.validators import DataRequired


class _SampleForm(FlaskForm):
    name = StringField("Name", widget=GovTextInput(), validators=[DataRequired(message="required")])
    secret = PasswordField("Secret", widget=GovPasswordInput())
    born = DateField("Born", widget=GovDateInput(), format="%d %m %Y")


WORDS = {
    "en": {
        "error": '<span class="govuk-visually-hidden">Error:</span> required',
        "show": 'data-i18n.show-password="Show"',
        "announce": 'data-i18n.password-shown-announcement="Your password is visible"',
    },
    "cy": {
        "error": '<span class="govuk-visually-hidden">Gwall:</span> required',
        "show": 'data-i18n.show-password="Dangos"',
        "announce": 'data-i18n.password-shown-announcement="Mae eich cyfrinair yn weladwy"',
    },
}
DATE_BOXES = {"en": ("Day", "Month", "Year"), "cy": ("Diwrnod", "Mis", "Blwyddyn")}


@pytest.mark.parametrize("locale", ["en", "cy"])
def test_widgets_speak_the_citizens_language(app: Flask, locale: str) -> None:
    words = WORDS[locale]
    with app.test_request_context(f"/?lang={locale}", method="POST", data={"born": ["1", "2", "1990"]}):
        form = _SampleForm(meta={"csrf": False})
        assert not form.validate()
        html = str(form.name()) + str(form.secret()) + str(form.born())
    assert words["error"] in html
    assert words["show"] in html and words["announce"] in html
    labels = re.findall(r'<label class="govuk-label govuk-date-input__label" for="born-\w+">\s*(.*?)\s*</label>', html)
    assert tuple(labels) == DATE_BOXES[locale]
    assert 'value="1990"' in html, "the date widget still shows what was entered"
