"""Signing in with a passkey: without a password (straight to `Cl.Cm`), or as the second factor after one.

Each page works in two steps. The page's script asks for the ceremony's options (a JSON POST that keeps the
ceremony's id in the session), calls navigator.credentials, puts the answer in the page's form and submits it.
The form's POST is verified here; a refusal is shown on the page, in the citizen's language, and changes nothing
but the failure count of the security-code lockout.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from idp import audit
from idp.auth.limits import SECURITY_CODE
from idp.auth.passkey_forms import PasskeyAssertionForm
from idp.auth.passkeys import Authenticated, Ceremony, PasskeyCeremonies, PasskeyRefused, Reason, RegisteredPasskey
from idp.auth.views import (
    PASSWORD_OK_FOR,
    allow_forms_to_lead_back_to_the_service,
    carry_on_signed_in,
    count_failure,
    finish_sign_in,
    lockout_if_locked,
    lockout_page,
    start_security_code,
    user_in_session,
)
from idp.extensions import db
from idp.models import Passkey, User
from idp.models._types import utcnow
from idp.services import current_services
from idp.web.citizen_session import current_sign_in

passkey_sign_in_blueprint = Blueprint("passkeys", __name__)
passkey_sign_in_blueprint.before_request(allow_forms_to_lead_back_to_the_service)

RP_NAME = "GOV.UK One Login"
CEREMONY = "passkey_ceremony"
# Failed passkey assertions count toward the security-code lockout, as a wrong code does.
LOCKOUT_STEP = SECURITY_CODE

MESSAGES = {
    Reason.STALE_CHALLENGE: _l("Your passkey request has expired or has already been used. Try again."),
    Reason.MALFORMED: _l("There was a problem with your passkey. Try again."),
    Reason.WRONG_ORIGIN: _l("This passkey is for a different website. Use a passkey you made for GOV.UK One Login."),
    Reason.WRONG_RP_ID: _l("This passkey is for a different website. Use a passkey you made for GOV.UK One Login."),
    Reason.UNKNOWN_CREDENTIAL: _l(
        "We do not recognise this passkey. It may have been removed. Sign in with your email address instead."
    ),
    Reason.WRONG_USER: _l("This passkey is not for the GOV.UK One Login you are signing in to."),
    Reason.USER_NOT_VERIFIED: _l("Your device did not check it was you. Use your fingerprint, face or screen lock."),
    Reason.INVALID: _l("We could not check your passkey. Try again."),
    Reason.CLONED_AUTHENTICATOR: _l("We could not check your passkey. Try again."),
    Reason.ALREADY_REGISTERED: _l("This passkey is already set up for your GOV.UK One Login."),
}
# A presented credential that did not verify: what a guesser or a stolen device would produce.
FAILED_ASSERTIONS = {
    Reason.UNKNOWN_CREDENTIAL,
    Reason.WRONG_USER,
    Reason.USER_NOT_VERIFIED,
    Reason.INVALID,
    Reason.CLONED_AUTHENTICATOR,
}


def ceremonies() -> PasskeyCeremonies:
    config = current_app.config
    return PasskeyCeremonies(
        current_services().store,
        issuer=config["IDP_ISSUER"],
        rp_name=RP_NAME,
        challenge_ttl=int(config["IDP_PASSKEY_CHALLENGE_TTL"]),
    )


def begin(ceremony: Ceremony) -> Response:
    """Keep the ceremony's id in the session (one at a time) and send its options to the page's script."""
    previous = session.get(CEREMONY)
    if previous:
        ceremonies().forget(previous)
    session[CEREMONY] = ceremony.ceremony_id
    response = Response(ceremony.options_json, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def json_error(message: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def has_passkey(user_id: str) -> bool:
    return db.session.scalars(select(Passkey.id).where(Passkey.user_id == user_id).limit(1)).first() is not None


def find_passkey(credential_id: bytes) -> RegisteredPasskey | None:
    passkey = db.session.scalars(select(Passkey).where(Passkey.credential_id == credential_id)).first()
    if passkey is None:
        return None
    return RegisteredPasskey(passkey.credential_id, passkey.user_id, passkey.public_key, passkey.sign_count)


def record_use(result: Authenticated) -> bool:
    """Store the new counter only if it still moves forward: of two uses racing with one count, one loses."""
    new = result.new_sign_count
    moves_forward = Passkey.sign_count == 0 if new == 0 else Passkey.sign_count < new
    moved = db.session.execute(
        update(Passkey)
        .where(Passkey.credential_id == result.passkey.credential_id, moves_forward)
        .values(sign_count=new, last_used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(moved, "rowcount", 0))


def record_refusal(refused: PasskeyRefused, purpose: str) -> ResponseReturnValue | None:
    """Audit a refusal that names an account; count it toward the lockout when it was a failed assertion.
    Returns the locked page when this refusal locks the account."""
    if refused.user_id is None:
        return None
    if refused.reason is Reason.CLONED_AUTHENTICATOR:
        audit.record("passkey_cloned_authenticator", actor="citizen", user_id=refused.user_id, purpose=purpose)
    else:
        audit.record(
            "passkey_refused", actor="citizen", user_id=refused.user_id, purpose=purpose, reason=refused.reason
        )
    if refused.reason in FAILED_ASSERTIONS and count_failure(LOCKOUT_STEP, refused.user_id):
        return lockout_page(LOCKOUT_STEP, refused.user_id)
    db.session.commit()
    return None


def _posted_again() -> bool:
    """A second post of a form whose first one signed the citizen in: it carries on, and changes nothing."""
    signed_in = current_sign_in()
    return (
        request.method == "POST"
        and CEREMONY not in session
        and signed_in is not None
        and signed_in.credential_level == "Cl.Cm"
    )


def _authenticate(form: PasskeyAssertionForm, user_id: str | None, purpose: str) -> User | ResponseReturnValue | None:
    """Verify the assertion in the form: the user it signs in, a response (the locked page), or None with the
    form's error set."""
    try:
        result = ceremonies().finish_authentication(
            session.pop(CEREMONY, ""),
            credential_json=form.credential.data or "",
            find_passkey=find_passkey,
            user_id=user_id,
        )
        if not record_use(result):
            raise PasskeyRefused(Reason.CLONED_AUTHENTICATOR, result.passkey.user_id)
    except PasskeyRefused as refused:
        db.session.rollback()
        locked = record_refusal(refused, purpose)
        if locked is not None:
            return locked
        form.credential.errors = [str(MESSAGES[refused.reason])]
        return None
    user = db.session.get(User, result.passkey.user_id)
    if user is None or user.suspended:
        db.session.rollback()
        form.credential.errors = [str(MESSAGES[Reason.UNKNOWN_CREDENTIAL])]
        return None
    if locked := lockout_if_locked(LOCKOUT_STEP, user.id):
        db.session.rollback()
        return locked
    current_services().limits.clear(LOCKOUT_STEP, user.id)
    audit.record("passkey_used", actor="citizen", user_id=user.id, purpose=purpose)
    return user


