"""The order of a proving journey: which checks each route runs, and where the citizen is in it. Pure: no Flask.

The state lives in the store under the authorization journey's id and names the browser session and the user it
belongs to, so that an answer posted out of order, or a journey carried on in another browser, is refused
without running a check or keeping a credential.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The routes of the spec (identity-proofing.md, "The checks"; reference §6).
WEB_PASSPORT = "web-passport"
WEB_DRIVING_LICENCE = "web-driving-licence"
DOCUMENT_APP = "app"
NO_PHOTO_ID = "no-photo-id"

ROUTES: dict[str, tuple[str, ...]] = {
    WEB_PASSPORT: ("passport", "address", "fraud", "security_questions"),
    WEB_DRIVING_LICENCE: ("driving_licence", "address", "fraud", "security_questions"),
    DOCUMENT_APP: ("document_app", "address", "fraud"),
    # Reference §6: the route without photo ID starts with the identity the citizen claims.
    NO_PHOTO_ID: ("claimed_identity", "bank_account", "national_insurance", "address", "fraud", "security_questions"),
}

# Reference §4.3: a stale fraud check (every one older than 180 days) means a fresh fraud check only.
FRESH_FRAUD_CHECK = ("fraud",)

# Journey kinds, as recorded in the proving record.
NEW = "new"
REUSE = "reuse"
FRAUD_REFRESH = "fraud-refresh"
ADDRESS_CHANGED = "address-change"


class OutOfOrder(Exception):
    """An answer for a check that is not the one the journey is waiting for."""


@dataclass
class ProvingState:
    journey_id: str
    user_id: str
    session_ref: str
    kind: str = NEW
    route: str | None = None
    steps: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    # Credentials issued during this journey (signed JWTs, each verified before it was added).
    credentials: list[str] = field(default_factory=list)
    # Checks a contra-indicator sent the citizen away from: not offered again in this journey.
    avoided: list[str] = field(default_factory=list)
    # The citizen's name or date of birth changed: what was stored before does not count (prove again).
    ignore_stored: bool = False

    @property
    def current_step(self) -> str | None:
        return self.steps[0] if self.steps else None

    def belongs_to(self, user_id: str, session_ref: str) -> bool:
        return self.user_id == user_id and self.session_ref == session_ref

    def choose_route(self, route: str) -> None:
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}")
        if self.done:
            raise OutOfOrder("a route is chosen before the first check")
        self.route = route
        self.steps = [step for step in ROUTES[route] if step not in self.avoided]

    def start_steps(self, kind: str, steps: tuple[str, ...]) -> None:
        self.kind = kind
        self.route = None
        self.steps = list(steps)
        self.done = []

    def expect(self, check: str) -> None:
        if self.current_step != check:
            raise OutOfOrder(f"expected {self.current_step!r}, got {check!r}")

    def complete(self, check: str, credential: str | None) -> None:
        self.expect(check)
        self.steps.pop(0)
        self.done.append(check)
        if credential is not None:
            self.credentials.append(credential)

    def divert(self, failed_check: str, instead: tuple[str, ...]) -> None:
        """A contra-indicator with a mitigation: offer the mitigating checks next, and never the failed one again."""
        if failed_check not in self.avoided:
            self.avoided.append(failed_check)
        remaining = [step for step in self.steps if step not in instead and step != failed_check]
        self.steps = [step for step in instead if step not in self.done or step in ("fraud",)] + remaining

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProvingState:
        return cls(**data)
