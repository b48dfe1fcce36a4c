"""Pairwise subject identifiers (reference §3.3), checked against an independent computation."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from idp.oidc.subject import pairwise_subject, sector_host

SUBJECT_FORMAT = re.compile(r"^urn:fdc:gov\.uk:2022:[A-Za-z0-9_-]{43}$")


def expected_subject(sector: str, internal_id: str, salt: str) -> str:
    digest = hashlib.sha256(f"{sector}{internal_id}{salt}".encode()).digest()
    encoded = base64.b64encode(digest).decode().replace("+", "-").replace("/", "_").rstrip("=")
    return "urn:fdc:gov.uk:2022:" + encoded


@pytest.mark.parametrize(
    ("sector_identifier_uri", "redirect_uris", "expected"),
    [
        ("https://www.example.gov.uk/sector.json", ["https://rp.service.gov.uk/cb"], "example.gov.uk"),
        ("https://example.gov.uk/sector.json", [], "example.gov.uk"),
        ("https://WWW.Example.GOV.uk:8443/s", [], "example.gov.uk"),
        (None, ["https://www.rp.service.gov.uk/cb", "https://other.gov.uk/cb"], "rp.service.gov.uk"),
        ("", ["https://rp.service.gov.uk:444/callback?x=1"], "rp.service.gov.uk"),
        (None, ["http://localhost:8080/cb"], "localhost"),
        # Only a leading `www.` goes.
        ("https://services.www.gov.uk/", [], "services.www.gov.uk"),
        ("https://wwwexample.gov.uk/", [], "wwwexample.gov.uk"),
    ],
)
def test_sector_host(sector_identifier_uri: str | None, redirect_uris: list[str], expected: str) -> None:
    assert sector_host(sector_identifier_uri, redirect_uris) == expected


@pytest.mark.parametrize(
    ("sector", "internal_id", "salt"),
    [
        ("example.gov.uk", "0b7c1e36-7f1d-4a1f-9d8e-1b2c3d4e5f60", "00112233445566778899aabbccddeeff"),
        ("localhost", "user-1", "salt"),
        ("a.b", "", ""),
        ("rp.service.gov.uk", "ÿ-unicode-id", "s"),
    ],
)
def test_pairwise_subject_matches_an_independent_computation(sector: str, internal_id: str, salt: str) -> None:
    subject = pairwise_subject(sector, internal_id, salt)
    assert subject == expected_subject(sector, internal_id, salt)
    assert SUBJECT_FORMAT.match(subject)
    assert "=" not in subject


def test_known_value() -> None:
    # SHA-256("abc") = ba7816bf...15ad, base64url without padding.
    assert pairwise_subject("a", "b", "c") == "urn:fdc:gov.uk:2022:ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"


def test_same_sector_gives_the_same_subject_and_other_sectors_do_not() -> None:
    user, salt = "user-42", "f" * 32
    department_a = sector_host("https://www.department.gov.uk/sector", ["https://one.service.gov.uk/cb"])
    department_b = sector_host("https://department.gov.uk/other-path", ["https://two.service.gov.uk/cb"])
    unrelated = sector_host(None, ["https://unrelated.gov.uk/cb"])
    assert department_a == department_b
    assert pairwise_subject(department_a, user, salt) == pairwise_subject(department_b, user, salt)
    assert pairwise_subject(department_a, user, salt) != pairwise_subject(unrelated, user, salt)


def test_subject_depends_on_user_and_salt() -> None:
    base = pairwise_subject("example.gov.uk", "user-1", "salt-1")
    assert base != pairwise_subject("example.gov.uk", "user-2", "salt-1")
    assert base != pairwise_subject("example.gov.uk", "user-1", "salt-2")
    assert base == pairwise_subject("example.gov.uk", "user-1", "salt-1")
