"""The sign-in and account-creation forms. Each message is what a citizen reads: plain and specific."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str | None) -> str:
    return (value or "").strip().lower()


class EmailForm(FlaskForm):
    email = StringField(
        _l("Email address"),
        widget=GovTextInput(),
        filters=[lambda v: (v or "").strip()],
        validators=[
            DataRequired(message=_l("Enter your email address")),
            Length(max=256, message=_l("Your email address must be 256 characters or fewer")),
        ],
    )
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())

    def validate_email(self, field: StringField) -> None:
        if not _EMAIL.match(field.data or ""):
            raise ValidationError(_l("Enter an email address in the correct format, like name@example.com"))


class PasswordForm(FlaskForm):
    password = PasswordField(
        _l("Password"), widget=GovPasswordInput(), validators=[DataRequired(message=_l("Enter your password"))]
    )
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Create your password"),
        description=_l("Your password must be at least 8 characters long and must include letters and numbers."),
        widget=GovPasswordInput(),
        validators=[DataRequired(message=_l("Enter a password"))],
    )
    confirm_password = PasswordField(
        _l("Confirm your password"),
        widget=GovPasswordInput(),
        validators=[
            DataRequired(message=_l("Re-type your password")),
            EqualTo("password", message=_l("Enter the same password in both fields")),
        ],
    )
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())

    def validate_password(self, field: PasswordField) -> None:
        value = field.data or ""
        if len(value) < 8:
            raise ValidationError(_l("Your password must be at least 8 characters long"))
        if not (re.search(r"[A-Za-z]", value) and re.search(r"[0-9]", value)):
            raise ValidationError(_l("Your password must include letters and numbers"))


class SecurityCodeForm(FlaskForm):
    code = StringField(
        _l("Enter the 6 digit security code shown in your authenticator app"),
        widget=GovTextInput(),
        filters=[lambda v: (v or "").replace(" ", "").strip()],
        validators=[DataRequired(message=_l("Enter the security code"))],
    )
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())

    def validate_code(self, field: StringField) -> None:
        value = field.data or ""
        if not value.isdigit():
            raise ValidationError(_l("The security code must only include numbers"))
        if len(value) != 6:
            raise ValidationError(_l("Enter the security code using only 6 digits"))
