"""The catalogue of messages the provider sends a citizen, by email or text message, in English and Welsh.

    rendered = render(EMAIL_CODE, "cy", code="123456")   # inside an app context
    rendered.subject, rendered.body

Each message names the fields it needs (`fields`) and those that are secret (`secret_fields`: never logged, and
removed from the outbox once delivered). In production GOV.UK Notify renders the message from a template of the
same name (`IDP_NOTIFY_TEMPLATE_IDS`); the text here is what the development sender shows and what a Notify
template should say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

EMAIL = "email"
SMS = "sms"


@dataclass(frozen=True)
class MessageTemplate:
    name: str
    channel: str  # EMAIL or SMS
    subject: LazyString | None
    body: LazyString
    fields: tuple[str, ...] = ()
    secret_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class RenderedMessage:
    name: str
    channel: str
    to: str
    locale: str
    subject: str
    body: str


EMAIL_CODE = "email_code"
SMS_CODE = "sms_code"
PASSWORD_RESET_CODE = "password_reset_code"
CHANGE_EMAIL_CODE = "change_email_code"
ACCOUNT_CREATED = "account_created"
PASSWORD_CHANGED = "password_changed"
SECURITY_CODE_METHOD_CHANGED = "security_code_method_changed"
EMAIL_CHANGED = "email_changed"
ACCOUNT_DELETED = "account_deleted"

_SIGN_OFF = _l("GOV.UK One Login")

CATALOGUE: dict[str, MessageTemplate] = {
    template.name: template
    for template in (
        MessageTemplate(
            EMAIL_CODE,
            EMAIL,
            _l("Your GOV.UK One Login security code"),
            _l(
                "Your security code is %(code)s\n\n"
                "Enter it to confirm your email address. The code will expire in 15 minutes.\n\n"
                "If you did not ask for this code, you can ignore this email."
            ),
            fields=("code",),
            secret_fields=("code",),
        ),
        MessageTemplate(
            SMS_CODE,
            SMS,
            None,
            _l("%(code)s is your GOV.UK One Login security code. It will expire in 15 minutes."),
            fields=("code",),
            secret_fields=("code",),
        ),
        MessageTemplate(
            PASSWORD_RESET_CODE,
            EMAIL,
            _l("Reset your GOV.UK One Login password"),
            _l(
                "Your security code to reset your password is %(code)s\n\n"
                "The code will expire in 15 minutes.\n\n"
                "If you did not ask to reset your password, you can ignore this email. Your password has not changed."
            ),
            fields=("code",),
            secret_fields=("code",),
        ),
        MessageTemplate(
            CHANGE_EMAIL_CODE,
            EMAIL,
            _l("Confirm your new GOV.UK One Login email address"),
            _l(
                "Your security code is %(code)s\n\n"
                "Enter it to confirm this is your new email address. The code will expire in 15 minutes."
            ),
            fields=("code",),
            secret_fields=("code",),
        ),
        MessageTemplate(
            ACCOUNT_CREATED,
            EMAIL,
            _l("You have created your GOV.UK One Login"),
            _l(
                "You have created your GOV.UK One Login.\n\n"
                "You can use it to sign in to government services that use GOV.UK One Login.\n\n"
                "If you did not create a GOV.UK One Login, contact us."
            ),
        ),
        MessageTemplate(
            PASSWORD_CHANGED,
            EMAIL,
            _l("You have changed your GOV.UK One Login password"),
            _l(
                "The password for your GOV.UK One Login has been changed.\n\n"
                "If you did not change your password, contact us straight away."
            ),
        ),
        MessageTemplate(
            SECURITY_CODE_METHOD_CHANGED,
            EMAIL,
            _l("You have changed how you get security codes"),
            _l(
                "You have changed how you get security codes for your GOV.UK One Login.\n\n"
                "If you did not make this change, contact us straight away."
            ),
        ),
        MessageTemplate(
            EMAIL_CHANGED,
            EMAIL,
            _l("You have changed your GOV.UK One Login email address"),
            _l(
                "The email address for your GOV.UK One Login is now %(new_email)s.\n\n"
                "If you did not make this change, contact us straight away."
            ),
            fields=("new_email",),
        ),
        MessageTemplate(
            ACCOUNT_DELETED,
            EMAIL,
            _l("You have deleted your GOV.UK One Login"),
            _l(
                "Your GOV.UK One Login has been deleted.\n\n"
                "You can no longer use it to sign in to government services.\n\n"
                "If you did not delete your GOV.UK One Login, contact us straight away."
            ),
        ),
    )
}


def render(name: str, to: str, locale: str, personalisation: dict[str, Any]) -> RenderedMessage:
    """The message in the citizen's language; raises KeyError for an unknown message or a missing field."""
    template = CATALOGUE[name]
    missing = [field for field in template.fields if field not in personalisation]
    if missing:
        raise KeyError(f"message {name} needs {', '.join(missing)}")
    with force_locale(locale):
        subject = str(template.subject) if template.subject is not None else ""
        body = str(template.body) % personalisation if template.fields else str(template.body)
        if template.channel == EMAIL:
            body = f"{body}\n\n{_SIGN_OFF}"
    return RenderedMessage(name, template.channel, to, locale, subject, body)
