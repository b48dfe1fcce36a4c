"""Compact JWS (idp.keys.jws): what we sign PyJWT reads, what PyJWT signs we verify, and ES256 is P-256 only."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from idp.keys import jws

P256 = ec.generate_private_key(ec.SECP256R1())
P384 = ec.generate_private_key(ec.SECP384R1())
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CLAIMS = {"iss": "https://idp.example/", "sub": "someone", "n": 1}


def header_of(token: str) -> dict[str, object]:
    segment = token.split(".")[0]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


@pytest.mark.parametrize(("key", "alg"), [(P256, "ES256"), (RSA, "RS256"), (RSA, "PS256")])
def test_what_we_sign_pyjwt_verifies_and_so_do_we(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, alg: str
) -> None:
    token = jws.sign(CLAIMS, key, alg, {"kid": "k1", "typ": "JWT"})
    assert jwt.decode(token, key.public_key(), algorithms=[alg]) == CLAIMS
    assert header_of(token) == {"alg": alg, "kid": "k1", "typ": "JWT"}
    jws.verify(jws.parse(token), key.public_key(), (alg,))


def test_an_es256_token_from_pyjwt_verifies() -> None:
    token = jwt.encode(CLAIMS, P256, algorithm="ES256")
    parsed = jws.parse(token)
    jws.verify(parsed, P256.public_key(), ("ES256",))
    assert parsed.claims == CLAIMS


@pytest.mark.parametrize("key", [P384.public_key(), RSA.public_key()], ids=["P-384", "RSA"])
def test_es256_needs_a_p256_key(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> None:
    # RFC 7518 §3.4: ES256 is ECDSA on P-256; a key of another curve or type is refused before any verifying.
    token = jws.sign(CLAIMS, P256, "ES256", {})
    with pytest.raises(jws.BadSignature, match="does not fit"):
        jws.verify(jws.parse(token), key, ("ES256",))


def test_a_tampered_or_misshapen_es256_signature_is_refused() -> None:
    token = jws.sign(CLAIMS, P256, "ES256", {"kid": "k1"})
    header, payload, signature = token.split(".")
    other_payload = base64.urlsafe_b64encode(json.dumps({**CLAIMS, "n": 2}).encode()).decode().rstrip("=")
    raw = base64.urlsafe_b64decode(signature + "==")
    short = base64.urlsafe_b64encode(raw[:63]).decode().rstrip("=")
    flipped = base64.urlsafe_b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode().rstrip("=")
    for forged in (
        f"{header}.{other_payload}.{signature}",
        f"{header}.{payload}.{short}",
        f"{header}.{payload}.{flipped}",
    ):
        with pytest.raises(jws.BadSignature, match="does not verify"):
            jws.verify(jws.parse(forged), P256.public_key(), ("ES256",))


def test_an_algorithm_not_allowed_is_refused() -> None:
    token = jws.sign(CLAIMS, P256, "ES256", {})
    with pytest.raises(jws.BadSignature, match="not allowed"):
        jws.verify(jws.parse(token), P256.public_key(), ("RS256",))


def test_each_header_is_encoded_the_same_way_every_time() -> None:
    first = jws.sign(CLAIMS, P256, "ES256", {"kid": "k1", "typ": "JWT"})
    second = jws.sign({**CLAIMS, "n": 2}, P256, "ES256", {"kid": "k1", "typ": "JWT"})
    other_kid = jws.sign(CLAIMS, P256, "ES256", {"kid": "k2", "typ": "JWT"})
    assert first.split(".")[0] == second.split(".")[0]
    assert header_of(other_kid)["kid"] == "k2"
    # A header value that cannot be remembered by value is encoded each time, and still right.
    listed = jws.sign(CLAIMS, P256, "ES256", {"kid": "k1", "crit": ["b64"]})
    assert header_of(listed) == {"alg": "ES256", "kid": "k1", "crit": ["b64"]}
