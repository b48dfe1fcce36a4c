"""Sign in and create an account: email, password, authenticator app."""

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

from idp import audit
from idp.auth import totp
from idp.auth.forms import EmailForm, NewPasswordForm, PasswordForm, SecurityCodeForm, normalise_email
from idp.auth.limits import PASSWORD, SECURITY_CODE
from idp.extensions import db
from idp.models import User
from idp.oidc.journeys import load_journey
from idp.services import current_services
from idp.web.access import safe_return_path
from idp.web.citizen_session import current_sign_in, record_sign_in
from idp.web.security_headers import origin_of

auth_blueprint = Blueprint("auth", __name__)


# -- journey state held in the session between steps -------------------------------------------------------------


@auth_blueprint.before_request
def allow_forms_to_lead_back_to_the_service() -> None:
    journey_id = session.get("journey_id")
    journey = load_journey(journey_id) if journey_id else None
    if journey is not None:
        g.form_action_origins = [origin_of(journey.request.redirect_uri)]


def _journey_needs_second_factor() -> bool:
    journey_id = session.get("journey_id")
    journey = load_journey(journey_id) if journey_id else None
    return journey is None or journey.request.vtr.credential_level == "Cl.Cm"


def _finish_sign_in(user: User, credential_level: str) -> ResponseReturnValue:
    record_sign_in(user.id, credential_level)
    audit.record("sign_in", actor="citizen", user_id=user.id, level=credential_level)
    db.session.commit()
    for key in ("pending_user_id", "password_ok_for", "new_totp_secret", "new_email"):
        session.pop(key, None)
    journey_id = session.get("journey_id")
    if journey_id:
        session["authenticated_for_journey"] = journey_id
        return redirect(url_for("oidc.continue_journey"))
    return redirect(safe_return_path(session.pop("return_to", None)) or url_for("pages.signed_in"))


def _pending_user(key: str) -> User | None:
    user_id = session.get(key)
    return db.session.get(User, user_id) if user_id else None


# -- rate limits and lockouts ------------------------------------------------------------------------------------


def _locked_until(step: str, user_id: str) -> float | None:
    return current_services().limits.locked_until(step, user_id)


def _count_failure(step: str, user_id: str) -> bool:
    """Count a wrong answer; True when this one locks the step."""
    audit.record(f"{step}_failed", actor="citizen", user_id=user_id)
    db.session.commit()
    return current_services().limits.count_failure(step, user_id)


