"""The sign-in and account-creation forms. Each message is what a citizen reads: plain and specific."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, RadioField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from idp.auth.password_rules import PasswordProblem, password_problem
from idp.auth.phone_numbers import PhoneNumberRefused, PhoneProblem, mobile_number

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

    def __init__(self, *args: object, email: str | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.email_address = email

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data or "", self.email_address)
        if problem is not None and problem is not PasswordProblem.EMPTY:
            raise ValidationError(_PASSWORD_PROBLEMS[problem])


_PASSWORD_PROBLEMS = {
    PasswordProblem.TOO_SHORT: _l("Your password must be at least 8 characters long"),
    PasswordProblem.NEEDS_LETTERS_AND_NUMBERS: _l("Your password must include letters and numbers"),
    PasswordProblem.SAME_AS_EMAIL: _l("Your password must not be the same as your email address"),
    PasswordProblem.COMMON: _l(
        "Enter a stronger password. Do not use very common passwords, such as ‘password’ or a sequence of numbers."
    ),
}


def _six_digit_code(label: str) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        filters=[lambda v: (v or "").replace(" ", "").strip()],
        validators=[DataRequired(message=_l("Enter the security code"))],
    )


class _CodeForm(FlaskForm):
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())

    def validate_code(self, field: StringField) -> None:
        value = field.data or ""
        if not value.isdigit():
            raise ValidationError(_l("The security code must only include numbers"))
        if len(value) != 6:
            raise ValidationError(_l("Enter the security code using only 6 digits"))


class SecurityCodeForm(_CodeForm):
    """A code from an authenticator app."""

    code = _six_digit_code(_l("Enter the 6 digit security code shown in your authenticator app"))


class SentCodeForm(_CodeForm):
    """A code sent by email or text message."""

    code = _six_digit_code(_l("Enter the 6 digit security code"))


class SendCodeAgainForm(FlaskForm):
    send_again = SubmitField(_l("Send the code again"), widget=GovSubmitInput())


TEXT_MESSAGE = "sms"
AUTHENTICATOR_APP = "auth_app"


class ChooseSecurityCodesForm(FlaskForm):
    method = RadioField(
        _l("How do you want to get security codes?"),
        choices=[
            (TEXT_MESSAGE, _l("Text message")),
            (AUTHENTICATOR_APP, _l("Authenticator app for smartphone, tablet or computer")),
        ],
        widget=GovRadioInput(),
        validators=[InputRequired(message=_l("Select how you want to get security codes"))],
    )
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


class MobileNumberForm(FlaskForm):
    phone_number = StringField(
        _l("Mobile phone number"),
        description=_l(
            "A UK mobile number, like 07700 900000. For an international number, include the country code, "
            "like +33 6 12 34 56 78."
        ),
        widget=GovTextInput(),
        filters=[lambda v: (v or "").strip()],
        validators=[Length(max=32, message=_l("Enter a mobile phone number in the correct format"))],
    )
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())
    e164 = ""

    def validate_phone_number(self, field: StringField) -> None:
        try:
            self.e164 = mobile_number(field.data or "")
        except PhoneNumberRefused as refused:
            raise ValidationError(_PHONE_PROBLEMS[refused.problem]) from refused


_PHONE_PROBLEMS = {
    PhoneProblem.EMPTY: _l("Enter a mobile phone number"),
    PhoneProblem.NOT_NUMBERS: _l("Enter a mobile phone number using only numbers or the + symbol"),
    PhoneProblem.NOT_UK_MOBILE: _l("Enter a UK mobile phone number, like 07700 900000"),
    PhoneProblem.NOT_INTERNATIONAL_MOBILE: _l(
        "Enter a mobile phone number in the correct format, including the country code"
    ),
}
