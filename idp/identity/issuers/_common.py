"""What the checks share: reading answers, names and dates, transaction ids."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime

from idp.identity.issuers.base import CheckContext, FieldKind, FormField, Refusal
from idp.identity.messages import _l
from idp.identity.registers.shipped import comparable

MESSAGE_NEEDS_CLAIMED_IDENTITY = _l("We need your name, date of birth and address before this check")

BIRTH_DATE_FIELD = FormField("birth_date", _l("Date of birth"), FieldKind.DATE, hint=_l("For example, 27 3 1985"))


def text(answers: Mapping[str, str], name: str) -> str:
    return " ".join(str(answers.get(name, "")).split())


def compact(answers: Mapping[str, str], name: str) -> str:
    return re.sub(r"[\s-]", "", str(answers.get(name, ""))).upper()


def txn() -> str:
    return str(uuid.uuid4())


def today(now: datetime) -> date:
    return now.date()


def answer_date(
    answers: Mapping[str, str],
    name: str,
    refusals: list[Refusal],
    *,
    missing: str,
    impossible: str,
    future: str | None = None,
    now: datetime,
) -> date | None:
    """An ISO date answer: missing, impossible (30 February) or, when `future` is given, not in the past, is refused."""
    raw = text(answers, name)
    if not raw:
        refusals.append(Refusal(name, missing))
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        refusals.append(Refusal(name, impossible))
        return None
    if future is not None and value >= today(now):
        refusals.append(Refusal(name, future))
        return None
    return value


def answer_birth_date(answers: Mapping[str, str], refusals: list[Refusal], now: datetime) -> date | None:
    """The citizen's date of birth (BIRTH_DATE_FIELD), which must be a real date in the past."""
    return answer_date(
        answers,
        "birth_date",
        refusals,
        missing=_l("Enter your date of birth"),
        impossible=_l("Your date of birth must be a real date"),
        future=_l("Your date of birth must be in the past"),
        now=now,
    )


def required_text(answers: Mapping[str, str], name: str, refusals: list[Refusal], missing: str) -> str:
    value = text(answers, name)
    if not value:
        refusals.append(Refusal(name, missing))
    return value


def same_name(given_a: str, family_a: str, given_b: str, family_b: str) -> bool:
    return comparable(given_a) == comparable(given_b) and comparable(family_a) == comparable(family_b)


def needs_claimed(context: CheckContext) -> Refusal | None:
    return Refusal(None, MESSAGE_NEEDS_CLAIMED_IDENTITY) if context.claimed is None else None