def _locked_page(until: float) -> tuple[str, int]:
    minutes = max(1, int((until - time.time() + 59) // 60))
    return render_template("auth/locked.html", minutes=minutes), 429


# -- sign in -----------------------------------------------------------------------------------------------------


@auth_blueprint.get("/sign-in-or-create")
def start() -> ResponseReturnValue:
    sign_in = current_sign_in()
    if sign_in is not None and sign_in.credential_level == "Cl" and _journey_needs_second_factor():
        user = db.session.get(User, sign_in.user_id)
        if user is not None and user.mfa_method:
            session["password_ok_for"] = user.id
            return redirect(url_for("auth.security_code"))
    return redirect(url_for("auth.sign_in"))


@auth_blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    form = EmailForm()
    if not form.is_submitted():
        journey_id = session.get("journey_id")
        journey = load_journey(journey_id) if journey_id else None
        if journey and journey.request.login_hint:
            form.email.data = journey.request.login_hint
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        user = db.session.scalars(select(User).where(User.email == email)).first()
        if user is None:
            session["new_email"] = email
            return render_template("auth/no_account.html", email=email)
        session["pending_user_id"] = user.id
        return redirect(url_for("auth.password"))
    return render_template("auth/sign_in.html", form=form)


@auth_blueprint.route("/sign-in/password", methods=["GET", "POST"])
def password() -> ResponseReturnValue:
    user = _pending_user("pending_user_id")
    if user is None:
        return redirect(url_for("auth.sign_in"))
    locked = _locked_until(PASSWORD, user.id)
    if locked:
        return _locked_page(locked)
    form = PasswordForm()
    if form.validate_on_submit():
        passwords = current_services().passwords
        if user.suspended or not passwords.verify(user.password_hash, form.password.data or ""):
            if _count_failure(PASSWORD, user.id):
                return _locked_page(time.time() + current_services().limits.rule(PASSWORD).lockout_seconds)
            form.password.errors = [_("Incorrect password")]
            return render_template("auth/password.html", form=form, email=user.email), 200
        current_services().limits.clear(PASSWORD, user.id)
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash(form.password.data or "")
        session["password_ok_for"] = user.id
        if not user.mfa_method:
            return redirect(url_for("auth.set_up_authenticator_app"))
        if not _journey_needs_second_factor():
            return _finish_sign_in(user, "Cl")
        return redirect(url_for("auth.security_code"))
    return render_template("auth/password.html", form=form, email=user.email)


@auth_blueprint.route("/sign-in/security-code", methods=["GET", "POST"])
def security_code() -> ResponseReturnValue:
    user = _pending_user("password_ok_for")
    if user is None or not user.totp_secret_encrypted:
        return redirect(url_for("auth.sign_in"))
    locked = _locked_until(SECURITY_CODE, user.id)
    if locked:
        return _locked_page(locked)
    form = SecurityCodeForm()
    if form.validate_on_submit():
        secret = current_services().secret_box.open(user.totp_secret_encrypted, context=f"totp:{user.id}").decode()
        step = totp.matching_step(secret, form.code.data or "")
        # RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the OTP after the successful
        # validation has been issued for the first OTP".
        fresh = step is not None and current_services().store.add(f"totp-used:{user.id}:{step}", b"1", 180)
        if not fresh:
            if _count_failure(SECURITY_CODE, user.id):
                return _locked_page(time.time() + current_services().limits.rule(SECURITY_CODE).lockout_seconds)
            form.code.errors = [_("The security code you entered is not correct, or may have expired, try again.")]
            return render_template("auth/security_code.html", form=form)
        current_services().limits.clear(SECURITY_CODE, user.id)
        return _finish_sign_in(user, "Cl.Cm")
    return render_template("auth/security_code.html", form=form)


# -- create an account -------------------------------------------------------------------------------------------


@auth_blueprint.route("/create-account", methods=["GET", "POST"])
def create_account() -> ResponseReturnValue:
    form = EmailForm()
    if not form.is_submitted() and session.get("new_email"):
        form.email.data = session["new_email"]
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        if db.session.scalars(select(User.id).where(User.email == email)).first():
            return render_template("auth/account_exists.html", email=email)
        session["new_email"] = email
        return redirect(url_for("auth.create_password"))
    return render_template("auth/create_account.html", form=form)


@auth_blueprint.route("/create-account/password", methods=["GET", "POST"])
def create_password() -> ResponseReturnValue:
    email = session.get("new_email")
    if not email:
        return redirect(url_for("auth.create_account"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        password_value = form.password.data or ""
        if normalise_email(password_value) == email:
            form.password.errors = [_("Your password must not be the same as your email address")]
            return render_template("auth/create_password.html", form=form)
        if db.session.scalars(select(User.id).where(User.email == email)).first():
            return render_template("auth/account_exists.html", email=email)
        user = User(email=email, password_hash=current_services().passwords.hash(password_value))
        db.session.add(user)
        db.session.flush()
        audit.record("account_created", actor="citizen", user_id=user.id)
        db.session.commit()
        session["password_ok_for"] = user.id
        session.pop("new_email", None)
        return redirect(url_for("auth.set_up_authenticator_app"))
    return render_template("auth/create_password.html", form=form)


@auth_blueprint.route("/set-up-authenticator-app", methods=["GET", "POST"])
def set_up_authenticator_app() -> ResponseReturnValue:
    user = _pending_user("password_ok_for")
    if user is None:
        return redirect(url_for("auth.sign_in"))
    if user.mfa_method:
        return redirect(url_for("auth.security_code"))
    secret = session.get("new_totp_secret")
    if not secret:
        secret = totp.new_secret()
        session["new_totp_secret"] = secret
    form = SecurityCodeForm()
    if form.validate_on_submit():
        step = totp.matching_step(secret, form.code.data or "")
        if step is None or not current_services().store.add(f"totp-used:{user.id}:{step}", b"1", 180):
            form.code.errors = [_("The security code you entered is not correct, or may have expired, try again.")]
        else:
            user.totp_secret_encrypted = current_services().secret_box.seal(secret.encode(), context=f"totp:{user.id}")
            user.mfa_method = "auth_app"
            audit.record("mfa_set_up", actor="citizen", user_id=user.id, method="auth_app")
            return _finish_sign_in(user, "Cl.Cm")
    return render_template(
        "auth/set_up_authenticator_app.html",
        form=form,
        secret=totp.spaced(secret),
        qr_code=_qr_data_uri(totp.provisioning_uri(secret, user.email)),
    )


def _qr_data_uri(content: str) -> str:
    image = qrcode.make(content, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
