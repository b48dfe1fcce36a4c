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
from werkzeug.exceptions import abort
from werkzeug.wrappers import Response

from idp import audit
from idp.account import activity
from idp.account.deletion import delete_account
from idp.account.forms import ChangePasswordForm, DeleteAccountForm, SignOutEverywhereForm
from idp.auth.forms import PasswordForm, normalise_email
from idp.auth.views import _count_failure, _locked_page, _locked_until
from idp.extensions import db
from idp.models import User
from idp.oidc.logout import sign_out_everywhere
from idp.services import current_services
from idp.web.citizen_session import clear_sign_in, current_sign_in

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
}

# The changes behind the password check, by the name the confirm-password page is given.
_CONFIRMED_CHANGES = {"change-email": "account.change_email", "change-security-codes": "account.change_security_codes"}


@account_blueprint.app_template_filter("uk_date_time")
def uk_date_time(moment: datetime) -> str:
    local = moment.replace(tzinfo=UTC).astimezone(UK_TIME)
    return _(
        "%(date)s at %(time)s",
        date=format_date(local, "d MMMM yyyy", rebase=False),
        time=format_time(local, "h:mma", rebase=False).lower(),
    )


def _citizen() -> User:
    """The signed-in citizen (the access rule has made sure there is one)."""
    sign_in = current_sign_in()
    user = db.session.get(User, sign_in.user_id) if sign_in else None
    if user is None:
        abort(redirect(url_for("auth.start")))
    return user


def _password_confirmed_recently() -> bool:
    """Sensitive changes need the password again, unless the citizen signed in or gave it a moment ago."""
    sign_in = current_sign_in()
    window = int(current_app.config["IDP_ACCOUNT_CONFIRM_PASSWORD_SECONDS"])
    confirmed = max(float(session.get("password_confirmed_at", 0)), float(sign_in.auth_time if sign_in else 0))
    return time.time() - confirmed <= window


def require_recent_password(change: str) -> Response | None:
    if _password_confirmed_recently():
        return None
    return redirect(url_for("account.confirm_password", change=change))


def _check_password(user: User, password: str) -> tuple[bool, ResponseReturnValue | None]:
    """Whether the password is right; a wrong one counts towards the sign-in lockout."""
    if current_services().passwords.verify(user.password_hash, password):
        current_services().store.delete(f"fails:password:{user.id}")
        return True, None
    if _count_failure("password", user.id):
        return False, _locked_page(time.time() + current_app.config["IDP_SIGN_IN_LOCKOUT_SECONDS"])
    return False, None


def _locked(user: User) -> ResponseReturnValue | None:
    until = _locked_until("password", user.id)
    return _locked_page(until) if until else None


@account_blueprint.get("")
def overview() -> ResponseReturnValue:
    user = _citizen()
    return render_template(
        "account/overview.html",
        user=user,
        services=activity.services_used(user.id),
        events=[
            (entry, ACTIVITY_LABELS[entry.event])
            for entry in activity.sign_in_activity(user.id)
            if entry.event in ACTIVITY_LABELS
        ],
    )


@account_blueprint.route("/confirm-password", methods=["GET", "POST"])
def confirm_password() -> ResponseReturnValue:
    user = _citizen()
    change = request.args.get("change", "")
    if change not in _CONFIRMED_CHANGES:
        return redirect(url_for("account.overview"))
    locked = _locked(user)
    if locked:
        return locked
    form = PasswordForm()
    if form.validate_on_submit():
        right, lockout = _check_password(user, form.password.data or "")
        if lockout:
            return lockout
        if right:
            session["password_confirmed_at"] = time.time()
            return redirect(url_for(_CONFIRMED_CHANGES[change]))
        form.password.errors = [_("Incorrect password")]
    return render_template("account/confirm_password.html", form=form)


@account_blueprint.route("/change-password", methods=["GET", "POST"])
def change_password() -> ResponseReturnValue:
    user = _citizen()
    locked = _locked(user)
    if locked:
        return locked
    form = ChangePasswordForm()
    if form.validate_on_submit():
        passwords = current_services().passwords
        new_password = form.password.data or ""
        right, lockout = _check_password(user, form.current_password.data or "")
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
            db.session.commit()
            session["password_confirmed_at"] = time.time()
            flash(_("You have changed your password"), "success")
            return redirect(url_for("account.overview"))
    return render_template("account/change_password.html", form=form)


@account_blueprint.route("/change-email", methods=["GET", "POST"])
def change_email() -> ResponseReturnValue:
    return require_recent_password("change-email") or redirect(url_for("account.overview"))


@account_blueprint.route("/change-security-codes", methods=["GET", "POST"])
def change_security_codes() -> ResponseReturnValue:
    return require_recent_password("change-security-codes") or redirect(url_for("account.overview"))


@account_blueprint.route("/sign-out-everywhere", methods=["GET", "POST"])
def sign_out_everywhere_page() -> ResponseReturnValue:
    user = _citizen()
    form = SignOutEverywhereForm()
    if form.validate_on_submit():
        sign_out_everywhere(user.id, actor="citizen")
        clear_sign_in()
        return redirect(url_for("pages.signed_out"))
    return render_template("account/sign_out_everywhere.html", form=form)


@account_blueprint.route("/delete", methods=["GET", "POST"])
def delete() -> ResponseReturnValue:
    user = _citizen()
    locked = _locked(user)
    if locked:
        return locked
    form = DeleteAccountForm()
    if form.validate_on_submit():
        right, lockout = _check_password(user, form.password.data or "")
        if lockout:
            return lockout
        if right:
            delete_account(user.id, actor="citizen")
            clear_sign_in()
            return render_template("account/deleted.html")
        form.password.errors = [_("Incorrect password")]
    return render_template("account/delete.html", form=form)
