from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from relying_party_examples.sample_service.id_token import at_hash, credential_level, validate_id_token
from relying_party_examples.sample_service.jwks import InvalidTokenError
from tests.relying_party_examples.rp_fakes import ACCESS_TOKEN, CLIENT_ID, EC_KID, ISSUER, NONCE, RSA_KID, FakeProvider


def validate(provider: FakeProvider, token: str, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "keys": provider.keys(),
        "issuer": ISSUER,
        "client_id": CLIENT_ID,
        "nonce": NONCE,
        "access_token": ACCESS_TOKEN,
        "expected_vot": "Cl.Cm",
    }
    arguments.update(overrides)
    return validate_id_token(token, **arguments)


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_a_good_token_passes(provider: FakeProvider, alg: str) -> None:
    claims = validate(provider, provider.sign(provider.id_token_claims(), alg=alg))
    assert claims["sub"].startswith("urn:fdc:gov.uk:2022:")
    assert claims["vot"] == "Cl.Cm"


def test_aud_as_a_list_with_only_our_client_passes(provider: FakeProvider) -> None:
    validate(provider, provider.sign(provider.id_token_claims(aud=[CLIENT_ID])))


def test_vot_cl_passes_when_cl_was_requested(provider: FakeProvider) -> None:
    validate(provider, provider.sign(provider.id_token_claims(vot="Cl")), expected_vot="Cl")


def test_clock_skew_of_up_to_30_seconds_is_allowed(provider: FakeProvider) -> None:
    now = int(time.time())
    validate(provider, provider.sign(provider.id_token_claims(exp=now - 20, iat=now + 20)))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "http://op.test"}, "iss"),
        ({"iss": "https://oidc.account.gov.uk/"}, "iss"),
        ({"iss": None}, "iss"),
        ({"aud": "vehicle-register"}, "aud"),
        ({"aud": [CLIENT_ID, "vehicle-register"]}, "aud"),
        ({"aud": None}, "aud"),
        ({"azp": "vehicle-register"}, "azp"),
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"exp": None}, "exp"),
        ({"exp": "2099-01-01"}, "exp"),
        ({"iat": int(time.time()) + 3600}, "iat"),
        ({"iat": None}, "iat"),
        ({"iat": True}, "iat"),
        ({"sub": None}, "sub"),
        ({"sub": ""}, "sub"),
        ({"nonce": "another-nonce"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"at_hash": at_hash("another access token")}, "at_hash"),
        ({"at_hash": None}, "at_hash"),
        ({"vot": "Cl"}, "vot"),
        ({"vot": "Cl.Cm.P2"}, "vot"),
        ({"vot": None}, "vot"),
    ],
)
def test_each_claim_rule_rejects(provider: FakeProvider, overrides: dict[str, Any], reason: str) -> None:
    token = provider.sign(provider.id_token_claims(**overrides))
    with pytest.raises(InvalidTokenError, match=reason):
        validate(provider, token)


def test_a_token_for_cl_is_rejected_when_cl_cm_was_requested_and_vice_versa(provider: FakeProvider) -> None:
    with pytest.raises(InvalidTokenError, match="vot"):
        validate(provider, provider.sign(provider.id_token_claims(vot="Cl.Cm")), expected_vot="Cl")


def test_hmac_algorithms_are_rejected(provider: FakeProvider) -> None:
    token = jwt.encode(provider.id_token_claims(), "a-shared-secret-of-at-least-32-bytes!", algorithm="HS256")
    with pytest.raises(InvalidTokenError, match="alg"):
        validate(provider, token)


def test_alg_none_is_rejected(provider: FakeProvider) -> None:
    token = jwt.encode(provider.id_token_claims(), "", algorithm="none", headers={"kid": EC_KID})
    with pytest.raises(InvalidTokenError, match="alg"):
        validate(provider, token)


def test_an_algorithm_outside_the_allowed_list_is_rejected(provider: FakeProvider) -> None:
    token = jwt.encode(provider.id_token_claims(), provider.rsa_key, algorithm="PS256", headers={"kid": RSA_KID})
    with pytest.raises(InvalidTokenError, match="alg"):
        validate(provider, token)


def test_alg_must_match_the_key_named_by_kid(provider: FakeProvider) -> None:
    token = jwt.encode(provider.id_token_claims(), provider.ec_key, algorithm="ES256", headers={"kid": RSA_KID})
    with pytest.raises(InvalidTokenError, match="does not match the key"):
        validate(provider, token)


def test_an_unknown_kid_is_never_trusted(provider: FakeProvider) -> None:
    token = jwt.encode(provider.id_token_claims(), provider.ec_key, algorithm="ES256", headers={"kid": "unknown"})
    with pytest.raises(InvalidTokenError, match="kid"):
        validate(provider, token)


def test_a_missing_kid_is_rejected(provider: FakeProvider) -> None:
    token = jwt.encode(provider.id_token_claims(), provider.ec_key, algorithm="ES256")
    with pytest.raises(InvalidTokenError, match="kid"):
        validate(provider, token)


def test_a_token_signed_by_another_key_with_the_providers_kid_is_rejected(provider: FakeProvider) -> None:
    impostor = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(provider.id_token_claims(), impostor, algorithm="ES256", headers={"kid": EC_KID})
    with pytest.raises(InvalidTokenError, match="signature"):
        validate(provider, token)


def test_a_tampered_payload_is_rejected(provider: FakeProvider) -> None:
    header, _, signature = provider.sign(provider.id_token_claims()).split(".")
    other_payload = provider.sign(provider.id_token_claims(sub="urn:fdc:gov.uk:2022:someone-else")).split(".")[1]
    with pytest.raises(InvalidTokenError, match="signature"):
        validate(provider, f"{header}.{other_payload}.{signature}")


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "a.b"])
def test_garbage_is_rejected(provider: FakeProvider, token: str) -> None:
    with pytest.raises(InvalidTokenError):
        validate(provider, token)


def test_at_hash_matches_the_openid_connect_core_example() -> None:
    # OIDC Core Appendix A.3: this access token's at_hash is 77QmUPtjPfzWtF2AnpK9RQ.
    assert at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y") == "77QmUPtjPfzWtF2AnpK9RQ"


@pytest.mark.parametrize(
    ("vtr", "vot"),
    [
        (["Cl.Cm"], "Cl.Cm"),
        (["Cm.Cl"], "Cl.Cm"),
        (["Cl"], "Cl"),
        (["Cl.Cm.P2"], "Cl.Cm"),
        (["Cl.Cm.P2", "Cl.Cm.P1"], "Cl.Cm"),
        (["Cl", "Cl.Cm"], "Cl"),
        ([], "Cl.Cm"),
    ],
)
def test_credential_level_is_the_credential_part_of_the_lowest_vector(vtr: list[str], vot: str) -> None:
    assert credential_level(vtr) == vot
