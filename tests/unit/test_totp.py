"""Authenticator-app codes (RFC 6238) in idp/auth/totp.py."""

from __future__ import annotations

import base64
import re

import pyotp
import pytest

from idp.auth.totp import ISSUER_NAME, matching_step, new_secret, provisioning_uri, spaced

# RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890"; pyotp takes it base32-encoded.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_800_000_015.0  # the middle of a 30-second step
STEP = int(NOW // 30)


@pytest.mark.parametrize(
    ("moment", "eight_digits"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
    ],
)
def test_rfc_6238_vectors(moment: int, eight_digits: str) -> None:
    # Six-digit codes are the last six digits of the RFC's eight-digit values.
    assert matching_step(RFC_SECRET, eight_digits[-6:], now=moment, window=0) == moment // 30


@pytest.mark.parametrize(("offset", "expected"), [(-1, STEP - 1), (0, STEP), (1, STEP + 1)])
def test_one_step_either_side_is_accepted(offset: int, expected: int) -> None:
    code = pyotp.TOTP(SECRET).at(NOW + 30 * offset)
    assert matching_step(SECRET, code, now=NOW) == expected


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_further_away_are_refused(offset: int) -> None:
    assert matching_step(SECRET, pyotp.TOTP(SECRET).at(NOW + 30 * offset), now=NOW) is None


@pytest.mark.parametrize(
    ("window", "offset", "accepted"), [(0, 0, True), (0, 1, False), (2, -2, True), (2, 2, True), (2, 3, False)]
)
def test_window(window: int, offset: int, accepted: bool) -> None:
    step = matching_step(SECRET, pyotp.TOTP(SECRET).at(NOW + 30 * offset), now=NOW, window=window)
    assert step == (STEP + offset if accepted else None)


def test_code_for_another_secret_is_refused() -> None:
    other = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF"
    assert matching_step(SECRET, pyotp.TOTP(other).at(NOW), now=NOW) is None


def test_spaces_are_ignored() -> None:
    code = pyotp.TOTP(SECRET).at(NOW)
    assert matching_step(SECRET, f" {code[:3]} {code[3:]} ", now=NOW) == STEP


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "abcdef", "12a456", "12-456", "123.45", "+12345", "١٢٣٤٥٦", "１２３４５６"],
    ids=["empty", "five", "seven", "letters", "mixed", "dash", "dot", "sign", "arabic-digits", "fullwidth-digits"],
)
def test_malformed_codes_are_refused(code: str) -> None:
    assert matching_step(SECRET, code, now=NOW) is None


def test_wall_clock_is_used_by_default() -> None:
    assert matching_step(SECRET, pyotp.TOTP(SECRET).now()) is not None


def test_new_secret() -> None:
    secrets_made = {new_secret() for _ in range(10)}
    assert len(secrets_made) == 10
    for secret in secrets_made:
        assert re.fullmatch(r"[A-Z2-7]{32}", secret)
        assert len(base64.b32decode(secret)) == 20


def test_provisioning_uri() -> None:
    uri = provisioning_uri(SECRET, "citizen@example.com")
    assert uri.startswith("otpauth://totp/")
    assert f"secret={SECRET}" in uri
    assert "citizen%40example.com" in uri
    assert "issuer=" + ISSUER_NAME.replace(" ", "%20") in uri


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("ABCDEFGH", "ABCD EFGH"),
        ("ABCDEFGHIJ", "ABCD EFGH IJ"),
        ("", ""),
        (SECRET, "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP"),
    ],
)
def test_spaced(secret: str, expected: str) -> None:
    assert spaced(secret) == expected