# -- without a password -------------------------------------------------------------------------------------------


@passkey_sign_in_blueprint.post("/sign-in/passkey/options")
def sign_in_options() -> ResponseReturnValue:
    ceremony = ceremonies().start_authentication()
    return begin(ceremony)


@passkey_sign_in_blueprint.route("/sign-in/passkey", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    if _posted_again():
        return carry_on_signed_in()
    form = PasskeyAssertionForm()
    if form.validate_on_submit():
        outcome = _authenticate(form, None, "sign_in")
        if isinstance(outcome, User):
            # A passkey with user verification is two factors in one: something you have, and something you
            # are or know that unlocks it (NIST SP 800-63B §5.1.8), so it reaches Cl.Cm on its own.
            return finish_sign_in(outcome, "Cl.Cm")
        if outcome is not None:
            return outcome
    return render_template("passkeys/sign_in.html", form=form, options_url=url_for("passkeys.sign_in_options"))


# -- the second factor after the password --------------------------------------------------------------------------


@passkey_sign_in_blueprint.post("/sign-in/passkey/second-factor/options")
def second_factor_options() -> ResponseReturnValue:
    user = user_in_session(PASSWORD_OK_FOR)
    if user is None:
        return json_error(_("Your session has ended. Sign in again."), 401)
    allowed = list(db.session.scalars(select(Passkey.credential_id).where(Passkey.user_id == user.id)))
    ceremony = ceremonies().start_authentication(user_id=user.id, allowed=allowed)
    return begin(ceremony)


@passkey_sign_in_blueprint.route("/sign-in/passkey/second-factor", methods=["GET", "POST"])
def second_factor() -> ResponseReturnValue:
    user = user_in_session(PASSWORD_OK_FOR)
    if user is None:
        return carry_on_signed_in() if _posted_again() else redirect(url_for("auth.sign_in"))
    if not has_passkey(user.id):
        return redirect(url_for("auth.security_code"))
    if locked := lockout_if_locked(LOCKOUT_STEP, user.id):
        return locked
    form = PasskeyAssertionForm()
    if form.validate_on_submit():
        outcome = _authenticate(form, user.id, "second_factor")
        if isinstance(outcome, User):
            return finish_sign_in(outcome, "Cl.Cm")
        if outcome is not None:
            return outcome
    return render_template(
        "passkeys/second_factor.html",
        form=form,
        options_url=url_for("passkeys.second_factor_options"),
        other_way=url_for("passkeys.use_security_code") if user.mfa_method else None,
    )


@passkey_sign_in_blueprint.post("/sign-in/passkey/second-factor/use-security-code")
def use_security_code() -> ResponseReturnValue:
    """The citizen would rather use a security code: one is sent by text message now, if that is their way."""
    user = user_in_session(PASSWORD_OK_FOR)
    if user is None or not user.mfa_method:
        return redirect(url_for("auth.sign_in"))
    return start_security_code(user)
