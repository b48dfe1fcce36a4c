"""The citizen's passkeys: offered at the end of account creation, and managed at /account/passkeys (list, add
several, rename, remove). Removing one needs the password again, unless the citizen signed in a moment ago."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import abort

from idp import audit
from idp.account.views import check_password, password_confirmed_recently, signed_in_citizen
from idp.auth.limits import PASSWORD
from idp.auth.passkey_forms import NewPasskeyForm, RemovePasskeyForm, RenamePasskeyForm, SkipForm
from idp.auth.passkey_views import CEREMONY, MESSAGES, begin, ceremonies
from idp.auth.passkeys import PasskeyRefused, Reason
from idp.auth.views import allow_forms_to_lead_back_to_the_service, lockout_if_locked
from idp.extensions import db
from idp.models import Passkey, User
from idp.web.access import safe_return_path

passkey_account_blueprint = Blueprint("passkey_account", __name__)
# The offer ends an account creation that may go on to a service.
passkey_account_blueprint.before_request(allow_forms_to_lead_back_to_the_service)

# Enough for every device a citizen might own; a bound on what one account can store.
MAX_PASSKEYS = 20
AFTER_OFFER = "after_passkey_offer"


def _passkeys(user: User) -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.created_at)))


def _own_passkey(user: User, passkey_id: str) -> Passkey:
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        abort(404)
    return passkey


def _register(form: NewPasskeyForm, user: User) -> Passkey | None:
    """Verify the new credential in the form and keep it; None with the form's error set when refused."""
    try:
        count = db.session.scalar(select(func.count()).select_from(Passkey).where(Passkey.user_id == user.id)) or 0
        if count >= MAX_PASSKEYS:
            session.pop(CEREMONY, None)
            form.credential.errors = [
                _("You have %(count)d passkeys, the most you can have. Remove one first.", count=count)
            ]
            return None
        new = ceremonies().finish_registration(
            session.pop(CEREMONY, ""), user_id=user.id, credential_json=form.credential.data or ""
        )
        taken = db.session.scalars(select(Passkey.id).where(Passkey.credential_id == new.credential_id)).first()
        if taken:
            raise PasskeyRefused(Reason.ALREADY_REGISTERED, user.id)
        passkey = Passkey(
            user_id=user.id,
            credential_id=new.credential_id,
            public_key=new.public_key,
            sign_count=new.sign_count,
            name=form.name.data or "",
            transports=new.transports,
            aaguid=new.aaguid,
        )
        db.session.add(passkey)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        form.credential.errors = [str(MESSAGES[Reason.ALREADY_REGISTERED])]
        return None
    except PasskeyRefused as refused:
        audit.record("passkey_refused", actor="citizen", user_id=user.id, purpose="register", reason=refused.reason)
        db.session.commit()
        form.credential.errors = [str(MESSAGES[refused.reason])]
        return None
    audit.record("passkey_registered", actor="citizen", user_id=user.id, passkey_id=passkey.id, aaguid=passkey.aaguid)
    db.session.commit()
    return passkey


@passkey_account_blueprint.post("/account/passkeys/options")
def registration_options() -> ResponseReturnValue:
    user = signed_in_citizen()
    existing = [passkey.credential_id for passkey in _passkeys(user)]
    ceremony = ceremonies().start_registration(user_id=user.id, user_name=user.email, existing=existing)
    return begin(ceremony)


# -- offered at the end of account creation --------------------------------------------------------------------------


def offer_passkey(finished: ResponseReturnValue) -> ResponseReturnValue:
    """After the second factor is set up: offer a passkey, then carry on to where the sign-in was going."""
    location = getattr(finished, "location", None)
    session[AFTER_OFFER] = safe_return_path(location) or url_for("pages.signed_in")
    return redirect(url_for("passkey_account.offer"))


def _after_offer() -> ResponseReturnValue:
    return redirect(safe_return_path(session.pop(AFTER_OFFER, None)) or url_for("pages.signed_in"))


@passkey_account_blueprint.route("/create-account/passkey", methods=["GET", "POST"])
def offer() -> ResponseReturnValue:
    user = signed_in_citizen()
    form = NewPasskeyForm()
    if form.validate_on_submit() and _register(form, user):
        return _after_offer()
    return render_template("passkeys/offer.html", form=form, skip=SkipForm(), options_url=_options_url())


@passkey_account_blueprint.post("/create-account/passkey/skip")
def skip_offer() -> ResponseReturnValue:
    user = signed_in_citizen()
    if SkipForm().validate_on_submit():
        audit.record("passkey_offer_declined", actor="citizen", user_id=user.id)
        db.session.commit()
    return _after_offer()


def _options_url() -> str:
    return url_for("passkey_account.registration_options")


# -- managing them -------------------------------------------------------------------------------------------------


@passkey_account_blueprint.get("/account/passkeys")
def manage() -> ResponseReturnValue:
    user = signed_in_citizen()
    return render_template("passkeys/manage.html", passkeys=_passkeys(user))


@passkey_account_blueprint.route("/account/passkeys/add", methods=["GET", "POST"])
def add() -> ResponseReturnValue:
    user = signed_in_citizen()
    form = NewPasskeyForm()
    if form.validate_on_submit():
        passkey = _register(form, user)
        if passkey:
            flash(_("You have added a passkey called ‘%(name)s’", name=passkey.name), "success")
            return redirect(url_for("passkey_account.manage"))
    return render_template("passkeys/add.html", form=form, options_url=_options_url())


@passkey_account_blueprint.route("/account/passkeys/<passkey_id>/rename", methods=["GET", "POST"])
def rename(passkey_id: str) -> ResponseReturnValue:
    user = signed_in_citizen()
    passkey = _own_passkey(user, passkey_id)
    form = RenamePasskeyForm(data={"name": passkey.name})
    if form.validate_on_submit():
        passkey.name = form.name.data or passkey.name
        audit.record("passkey_renamed", actor="citizen", user_id=user.id, passkey_id=passkey.id)
        db.session.commit()
        flash(_("You have renamed your passkey to ‘%(name)s’", name=passkey.name), "success")
        return redirect(url_for("passkey_account.manage"))
    return render_template("passkeys/rename.html", form=form, passkey=passkey)


@passkey_account_blueprint.route("/account/passkeys/<passkey_id>/remove", methods=["GET", "POST"])
def remove(passkey_id: str) -> ResponseReturnValue:
    user = signed_in_citizen()
    passkey = _own_passkey(user, passkey_id)
    locked = lockout_if_locked(PASSWORD, user.id)
    if locked:
        return locked
    password_needed = not password_confirmed_recently()
    form = RemovePasskeyForm()
    if form.validate_on_submit():
        if password_needed:
            if not form.password.data:
                form.password.errors = [_("Enter your password")]
                return render_template("passkeys/remove.html", form=form, passkey=passkey, password_needed=True)
            right, lockout = check_password(user, form.password.data)
            if lockout:
                return lockout
            if not right:
                form.password.errors = [_("Incorrect password")]
                return render_template("passkeys/remove.html", form=form, passkey=passkey, password_needed=True)
        name = passkey.name
        db.session.delete(passkey)
        audit.record("passkey_removed", actor="citizen", user_id=user.id, passkey_id=passkey_id)
        db.session.commit()
        flash(_("You have removed the passkey called ‘%(name)s’", name=name), "success")
        return redirect(url_for("passkey_account.manage"))
    return render_template("passkeys/remove.html", form=form, passkey=passkey, password_needed=password_needed)
