"""`idp users`: helping citizens. Find an account, see it (never its secrets), unlock it, reset its second
factor, suspend it, delete it. Every change is audited with the operator who made it.
"""

from __future__ import annotations

import time
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import CursorResult, delete, select

from idp import audit, notify
from idp.account.deletion import delete_account
from idp.admin.output import emit, fails_cleanly, fields_table, iso, json_option, operator_actor, table
from idp.auth.limits import STEPS, email_subject
from idp.extensions import db
from idp.models import AuditEvent, Client, Passkey, RelyingPartySignIn, User
from idp.notify.messages import SECOND_FACTOR_RESET
from idp.oidc.logout import sign_out_everywhere
from idp.oidc.subject import pairwise_subject, sector_host
from idp.services import current_services
from idp.web.citizen_session import end_every_session

users_group = AppGroup("users", help="Citizens' accounts: find, show, unlock, reset-mfa, suspend, unsuspend, delete.")

LIST_COLUMNS = ("id", "email", "second_factor", "suspended", "created")
_SCAN_BATCH = 2000
SUSPENSION_REASONS = ("citizen-request", "suspected-fraud", "account-compromised", "legal", "other")


class UserNotFound(ValueError):
    pass


def summary(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "second_factor": user.mfa_method,
        "suspended": user.suspended,
        "created": iso(user.created_at),
    }


def find_user(reference: str) -> User:
    """A citizen by internal id or by email address."""
    user = db.session.get(User, reference) if "@" not in reference else None
    if user is None:
        user = db.session.scalars(select(User).where(User.email == reference.strip().lower())).first()
    if user is None:
        raise UserNotFound(f"no account has the id or email address {reference!r}")
    return user


def user_for_subject(subject: str, client: Client) -> User | None:
    """The citizen a service knows by this pairwise `sub` (reference §3.3).

    Subjects are one-way, so: first the services the citizen is signed in to, then every account's subject for
    the service's sector, computed in batches."""
    known = db.session.scalars(
        select(RelyingPartySignIn.user_id).where(
            RelyingPartySignIn.client_id == client.client_id, RelyingPartySignIn.subject == subject
        )
    ).first()
    if known is not None:
        return db.session.get(User, known)
    sector = sector_host(client.sector_identifier_uri, client.redirect_uris)
    last_id = ""
    while True:
        batch = db.session.execute(
            select(User.id, User.subject_salt).where(User.id > last_id).order_by(User.id).limit(_SCAN_BATCH)
        ).all()
        if not batch:
            return None
        for user_id, salt in batch:
            if pairwise_subject(sector, user_id, salt) == subject:
                return db.session.get(User, user_id)
        last_id = batch[-1][0]


@users_group.command("find")
@click.option("--email", help="The citizen's email address.")
@click.option("--sub", "subject", help="The `sub` a service knows the citizen by (needs --client-id).")
@click.option("--client-id", help="The service that gave you the `sub`.")
@json_option
@fails_cleanly
def find(email: str | None, subject: str | None, client_id: str | None, as_json: bool) -> None:
    """Find a citizen by email address, or by a service's `sub` and client ID."""
    if (email is None) == (subject is None):
        raise click.UsageError("give either --email, or --sub with --client-id")
    if email is not None:
        if client_id is not None:
            raise click.UsageError("--client-id goes with --sub")
        user = db.session.scalars(select(User).where(User.email == email.strip().lower())).first()
    else:
        if client_id is None:
            raise click.UsageError("--sub needs --client-id: subjects differ from one service to another")
        client = db.session.get(Client, client_id)
        if client is None:
            raise UserNotFound(f"no service has client ID {client_id}")
        user = user_for_subject(str(subject), client)
    records = [summary(user)] if user is not None else []
    emit(records, as_json, table(records, LIST_COLUMNS) if records else "No account matches.")


def _locks(user: User) -> dict[str, int]:
    """The steps locked for the citizen, by account and by email address, with the seconds left."""
    limits = current_services().limits
    now = time.time()
    found: dict[str, int] = {}
    for subject in (user.id, email_subject(user.email)):
        for step in STEPS:
            until = limits.locked_until(step, subject)
            if until:
                found[step] = max(found.get(step, 0), int(until - now))
    return found


