"""The proving journey's forms. A check's page is built from the fields its issuer declares, so adding a check
needs no new template."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovRadioInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import Field, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired

from idp.identity.proving_journey import DOCUMENT_APP, NO_PHOTO_ID, WEB_DRIVING_LICENCE, WEB_PASSPORT


@dataclass(frozen=True)
class FieldSpec:
    """One question a check asks: `kind` is "text", "date", "radios" or "select"; texts are already translated."""

    name: str
    label: str
    kind: str = "text"
    hint: str | None = None
    options: Sequence[tuple[str, str]] = field(default_factory=tuple)
    required_message: str | None = None
    autocomplete: str | None = None


class TranslatedDateInput(GovDateInput):
    """govuk-frontend-wtf writes "Day", "Month" and "Year" in English; these follow the page's language."""

    def map_gov_params(self, field: Field, **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = super().map_gov_params(field, **kwargs)
        for item, label in zip(params.get("items", []), (_l("Day"), _l("Month"), _l("Year")), strict=False):
            item["label"] = str(label)
        return params


class DateOfThreeParts(Field):
    """Day, month and year as GOV.UK asks for a date; the check, not the form, decides whether it is a real date."""

    widget = TranslatedDateInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        parts = [str(value).strip() for value in valuelist[:3]]
        if len(parts) == 3 and all(parts):
            day, month, year = parts
            self.data = f"{year.zfill(4)}-{month.zfill(2)}-{day.zfill(2)}"
        else:
            self.data = ""

    def _value(self) -> str:
        return ""


def check_form(fields: Sequence[FieldSpec], formdata: Any = None) -> FlaskForm:
    """A form class made for this check's fields, on the request's data. It validates only the CSRF token: the
    check itself refuses missing or bad answers, with its own messages, so there is one source of them."""

    class CheckForm(FlaskForm):
        pass

    for spec in fields:
        made: Field
        if spec.kind == "radios":
            made = RadioField(
                spec.label,
                choices=list(spec.options),
                widget=GovRadioInput(),
                validate_choice=False,
                description=spec.hint or "",
            )
        elif spec.kind == "select":
            made = SelectField(
                spec.label,
                choices=list(spec.options),
                widget=GovSelect(),
                validate_choice=False,
                description=spec.hint or "",
            )
        elif spec.kind == "date":
            made = DateOfThreeParts(spec.label, description=spec.hint or "")
        else:
            made = StringField(
                spec.label,
                widget=GovTextInput(),
                filters=[lambda v: (v or "").strip()],
                description=spec.hint or "",
            )
        setattr(CheckForm, spec.name, made)
    CheckForm.submit = SubmitField(_l("Continue"), widget=GovSubmitInput())
    return CheckForm(formdata=formdata) if formdata is not None else CheckForm(formdata=None)


def answers_of(form: FlaskForm) -> dict[str, str]:
    return {
        name: "" if field.data is None else str(field.data)
        for name, field in form._fields.items()
        if name not in ("csrf_token", "submit")
    }


def add_error(form: FlaskForm, field_name: str | None, message: str) -> None:
    """A refusal from the check, shown in the error summary and against its field."""
    target = form._fields.get(field_name or "") or next(
        (f for name, f in form._fields.items() if name not in ("csrf_token", "submit")), None
    )
    if target is not None:
        target.errors = [*target.errors, message]
    form._errors = None


class RouteForm(FlaskForm):
    route = RadioField(
        _l("How do you want to prove your identity?"),
        choices=[
            (WEB_PASSPORT, _l("Online, with a UK passport")),
            (WEB_DRIVING_LICENCE, _l("Online, with a UK photocard driving licence")),
            (DOCUMENT_APP, _l("With the GOV.UK ID Check app (a simulation in this service)")),
            (NO_PHOTO_ID, _l("Online, without photo ID: with your bank account and National Insurance number")),
        ],
        widget=GovRadioInput(),
        validators=[InputRequired(message=_l("Select how you want to prove your identity"))],
    )
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


DETAILS_CORRECT = "correct"
ADDRESS_CHANGED = "address"
IDENTITY_CHANGED = "identity"


class ConfirmDetailsForm(FlaskForm):
    answer = RadioField(
        _l("Are your details correct?"),
        choices=[
            (DETAILS_CORRECT, _l("Yes, my details are correct")),
            (ADDRESS_CHANGED, _l("No, I have moved house")),
            (IDENTITY_CHANGED, _l("No, my name or date of birth has changed")),
        ],
        widget=GovRadioInput(),
        validators=[InputRequired(message=_l("Select whether your details are correct"))],
    )
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())
