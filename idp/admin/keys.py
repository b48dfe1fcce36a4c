"""`idp keys`: the provider's signing keys through their life (reference §6.1, spec "Keys").

pending (published, not signing) → active (the one key of its purpose and algorithm that signs) → retired
(published until every token it signed has expired) → purged.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from idp import audit
from idp.admin.output import emit, fails_cleanly, iso, json_option, operator_actor, table
from idp.extensions import db
from idp.keys.encryption import MasterKeyError, SecretBox, decode_master_key
from idp.keys.rewrap import rewrap
from idp.keys.rotation import PURPOSES, KeyRuleError, KeyState, check_purpose, kept_after_retirement
from idp.keys.rotation_plan import Action, KeyOnRecord, Step, plan_rotation
from idp.models import SigningKey
from idp.models._types import utcnow
from idp.oidc.claims import LOGOUT_TOKEN_TTL
from idp.services import current_services

keys_group = AppGroup("keys", help="The provider's signing keys: list, generate, activate, retire, purge, rotate.")

KEY_COLUMNS = ("purpose", "kid", "alg", "state", "created", "activated", "retired", "purge_after")


def publish_period(purpose: str) -> timedelta:
    """How long a key must be published before it signs: the max-age relying parties may cache the document that
    publishes it, plus the time the key takes to reach that document in every process."""
    config = current_app.config
    if purpose.startswith("issuer"):
        # A check's key is read only by this provider, whose processes look again for a kid they do not know.
        return timedelta(0)
    if purpose.startswith("identity"):
        max_age = int(config["IDP_DID_MAX_AGE"])  # the DID document's Cache-Control (reference §1.4)
    else:
        max_age = int(config["IDP_JWKS_MAX_AGE"])
    return timedelta(seconds=max_age + int(config["IDP_KEY_PUBLICATION_DELAY"]))


def longest_token_lifetime(purpose: str) -> timedelta:
    """How long a token signed by a key of this purpose stays valid after it is signed."""
    config = current_app.config
    if purpose.startswith("identity"):
        return timedelta(seconds=int(config["IDP_IDENTITY_KEY_RETENTION"]))
    lifetimes = (int(config["IDP_ID_TOKEN_TTL"]), int(config["IDP_ACCESS_TOKEN_TTL"]), LOGOUT_TOKEN_TTL)
    return timedelta(seconds=max(lifetimes))


def key_record(row: SigningKey) -> dict[str, Any]:
    purge_after = None
    if row.retired_at is not None:
        kept = kept_after_retirement(row.purpose)
        purge_after = "never" if kept else iso(row.retired_at + longest_token_lifetime(row.purpose))
    return {
        "purpose": row.purpose,
        "kid": row.kid,
        "alg": row.alg,
        "state": row.state,
        "created": iso(row.created_at),
        "activated": iso(row.activated_at),
        "retired": iso(row.retired_at),
        "purge_after": purge_after,
    }


def _find(kid: str) -> SigningKey:
    row = db.session.scalars(select(SigningKey).where(SigningKey.kid == kid)).first()
    if row is None:
        raise KeyRuleError(f"no key has kid {kid}; `idp keys list` shows them")
    return row


def _commit() -> None:
    db.session.commit()
    current_services().keyring.forget_cache()


@keys_group.command("list")
@click.option("--purpose", help="Only keys of this purpose (e.g. oidc, identity, issuer, issuer:passport).")
@json_option
@fails_cleanly
def list_keys(purpose: str | None, as_json: bool) -> None:
    """Every key with its purpose, kid, algorithm, state and dates."""
    query = select(SigningKey).order_by(SigningKey.purpose, SigningKey.alg, SigningKey.created_at)
    if purpose:
        query = query.where((SigningKey.purpose == purpose) | SigningKey.purpose.startswith(purpose + ":"))
    records = [key_record(row) for row in db.session.scalars(query)]
    emit(records, as_json, table(records, KEY_COLUMNS) if records else "No keys.")


def _check_alg_choice(purpose: str, alg: str | None) -> str:
    allowed = PURPOSES.get(purpose.split(":", 1)[0])
    if allowed is None:
        raise KeyRuleError(f"unknown key purpose {purpose!r}; purposes are {', '.join(sorted(PURPOSES))}")
    chosen = alg or allowed[0]
    check_purpose(purpose, chosen)
    return chosen


@keys_group.command("generate")
@click.option("--purpose", required=True, help="oidc, identity (the DID document), or issuer:<check>.")
@click.option("--alg", help="ES256 or RS256 (oidc only); the purpose's first algorithm if left out.")
@json_option
@fails_cleanly
def generate(purpose: str, alg: str | None, as_json: bool) -> None:
    """A new pending key: published at once, signing nothing until it is activated."""
    chosen = _check_alg_choice(purpose, alg)
    row = current_services().keyring.generate(purpose, chosen, state=KeyState.PENDING)
    audit.record("key_generated", actor=operator_actor(), purpose=purpose, alg=chosen, kid=row.kid)
    _commit()
    record = key_record(row)
    ready = row.created_at + publish_period(purpose)
    record["activate_after"] = iso(ready)
    emit(
        record,
        as_json,
        f"Generated pending {purpose} {chosen} key {row.kid}.\n"
        f"It is published now; activate it after {ready:%Y-%m-%d %H:%M:%S} UTC, once relying parties have fetched it.",
    )


@keys_group.command("activate")
@click.argument("kid")
@click.option("--force", is_flag=True, help="Activate before relying parties can be expected to have fetched the key.")
@json_option
@fails_cleanly
def activate(kid: str, force: bool, as_json: bool) -> None:
    """Make a pending key the one that signs; the key it replaces is retired."""
    row = _find(kid)
    period = publish_period(row.purpose)
    published_for = utcnow() - row.created_at
    early = row.state == KeyState.PENDING.value and published_for < period
    replaced = [
        other.kid
        for other in db.session.scalars(
            select(SigningKey).where(
                SigningKey.purpose == row.purpose,
                SigningKey.alg == row.alg,
                SigningKey.state == KeyState.ACTIVE.value,
            )
        )
    ]
    current_services().keyring.activate(kid, period, force=force)
    audit.record(
        "key_activated",
        actor=operator_actor(),
        purpose=row.purpose,
        alg=row.alg,
        kid=kid,
        forced=early,
        retired=replaced,
    )
    _commit()
    lines = [f"Activated {row.purpose} {row.alg} key {kid}: it signs from now on."]
    if replaced:
        lines.append(f"Retired {', '.join(replaced)}: still published until every token it signed has expired.")
    if early:
        exposed_until = row.created_at + period
        lines.append(
            f"Warning: the key was published {int(published_for.total_seconds())} s ago, but relying parties may cache "
            f"the key set for {int(period.total_seconds())} s. Until {exposed_until:%Y-%m-%d %H:%M:%S} UTC, a service "
            "holding an older copy may reject tokens signed with this key, unless it fetches the key set again when it "
            "sees an unknown kid."
        )
    emit({**key_record(row), "retired_keys": replaced, "forced": early}, as_json, "\n".join(lines))


@keys_group.command("retire")
@click.argument("kid")
@click.option("--force", is_flag=True, help="Retire the only active key of its purpose and algorithm.")
@json_option
@fails_cleanly
def retire(kid: str, force: bool, as_json: bool) -> None:
    """Stop a key signing; it stays published until every token it signed has expired."""
    row = _find(kid)
    if row.state == KeyState.ACTIVE.value and not force:
        raise KeyRuleError(
            f"{kid} is the key that signs {row.purpose} {row.alg} tokens; retiring it leaves nothing to sign them. "
            "Generate and activate a replacement (`idp keys rotate`), which retires this key, or use --force"
        )
    current_services().keyring.retire(kid)
    audit.record("key_retired", actor=operator_actor(), purpose=row.purpose, alg=row.alg, kid=kid)
    _commit()
    record = key_record(row)
    if kept_after_retirement(row.purpose):
        after = "It is kept: the credentials it signed are verified again whenever they are reused."
    else:
        after = f"It stays published; `idp keys purge` removes it after {record['purge_after']}."
    emit(record, as_json, f"Retired {row.purpose} {row.alg} key {kid}. {after}")


@keys_group.command("purge")
@json_option
@fails_cleanly
def purge(as_json: bool) -> None:
    """Remove retired keys once every token they signed has expired."""
    removed = _purge_due(actor=operator_actor())
    _commit()
    emit(
        removed,
        as_json,
        table(removed, ("purpose", "kid", "alg", "retired")) if removed else "No retired key is due for removal.",
    )


def _purge_due(actor: str, purpose: str | None = None, alg: str | None = None) -> list[dict[str, Any]]:
    keyring = current_services().keyring
    removed: list[dict[str, Any]] = []
    purposes = {
        row.purpose
        for row in db.session.scalars(select(SigningKey).where(SigningKey.state == KeyState.RETIRED.value))
        if purpose is None or row.purpose == purpose
    }
    for each in sorted(purposes):
        for row in keyring.purge(longest_token_lifetime(each), purpose=each, alg=alg):
            audit.record("key_purged", actor=actor, purpose=row.purpose, alg=row.alg, kid=row.kid)
            removed.append({"purpose": row.purpose, "kid": row.kid, "alg": row.alg, "retired": iso(row.retired_at)})
    return removed


def _describe(action: Action, purpose: str, alg: str) -> str:
    kid = action.kid or ""
    return {
        Step.GENERATE: f"generate a pending {purpose} {alg} key",
        Step.GENERATE_ACTIVE: f"generate an active {purpose} {alg} key (none signed before)",
        Step.ACTIVATE: f"activate {kid or 'the pending key'}, retiring the key it replaces",
        Step.PURGE: f"purge {kid or 'the retired key'}",
        Step.COMPLETE: "nothing: the rotation is complete (the next run starts a new one)",
    }[action.step]


def _rows(purpose: str, alg: str) -> list[SigningKey]:
    return list(db.session.scalars(select(SigningKey).where(SigningKey.purpose == purpose, SigningKey.alg == alg)))


def _second_after(moment: datetime | None) -> datetime | None:
    """Times are shown to the second: round up, so that running the command at the time shown finds it due."""
    if moment is None or not moment.microsecond:
        return moment
    return moment.replace(microsecond=0) + timedelta(seconds=1)


@keys_group.command("rotate")
@click.option("--purpose", required=True, help="oidc, identity (the DID document), or issuer:<check>.")
@click.option("--alg", help="Only this algorithm; every algorithm of the purpose if left out.")
@json_option
@fails_cleanly
def rotate(purpose: str, alg: str | None, as_json: bool) -> None:
    """Do the next safe steps of a rotation that the clock allows; say what comes next and when."""
    algs = [_check_alg_choice(purpose, alg)] if alg else list(PURPOSES.get(purpose.split(":", 1)[0], ()))
    if not algs:
        _check_alg_choice(purpose, None)
    actor = operator_actor()
    keyring = current_services().keyring
    now = utcnow()
    report: list[dict[str, Any]] = []
    for each_alg in algs:
        rows = _rows(purpose, each_alg)
        plan = plan_rotation(
            [KeyOnRecord(r.kid, KeyState(r.state), r.created_at, r.retired_at) for r in rows],
            now,
            publish_period(purpose),
            longest_token_lifetime(purpose),
            purge=not kept_after_retirement(purpose),
        )
        done: list[dict[str, str | None]] = []
        for action in plan.now:
            kid = action.kid
            if action.step is Step.PURGE:
                _purge_due(actor, purpose=purpose, alg=each_alg)
            elif action.step is Step.ACTIVATE and kid:
                replaced = [r.kid for r in rows if r.state == KeyState.ACTIVE.value]
                keyring.activate(kid, publish_period(purpose))
                audit.record(
                    "key_activated", actor=actor, purpose=purpose, alg=each_alg, kid=kid, forced=False, retired=replaced
                )
            else:
                state = KeyState.ACTIVE if action.step is Step.GENERATE_ACTIVE else KeyState.PENDING
                kid = keyring.generate(purpose, each_alg, state=state).kid
                audit.record("key_generated", actor=actor, purpose=purpose, alg=each_alg, kid=kid, state=state.value)
            done.append(
                {"step": action.step.value, "kid": kid, "said": _describe(Action(action.step, kid), purpose, each_alg)}
            )
        next_step, next_at = plan.next, plan.next_at
        if done and next_step.step is not Step.COMPLETE:
            # What comes next, from the keys as they are now (their dates are those the database recorded).
            after = plan_rotation(
                [KeyOnRecord(r.kid, KeyState(r.state), r.created_at, r.retired_at) for r in _rows(purpose, each_alg)],
                utcnow(),
                publish_period(purpose),
                longest_token_lifetime(purpose),
                purge=not kept_after_retirement(purpose),
            )
            next_step, next_at = after.next, after.next_at
        report.append(
            {
                "purpose": purpose,
                "alg": each_alg,
                "done": done,
                "next": {"step": next_step.step.value, "kid": next_step.kid, "at": iso(_second_after(next_at))},
                "next_said": _describe(next_step, purpose, each_alg),
            }
        )
    _commit()
    lines = []
    for entry in report:
        done_text = "; ".join(str(d["said"]) for d in entry["done"])
        lines.append(
            f"{entry['purpose']} {entry['alg']}: " + (f"done now: {done_text}." if done_text else "nothing is due now.")
        )
        when = entry["next"]["at"]
        if when:
            lines.append(f"  Next, from {when}: {entry['next_said']} (run `idp keys rotate` again then).")
        else:
            lines.append(f"  Next: {entry['next_said']}.")
    emit(report, as_json, "\n".join(lines))


@keys_group.command("rewrap")
@click.option("--new-key-file", type=click.Path(path_type=Path), help="A file holding the new master key (base64url).")
@click.option("--new-key-env", help="The name of an environment variable holding the new master key (base64url).")
@json_option
@fails_cleanly
def rewrap_command(new_key_file: Path | None, new_key_env: str | None, as_json: bool) -> None:
    """Re-encrypt every private key and stored secret under a new master key, all or nothing."""
    if (new_key_file is None) == (new_key_env is None):
        raise click.UsageError("give exactly one of --new-key-file or --new-key-env")
    try:
        if new_key_file is not None:
            encoded = new_key_file.read_text().strip()
        else:
            encoded = os.environ.get(str(new_key_env), "").strip()
            if not encoded:
                raise MasterKeyError(f"the environment variable {new_key_env} is not set")
        new_key = decode_master_key(encoded)
    except (OSError, MasterKeyError) as exc:
        raise click.ClickException(f"the new master key cannot be used: {exc}") from exc
    counts = rewrap(db.session, current_services().secret_box, SecretBox(new_key))
    audit.record("master_key_rewrapped", actor=operator_actor(), rewrapped=counts)
    db.session.commit()
    lines = [f"Re-encrypted {count} value(s) in {name}." for name, count in counts.items()]
    lines.append(
        "Now set IDP_MASTER_KEY to the new key everywhere (keep the old one in IDP_MASTER_KEY_PREVIOUS until every "
        "process has restarted)."
    )
    emit({"rewrapped": counts}, as_json, "\n".join(lines))
