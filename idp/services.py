"""The app's services, built once per process and reached through `current_services()`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from idp.auth.codes import OneTimeCodes, codes_key
from idp.auth.limits import Limits, rules_from_config
from idp.auth.passwords import PasswordHasher
from idp.extensions import db
from idp.keys.encryption import SecretBox, load_master_key, load_previous_master_keys
from idp.keys.keyring import Keyring
from idp.notify.senders import MessageSender, create_sender
from idp.oidc.client_keys import ClientKeyResolver
from idp.oidc.grants import Grants
from idp.store import Store, create_store
from idp.web.sessions import StoreSessionInterface


@dataclass
class Services:
    store: Store
    secret_box: SecretBox
    keyring: Keyring
    grants: Grants
    client_keys: ClientKeyResolver
    passwords: PasswordHasher
    limits: Limits
    codes: OneTimeCodes
    messages: MessageSender


def init_app(app: Flask) -> None:
    config = app.config
    store = create_store(config["SQLALCHEMY_DATABASE_URI"], config["REDIS_URL"])
    master_key = load_master_key(
        config["IDP_MASTER_KEY"], config["IDP_MASTER_KEY_FILE"], create_if_missing=config["IDP_ENV"] != "production"
    )
    secret_box = SecretBox(master_key, load_previous_master_keys(config.get("IDP_MASTER_KEY_PREVIOUS", "")))
    keyring = Keyring(lambda: db.session, secret_box)
    limits = Limits(store, rules_from_config(config), on_lockout=audit_lockout)
    app.extensions["idp"] = Services(
        store=store,
        secret_box=secret_box,
        keyring=keyring,
        grants=Grants(
            store,
            keyring,
            issuer=config["IDP_ISSUER"],
            code_ttl=config["IDP_AUTH_CODE_TTL"],
            access_token_ttl=config["IDP_ACCESS_TOKEN_TTL"],
            id_token_ttl=config["IDP_ID_TOKEN_TTL"],
        ),
        client_keys=ClientKeyResolver(timeout=config["IDP_CLIENT_JWKS_TIMEOUT"]),
        passwords=PasswordHasher(
            config["IDP_ARGON2_MEMORY_KIB"],
            config["IDP_ARGON2_TIME_COST"],
            concurrency=config["IDP_ARGON2_CONCURRENCY"],
        ),
        limits=limits,
        codes=OneTimeCodes(
            store, limits, codes_key(master_key), config["IDP_EMAIL_CODE_TTL"], config["IDP_SMS_CODE_TTL"]
        ),
        messages=create_sender(config, store),
    )
    from idp.lookups import keep_reads, user_key
    from idp.web.citizen_session import signed_out_key

    # Every signed-in page checks the citizen's sign-out mark and most read their profile: both come with the session.
    app.session_interface = StoreSessionInterface(
        store,
        config["IDP_SESSION_IDLE_TTL"],
        user_records=(signed_out_key(""), user_key("")),
        keep_user_records=keep_reads,
    )


def audit_lockout(step: str, subject: str, seconds: int) -> None:
    """Every lockout is audited, in its own transaction: it stands whatever the request does next."""
    from idp import audit

    is_user = not subject.startswith("email-")
    audit.record("lockout", actor="system", user_id=subject if is_user else None, step=step, seconds=seconds)
    db.session.commit()


def outbox_delivery_round(app: Flask) -> int:
    from idp.notify import OUTBOX_KINDS, outbox_sender
    from idp.notify.outbox import OutboxDelivery
    from idp.oidc.logout import BACKCHANNEL_LOGOUT, backchannel_logout_sender

    with app.app_context():
        services = current_services()
        senders = {BACKCHANNEL_LOGOUT: backchannel_logout_sender(services.keyring, app.config["IDP_ISSUER"])}
        senders.update({kind: outbox_sender(services.messages) for kind in OUTBOX_KINDS})
        try:
            return OutboxDelivery(db.session, senders, app.config["IDP_OUTBOX_MAX_ATTEMPTS"]).deliver_due()
        finally:
            db.session.remove()


def start_in_process_outbox(app: Flask) -> None:
    """The embedded default: deliver from a thread of the web process, started with the first request."""
    from idp.notify.outbox import InProcessWorker

    worker = InProcessWorker(lambda: outbox_delivery_round(app))
    app.extensions["outbox_worker"] = worker
    started = False

    @app.before_request
    def start_worker() -> None:
        nonlocal started
        if not started:
            started = True
            worker.start()


def current_services() -> Services:
    services: Services = current_app.extensions["idp"]
    return services
