"""Authenticator-app codes (RFC 6238), with each accepted code usable once."""

from __future__ import annotations

import datetime
import time

import pyotp

ISSUER_NAME = "GOV.UK One Login"


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER_NAME)


def matching_step(secret: str, code: str, now: float | None = None, window: int = 1) -> int | None:
    """The time step the code belongs to (one step either side allowed for clock drift), or None.

    The caller records the step so that the same code cannot be used twice (RFC 6238 §5.2)."""
    code = code.replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    moment = datetime.datetime.fromtimestamp(time.time() if now is None else now, tz=datetime.UTC)
    step = totp.timecode(moment)
    for offset in range(-window, window + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step + offset), code):
            return step + offset
    return None


def spaced(secret: str) -> str:
    """The key written out in groups of four, for typing into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
