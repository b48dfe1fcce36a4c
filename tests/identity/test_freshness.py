"""Freshness and change rules (idp/identity/freshness.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idp.identity.freshness import (
    Change,
    Check,
    Reproof,
    checks_after_change,
    fraud_check_expired,
    fraud_check_expires_at,
)


def ts(value: str) -> int:
    return int(datetime.fromisoformat(value).timestamp())


def test_expiry_counts_from_the_start_of_the_london_day() -> None:
    # 23:30 UTC on 1 July is 00:30 on 2 July in London (BST): the London day is 2 July.
    nbf = ts("2026-07-01T23:30:00+00:00")
    expires = fraud_check_expires_at(nbf)
    assert expires == datetime(2026, 12, 29, 0, 0, tzinfo=UTC)  # 2 July + 180 days, GMT by then
    assert not fraud_check_expired(nbf, expires - timedelta(seconds=1))
    assert fraud_check_expired(nbf, expires)


def test_winter_nbf_and_summer_expiry() -> None:
    nbf = ts("2026-01-15T10:00:00+00:00")
    # 15 January + 180 days = 14 July, midnight in London = 23:00 UTC on 13 July.
    assert fraud_check_expires_at(nbf) == datetime(2026, 7, 13, 23, 0, tzinfo=UTC)
    assert fraud_check_expired(nbf, datetime(2026, 7, 13, 23, 0, tzinfo=UTC))
    assert not fraud_check_expired(nbf, datetime(2026, 7, 13, 22, 59, tzinfo=UTC))


def test_a_naive_now_is_utc() -> None:
    nbf = ts("2026-01-15T10:00:00+00:00")
    assert fraud_check_expired(nbf, datetime(2026, 7, 14, 0, 0))


@pytest.mark.parametrize(
    ("changes", "reproof", "checks"),
    [
        ((), Reproof.NONE, ()),
        ((Change.ADDRESS,), Reproof.CHECKS, (Check.ADDRESS, Check.FRAUD)),
        ((Change.GIVEN_NAME,), Reproof.CHECKS, (Check.DOCUMENT_APP, Check.FRAUD)),
        ((Change.FAMILY_NAME, Change.ADDRESS), Reproof.CHECKS, (Check.ADDRESS, Check.DOCUMENT_APP, Check.FRAUD)),
        ((Change.GIVEN_NAME, Change.FAMILY_NAME), Reproof.PROVE_AGAIN, ()),
        ((Change.BIRTH_DATE,), Reproof.PROVE_AGAIN, ()),
        ((Change.BIRTH_DATE, Change.ADDRESS), Reproof.PROVE_AGAIN, ()),
    ],
)
def test_what_a_change_of_details_needs(
    changes: tuple[Change, ...], reproof: Reproof, checks: tuple[Check, ...]
) -> None:
    assert checks_after_change(changes) == (reproof, checks)
