"""The account's forms. Password rules are those of account creation."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, RadioField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from idp.auth.forms import NewPasswordForm

EMAIL_FORMAT = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"),
        widget=GovPasswordInput(),
        validators=[DataRequired(message=_l("Enter your current password"))],
    )
    password = PasswordField(
        _l("New password"),
        description=_l("Your password must be at least 8 characters long and must include letters and numbers."),
        widget=GovPasswordInput(),
        validators=[DataRequired(message=_l("Enter a new password"))],
    )
    confirm_password = PasswordField(
        _l("Confirm your new password"),
        widget=GovPasswordInput(),
        validators=[
            DataRequired(message=_l("Re-type your new password")),
            EqualTo("password", message=_l("Enter the same password in both fields")),
        ],
    )


class SignOutEverywhereForm(FlaskForm):
    submit = SubmitField(_l("Sign out everywhere"), widget=GovSubmitInput())


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Enter your password to delete your GOV.UK One Login"),
        widget=GovPasswordInput(),
        validators=[DataRequired(message=_l("Enter your password"))],
    )
    submit = SubmitField(_l("Delete your GOV.UK One Login"), widget=GovSubmitInput())


class NewEmailForm(FlaskForm):
    email = StringField(
        _l("Enter your new email address"),
        widget=GovTextInput(),
        filters=[lambda v: (v or "").strip()],
        validators=[DataRequired(message=_l("Enter your new email address")), Length(max=256)],
    )
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())

    def validate_email(self, field: StringField) -> None:
        if not EMAIL_FORMAT.match(field.data or ""):
            raise ValidationError(_l("Enter an email address in the correct format, like name@example.com"))


class ChooseSecurityCodesForm(FlaskForm):
    method = RadioField(
        _l("How do you want to get security codes?"),
        choices=[("sms", _l("Text message")), ("auth_app", _l("Authenticator app"))],
        widget=GovRadioInput(),
        validators=[InputRequired(message=_l("Select how you want to get security codes"))],
    )
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())
