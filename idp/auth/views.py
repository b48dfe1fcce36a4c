"""Sign in and create an account: email, password, and a second factor by text message or authenticator app.

Create an account: email → a code sent by email → password → choose how to get security codes → text message
(number, then a code sent to it) or authenticator app → `second_factor_set_up` → signed in at Cl.Cm.
Sign in: email → password → a security code by the citizen's method; a service asking only Cl skips the code, and
a Cl session asked for Cl.Cm goes straight to the code. A citizen without a second factor (an operator reset it)
sets up a new one after the password.

The journey's state between steps is in the session, under the keys below; each step checks the state it needs
and otherwise sends the citizen back to where the journey can go on. Every wrong answer counts toward its step's
lockout (`idp.auth.limits`).
"""

from __future__ import annotations

import base64
import io
import time

import qrcode
import qrcode.image.svg
from flask import Blueprint, g, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from idp import audit, notify
from idp.auth import totp
from idp.auth.codes import SIGN_IN_SMS, VERIFY_EMAIL, VERIFY_PHONE, CodeCheck, CodeRequestsLocked
from idp.auth.forms import (
    AUTHENTICATOR_APP,
    TEXT_MESSAGE,
    ChooseSecurityCodesForm,
    EmailForm,
    MobileNumberForm,
    NewPasswordForm,
    PasswordForm,
    SecurityCodeForm,
    SendCodeAgainForm,
    SentCodeForm,
    normalise_email,
)
from idp.auth.limits import CODE_REQUEST, PASSWORD, SECURITY_CODE, email_subject
from idp.auth.phone_numbers import last_digits
from idp.extensions import db
from idp.models import User
from idp.notify.messages import ACCOUNT_CREATED, EMAIL_CODE, SECURITY_CODE_METHOD_CHANGED, SMS_CODE
from idp.oidc.journeys import Journey, load_journey
from idp.services import current_services
from idp.web.access import safe_return_path
from idp.web.citizen_session import current_sign_in, record_sign_in
from idp.web.security_headers import origin_of

auth_blueprint = Blueprint("auth", __name__)

# The journey's state in the session.
NEW_EMAIL = "new_email"  # the address an account is being created for
CONFIRMED_EMAIL = "confirmed_email"  # that address, once the code sent to it was entered
PENDING_USER = "pending_user_id"  # the account whose password is asked for
PASSWORD_OK_FOR = "password_ok_for"  # the account past its password (or just created): a second factor is next
NEW_TOTP_SECRET = "new_totp_secret"
NEW_PHONE_NUMBER = "new_phone_number"  # E.164, waiting for the code sent to it
SETTING_UP_BECAUSE = "setting_up_factor_because"  # NEW_ACCOUNT or FACTOR_RESET
CODE_SENT_AGAIN = "code_sent_again"
JOURNEY_KEYS = (
    NEW_EMAIL,
    CONFIRMED_EMAIL,
    PENDING_USER,
    PASSWORD_OK_FOR,
    NEW_TOTP_SECRET,
    NEW_PHONE_NUMBER,
    SETTING_UP_BECAUSE,
    CODE_SENT_AGAIN,
)
NEW_ACCOUNT = "new_account"
FACTOR_RESET = "factor_reset"


@auth_blueprint.before_request
def allow_forms_to_lead_back_to_the_service() -> None:
    journey = _journey()
    if journey is not None:
        g.form_action_origins = [origin_of(journey.request.redirect_uri)]


def _journey() -> Journey | None:
    journey_id = session.get("journey_id")
    return load_journey(journey_id) if journey_id else None


def _journey_needs_second_factor() -> bool:
    journey = _journey()
    return journey is None or journey.request.vtr.credential_level == "Cl.Cm"


def finish_sign_in(user: User, credential_level: str) -> ResponseReturnValue:
    record_sign_in(user.id, credential_level)
    audit.record("sign_in", actor="citizen", user_id=user.id, level=credential_level)
    db.session.commit()
    for key in JOURNEY_KEYS:
        session.pop(key, None)
    return carry_on_signed_in()


