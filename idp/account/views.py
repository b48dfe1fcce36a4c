"""The citizen's account at /account: the services they used, their sign-in activity, and the changes they can
make. Changes that matter need the password again (or a sign-in within the last few minutes)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import abort
from werkzeug.wrappers import Response

from idp import audit, notify
from idp.account import activity, security_codes
from idp.account.deletion import delete_account
from idp.account.forms import (
    ChangePasswordForm,
    DeleteAccountForm,
    NewEmailForm,
    SignOutEverywhereForm,
)
from idp.account.security_codes import NewFactorJourney, sent_code_error
from idp.auth.codes import CHANGE_EMAIL, CodeCheck, CodeRequestsLocked
from idp.auth.forms import PasswordForm, SentCodeForm, normalise_email
from idp.auth.limits import CODE_REQUEST, PASSWORD, SECURITY_CODE
from idp.auth.phone_numbers import last_digits
from idp.auth.views import count_failure, lockout_if_locked, lockout_page
from idp.extensions import db
from idp.models import User
from idp.notify.messages import CHANGE_EMAIL_CODE, EMAIL_CHANGED, PASSWORD_CHANGED
from idp.oidc.logout import sign_out_everywhere
from idp.services import current_services
from idp.web.citizen_session import clear_sign_in, current_sign_in, end_every_session

account_blueprint = Blueprint("account", __name__, url_prefix="/account")

UK_TIME = ZoneInfo("Europe/London")

ACTIVITY_LABELS = {
    "account_created": _l("Account created"),
    "sign_in": _l("Signed in"),
    "password_failed": _l("Wrong password entered"),
    "security_code_failed": _l("Wrong security code entered"),
    "email_code_failed": _l("Wrong email code entered"),
    "lockout": _l("Locked after too many attempts"),
    "mfa_set_up": _l("Security codes set up"),
    "mfa_changed": _l("How you get security codes changed"),
    "mfa_reset": _l("Security codes reset after losing access"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset"),
    "email_changed": _l("Email address changed"),
    "sign_out": _l("Signed out"),
    "passkey_registered": _l("Passkey added"),
    "passkey_removed": _l("Passkey removed"),
    "passkey_renamed": _l("Passkey renamed"),
}

# The changes behind the password check, by the name the confirm-password page is given.
_CONFIRMED_CHANGES = {"change-email": "account.change_email", "change-security-codes": "account.choose_security_codes"}


@account_blueprint.app_template_filter("uk_date_time")
def uk_date_time(moment: datetime) -> str:
    local = moment.replace(tzinfo=UTC).astimezone(UK_TIME)
    return _(
        "%(date)s at %(time)s",
        date=format_date(local, "d MMMM yyyy", rebase=False),
        time=format_time(local, "h:mma", rebase=False).lower(),
    )


def signed_in_citizen() -> User:
    """The signed-in citizen (the access rule has made sure there is one)."""
    sign_in = current_sign_in()
    user = db.session.get(User, sign_in.user_id) if sign_in else None
    if user is None or user.suspended:
        # A suspended account can change nothing: its session ends here, and signing in again is refused.
        clear_sign_in()
        abort(redirect(url_for("auth.sign_in")))
    return user


def password_confirmed_recently() -> bool:
    """Sensitive changes need the password again, unless the citizen signed in or gave it a moment ago."""
    sign_in = current_sign_in()
    window = int(current_app.config["IDP_ACCOUNT_CONFIRM_PASSWORD_SECONDS"])
    confirmed = max(float(session.get("password_confirmed_at", 0)), float(sign_in.auth_time if sign_in else 0))
    return time.time() - confirmed <= window


def require_recent_password(change: str) -> Response | None:
    if password_confirmed_recently():
        return None
    return redirect(url_for("account.confirm_password", change=change))


def check_password(user: User, password: str) -> tuple[bool, ResponseReturnValue | None]:
    """Whether the password is right; a wrong one counts towards the same lockout as at sign-in."""
    services = current_services()
    if services.passwords.verify(user.password_hash, password):
        services.limits.clear(PASSWORD, user.id)
        return True, None
    if count_failure(PASSWORD, user.id):
        return False, lockout_page(PASSWORD, user.id)
    return False, None


def _end_other_sessions(user_id: str) -> None:
    """Whoever knew the old password is signed out everywhere else; this browser stays signed in."""
    end_every_session(user_id)
    session["signed_in_at"] = time.time() + 0.001


@account_blueprint.get("")
def overview() -> ResponseReturnValue:
    user = signed_in_citizen()
    services = activity.services_used(user.id)
    names = {service.client_id: service.name for service in services}
    events = []
    for entry in activity.sign_in_activity(user.id):
        if entry.event == "service_sign_in" and entry.client_id in names:
            events.append((entry, _("Used %(service)s", service=names[entry.client_id])))
        elif entry.event in ACTIVITY_LABELS:
            events.append((entry, str(ACTIVITY_LABELS[entry.event])))
    return render_template(
        "account/overview.html",
        user=user,
        phone_ending=last_digits(user.phone_number or ""),
        services=services,
        events=events,
    )


@account_blueprint.route("/confirm-password", methods=["GET", "POST"])
def confirm_password() -> ResponseReturnValue:
    user = signed_in_citizen()
    change = request.args.get("change", "")
    if change not in _CONFIRMED_CHANGES:
        return redirect(url_for("account.overview"))
    locked = lockout_if_locked(PASSWORD, user.id)
    if locked:
        return locked
    form = PasswordForm()
    if form.validate_on_submit():
        right, lockout = check_password(user, form.password.data or "")
        if lockout:
            return lockout
        if right:
            session["password_confirmed_at"] = time.time()
            return redirect(url_for(_CONFIRMED_CHANGES[change]))
        form.password.errors = [_("Incorrect password")]
    return render_template("account/confirm_password.html", form=form)


@account_blueprint.route("/change-password", methods=["GET", "POST"])
def change_password() -> ResponseReturnValue:
    user = signed_in_citizen()
    locked = lockout_if_locked(PASSWORD, user.id)
    if locked:
        return locked
    form = ChangePasswordForm()
    if form.validate_on_submit():
        passwords = current_services().passwords
        new_password = form.password.data or ""
        right, lockout = check_password(user, form.current_password.data or "")
        if lockout:
            return lockout
        if not right:
            form.current_password.errors = [_("Incorrect password")]
        elif passwords.verify(user.password_hash, new_password):
            form.password.errors = [_("You are already using that password. Enter a different password")]
        elif normalise_email(new_password) == user.email:
            form.password.errors = [_("Your password must not be the same as your email address")]
        else:
            user.password_hash = passwords.hash(new_password)
            audit.record("password_changed", actor="citizen", user_id=user.id)
            notify.send(PASSWORD_CHANGED, to=user.email)
            db.session.commit()
            _end_other_sessions(user.id)
            session["password_confirmed_at"] = time.time()
            flash(_("You have changed your password"), "success")
            return redirect(url_for("account.overview"))
    return render_template("account/change_password.html", form=form)


# -- change the email address: a code goes to the new address, and nothing changes until it comes back ------------


@account_blueprint.route("/change-email", methods=["GET", "POST"])
def change_email() -> ResponseReturnValue:
    user = signed_in_citizen()
    needs_password = require_recent_password("change-email")
    if needs_password:
        return needs_password
    form = NewEmailForm()
    if form.validate_on_submit():
        new_email = normalise_email(form.email.data)
        if new_email == user.email:
            form.email.errors = [_("Enter a different email address to the one you use now")]
        else:
            # Whether another account uses the address is said only once its owner has entered the code.
            return _send_change_email_code(user, new_email)
    return render_template("account/change_email.html", form=form)


def _send_change_email_code(user: User, new_email: str) -> ResponseReturnValue:
    codes = current_services().codes
    try:
        code = codes.issue(CHANGE_EMAIL, user.id, ttl=codes.email_ttl)
    except CodeRequestsLocked:
        return lockout_page(CODE_REQUEST, user.id)
    notify.send(CHANGE_EMAIL_CODE, to=new_email, code=code)
    db.session.commit()
    session["new_email_pending"] = new_email
    return redirect(url_for("account.check_new_email"))


@account_blueprint.route("/change-email/check-your-email", methods=["GET", "POST"])
def check_new_email() -> ResponseReturnValue:
    user = signed_in_citizen()
    new_email = session.get("new_email_pending")
    if not new_email:
        return redirect(url_for("account.change_email"))
    locked = lockout_if_locked(SECURITY_CODE, user.id)
    if locked:
        return locked
    form = SentCodeForm()
    if form.validate_on_submit():
        result = current_services().codes.check(CHANGE_EMAIL, user.id, form.code.data or "")
        if result is CodeCheck.LOCKED:
            return lockout_if_locked(SECURITY_CODE, user.id) or redirect(url_for("account.overview"))
        if result is CodeCheck.OK:
            return _change_email_to(user, new_email)
        audit.record("email_code_failed", actor="citizen", user_id=user.id)
        db.session.commit()
        form.code.errors = [sent_code_error(result)]
    return render_template("account/check_new_email.html", form=form, email=new_email)


@account_blueprint.post("/change-email/send-again")
def send_new_email_code_again() -> ResponseReturnValue:
    user = signed_in_citizen()
    new_email = session.get("new_email_pending")
    if not new_email:  # the form's CSRF token is checked before any view runs
        return redirect(url_for("account.change_email"))
    return _send_change_email_code(user, new_email)


def _change_email_to(user: User, new_email: str) -> ResponseReturnValue:
    session.pop("new_email_pending", None)
    taken = db.session.scalars(select(User.id).where(User.email == new_email, User.id != user.id)).first()
    if taken is None:
        old_email = user.email
        user.email = new_email
        user.email_verified = True
        audit.record("email_changed", actor="citizen", user_id=user.id)
        notify.send(EMAIL_CHANGED, to=old_email, new_email=new_email)
        try:
            db.session.commit()
        except IntegrityError:  # another account took the address a moment ago
            db.session.rollback()
            taken = user.id
    if taken is not None:
        return render_template("account/email_in_use.html", email=new_email)
    flash(_("You have changed your email address"), "success")
    return redirect(url_for("account.overview"))


# -- change how you get security codes ----------------------------------------------------------------------------


def _change_of_security_codes() -> NewFactorJourney:
    def finish(user: User, method: str) -> ResponseReturnValue:
        audit.record("mfa_changed", actor="citizen", user_id=user.id, method=method)
        db.session.commit()
        flash(_("You have changed how you get security codes"), "success")
        return redirect(url_for("account.overview"))

    return NewFactorJourney("account", url_for("account.overview"), finish)


@account_blueprint.route("/change-security-codes", methods=["GET", "POST"])
def choose_security_codes() -> ResponseReturnValue:
    user = signed_in_citizen()
    return require_recent_password("change-security-codes") or security_codes.choose(user, _change_of_security_codes())


@account_blueprint.route("/change-security-codes/authenticator-app", methods=["GET", "POST"])
def new_authenticator_app() -> ResponseReturnValue:
    user = signed_in_citizen()
    return require_recent_password("change-security-codes") or security_codes.authenticator_app(
        user, _change_of_security_codes()
    )


@account_blueprint.route("/change-security-codes/phone-number", methods=["GET", "POST"])
def new_phone_number() -> ResponseReturnValue:
    user = signed_in_citizen()
    return require_recent_password("change-security-codes") or security_codes.phone_number(
        user, _change_of_security_codes()
    )


@account_blueprint.route("/change-security-codes/check-your-phone", methods=["GET", "POST"])
def check_phone() -> ResponseReturnValue:
    user = signed_in_citizen()
    return require_recent_password("change-security-codes") or security_codes.check_phone(
        user, _change_of_security_codes()
    )


@account_blueprint.route("/sign-out-everywhere", methods=["GET", "POST"])
def sign_out_everywhere_page() -> ResponseReturnValue:
    user = signed_in_citizen()
    form = SignOutEverywhereForm()
    if form.validate_on_submit():
        sign_out_everywhere(user.id, actor="citizen")
        clear_sign_in()
        return redirect(url_for("pages.signed_out"))
    return render_template("account/sign_out_everywhere.html", form=form)


@account_blueprint.route("/delete", methods=["GET", "POST"])
def delete() -> ResponseReturnValue:
    user = signed_in_citizen()
    locked = lockout_if_locked(PASSWORD, user.id)
    if locked:
        return locked
    form = DeleteAccountForm()
    if form.validate_on_submit():
        right, lockout = check_password(user, form.password.data or "")
        if lockout:
            return lockout
        if right:
            delete_account(user.id, actor="citizen")
            clear_sign_in()
            return render_template("account/deleted.html")
        form.password.errors = [_("Incorrect password")]
    return render_template("account/delete.html", form=form)
