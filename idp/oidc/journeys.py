"""A validated authorization request waiting while the citizen signs in, kept in the store under a journey id.

The journey id becomes the ID token's `sid` (reference §3.3: the per-authorize journey id).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app

from idp.lookups import forget_read, read
from idp.oidc.authorization_request import AuthorizationRequest
from idp.services import current_services


@dataclass(frozen=True)
class Journey:
    id: str
    request: AuthorizationRequest
    fresh_login_required: bool
    # What the identity journey handed back (an `IdentityOutcome` as a dict), once it has finished.
    identity: dict[str, Any] | None = None


def _key(journey_id: str) -> str:
    return f"journey:{journey_id}"


def save_journey(auth_request: AuthorizationRequest, fresh_login_required: bool) -> str:
    journey_id = secrets.token_urlsafe(16)
    record = {"request": auth_request.to_dict(), "fresh_login_required": fresh_login_required}
    current_services().store.set(_key(journey_id), json.dumps(record).encode(), current_app.config["IDP_JOURNEY_TTL"])
    return journey_id


def load_journey(journey_id: str) -> Journey | None:
    raw = read(_key(journey_id))
    if raw is None:
        return None
    record = json.loads(raw)
    return Journey(
        id=journey_id,
        request=AuthorizationRequest.from_dict(record["request"]),
        fresh_login_required=bool(record["fresh_login_required"]),
        identity=record.get("identity"),
    )


def record_identity_outcome(journey: Journey, outcome: dict[str, Any]) -> None:
    """Keep the identity journey's outcome with the authorization request, for the code to carry."""
    record = {"request": journey.request.to_dict(), "fresh_login_required": journey.fresh_login_required}
    record["identity"] = outcome
    current_services().store.set(_key(journey.id), json.dumps(record).encode(), current_app.config["IDP_JOURNEY_TTL"])
    forget_read(_key(journey.id))


def end_journey(journey_id: str) -> None:
    current_services().store.delete(_key(journey_id))
    forget_read(_key(journey_id))