def carry_on_signed_in() -> ResponseReturnValue:
    journey_id = session.get("journey_id")
    if journey_id:
        session["authenticated_for_journey"] = journey_id
        return redirect(url_for("oidc.continue_journey"))
    return redirect(safe_return_path(session.pop("return_to", None)) or url_for("pages.signed_in"))


def user_in_session(key: str) -> User | None:
    user_id = session.get(key)
    return db.session.get(User, user_id) if user_id else None


# -- limits and lockouts -----------------------------------------------------------------------------------------


def count_failure(step: str, user_id: str) -> bool:
    """Audit a wrong answer and count it; True when this one locks the step."""
    audit.record(f"{step}_failed", actor="citizen", user_id=user_id)
    db.session.commit()
    return current_services().limits.count_failure(step, user_id)


def lockout_page(step: str, subject: str, creating_account: bool = False) -> tuple[str, int]:
    """The "try again later" page for a step that has just locked."""
    limits = current_services().limits
    until = limits.locked_until(step, subject) or time.time() + limits.rule(step).lockout_seconds
    return _locked_until_page(until, step, creating_account)


def lockout_if_locked(step: str, subject: str, creating_account: bool = False) -> tuple[str, int] | None:
    """The "try again later" page when the step is locked, None when it is open."""
    until = current_services().limits.locked_until(step, subject)
    return _locked_until_page(until, step, creating_account) if until else None


