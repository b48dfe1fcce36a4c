"""Getting back into an account: a forgotten password, or lost access to security codes.

Forgotten password: a code by email, then a new password; the second factor is still asked for afterwards.
Lost second factor: the password (already entered at sign-in), a code by email, then a new way to get security
codes, and an email telling the citizen it changed.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from idp import audit, notify
from idp.account import security_codes
from idp.account.security_codes import NewFactorJourney, sent_code_error
from idp.auth.codes import CHANGE_SECOND_FACTOR, RESET_PASSWORD, CodeCheck, CodeRequestsLocked
from idp.auth.forms import NewPasswordForm, SentCodeForm, normalise_email
from idp.auth.limits import CODE_REQUEST, SECURITY_CODE
from idp.auth.views import (
    FACTOR_RESET,
    SETTING_UP_BECAUSE,
    allow_forms_to_lead_back_to_the_service,
    finish_sign_in,
    lockout_if_locked,
    lockout_page,
    start_second_factor,
    user_in_session,
)
from idp.extensions import db
from idp.models import User
from idp.notify.messages import EMAIL_CODE, PASSWORD_CHANGED, PASSWORD_RESET_CODE
from idp.services import current_services
from idp.web.citizen_session import end_every_session

recovery_blueprint = Blueprint("recovery", __name__)
# A recovered sign-in goes on to the service: the last form's redirect may lead there (CSP form-action).
recovery_blueprint.before_request(allow_forms_to_lead_back_to_the_service)


def _send_code(user: User, purpose: str, message: str, then: str) -> ResponseReturnValue:
    codes = current_services().codes
    try:
        code = codes.issue(purpose, user.id, ttl=codes.email_ttl)
    except CodeRequestsLocked:
        return lockout_page(CODE_REQUEST, user.id)
    notify.send(message, to=user.email, code=code)
    db.session.commit()
    return redirect(url_for(then))


def _check_code(user: User, purpose: str, form: SentCodeForm) -> CodeCheck | None:
    """The result of the code the citizen entered, with the error set on the form; None when not submitted."""
    if not form.validate_on_submit():
        return None
    result = current_services().codes.check(purpose, user.id, form.code.data or "")
    if result in (CodeCheck.WRONG, CodeCheck.EXPIRED_OR_USED):
        audit.record("email_code_failed", actor="citizen", user_id=user.id)
        db.session.commit()
        form.code.errors = [sent_code_error(result)]
    return result


def _offer_email_code(signed_in_as: str, purpose: str, message: str, code_page: str, page: str) -> ResponseReturnValue:
    """The page that sends a code by email to the citizen named in the session under signed_in_as."""
    user = user_in_session(signed_in_as)
    if user is None:
        return redirect(url_for("auth.sign_in"))
    form = FlaskForm()
    if form.validate_on_submit():
        return _send_code(user, purpose, message, code_page)
    return render_template(page, form=form, email=user.email)


def _ask_for_email_code(
    signed_in_as: str, purpose: str, start_page: str, checked_as: str, next_page: str
) -> ResponseReturnValue:
    """The page where the citizen enters the emailed code; a right code names them in the session under checked_as."""
    user = user_in_session(signed_in_as)
    if user is None:
        return redirect(url_for("auth.sign_in"))
    locked = lockout_if_locked(SECURITY_CODE, user.id)
    if locked:
        return locked
    form = SentCodeForm()
    result = _check_code(user, purpose, form)
    if result is CodeCheck.LOCKED:
        return lockout_if_locked(SECURITY_CODE, user.id) or redirect(url_for("auth.sign_in"))
    if result is CodeCheck.OK:
        session[checked_as] = user.id
        return redirect(url_for(next_page))
    return render_template(
        "auth/recovery/check_your_email.html",
        form=form,
        email=user.email,
        back_url=url_for(start_page),
        send_again_url=url_for(start_page),
    )


# -- forgotten password ---------------------------------------------------------------------------------------------


@recovery_blueprint.route("/reset-password", methods=["GET", "POST"])
def forgotten_password() -> ResponseReturnValue:
    return _offer_email_code(
        "pending_user_id",
        RESET_PASSWORD,
        PASSWORD_RESET_CODE,
        "recovery.reset_password_code",
        "auth/recovery/forgotten_password.html",
    )


@recovery_blueprint.route("/reset-password/check-your-email", methods=["GET", "POST"])
def reset_password_code() -> ResponseReturnValue:
    return _ask_for_email_code(
        "pending_user_id", RESET_PASSWORD, "recovery.forgotten_password", "password_reset_for", "recovery.new_password"
    )


@recovery_blueprint.route("/reset-password/new-password", methods=["GET", "POST"])
def new_password() -> ResponseReturnValue:
    user = user_in_session("password_reset_for")
    if user is None or session.get("pending_user_id") != user.id:
        return redirect(url_for("auth.sign_in"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        passwords = current_services().passwords
        password = form.password.data or ""
        if normalise_email(password) == user.email:
            form.password.errors = [_("Your password must not be the same as your email address")]
        elif passwords.verify(user.password_hash, password):
            form.password.errors = [_("You are already using that password. Enter a different password")]
        else:
            user.password_hash = passwords.hash(password)
            audit.record("password_reset", actor="citizen", user_id=user.id)
            notify.send(PASSWORD_CHANGED, to=user.email)
            db.session.commit()
            end_every_session(user.id)  # whoever knew the old password is signed out
            session.pop("password_reset_for", None)
            session.pop("pending_user_id", None)
            # The new password stands in for the old one only: the second factor is still asked for.
            session["password_ok_for"] = user.id
            if not user.mfa_method:
                session[SETTING_UP_BECAUSE] = FACTOR_RESET
                return redirect(url_for("auth.choose_security_codes"))
            return start_second_factor(user)
    return render_template("auth/recovery/new_password.html", form=form)


# -- lost second factor -------------------------------------------------------------------------------------------


@recovery_blueprint.route("/recover-security-codes", methods=["GET", "POST"])
def lost_security_codes() -> ResponseReturnValue:
    return _offer_email_code(
        "password_ok_for",
        CHANGE_SECOND_FACTOR,
        EMAIL_CODE,
        "recovery.lost_security_codes_code",
        "auth/recovery/lost_security_codes.html",
    )


@recovery_blueprint.route("/recover-security-codes/check-your-email", methods=["GET", "POST"])
def lost_security_codes_code() -> ResponseReturnValue:
    return _ask_for_email_code(
        "password_ok_for",
        CHANGE_SECOND_FACTOR,
        "recovery.lost_security_codes",
        "recovering_factor_for",
        "recovery.choose_security_codes",
    )


def _recovering() -> User | None:
    """The citizen who gave their password and an email code in this session, and nobody else."""
    user = user_in_session("recovering_factor_for")
    if user is None or session.get("password_ok_for") != user.id:
        return None
    return user


def _recovery_of_security_codes() -> NewFactorJourney:
    def finish(user: User, method: str) -> ResponseReturnValue:
        audit.record("mfa_reset", actor="citizen", user_id=user.id, method=method)
        session.pop("recovering_factor_for", None)
        return finish_sign_in(user, "Cl.Cm")

    return NewFactorJourney("recovery", url_for("recovery.lost_security_codes"), finish)


@recovery_blueprint.route("/recover-security-codes/choose", methods=["GET", "POST"])
def choose_security_codes() -> ResponseReturnValue:
    user = _recovering()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    return security_codes.choose(user, _recovery_of_security_codes())


@recovery_blueprint.route("/recover-security-codes/authenticator-app", methods=["GET", "POST"])
def new_authenticator_app() -> ResponseReturnValue:
    user = _recovering()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    return security_codes.authenticator_app(user, _recovery_of_security_codes())


@recovery_blueprint.route("/recover-security-codes/phone-number", methods=["GET", "POST"])
def new_phone_number() -> ResponseReturnValue:
    user = _recovering()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    return security_codes.phone_number(user, _recovery_of_security_codes())


@recovery_blueprint.route("/recover-security-codes/check-your-phone", methods=["GET", "POST"])
def check_phone() -> ResponseReturnValue:
    user = _recovering()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    return security_codes.check_phone(user, _recovery_of_security_codes())
