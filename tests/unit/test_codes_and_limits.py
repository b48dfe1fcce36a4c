"""One-time codes (idp/auth/codes.py) and lockouts (idp/auth/limits.py) on a SQL store with a clock we move."""

from __future__ import annotations

from pathlib import Path

import pytest

from idp.auth.codes import SIGN_IN_SMS, VERIFY_EMAIL, CodeCheck, CodeRequestsLocked, OneTimeCodes
from idp.auth.limits import CODE_REQUEST, PASSWORD, SECURITY_CODE, Limits, Rule, email_subject
from idp.store.sql import SqlStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> SqlStore:
    return SqlStore(f"sqlite:///{tmp_path / 'store.sqlite3'}", clock=clock)


@pytest.fixture
def lockouts() -> list[tuple[str, str, int]]:
    return []


@pytest.fixture
def limits(store: SqlStore, clock: Clock, lockouts: list[tuple[str, str, int]]) -> Limits:
    rules = {PASSWORD: Rule(3, 900), SECURITY_CODE: Rule(3, 900), CODE_REQUEST: Rule(4, 900)}
    return Limits(store, rules, on_lockout=lambda *event: lockouts.append(event), clock=clock)


@pytest.fixture
def codes(store: SqlStore, limits: Limits) -> OneTimeCodes:
    return OneTimeCodes(store, limits, b"k" * 32, email_ttl=900, sms_ttl=900)


def test_the_attempt_reaching_the_limit_locks_the_step_and_is_reported(
    limits: Limits, clock: Clock, lockouts: list[tuple[str, str, int]]
) -> None:
    assert limits.count_failure(PASSWORD, "user-1") is False
    assert limits.count_failure(PASSWORD, "user-1") is False
    assert limits.locked_until(PASSWORD, "user-1") is None
    assert limits.count_failure(PASSWORD, "user-1") is True
    assert limits.locked_until(PASSWORD, "user-1") == pytest.approx(clock.now + 900, abs=1)
    assert lockouts == [(PASSWORD, "user-1", 900)]
    # Other steps and other citizens are not affected.
    assert limits.locked_until(SECURITY_CODE, "user-1") is None
    assert limits.locked_until(PASSWORD, "user-2") is None


def test_a_lock_ends_after_its_time(limits: Limits, clock: Clock) -> None:
    for _ in range(3):
        limits.count_failure(PASSWORD, "user-1")
    clock.now += 901
    assert limits.locked_until(PASSWORD, "user-1") is None
    assert limits.count_failure(PASSWORD, "user-1") is False


def test_a_right_answer_starts_the_count_again(limits: Limits) -> None:
    limits.count_failure(PASSWORD, "user-1")
    limits.count_failure(PASSWORD, "user-1")
    limits.clear(PASSWORD, "user-1")
    assert limits.count_failure(PASSWORD, "user-1") is False
    assert limits.count_failure(PASSWORD, "user-1") is False


def test_failures_outside_the_window_are_forgotten(limits: Limits, clock: Clock) -> None:
    limits.count_failure(PASSWORD, "user-1")
    limits.count_failure(PASSWORD, "user-1")
    clock.now += 901
    assert limits.count_failure(PASSWORD, "user-1") is False


def test_an_operator_clears_every_lock_of_a_citizen(limits: Limits) -> None:
    for step in (PASSWORD, SECURITY_CODE):
        for _ in range(3):
            limits.count_failure(step, "user-1")
    assert sorted(limits.clear_lockouts("user-1")) == [PASSWORD, SECURITY_CODE]
    assert limits.locked_until(PASSWORD, "user-1") is None
    assert limits.locked_until(SECURITY_CODE, "user-1") is None
    assert limits.clear_lockouts("user-1") == []


def test_an_email_subject_does_not_hold_the_address() -> None:
    subject = email_subject(" Someone@Example.com ")
    assert subject == email_subject("someone@example.com")
    assert "someone" not in subject and "example" not in subject


def test_a_code_is_six_digits_and_works_once(codes: OneTimeCodes) -> None:
    code = codes.issue(VERIFY_EMAIL, "s", ttl=900)
    assert len(code) == 6 and code.isdigit()
    assert codes.check(VERIFY_EMAIL, "s", code) is CodeCheck.OK
    assert codes.check(VERIFY_EMAIL, "s", code) is CodeCheck.EXPIRED_OR_USED


def test_a_code_expires(codes: OneTimeCodes, clock: Clock) -> None:
    code = codes.issue(VERIFY_EMAIL, "s", ttl=900)
    clock.now += 901
    assert codes.check(VERIFY_EMAIL, "s", code) is CodeCheck.EXPIRED_OR_USED


def test_a_code_is_for_one_purpose_and_one_subject(codes: OneTimeCodes) -> None:
    code = codes.issue(VERIFY_EMAIL, "s", ttl=900)
    assert codes.check(SIGN_IN_SMS, "s", code) is CodeCheck.EXPIRED_OR_USED
    assert codes.check(VERIFY_EMAIL, "other", code) is CodeCheck.EXPIRED_OR_USED
    assert codes.check(VERIFY_EMAIL, "s", code) is CodeCheck.OK


def test_a_new_code_replaces_the_old_one(codes: OneTimeCodes) -> None:
    first = codes.issue(VERIFY_EMAIL, "s", ttl=900)
    second = codes.issue(VERIFY_EMAIL, "s", ttl=900)
    while second == first:  # one in a million
        second = codes.issue(VERIFY_EMAIL, "s", ttl=900)
    assert codes.check(VERIFY_EMAIL, "s", first) is CodeCheck.WRONG
    assert codes.check(VERIFY_EMAIL, "s", second) is CodeCheck.OK


def test_wrong_codes_lock_the_step_and_spend_the_code(codes: OneTimeCodes, limits: Limits) -> None:
    code = codes.issue(VERIFY_EMAIL, "s", ttl=900)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert codes.check(VERIFY_EMAIL, "s", wrong) is CodeCheck.WRONG
    assert codes.check(VERIFY_EMAIL, "s", wrong) is CodeCheck.WRONG
    assert codes.check(VERIFY_EMAIL, "s", wrong) is CodeCheck.LOCKED
    assert limits.locked_until(SECURITY_CODE, "s") is not None
    # Even the right code is refused while the step is locked, and it is no longer waiting afterwards.
    assert codes.check(VERIFY_EMAIL, "s", code) is CodeCheck.LOCKED
    limits.clear_lockouts("s")
    assert codes.check(VERIFY_EMAIL, "s", code) is CodeCheck.EXPIRED_OR_USED


def test_too_many_code_requests_are_refused(codes: OneTimeCodes, clock: Clock) -> None:
    for _ in range(4):
        codes.issue(VERIFY_EMAIL, "s", ttl=900)
    with pytest.raises(CodeRequestsLocked) as refused:
        codes.issue(VERIFY_EMAIL, "s", ttl=900)
    assert refused.value.until == pytest.approx(clock.now + 900, abs=1)
    clock.now += 901
    assert codes.issue(VERIFY_EMAIL, "s", ttl=900)


def test_the_store_holds_no_code(codes: OneTimeCodes, store: SqlStore) -> None:
    code = codes.issue(VERIFY_EMAIL, "s", ttl=900)
    raw = store.get(f"otp:{VERIFY_EMAIL}:s")
    assert raw is not None and code.encode() not in raw
