"""A new way to get security codes, checked before it replaces the old one.

The same pages serve a citizen changing it from the account and one who lost theirs and is recovering the
account; `NewFactorJourney` says which blueprint the pages sit in and what happens once the new one is in place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from flask import redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from idp import audit, notify
from idp.account.forms import ChooseSecurityCodesForm
from idp.auth import totp
from idp.auth.codes import VERIFY_PHONE, CodeCheck, CodeRequestsLocked
from idp.auth.forms import MobileNumberForm, SecurityCodeForm, SentCodeForm
from idp.auth.limits import CODE_REQUEST, SECURITY_CODE
from idp.auth.views import (
    count_failure,
    lockout_if_locked,
    lockout_page,
    qr_data_uri,
    use_totp_step,
    wrong_code_message,
)
from idp.extensions import db
from idp.models import User
from idp.notify.messages import SMS_CODE
from idp.services import current_services

AUTH_APP = "auth_app"
SMS = "sms"

_NEW_SECRET = "new_factor_totp_secret"
_NEW_PHONE = "new_factor_phone"


def sent_code_error(result: CodeCheck) -> str:
    """What to say about a sent code that was wrong, or expired or already used."""
    if result is CodeCheck.WRONG:
        return wrong_code_message()
    return _("The security code has expired or has already been used. Send a new code.")


@dataclass(frozen=True)
class NewFactorJourney:
    blueprint: str  # the endpoints are `<blueprint>.choose_security_codes`, `.new_authenticator_app`, …
    back_url: str
    finish: Callable[[User, str], ResponseReturnValue]  # called with the citizen and the new method


def choose(user: User, journey: NewFactorJourney) -> ResponseReturnValue:
    form = ChooseSecurityCodesForm()
    if form.validate_on_submit():
        session.pop(_NEW_SECRET, None)
        session.pop(_NEW_PHONE, None)
        page = "new_phone_number" if form.method.data == SMS else "new_authenticator_app"
        return redirect(url_for(f"{journey.blueprint}.{page}"))
    return render_template("account/choose_security_codes.html", form=form, back_url=journey.back_url)


def authenticator_app(user: User, journey: NewFactorJourney) -> ResponseReturnValue:
    services = current_services()
    if locked := lockout_if_locked(SECURITY_CODE, user.id):
        return locked
    secret = session.get(_NEW_SECRET)
    if not secret:
        secret = totp.new_secret()
        session[_NEW_SECRET] = secret
    form = SecurityCodeForm()
    if form.validate_on_submit():
        step = totp.matching_step(secret, form.code.data or "")
        # RFC 6238 §5.2: an accepted code is not accepted a second time. Keyed by the new secret, so that the old
        # app's code used to sign in a moment ago does not block the new app's code of the same time step.
        fingerprint = hashlib.sha256(secret.encode()).hexdigest()[:16]
        if step is not None and services.store.add(f"totp-set-up:{user.id}:{fingerprint}:{step}", b"1", 180):
            use_totp_step(user.id, step)  # nor again to sign in
            user.totp_secret_encrypted = services.secret_box.seal(secret.encode(), context=f"totp:{user.id}")
            user.mfa_method = AUTH_APP
            user.phone_number = None
            user.phone_number_verified = False
            session.pop(_NEW_SECRET, None)
            return _replaced(user, AUTH_APP, journey)
        if count_failure(SECURITY_CODE, user.id):
            return lockout_page(SECURITY_CODE, user.id)
        form.code.errors = [wrong_code_message()]
    return render_template(
        "account/new_authenticator_app.html",
        form=form,
        secret=totp.spaced(secret),
        qr_code=qr_data_uri(totp.provisioning_uri(secret, user.email)),
        back_url=url_for(f"{journey.blueprint}.choose_security_codes"),
    )


def phone_number(user: User, journey: NewFactorJourney) -> ResponseReturnValue:
    form = MobileNumberForm()
    if form.validate_on_submit():
        number = form.e164
        codes = current_services().codes
        try:
            code = codes.issue(VERIFY_PHONE, user.id, ttl=codes.sms_ttl)
        except CodeRequestsLocked:
            return lockout_page(CODE_REQUEST, user.id)
        notify.send(SMS_CODE, to=number, code=code)
        db.session.commit()
        session[_NEW_PHONE] = number
        return redirect(url_for(f"{journey.blueprint}.check_phone"))
    return render_template(
        "account/new_phone_number.html", form=form, back_url=url_for(f"{journey.blueprint}.choose_security_codes")
    )


def check_phone(user: User, journey: NewFactorJourney) -> ResponseReturnValue:
    number = session.get(_NEW_PHONE)
    if not number:
        return redirect(url_for(f"{journey.blueprint}.new_phone_number"))
    form = SentCodeForm()
    form.code.label.text = _("Enter the 6 digit security code sent to your phone")
    if form.validate_on_submit():
        result = current_services().codes.check(VERIFY_PHONE, user.id, form.code.data or "")
        if result is CodeCheck.OK:
            user.phone_number = number
            user.phone_number_verified = True
            user.mfa_method = SMS
            user.totp_secret_encrypted = None
            session.pop(_NEW_PHONE, None)
            return _replaced(user, SMS, journey)
        if result is CodeCheck.LOCKED:
            return lockout_page(SECURITY_CODE, user.id)
        audit.record("security_code_failed", actor="citizen", user_id=user.id)
        db.session.commit()
        form.code.errors = [sent_code_error(result)]
    return render_template(
        "account/check_phone.html",
        form=form,
        phone_number=number,
        back_url=url_for(f"{journey.blueprint}.new_phone_number"),
    )


def _replaced(user: User, method: str, journey: NewFactorJourney) -> ResponseReturnValue:
    from idp.notify.messages import SECURITY_CODE_METHOD_CHANGED

    notify.send(SECURITY_CODE_METHOD_CHANGED, to=user.email)
    return journey.finish(user, method)
