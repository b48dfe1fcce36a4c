"""Limits and lockouts: too many wrong passwords, wrong codes or code requests lock that step for a while.

How to use it (from a view, through the app's services):

    limits = current_services().limits
    until = limits.locked_until(PASSWORD, user.id)        # a Unix time, or None when the step is open
    if until: show the "try again later" page
    if wrong:
        if limits.count_failure(PASSWORD, user.id):      # True when this failure locked the step
            show the "try again later" page
    else:
        limits.clear(PASSWORD, user.id)                  # a right answer starts the count again
    limits.count_request(CODE_REQUEST, subject)          # a code request counts toward its own limit

    limits.clear_lockouts(user.id)                        # the operators' `idp users unlock`

A subject is a user id, or `email_subject(email)` before an account exists (creating an account); an operator
unlocking a citizen clears both. The rules are configuration (`rules_from_config`), One Login's defaults: 6 wrong
passwords, 6 wrong codes, 6 code requests, each locking its step for 15 minutes. Every lockout is reported to
`on_lockout` (the app audits it). Counters and locks live in the store, so every process sees them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from idp.store import Store

PASSWORD = "password"
SECURITY_CODE = "security_code"  # a one-time code by email or text message, or an authenticator-app code
CODE_REQUEST = "code_request"
STEPS = (PASSWORD, SECURITY_CODE, CODE_REQUEST)


@dataclass(frozen=True)
class Rule:
    attempts: int  # the attempt that reaches this number locks the step
    lockout_seconds: int  # how long the step stays locked; failures are counted over the same window


LockoutHandler = Callable[[str, str, int], None]


def rules_from_config(config: Mapping[str, Any]) -> dict[str, Rule]:
    lockout = int(config["IDP_SIGN_IN_LOCKOUT_SECONDS"])
    return {
        PASSWORD: Rule(int(config["IDP_PASSWORD_ATTEMPTS"]), lockout),
        SECURITY_CODE: Rule(int(config["IDP_CODE_ATTEMPTS"]), lockout),
        CODE_REQUEST: Rule(int(config["IDP_CODE_REQUESTS"]), lockout),
    }


def email_subject(email: str) -> str:
    """The subject for an email address with no account yet; the store key does not hold the address itself."""
    return "email-" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]


class Limits:
    def __init__(
        self,
        store: Store,
        rules: Mapping[str, Rule],
        on_lockout: LockoutHandler | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._rules = dict(rules)
        self._on_lockout = on_lockout
        self._clock = clock

    def rule(self, step: str) -> Rule:
        return self._rules[step]

    def locked_until(self, step: str, subject: str) -> float | None:
        """When the step opens again (Unix time), or None when it is open now."""
        remaining = self._store.ttl(_lock_key(step, subject))
        return self._clock() + remaining if remaining else None

    def count_failure(self, step: str, subject: str) -> bool:
        """Count a wrong answer; True when this one locks the step (or it was locked already)."""
        rule = self._rules[step]
        if self.locked_until(step, subject):
            return True
        count = self._store.incr(_count_key(step, subject), rule.lockout_seconds)
        if count < rule.attempts:
            return False
        self._store.set(_lock_key(step, subject), b"1", rule.lockout_seconds)
        self._store.delete(_count_key(step, subject))
        if self._on_lockout is not None:
            self._on_lockout(step, subject, rule.lockout_seconds)
        return True

    # A code request is not a wrong answer, but too many of them lock the requests the same way.
    count_request = count_failure

    def clear(self, step: str, subject: str) -> None:
        """Forget the count of failures (a right answer); an existing lock stays."""
        self._store.delete(_count_key(step, subject))

    def clear_lockouts(self, subject: str) -> list[str]:
        """Open every step for the subject and forget its counts; returns the steps that were locked."""
        unlocked = []
        for step in self._rules:
            if self._store.delete(_lock_key(step, subject)):
                unlocked.append(step)
            self._store.delete(_count_key(step, subject))
        return unlocked


def _lock_key(step: str, subject: str) -> str:
    return f"lock:{step}:{subject}"


def _count_key(step: str, subject: str) -> str:
    return f"fails:{step}:{subject}"