def _locked_until_page(until: float, step: str, creating_account: bool) -> tuple[str, int]:
    """Saying which step is locked and when it opens again (`until`, Unix time)."""
    minutes = max(1, int((until - time.time() + 59) // 60))
    page = render_template("auth/locked.html", minutes=minutes, step=step, creating_account=creating_account)
    return page, 429


def use_totp_step(user_id: str, step: int | None) -> bool:
    """Whether the code's time step is new for this account, recording it as used.

    RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the OTP after the successful validation has
    been issued for the first OTP"."""
    return step is not None and current_services().store.add(f"totp-used:{user_id}:{step}", b"1", 180)


def _send_code(purpose: str, subject: str, message: str, to: str, ttl: int) -> bool:
    """Send a new code; False when too many were asked for (the CODE_REQUEST step is locked)."""
    try:
        code = current_services().codes.issue(purpose, subject, ttl)
    except CodeRequestsLocked:
        return False
    notify.send(message, to=to, code=code)
    db.session.commit()
    return True


def _code_error(result: CodeCheck) -> str:
    if result is CodeCheck.EXPIRED_OR_USED:
        return _("This security code has expired or has already been used. Ask for a new code and try again.")
    return wrong_code_message()


def wrong_code_message() -> str:
    return _("The security code you entered is not correct, or may have expired, try again.")


# -- sign in -----------------------------------------------------------------------------------------------------


@auth_blueprint.get("/sign-in-or-create")
def start() -> ResponseReturnValue:
    """Where /authorize sends a citizen who needs to sign in: a Cl session asked for Cl.Cm steps up in place."""
    sign_in = current_sign_in()
    journey = _journey()
    fresh_login = journey is not None and journey.fresh_login_required
    if sign_in is not None and sign_in.credential_level == "Cl" and _journey_needs_second_factor() and not fresh_login:
        user = db.session.get(User, sign_in.user_id)
        if user is not None and not user.suspended:
            session[PASSWORD_OK_FOR] = user.id
            if not user.mfa_method:
                session[SETTING_UP_BECAUSE] = FACTOR_RESET
                return redirect(url_for("auth.choose_security_codes"))
            return start_second_factor(user)
    return redirect(url_for("auth.sign_in"))


@auth_blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    form = EmailForm()
    if not form.is_submitted():
        journey = _journey()
        if journey and journey.request.login_hint:
            form.email.data = journey.request.login_hint
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        user = db.session.scalars(select(User).where(User.email == email)).first()
        for key in JOURNEY_KEYS:  # a new email starts the journey again: nothing of an earlier one carries over
            session.pop(key, None)
        if user is None:
            session[NEW_EMAIL] = email
            return render_template("auth/no_account.html", email=email)
        session[PENDING_USER] = user.id
        return redirect(url_for("auth.password"))
    return render_template("auth/sign_in.html", form=form)


@auth_blueprint.route("/sign-in/password", methods=["GET", "POST"])
def password() -> ResponseReturnValue:
    user = user_in_session(PENDING_USER)
    if user is None:
        return redirect(url_for("auth.sign_in"))
    if locked := lockout_if_locked(PASSWORD, user.id):
        return locked
    form = PasswordForm()
    if form.validate_on_submit():
        passwords = current_services().passwords
        # The hash is checked whatever the account's state, so every answer takes the same time.
        correct = passwords.verify(user.password_hash, form.password.data or "")
        if not correct or user.suspended:
            if count_failure(PASSWORD, user.id):
                return lockout_page(PASSWORD, user.id)
            form.password.errors = [_("Incorrect password")]
            return render_template("auth/password.html", form=form, email=user.email)
        current_services().limits.clear(PASSWORD, user.id)
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash(form.password.data or "")
            db.session.commit()
        session.pop(PENDING_USER, None)
        session[PASSWORD_OK_FOR] = user.id
        if not user.mfa_method:
            session[SETTING_UP_BECAUSE] = FACTOR_RESET
            return redirect(url_for("auth.choose_security_codes"))
        if not _journey_needs_second_factor():
            return finish_sign_in(user, "Cl")
        return start_second_factor(user)
    return render_template("auth/password.html", form=form, email=user.email)


def start_second_factor(user: User) -> ResponseReturnValue:
    """A citizen with a passkey uses it (no text message is sent); the security code remains a link away."""
    from idp.auth.passkey_views import has_passkey

    if has_passkey(user.id):
        return redirect(url_for("passkeys.second_factor"))
    return start_security_code(user)


def _passkey_instead(user: User) -> str | None:
    """The way back to the passkey, for a citizen who has one but chose a security code."""
    from idp.auth.passkey_views import has_passkey

    return url_for("passkeys.second_factor") if has_passkey(user.id) else None


def start_security_code(user: User) -> ResponseReturnValue:
    if user.mfa_method == TEXT_MESSAGE and user.phone_number:
        if not _send_code(SIGN_IN_SMS, user.id, SMS_CODE, user.phone_number, current_services().codes.sms_ttl):
            return lockout_page(CODE_REQUEST, user.id)
    return redirect(url_for("auth.security_code"))


@auth_blueprint.route("/sign-in/security-code", methods=["GET", "POST"])
def security_code() -> ResponseReturnValue:
    user = user_in_session(PASSWORD_OK_FOR)
    if user is None:
        signed_in = current_sign_in()
        if signed_in is not None and signed_in.credential_level == "Cl.Cm":
            return carry_on_signed_in()  # the form was posted twice: the first one signed the citizen in
        return redirect(url_for("auth.sign_in"))
    if not user.mfa_method:
        return redirect(url_for("auth.choose_security_codes"))
    if locked := lockout_if_locked(SECURITY_CODE, user.id):
        return locked
    if user.mfa_method == TEXT_MESSAGE:
        return _text_message_code(user)
    return _authenticator_app_code(user)


def _text_message_code(user: User) -> ResponseReturnValue:
    form = SentCodeForm()
    if form.validate_on_submit():
        result = current_services().codes.check(SIGN_IN_SMS, user.id, form.code.data or "")
        if result is CodeCheck.OK:
            return finish_sign_in(user, "Cl.Cm")
        if result is not CodeCheck.EXPIRED_OR_USED:
            audit.record(f"{SECURITY_CODE}_failed", actor="citizen", user_id=user.id, method=TEXT_MESSAGE)
            db.session.commit()
        if result is CodeCheck.LOCKED:
            return lockout_page(SECURITY_CODE, user.id)
        form.code.errors = [_code_error(result)]
    return _check_phone_page(
        form,
        user.phone_number or "",
        resend_url=url_for("auth.send_sign_in_code_again"),
        back_url=url_for("auth.sign_in"),
        lost_codes_url=url_for("recovery.lost_security_codes"),
        passkey_url=_passkey_instead(user),
    )


def _check_phone_page(
    form: SentCodeForm, phone_number: str, resend_url: str, back_url: str, **links: str | None
) -> str:
    """The page asking for the code sent to phone_number; links: lost_codes_url or change_number_url, and
    passkey_url."""
    return render_template(
        "auth/check_phone.html",
        form=form,
        resend_form=SendCodeAgainForm(),
        resend_url=resend_url,
        last_digits=last_digits(phone_number),
        sent_again=session.pop(CODE_SENT_AGAIN, False),
        back_url=back_url,
        **links,
    )


def _authenticator_app_code(user: User) -> ResponseReturnValue:
    form = SecurityCodeForm()
    if form.validate_on_submit() and user.totp_secret_encrypted:
        secret = current_services().secret_box.open(user.totp_secret_encrypted, context=f"totp:{user.id}").decode()
        if use_totp_step(user.id, totp.matching_step(secret, form.code.data or "")):
            current_services().limits.clear(SECURITY_CODE, user.id)
            return finish_sign_in(user, "Cl.Cm")
        if count_failure(SECURITY_CODE, user.id):
            return lockout_page(SECURITY_CODE, user.id)
        form.code.errors = [wrong_code_message()]
    return render_template("auth/security_code.html", form=form, passkey_url=_passkey_instead(user))


@auth_blueprint.post("/sign-in/security-code/send-again")
def send_sign_in_code_again() -> ResponseReturnValue:
    user = user_in_session(PASSWORD_OK_FOR)
    if user is None or user.mfa_method != TEXT_MESSAGE or not user.phone_number:
        return redirect(url_for("auth.sign_in"))
    if SendCodeAgainForm().validate_on_submit():
        if not _send_code(SIGN_IN_SMS, user.id, SMS_CODE, user.phone_number, current_services().codes.sms_ttl):
            return lockout_page(CODE_REQUEST, user.id)
        session[CODE_SENT_AGAIN] = True
    return redirect(url_for("auth.security_code"))


# -- create an account -------------------------------------------------------------------------------------------


@auth_blueprint.route("/create-account", methods=["GET", "POST"])
def create_account() -> ResponseReturnValue:
    form = EmailForm()
    if not form.is_submitted() and session.get(NEW_EMAIL):
        form.email.data = session[NEW_EMAIL]
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        if db.session.scalars(select(User.id).where(User.email == email)).first():
            return render_template("auth/account_exists.html", email=email)
        session[NEW_EMAIL] = email
        session.pop(CONFIRMED_EMAIL, None)
        if not _send_code(VERIFY_EMAIL, email_subject(email), EMAIL_CODE, email, current_services().codes.email_ttl):
            return lockout_page(CODE_REQUEST, email_subject(email), creating_account=True)
        return redirect(url_for("auth.check_email"))
    return render_template("auth/create_account.html", form=form)


@auth_blueprint.route("/create-account/check-email", methods=["GET", "POST"])
def check_email() -> ResponseReturnValue:
    email = session.get(NEW_EMAIL)
    if not email:
        return redirect(url_for("auth.create_account"))
    if session.get(CONFIRMED_EMAIL) == email:
        return redirect(url_for("auth.create_password"))  # the form was posted twice
    subject = email_subject(email)
    if locked := lockout_if_locked(SECURITY_CODE, subject, creating_account=True):
        return locked
    form = SentCodeForm()
    if form.validate_on_submit():
        result = current_services().codes.check(VERIFY_EMAIL, subject, form.code.data or "")
        if result is CodeCheck.OK:
            session[CONFIRMED_EMAIL] = email
            return redirect(url_for("auth.create_password"))
        if result is CodeCheck.LOCKED:
            return lockout_page(SECURITY_CODE, subject, creating_account=True)
        form.code.errors = [_code_error(result)]
    return render_template(
        "auth/check_email.html",
        form=form,
        email=email,
        resend_form=SendCodeAgainForm(),
        sent_again=session.pop(CODE_SENT_AGAIN, False),
    )


@auth_blueprint.post("/create-account/check-email/send-again")
def send_email_code_again() -> ResponseReturnValue:
    email = session.get(NEW_EMAIL)
    if not email:
        return redirect(url_for("auth.create_account"))
    if SendCodeAgainForm().validate_on_submit():
        subject = email_subject(email)
        if not _send_code(VERIFY_EMAIL, subject, EMAIL_CODE, email, current_services().codes.email_ttl):
            return lockout_page(CODE_REQUEST, subject, creating_account=True)
        session[CODE_SENT_AGAIN] = True
    return redirect(url_for("auth.check_email"))


@auth_blueprint.route("/create-account/password", methods=["GET", "POST"])
def create_password() -> ResponseReturnValue:
    email = session.get(NEW_EMAIL)
    if not email:
        created = user_in_session(PASSWORD_OK_FOR)
        if created is not None and not created.mfa_method:
            return redirect(url_for("auth.choose_security_codes"))  # the form was posted twice
        return redirect(url_for("auth.create_account"))
    if session.get(CONFIRMED_EMAIL) != email:
        return redirect(url_for("auth.check_email"))
    form = NewPasswordForm(email=email)
    if form.validate_on_submit():
        if db.session.scalars(select(User.id).where(User.email == email)).first():
            return render_template("auth/account_exists.html", email=email)
        user = User(
            email=email, email_verified=True, password_hash=current_services().passwords.hash(form.password.data or "")
        )
        db.session.add(user)
        db.session.flush()
        audit.record("account_created", actor="citizen", user_id=user.id)
        db.session.commit()
        for key in (NEW_EMAIL, CONFIRMED_EMAIL):
            session.pop(key, None)
        session[PASSWORD_OK_FOR] = user.id
        session[SETTING_UP_BECAUSE] = NEW_ACCOUNT
        return redirect(url_for("auth.choose_security_codes"))
    return render_template("auth/create_password.html", form=form)


# -- setting up a second factor ----------------------------------------------------------------------------------


def _user_setting_up_factor() -> User | None:
    """The citizen past their password with no second factor; anyone else may not set one up here."""
    user = user_in_session(PASSWORD_OK_FOR)
    return user if user is not None and not user.mfa_method else None


def _not_setting_up() -> ResponseReturnValue:
    if user_in_session(PASSWORD_OK_FOR) is not None:
        return redirect(url_for("auth.security_code"))
    return redirect(url_for("auth.sign_in"))


@auth_blueprint.route("/choose-how-to-get-security-codes", methods=["GET", "POST"])
def choose_security_codes() -> ResponseReturnValue:
    user = _user_setting_up_factor()
    if user is None:
        return _not_setting_up()
    form = ChooseSecurityCodesForm()
    if form.validate_on_submit():
        if form.method.data == TEXT_MESSAGE:
            return redirect(url_for("auth.set_up_text_message"))
        return redirect(url_for("auth.set_up_authenticator_app"))
    return render_template(
        "auth/choose_security_codes.html", form=form, factor_reset=session.get(SETTING_UP_BECAUSE) == FACTOR_RESET
    )


@auth_blueprint.route("/set-up-text-message", methods=["GET", "POST"])
def set_up_text_message() -> ResponseReturnValue:
    user = _user_setting_up_factor()
    if user is None:
        return _not_setting_up()
    form = MobileNumberForm()
    if not form.is_submitted() and session.get(NEW_PHONE_NUMBER):
        form.phone_number.data = session[NEW_PHONE_NUMBER]
    if form.validate_on_submit():
        session[NEW_PHONE_NUMBER] = form.e164
        if not _send_code(VERIFY_PHONE, user.id, SMS_CODE, form.e164, current_services().codes.sms_ttl):
            return lockout_page(CODE_REQUEST, user.id)
        return redirect(url_for("auth.check_phone"))
    return render_template("auth/set_up_text_message.html", form=form)


@auth_blueprint.route("/set-up-text-message/check-phone", methods=["GET", "POST"])
def check_phone() -> ResponseReturnValue:
    user = _user_setting_up_factor()
    if user is None:
        return _not_setting_up()
    number = session.get(NEW_PHONE_NUMBER)
    if not number:
        return redirect(url_for("auth.set_up_text_message"))
    if locked := lockout_if_locked(SECURITY_CODE, user.id):
        return locked
    form = SentCodeForm()
    if form.validate_on_submit():
        result = current_services().codes.check(VERIFY_PHONE, user.id, form.code.data or "")
        if result is CodeCheck.OK:
            user.phone_number = number
            user.phone_number_verified = True
            user.mfa_method = TEXT_MESSAGE
            return second_factor_set_up(user, TEXT_MESSAGE)
        if result is CodeCheck.LOCKED:
            return lockout_page(SECURITY_CODE, user.id)
        form.code.errors = [_code_error(result)]
    return _check_phone_page(
        form,
        number,
        resend_url=url_for("auth.send_phone_code_again"),
        back_url=url_for("auth.set_up_text_message"),
        change_number_url=url_for("auth.set_up_text_message"),
    )


@auth_blueprint.post("/set-up-text-message/send-again")
def send_phone_code_again() -> ResponseReturnValue:
    user = _user_setting_up_factor()
    number = session.get(NEW_PHONE_NUMBER)
    if user is None or not number:
        return redirect(url_for("auth.set_up_text_message"))
    if SendCodeAgainForm().validate_on_submit():
        if not _send_code(VERIFY_PHONE, user.id, SMS_CODE, number, current_services().codes.sms_ttl):
            return lockout_page(CODE_REQUEST, user.id)
        session[CODE_SENT_AGAIN] = True
    return redirect(url_for("auth.check_phone"))


@auth_blueprint.route("/set-up-authenticator-app", methods=["GET", "POST"])
def set_up_authenticator_app() -> ResponseReturnValue:
    user = _user_setting_up_factor()
    if user is None:
        return _not_setting_up()
    secret = session.get(NEW_TOTP_SECRET)
    if not secret:
        secret = totp.new_secret()
        session[NEW_TOTP_SECRET] = secret
    form = SecurityCodeForm()
    if form.validate_on_submit():
        if not use_totp_step(user.id, totp.matching_step(secret, form.code.data or "")):
            form.code.errors = [wrong_code_message()]
        else:
            user.totp_secret_encrypted = current_services().secret_box.seal(secret.encode(), context=f"totp:{user.id}")
            user.mfa_method = AUTHENTICATOR_APP
            return second_factor_set_up(user, AUTHENTICATOR_APP)
    return render_template(
        "auth/set_up_authenticator_app.html",
        form=form,
        secret=totp.spaced(secret),
        qr_code=qr_data_uri(totp.provisioning_uri(secret, user.email)),
    )


def second_factor_set_up(user: User, method: str) -> ResponseReturnValue:
    """A second factor was just set up and proved (a code from it was entered); the change is not yet committed."""
    reason = session.get(SETTING_UP_BECAUSE)
    audit.record("mfa_set_up", actor="citizen", user_id=user.id, method=method, reason=reason)
    if reason == NEW_ACCOUNT:
        notify.send(ACCOUNT_CREATED, to=user.email)
    elif reason == FACTOR_RESET:
        notify.send(SECURITY_CODE_METHOD_CHANGED, to=user.email)
    db.session.commit()
    return account_ready(user)


def account_ready(user: User) -> ResponseReturnValue:
    """The end of setting up an account or a new second factor: signed in at Cl.Cm, a citizen without a passkey
    is offered one before going on."""
    from idp.account.passkeys import offer_passkey
    from idp.auth.passkey_views import has_passkey

    finished = finish_sign_in(user, "Cl.Cm")
    return finished if has_passkey(user.id) else offer_passkey(finished)


def qr_data_uri(content: str) -> str:
    image = qrcode.make(content, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
