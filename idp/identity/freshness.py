"""How long a proven identity's parts stay good, and what a change of details means (spec "Reuse, freshness and
change"; reference §4.3, §4.4)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

# Spec: "A fraud check older than 180 days (counted from the start of the London day of its nbf) no longer counts".
FRAUD_CHECK_EXPIRY_DAYS = 180


def fraud_check_expires_at(nbf: int, days: int = FRAUD_CHECK_EXPIRY_DAYS) -> datetime:
    """Reference §4.4: expired when now ≥ (start of the London day of `nbf`) + N days."""
    london_day = datetime.fromtimestamp(nbf, tz=LONDON).date() + timedelta(days=days)
    return datetime(london_day.year, london_day.month, london_day.day, tzinfo=LONDON)


def fraud_check_expired(nbf: int, now: datetime, days: int = FRAUD_CHECK_EXPIRY_DAYS) -> bool:
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return moment >= fraud_check_expires_at(nbf, days)


class Change(StrEnum):
    ADDRESS = "address"
    GIVEN_NAME = "given_name"
    FAMILY_NAME = "family_name"
    BIRTH_DATE = "birth_date"


class Check(StrEnum):
    ADDRESS = "address"
    FRAUD = "fraud"
    DOCUMENT_APP = "document_app"


class Reproof(StrEnum):
    NONE = "none"  # nothing changed
    CHECKS = "checks"  # the listed checks again, keeping the rest
    PROVE_AGAIN = "prove_again"  # a whole new proving journey


def checks_after_change(changes: Iterable[Change]) -> tuple[Reproof, tuple[Check, ...]]:
    """Spec: address → address and fraud; date of birth or both names → prove again. Reference §4.3: one name →
    the document app and fraud."""
    changed = set(changes)
    if not changed:
        return Reproof.NONE, ()
    if Change.BIRTH_DATE in changed or {Change.GIVEN_NAME, Change.FAMILY_NAME} <= changed:
        return Reproof.PROVE_AGAIN, ()
    needed: list[Check] = []
    if Change.ADDRESS in changed:
        needed.append(Check.ADDRESS)
    if changed & {Change.GIVEN_NAME, Change.FAMILY_NAME}:
        needed.append(Check.DOCUMENT_APP)
    needed.append(Check.FRAUD)
    return Reproof.CHECKS, tuple(needed)
