"""One-time security codes sent by email or text message: 6 digits, held in the store, single use.

How to use it (from a view, through the app's services):

    codes = current_services().codes
    try:
        code = codes.issue(VERIFY_EMAIL, email_subject(email), ttl=codes.email_ttl)
    except CodeRequestsLocked as locked:
        show the "try again later" page until `locked.until`
    send `code` in a message (idp.notify), never log it

    result = codes.check(VERIFY_EMAIL, email_subject(email), entered)
    CodeCheck.OK               the right code, now spent
    CodeCheck.WRONG            not the code; counted toward the lockout of the SECURITY_CODE step
    CodeCheck.EXPIRED_OR_USED  no code is waiting (it expired, was used, or was never sent)
    CodeCheck.LOCKED           too many wrong codes: the step is locked (`limits.locked_until`)

A code is kept for a purpose and a subject (see `idp.auth.limits` for subjects); issuing a new one replaces the
old. Every request for a code counts toward the CODE_REQUEST limit. The store keeps only a keyed hash of the code.
Lifetimes are One Login's: 15 minutes for email and for text-message codes (`IDP_EMAIL_CODE_TTL`,
`IDP_SMS_CODE_TTL`).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets

from idp.auth.limits import CODE_REQUEST, SECURITY_CODE, Limits
from idp.store import Store

# Purposes: a code sent for one cannot be used for another.
VERIFY_EMAIL = "verify_email"  # creating an account
VERIFY_PHONE = "verify_phone"  # setting up text-message codes
SIGN_IN_SMS = "sign_in_sms"  # the second factor at sign-in
RESET_PASSWORD = "reset_password"
CHANGE_EMAIL = "change_email"
CHANGE_SECOND_FACTOR = "change_second_factor"

CODE_LENGTH = 6


class CodeCheck(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED_OR_USED = "expired_or_used"
    LOCKED = "locked"


class CodeRequestsLocked(Exception):
    """Too many codes were asked for; no code was sent."""

    def __init__(self, until: float) -> None:
        super().__init__("too many code requests")
        self.until = until


class OneTimeCodes:
    def __init__(self, store: Store, limits: Limits, key: bytes, email_ttl: int, sms_ttl: int) -> None:
        self._store = store
        self._limits = limits
        self._key = key
        self.email_ttl = email_ttl
        self.sms_ttl = sms_ttl

    def issue(self, purpose: str, subject: str, ttl: int) -> str:
        """A new code for (purpose, subject), replacing any earlier one; raises CodeRequestsLocked."""
        until = self._limits.locked_until(CODE_REQUEST, subject)
        if until:
            raise CodeRequestsLocked(until)
        # The request that reaches the limit still gets its code; the next one is refused.
        self._limits.count_request(CODE_REQUEST, subject)
        code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
        record = {"digest": self._digest(purpose, subject, code)}
        self._store.set(_key(purpose, subject), json.dumps(record).encode(), ttl)
        return code

    def check(self, purpose: str, subject: str, entered: str) -> CodeCheck:
        if self._limits.locked_until(SECURITY_CODE, subject):
            return CodeCheck.LOCKED
        raw = self._store.get(_key(purpose, subject))
        if raw is None:
            return CodeCheck.EXPIRED_OR_USED
        expected = str(json.loads(raw)["digest"])
        entered = entered.replace(" ", "").strip()
        if not hmac.compare_digest(expected, self._digest(purpose, subject, entered)):
            if self._limits.count_failure(SECURITY_CODE, subject):
                self._store.delete(_key(purpose, subject))
                return CodeCheck.LOCKED
            return CodeCheck.WRONG
        # Deleting is the redemption: of two requests with the same code, only one deletes it.
        if not self._store.delete(_key(purpose, subject)):
            return CodeCheck.EXPIRED_OR_USED
        self._limits.clear(SECURITY_CODE, subject)
        return CodeCheck.OK

    def is_waiting(self, purpose: str, subject: str) -> bool:
        """Whether a code has been sent and is still usable (for a page that offers to send another)."""
        return self._store.get(_key(purpose, subject)) is not None

    def withdraw(self, purpose: str, subject: str) -> None:
        self._store.delete(_key(purpose, subject))

    def _digest(self, purpose: str, subject: str, code: str) -> str:
        return hmac.new(self._key, f"{purpose}\x00{subject}\x00{code}".encode(), hashlib.sha256).hexdigest()


def codes_key(master_key: bytes) -> bytes:
    """The key for the codes' hashes: derived from the master key, the same in every process."""
    return hmac.new(master_key, b"one-time security codes", hashlib.sha256).digest()


def _key(purpose: str, subject: str) -> str:
    return f"otp:{purpose}:{subject}"