@users_group.command("show")
@click.argument("user")
@json_option
@fails_cleanly
def show(user: str, as_json: bool) -> None:
    """A citizen's account: what it holds and what happened to it, never a password, code or secret."""
    account = find_user(user)
    services = sorted(
        set(db.session.scalars(select(RelyingPartySignIn.client_id).where(RelyingPartySignIn.user_id == account.id)))
    )
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.user_id == account.id).order_by(AuditEvent.id.desc()).limit(10)
    ).all()
    record: dict[str, Any] = {
        **summary(account),
        "email_verified": account.email_verified,
        "authenticator_app": account.totp_secret_encrypted is not None,
        "phone_number_verified": account.phone_number_verified,
        "passkeys": len(db.session.scalars(select(Passkey.id).where(Passkey.user_id == account.id)).all()),
        "updated": iso(account.updated_at),
        "locked": _locks(account),
        "signed_in_to": services,
        "recent_events": [{"at": iso(e.at), "event": e.event, "actor": e.actor} for e in events],
    }
    text = fields_table({k: v for k, v in record.items() if k not in ("locked", "recent_events")})
    locks = ", ".join(f"{step} for {seconds} s" for step, seconds in record["locked"].items())
    text += f"\n{'locked'.ljust(21)}  {locks or 'no'}"
    if events:
        text += "\n\nRecent events:\n" + table(record["recent_events"], ("at", "event", "actor"))
    emit(record, as_json, text)


@users_group.command("unlock")
@click.argument("user")
@json_option
@fails_cleanly
def unlock(user: str, as_json: bool) -> None:
    """Clear a citizen's lockouts and counted failures, so they can try to sign in again at once."""
    account = find_user(user)
    limits = current_services().limits
    # A citizen is limited by account and, before signing in, by email address: clear both.
    unlocked = sorted(set(limits.clear_lockouts(account.id)) | set(limits.clear_lockouts(email_subject(account.email))))
    audit.record("account_unlocked", actor=operator_actor(), user_id=account.id, steps=unlocked)
    db.session.commit()
    text = (
        f"Unlocked {account.email} ({', '.join(unlocked)})."
        if unlocked
        else f"{account.email} was not locked; failure counts cleared."
    )
    emit({"id": account.id, "was_locked": unlocked}, as_json, text)


@users_group.command("reset-mfa")
@click.argument("user")
@json_option
@fails_cleanly
def reset_mfa(user: str, as_json: bool) -> None:
    """Remove a citizen's second factor: they set up a new one at their next sign-in, and are emailed."""
    account = find_user(user)
    previous = account.mfa_method
    # A passkey is a second factor too, and signs in without a password: it goes with the others.
    removed: CursorResult[Any] = db.session.execute(delete(Passkey).where(Passkey.user_id == account.id))  # type: ignore[assignment]
    passkeys = removed.rowcount
    account.mfa_method = None
    account.totp_secret_encrypted = None
    account.phone_number = None
    account.phone_number_verified = False
    audit.record("mfa_reset", actor=operator_actor(), user_id=account.id, previous=previous, passkeys=passkeys)
    notify.send(SECOND_FACTOR_RESET, to=account.email)
    db.session.commit()
    # A session that passed the old factor must not outlive it.
    end_every_session(account.id)
    emit(
        {"id": account.id, "previous_factor": previous, "passkeys_removed": passkeys},
        as_json,
        f"Removed the second factor ({previous or 'none'}) and {passkeys} passkey(s) of {account.email}; every "
        "session is signed out. "
        "They have been emailed, and will set up a new factor when they next sign in.",
    )


@users_group.command("suspend")
@click.argument("user")
@click.option(
    "--reason",
    type=click.Choice(SUSPENSION_REASONS),
    default="other",
    show_default=True,
    help="Why, for the audit trail: one of a fixed list, so that no personal data reaches it.",
)
@json_option
@fails_cleanly
def suspend(user: str, reason: str, as_json: bool) -> None:
    """Stop a citizen signing in; sign them out everywhere and tell services by back-channel logout."""
    account = find_user(user)
    if account.suspended:
        raise UserNotFound(f"{account.email} is already suspended")
    actor = operator_actor()
    account.suspended = True
    audit.record("account_suspended", actor=actor, user_id=account.id, reason=reason)
    notified = sign_out_everywhere(account.id, actor=actor)
    emit(
        {"id": account.id, "suspended": True, "services_notified": notified},
        as_json,
        f"Suspended {account.email}; signed out everywhere, {notified} service(s) told by back-channel logout.",
    )


@users_group.command("unsuspend")
@click.argument("user")
@json_option
@fails_cleanly
def unsuspend(user: str, as_json: bool) -> None:
    """Let a suspended citizen sign in again."""
    account = find_user(user)
    if not account.suspended:
        raise UserNotFound(f"{account.email} is not suspended")
    account.suspended = False
    audit.record("account_unsuspended", actor=operator_actor(), user_id=account.id)
    db.session.commit()
    emit({"id": account.id, "suspended": False}, as_json, f"{account.email} can sign in again.")


@users_group.command("delete")
@click.argument("user")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@fails_cleanly
def delete_command(user: str, yes: bool, as_json: bool) -> None:
    """Delete a citizen's account as their own deletion does: every record about them, services told."""
    account = find_user(user)
    user_id, email = account.id, account.email
    if not yes:
        click.confirm(f"Delete the account of {email} ({user_id})? This cannot be undone", abort=True)
    delete_account(user_id, actor=operator_actor())
    emit({"id": user_id, "deleted": True}, as_json, f"Deleted the account of {email}.")
