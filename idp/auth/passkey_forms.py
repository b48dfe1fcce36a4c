"""The passkey forms. The page's script puts the authenticator's answer, as JSON, in the hidden `credential`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

NAME_MAX = 64


def _name_field() -> StringField:
    return StringField(
        _l("Name your passkey"),
        description=_l("So you can tell your passkeys apart, for example ‘My phone’ or ‘Work laptop’."),
        widget=GovTextInput(),
        filters=[lambda v: " ".join((v or "").split())],
        validators=[
            DataRequired(message=_l("Enter a name for your passkey")),
            Length(max=NAME_MAX, message=_l("The name must be 64 characters or fewer")),
        ],
    )


class PasskeyAssertionForm(FlaskForm):
    credential = HiddenField(validators=[DataRequired(message=_l("Use your passkey to continue"))])
    submit = SubmitField(_l("Use your passkey"), widget=GovSubmitInput())


class NewPasskeyForm(FlaskForm):
    name = _name_field()
    credential = HiddenField(validators=[DataRequired(message=_l("Create your passkey to continue"))])
    submit = SubmitField(_l("Create a passkey"), widget=GovSubmitInput())


class RenamePasskeyForm(FlaskForm):
    name = _name_field()
    submit = SubmitField(_l("Save"), widget=GovSubmitInput())


class RemovePasskeyForm(FlaskForm):
    password = PasswordField(_l("Enter your password to remove this passkey"), widget=GovPasswordInput())
    submit = SubmitField(_l("Remove passkey"), widget=GovSubmitInput())


class SkipForm(FlaskForm):
    submit = SubmitField(_l("Not now"), widget=GovSubmitInput())
