"""Credential signing and verification through a real keyring (idp/identity/credentials.py)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from idp.identity.contra_indicators import UnknownContraIndicator
from idp.identity.credentials import (
    BirthDate,
    Credential,
    CredentialRejected,
    CredentialSubject,
    Evidence,
    Name,
    Passport,
    identity_check,
    issue_credential,
    verify_credential,
)
from idp.identity.issuers import build_registry
from idp.identity.issuers.base import purpose_for
from idp.keys.rotation import KeyRuleError, check_purpose, kept_after_retirement
from tests.identity.conftest import BASE_URL, Checks

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SUB = "urn:fdc:gov.uk:2022:someone"
PASSPORT_ISS = BASE_URL.rstrip("/") + "/issuers/passport"


def passport_credential(cis: tuple[str, ...] = ()) -> Credential:
    subject = CredentialSubject(
        name=(Name.of("Kenneth", "Decerqueira"),),
        birth_date=(BirthDate("1965-07-08"),),
        passport=(Passport("321654987", "GBR", "2030-01-01"),),
    )
    return identity_check(subject, Evidence(txn="t", strength_score=4, validity_score=2, ci=cis))


def sign(checks: Checks, credential: Credential, purpose: str = "issuer:passport", iss: str = PASSPORT_ISS) -> str:
    return issue_credential(credential, keyring=checks.keyring, purpose=purpose, iss=iss, sub=SUB, now=NOW)


def test_a_credential_is_an_es256_jwt_with_kid_in_the_reference_format(checks: Checks) -> None:
    token = sign(checks, passport_credential())
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == checks.keyring.active_kid("issuer:passport")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == PASSPORT_ISS
    assert claims["sub"] == SUB
    assert claims["nbf"] == int(NOW.timestamp())
    assert claims["jti"].startswith("urn:uuid:")
    assert claims["vc"] == {
        "type": ["VerifiableCredential", "IdentityCheckCredential"],
        "credentialSubject": {
            "name": [
                {
                    "nameParts": [
                        {"type": "GivenName", "value": "Kenneth"},
                        {"type": "FamilyName", "value": "Decerqueira"},
                    ]
                }
            ],
            "birthDate": [{"value": "1965-07-08"}],
            "passport": [{"documentNumber": "321654987", "icaoIssuerCode": "GBR", "expiryDate": "2030-01-01"}],
        },
        "evidence": [{"type": "IdentityCheck", "txn": "t", "strengthScore": 4, "validityScore": 2, "ci": []}],
    }


def test_verification_returns_the_typed_credential(checks: Checks) -> None:
    token = sign(checks, passport_credential(("P02",)))
    verified = verify_credential(token, checks.keyring, checks.trusted, subject=SUB, now=NOW)
    assert verified.issuer == "passport"
    assert verified.vc == passport_credential(("P02",))
    assert verified.cis == ("P02",)
    assert verified.jwt == token


def _tamper(token: str, change: dict[str, object]) -> str:
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(change)
    new_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{new_body}.{signature}"


def test_a_bad_signature_is_refused(checks: Checks) -> None:
    token = sign(checks, passport_credential())
    tampered = _tamper(token, {"sub": "urn:fdc:gov.uk:2022:somebody-else"})
    with pytest.raises(CredentialRejected) as refused:
        verify_credential(tampered, checks.keyring, checks.trusted)
    assert refused.value.reason == CredentialRejected.BAD_SIGNATURE


def test_another_issuers_key_cannot_sign_for_the_passport_check(checks: Checks) -> None:
    # Signed by the document app's key but claiming to be the passport check.
    token = sign(checks, passport_credential(), purpose=purpose_for("document_app"))
    with pytest.raises(CredentialRejected) as refused:
        verify_credential(token, checks.keyring, checks.trusted)
    assert refused.value.reason == CredentialRejected.BAD_SIGNATURE


def test_an_untrusted_issuer_is_refused(checks: Checks) -> None:
    token = sign(checks, passport_credential(), iss="https://elsewhere.example/issuers/passport")
    with pytest.raises(CredentialRejected) as refused:
        verify_credential(token, checks.keyring, checks.trusted)
    assert refused.value.reason == CredentialRejected.UNTRUSTED_ISSUER


def test_an_unknown_contra_indicator_is_refused(checks: Checks) -> None:
    with pytest.raises(UnknownContraIndicator):
        sign(checks, passport_credential(("X99",)))
    claims = {"iss": PASSPORT_ISS, "sub": SUB, "nbf": int(NOW.timestamp()), "jti": "urn:uuid:1"}
    claims["vc"] = {**passport_credential().to_json(), "evidence": [{"type": "IdentityCheck", "ci": ["X99"]}]}
    token = checks.keyring.sign(claims, "issuer:passport")
    with pytest.raises(CredentialRejected) as refused:
        verify_credential(token, checks.keyring, checks.trusted)
    assert refused.value.reason == CredentialRejected.UNKNOWN_CONTRA_INDICATOR


@pytest.mark.parametrize(
    "vc",
    [
        {"type": ["VerifiableCredential", "SomethingElse"]},
        {"type": "VerifiableCredential"},
        {"type": ["VerifiableCredential", "IdentityCheckCredential"], "evidence": [{"strengthScore": "4"}]},
        {"type": ["VerifiableCredential", "IdentityCheckCredential"], "credentialSubject": {"name": "Kenneth"}},
    ],
)
def test_a_malformed_credential_is_refused(checks: Checks, vc: dict[str, object]) -> None:
    claims = {"iss": PASSPORT_ISS, "sub": SUB, "nbf": int(NOW.timestamp()), "jti": "urn:uuid:1", "vc": vc}
    token = checks.keyring.sign(claims, "issuer:passport")
    with pytest.raises(CredentialRejected) as refused:
        verify_credential(token, checks.keyring, checks.trusted)
    assert refused.value.reason == CredentialRejected.MALFORMED


def test_nbf_and_vc_are_required(checks: Checks) -> None:
    token = checks.keyring.sign({"iss": PASSPORT_ISS, "sub": SUB, "jti": "urn:uuid:1", "vc": {}}, "issuer:passport")
    with pytest.raises(CredentialRejected, match="malformed"):
        verify_credential(token, checks.keyring, checks.trusted)


def test_the_subject_and_the_time_are_checked(checks: Checks) -> None:
    token = sign(checks, passport_credential())
    with pytest.raises(CredentialRejected, match="wrong_subject"):
        verify_credential(token, checks.keyring, checks.trusted, subject="urn:fdc:gov.uk:2022:other")
    with pytest.raises(CredentialRejected, match="issued in the future"):
        verify_credential(token, checks.keyring, checks.trusted, now=NOW - timedelta(hours=1))
    # A stored credential verifies months later: freshness is the engine's rule.
    verify_credential(token, checks.keyring, checks.trusted, now=NOW + timedelta(days=400))


def test_not_a_jwt(checks: Checks) -> None:
    with pytest.raises(CredentialRejected, match="malformed"):
        verify_credential("not.a.jwt", checks.keyring, checks.trusted)


def test_production_trusts_no_simulation(checks: Checks) -> None:
    production = checks.registry.trusted(trust_simulations=False)
    assert {t.name for t in production.values()} == {
        "passport",
        "driving_licence",
        "address",
        "fraud",
        "security_questions",
        "bank_account",
        "national_insurance",
        "claimed_identity",
    }
    app_iss = BASE_URL.rstrip("/") + "/issuers/document_app"
    token = sign(checks, passport_credential(), purpose="issuer:document_app", iss=app_iss)
    assert verify_credential(token, checks.keyring, checks.trusted).issuer == "document_app"
    with pytest.raises(CredentialRejected, match="untrusted_issuer"):
        verify_credential(token, checks.keyring, production)


def test_the_test_mode_is_off_unless_configured(checks: Checks) -> None:
    registry = build_registry(checks.keyring, BASE_URL, test_mode=False)
    assert registry.test_mode is None
    assert "test-mode" not in {t.name for t in registry.trusted(trust_simulations=True).values()}
    assert checks.registry.test_mode is not None


def test_the_checks_keys_are_never_purged(checks: Checks) -> None:
    # Stored credentials are verified again when an identity is reused, years after they were signed.
    assert kept_after_retirement("issuer:passport")
    assert kept_after_retirement("issuer:test-mode")
    assert not kept_after_retirement("oidc")
    assert not kept_after_retirement("identity")
    check_purpose("issuer:passport", "ES256")
    with pytest.raises(KeyRuleError):
        check_purpose("issuer:passport", "RS256")
