"""The account's forms. Password rules are those of account creation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo

from idp.auth.forms import NewPasswordForm


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
