"""Client registrations and user profiles as the hot paths read them: from the store, backed by the database.

Every /authorize, /token and /userinfo needs the client's registration or the user's profile. Reading them
from the shared store instead of the database keeps those paths off SQL. The cache is shared by every process
(it is the store), and a committed change to a `Client` or `User` removes its entry, so no process serves a
registration or profile that the database no longer holds, beyond the `_TTL` that bounds a race between a
reader and a writer.

Client registrations change rarely and every /token and /authorize reads one, so each process also keeps those
it has read for `_RECENT_CLIENT_SECONDS`: a change reaches every process within that time, and the process that
made it at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import orjson
from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from idp.extensions import db
from idp.models import Client, User
from idp.services import current_services

_TTL = 300
_RECENT_CLIENT_SECONDS = 5.0


@dataclass
class ClientRecord:
    client_id: str
    name: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None
    scopes: list[str]
    claims: list[str]
    client_locs: list[str]
    identity_verification_supported: bool
    id_token_signing_alg: str
    token_auth_method: str
    public_key_source: str
    public_key: str | None
    jwks_uri: str | None
    client_secret_hash: str | None
    sector_identifier_uri: str | None
    pkce_enforced: bool
    jar_required: bool
    max_age_enabled: bool
    permit_missing_nonce: bool
    return_codes_enabled: bool
    is_active: bool


@dataclass
class UserProfile:
    id: str
    email: str
    email_verified: bool
    subject_salt: str
    mfa_method: str | None
    phone_number: str | None
    phone_number_verified: bool
    suspended: bool


_Record = TypeVar("_Record", ClientRecord, UserProfile)


def _reads() -> dict[str, bytes | None] | None:
    """What this request has already read from the store: each key is fetched at most once per request. A request
    answered ahead of Flask starts its own with `remember_reads_in_this_context`."""
    if not has_app_context():
        return None
    reads: dict[str, bytes | None] | None = g.get("store_reads")
    if reads is None and has_request_context():
        reads = g.store_reads = {}
    return reads


def remember_reads_in_this_context() -> None:
    """For an app context that serves one request without a request context (see `_reads`)."""
    g.store_reads = {}


def read(key: str) -> bytes | None:
    reads = _reads()
    if reads is not None and key in reads:
        return reads[key]
    value = current_services().store.get(key)
    if reads is not None:
        reads[key] = value
    return value


def prefetch(keys: list[str]) -> None:
    """Read several keys this request will need in one round trip."""
    reads = _reads()
    if reads is None:
        return
    missing = [key for key in keys if key not in reads]
    if missing:
        reads.update(zip(missing, current_services().store.get_many(missing), strict=True))


def keep_reads(values: dict[str, bytes | None]) -> None:
    """Values this request has read some other way (with the session), so that `read` does not fetch them again."""
    reads = _reads()
    if reads is not None:
        reads.update(values)


def forget_read(key: str) -> None:
    reads = _reads()
    if reads is not None:
        reads.pop(key, None)


def client_key(client_id: str) -> str:
    return f"client:{client_id}"


def user_key(user_id: str) -> str:
    return f"user:{user_id}"


def _read_through(key: str, model: type[Any], primary_key: str, record_type: type[_Record]) -> _Record | None:
    cached = read(key)
    if cached is not None:
        return record_type(**orjson.loads(cached))
    row = db.session.get(model, primary_key)
    if row is None:
        return None
    record = record_type(**{field.name: getattr(row, field.name) for field in fields(record_type)})
    current_services().store.set(key, orjson.dumps(vars(record)), _TTL)
    forget_read(key)
    return record


def _recent_clients() -> dict[str, tuple[float, ClientRecord]]:
    recent: dict[str, tuple[float, ClientRecord]] = current_app.extensions.setdefault("recent_clients", {})
    return recent


def find_client(client_id: str) -> ClientRecord | None:
    recent = _recent_clients()
    kept = recent.get(client_id)
    if kept is not None and time.monotonic() - kept[0] < _RECENT_CLIENT_SECONDS:
        return kept[1]
    record = _read_through(client_key(client_id), Client, client_id, ClientRecord)
    if record is not None:  # registered clients only, so the dictionary is as small as the register
        recent[client_id] = (time.monotonic(), record)
    return record


def find_user_profile(user_id: str) -> UserProfile | None:
    return _read_through(user_key(user_id), User, user_id, UserProfile)


def _cache_keys(instances: Any) -> set[str]:
    keys = set()
    for instance in instances:
        if isinstance(instance, Client):
            keys.add(client_key(instance.client_id))
        elif isinstance(instance, User):
            keys.add(user_key(instance.id))
    return keys


@event.listens_for(Session, "after_flush")
def _collect_changed(session: Session, _context: Any) -> None:
    changed = _cache_keys([*session.new, *session.dirty, *session.deleted])
    if changed:
        session.info.setdefault("stale_cache_keys", set()).update(changed)


@event.listens_for(Session, "after_commit")
def _forget_changed(session: Session) -> None:
    """Forget a cached client or user once a change to it is committed (always inside an app context)."""
    stale = session.info.pop("stale_cache_keys", None)
    if stale and has_app_context() and "idp" in current_app.extensions:
        store = current_app.extensions["idp"].store
        for key in stale:
            store.delete(key)
            forget_read(key)
        recent = _recent_clients()
        for key in stale:
            if key.startswith(client_key("")):
                recent.pop(key.removeprefix(client_key("")), None)


@event.listens_for(Session, "after_rollback")
def _discard_changed(session: Session) -> None:
    session.info.pop("stale_cache_keys", None)
