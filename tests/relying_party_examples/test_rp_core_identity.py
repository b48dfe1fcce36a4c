"""The sample service's check of the core identity JWT (reference §4.1), offline: a DID document of our own."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from relying_party_examples.sample_service.core_identity import (
    DidDocumentCache,
    did_for_url,
    proven_identity,
    requested_identity_level,
    validate_core_identity_jwt,
)
from relying_party_examples.sample_service.jwks import InvalidTokenError

DID = "did:web:identity.example.gov.uk"
URL = "https://identity.example.gov.uk/.well-known/did.json"
ISSUER = "https://identity.example.gov.uk/"
KEY = ec.generate_private_key(ec.SECP256R1())
KID = DID + "#" + "ab" * 32


def document(key: ec.EllipticCurvePrivateKey = KEY, kid: str = KID) -> dict[str, Any]:
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    method = {"id": kid, "type": "JsonWebKey", "controller": DID, "publicKeyJwk": {**jwk, "alg": "ES256"}}
    return {"@context": [], "id": DID, "assertionMethod": [method]}


class Fetcher:
    def __init__(self, *results: Any) -> None:
        self.results = list(results)
        self.urls: list[str] = []

    def __call__(self, url: str) -> tuple[dict[str, Any], float]:
        self.urls.append(url)
        result = self.results.pop(0) if len(self.results) > 1 else self.results[0]
        if isinstance(result, Exception):
            raise result
        return result, 3600.0


def token(**overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "urn:fdc:gov.uk:2022:me",
        "iss": ISSUER,
        "aud": "state-pension",
        "nbf": now,
        "iat": now,
        "exp": now + 1800,
        "vot": "P2",
        "vtm": "https://oidc.example.gov.uk/trustmark",
        "vc": {
            "type": ["VerifiableCredential", "IdentityCheckCredential"],
            "credentialSubject": {
                "name": [
                    {
                        "nameParts": [
                            {"type": "GivenName", "value": "KENNETH"},
                            {"type": "FamilyName", "value": "DECERQUEIRA"},
                        ]
                    }
                ],
                "birthDate": [{"value": "1965-07-08"}],
            },
        },
    }
    headers = {"kid": overrides.pop("kid", KID)}
    key = overrides.pop("key", KEY)
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="ES256", headers=headers)


def check(raw: str, cache: DidDocumentCache | None = None, required_vot: str = "P2") -> dict[str, Any]:
    return validate_core_identity_jwt(
        raw,
        did_documents=cache or DidDocumentCache(URL, fetch=Fetcher(document())),
        expected_did=DID,
        identity_issuer=ISSUER,
        client_id="state-pension",
        subject="urn:fdc:gov.uk:2022:me",
        required_vot=required_vot,
    )


def test_a_good_core_identity_jwt_gives_the_name_and_date_of_birth() -> None:
    proven = proven_identity(check(token()))
    assert (proven.given_names, proven.family_name, proven.birth_date, proven.vot) == (
        "KENNETH",
        "DECERQUEIRA",
        "1965-07-08",
        "P2",
    )


def test_the_did_document_comes_only_from_the_configured_url_and_is_cached() -> None:
    now = [1000.0]
    fetcher = Fetcher(document())
    cache = DidDocumentCache(URL, fetch=fetcher, clock=lambda: now[0])
    check(token(), cache)
    check(token(), cache)
    assert fetcher.urls == [URL]
    now[0] += 3601  # Cache-Control max-age=3600
    check(token(), cache)
    assert fetcher.urls == [URL, URL]


def test_a_failed_refresh_keeps_the_cached_document() -> None:
    now = [1000.0]
    cache = DidDocumentCache(URL, fetch=Fetcher(document(), ValueError("down")), clock=lambda: now[0])
    check(token(), cache)
    now[0] += 4000
    check(token(), cache)


def test_no_document_at_all_means_no_trust() -> None:
    with pytest.raises(InvalidTokenError, match="could not be fetched"):
        check(token(), DidDocumentCache(URL, fetch=Fetcher(ValueError("down"))))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"kid": "ab" * 32}, "not a DID URL"),
        ({"kid": "did:web:evil.example#" + "ab" * 32}, "another controller"),
        ({"kid": DID + "#" + "cd" * 32}, "not in the DID document"),
        ({"key": ec.generate_private_key(ec.SECP256R1())}, "does not verify"),
        ({"iss": "https://elsewhere.example/"}, "does not verify"),
        ({"aud": "another-service"}, "does not verify"),
        ({"exp": int(time.time()) - 60}, "does not verify"),
        ({"sub": "urn:fdc:gov.uk:2022:someone-else"}, "someone else"),
        ({"vot": "P1"}, "below the level"),
    ],
)
def test_refusals(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidTokenError, match=reason):
        check(token(**overrides))


def test_only_es256() -> None:
    forged = jwt.encode({"sub": "x"}, "secret-key-of-thirty-two-bytes!!", algorithm="HS256", headers={"kid": KID})
    with pytest.raises(InvalidTokenError, match="not ES256"):
        check(forged)


def test_did_for_a_url_with_a_port_and_the_level_asked_for() -> None:
    assert did_for_url("http://localhost:8080/.well-known/did.json") == "did:web:localhost%3A8080"
    assert did_for_url(URL) == DID
    assert requested_identity_level(["Cl.Cm.P2", "Cl.Cm.P1"]) == "P1"
    assert requested_identity_level(["Cl.Cm"]) is None
