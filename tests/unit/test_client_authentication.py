"""Client authentication at /token (reference §3.1): private_key_jwt and client_secret_post."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import argon2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from idp.auth.passwords import verify_argon2_secret
from idp.oidc.client_authentication import (
    JWT_BEARER,
    AuthenticatingClient,
    TokenError,
    authenticate_client,
)
from idp.oidc.client_keys import (
    ClientKeyNotFound,
    ClientKeyResolver,
    ClientKeySource,
    ClientKeyUnavailable,
    PublicKey,
)

ISSUER = "https://oidc.example.gov.uk/"
TOKEN_URL = ISSUER + "token"
AUDIENCES = (TOKEN_URL, ISSUER)
SECRET = "c2VjcmV0IHRoYXQgdGhlIFJQIGdlbmVyYXRlZCB3aXRoIG9wZW5zc2w="

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
EC384_KEY = ec.generate_private_key(ec.SECP384R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
# One Login's client secret parameters (reference §3.1), cheap enough for a unit test.
SECRET_HASH = argon2.PasswordHasher(time_cost=2, memory_cost=15360, parallelism=1, hash_len=16).hash(SECRET)

INVALID_PRIVATE_KEY_JWT = ("invalid_request", "Invalid private_key_jwt")
INVALID_SIGNATURE = ("invalid_client", "Invalid signature in private_key_jwt")


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class FakeClient:
    client_id: str = "client-1"
    token_auth_method: str = "private_key_jwt"
    public_key_source: str = "STATIC"
    public_key: str | None = field(default_factory=lambda: pem(RSA_KEY))
    jwks_uri: str | None = None
    client_secret_hash: str | None = None
    is_active: bool = True


class JtiMemory:
    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], int] = {}

    def __call__(self, client_id: str, jti: str, ttl: int) -> bool:
        if (client_id, jti) in self.seen:
            return False
        self.seen[(client_id, jti)] = ttl
        return True


def assertion(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = RSA_KEY,
    alg: str = "RS256",
    headers: dict[str, Any] | None = None,
    **overrides: Any,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "client-1",
        "sub": "client-1",
        "aud": TOKEN_URL,
        # An hour: the parametrised cases are built when the suite is collected, which may be minutes before they run.
        "exp": now + 3600,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm=alg, headers=headers)


def jwt_form(client_assertion: str | None, **overrides: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": "code-1",
        "client_assertion_type": JWT_BEARER,
        "client_assertion": client_assertion,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def authenticate(
    form: dict[str, str],
    client: FakeClient | None = None,
    *,
    key_for: Callable[[ClientKeySource, str | None], PublicKey] | None = None,
    remember_jti: Callable[[str, str, int], bool] | None = None,
    now: Callable[[], float] = time.time,
) -> AuthenticatingClient:
    registered = client if client is not None else FakeClient()

    def find_client(client_id: str) -> AuthenticatingClient | None:
        return registered if client_id == registered.client_id else None

    return authenticate_client(
        form,
        find_client=find_client,
        key_for=key_for or ClientKeyResolver().key_for,
        remember_jti=remember_jti or JtiMemory(),
        check_secret=verify_argon2_secret,
        audiences=AUDIENCES,
        now=now,
    )


def fails(form: dict[str, str], client: FakeClient | None = None, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(TokenError) as caught:
        authenticate(form, client, **kwargs)
    assert caught.value.status == 400
    return caught.value.error, caught.value.description


def b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).decode().rstrip("=")


def unsigned_assertion() -> str:
    now = int(time.time())
    claims = {"iss": "client-1", "sub": "client-1", "aud": TOKEN_URL, "exp": now + 300, "jti": "j"}
    return f"{b64(json.dumps({'alg': 'none'}).encode())}.{b64(json.dumps(claims).encode())}."


def raw_assertion(**overrides: Any) -> str:
    """Signed, but with claims PyJWT would refuse to encode."""
    now = int(time.time())
    claims = {"iss": "client-1", "sub": "client-1", "aud": TOKEN_URL, "exp": now + 300, "jti": "j", **overrides}
    return jwt.PyJWS().encode(json.dumps(claims).encode(), RSA_KEY, algorithm="RS256")


def hs256_assertion() -> str:
    now = int(time.time())
    claims = {"iss": "client-1", "sub": "client-1", "aud": TOKEN_URL, "exp": now + 300, "jti": "j"}
    return jwt.encode(claims, "a shared secret that the provider never holds, 64 bytes long....", algorithm="HS256")


# -- private_key_jwt ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "alg", "client_key"),
    [
        (RSA_KEY, "RS256", RSA_KEY),
        (RSA_KEY, "RS384", RSA_KEY),
        (RSA_KEY, "RS512", RSA_KEY),
        (RSA_KEY, "PS256", RSA_KEY),
        (RSA_KEY, "PS384", RSA_KEY),
        (RSA_KEY, "PS512", RSA_KEY),
        (EC_KEY, "ES256", EC_KEY),
    ],
)
def test_valid_assertions(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    alg: str,
    client_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
) -> None:
    client = FakeClient(public_key=pem(client_key))
    assert authenticate(jwt_form(assertion(key, alg)), client) is client


@pytest.mark.parametrize(
    "aud", [TOKEN_URL, ISSUER, [TOKEN_URL], ["https://other.example/", ISSUER]], ids=["token", "issuer", "l1", "l2"]
)
def test_token_url_and_issuer_are_both_accepted_as_audience(aud: Any) -> None:
    assert authenticate(jwt_form(assertion(aud=aud))).client_id == "client-1"


def test_client_id_in_the_form_may_match_the_subject() -> None:
    assert authenticate(jwt_form(assertion(), client_id="client-1")).client_id == "client-1"


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        pytest.param(
            {"grant_type": "authorization_code"},
            ("invalid_request", "Invalid token authentication method used"),
            id="none",
        ),
        pytest.param(
            jwt_form(assertion(), client_assertion_type="urn:ietf:params:oauth:client-assertion-type:saml2-bearer"),
            INVALID_PRIVATE_KEY_JWT,
            id="wrong-assertion-type",
        ),
        pytest.param(jwt_form(assertion(), client_assertion_type=None), INVALID_PRIVATE_KEY_JWT, id="no-type"),
        pytest.param(jwt_form(None), INVALID_PRIVATE_KEY_JWT, id="no-assertion"),
        pytest.param(jwt_form(""), INVALID_PRIVATE_KEY_JWT, id="empty-assertion"),
        pytest.param(jwt_form("not-a-jwt"), INVALID_PRIVATE_KEY_JWT, id="not-a-jws"),
        pytest.param(jwt_form("e30.e30"), INVALID_PRIVATE_KEY_JWT, id="two-parts"),
        pytest.param(jwt_form(b64(b"{") + ".e30.c2ln"), INVALID_PRIVATE_KEY_JWT, id="bad-header-json"),
        pytest.param(
            jwt_form(b64(b'{"alg":"RS256"}') + "." + b64(b"not json") + ".c2ln"),
            INVALID_PRIVATE_KEY_JWT,
            id="bad-payload-json",
        ),
        pytest.param(jwt_form(assertion(iss=None)), INVALID_PRIVATE_KEY_JWT, id="no-iss"),
        pytest.param(jwt_form(assertion(sub=None)), INVALID_PRIVATE_KEY_JWT, id="no-sub"),
        pytest.param(jwt_form(assertion(exp=None)), INVALID_PRIVATE_KEY_JWT, id="no-exp"),
        pytest.param(jwt_form(assertion(exp="tomorrow")), INVALID_PRIVATE_KEY_JWT, id="exp-not-numeric"),
        pytest.param(jwt_form(assertion(nbf="yesterday")), INVALID_PRIVATE_KEY_JWT, id="nbf-not-numeric"),
        pytest.param(jwt_form(raw_assertion(iss=123, sub=123)), INVALID_PRIVATE_KEY_JWT, id="iss-not-string"),
        pytest.param(jwt_form(hs256_assertion()), INVALID_PRIVATE_KEY_JWT, id="alg-HS256"),
        pytest.param(jwt_form(assertion(EC384_KEY, "ES384")), INVALID_PRIVATE_KEY_JWT, id="alg-ES384"),
        pytest.param(jwt_form(unsigned_assertion()), INVALID_PRIVATE_KEY_JWT, id="alg-none"),
        pytest.param(
            jwt_form(assertion(), client_id="client-2"), INVALID_PRIVATE_KEY_JWT, id="client_id-differs-from-sub"
        ),
        pytest.param(jwt_form(assertion(sub="unknown", iss="unknown")), ("invalid_client", None), id="unknown-client"),
        pytest.param(jwt_form(assertion(iss="client-2")), ("invalid_client", None), id="iss-differs-from-sub"),
        pytest.param(jwt_form(assertion(key=OTHER_RSA_KEY)), INVALID_SIGNATURE, id="bad-signature"),
        pytest.param(
            jwt_form(assertion(aud="https://other.example.gov.uk/token")), INVALID_SIGNATURE, id="wrong-audience"
        ),
        pytest.param(jwt_form(assertion(aud=ISSUER + "authorize")), INVALID_SIGNATURE, id="authorize-as-audience"),
        # The simulator treats a missing aud like a missing iss, sub or exp: a malformed assertion.
        pytest.param(jwt_form(assertion(aud=None)), INVALID_PRIVATE_KEY_JWT, id="no-audience"),
        pytest.param(jwt_form(assertion(jti=None)), ("invalid_client", None), id="no-jti"),
        pytest.param(jwt_form(assertion(jti="")), ("invalid_client", None), id="empty-jti"),
    ],
)
def test_private_key_jwt_errors(form: dict[str, str], expected: tuple[str, str | None]) -> None:
    error, description = fails(form)
    assert error == expected[0]
    if expected[1] is not None:
        assert description == expected[1]


def test_empty_signature() -> None:
    error, _ = fails(jwt_form(assertion().rsplit(".", 1)[0] + "."))
    assert error in ("invalid_request", "invalid_client")


def test_unknown_and_inactive_clients_are_invalid_client() -> None:
    assert fails(jwt_form(assertion()), FakeClient(client_id="someone-else"))[0] == "invalid_client"
    assert fails(jwt_form(assertion()), FakeClient(is_active=False))[0] == "invalid_client"


def test_client_registered_for_client_secret_post() -> None:
    client = FakeClient(token_auth_method="client_secret_post", client_secret_hash=SECRET_HASH)
    assert fails(jwt_form(assertion()), client) == (
        "invalid_client",
        "Client is not registered to use private_key_jwt",
    )


@pytest.mark.parametrize(
    ("signing_key", "alg", "registered_key"),
    [(RSA_KEY, "RS256", EC_KEY), (RSA_KEY, "PS256", EC_KEY), (EC_KEY, "ES256", RSA_KEY)],
    ids=["RS256-against-EC-key", "PS256-against-EC-key", "ES256-against-RSA-key"],
)
def test_algorithm_that_does_not_fit_the_registered_key(
    signing_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    alg: str,
    registered_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
) -> None:
    assert fails(jwt_form(assertion(signing_key, alg)), FakeClient(public_key=pem(registered_key))) == INVALID_SIGNATURE


@pytest.mark.parametrize(("offset", "ok"), [(-31, False), (-300, False), (-29, True), (-1, True)])
def test_expired_assertion_with_30_seconds_of_skew(offset: int, ok: bool) -> None:
    form = jwt_form(assertion(exp=int(time.time()) + offset))
    if ok:
        assert authenticate(form).client_id == "client-1"
    else:
        assert fails(form) == ("invalid_grant", "private_key_jwt has expired")


@pytest.mark.parametrize(("offset", "ok"), [(60, False), (25, True)])
def test_not_yet_valid_assertion(offset: int, ok: bool) -> None:
    form = jwt_form(assertion(nbf=int(time.time()) + offset))
    if ok:
        assert authenticate(form).client_id == "client-1"
    else:
        assert fails(form)[0] == "invalid_client"


def test_expiry_is_judged_by_the_injected_clock() -> None:
    form = jwt_form(assertion(exp=int(time.time()) + 300))
    assert fails(form, now=lambda: time.time() + 3600) == ("invalid_grant", "private_key_jwt has expired")


def test_jti_is_never_accepted_twice() -> None:
    memory = JtiMemory()
    form = jwt_form(assertion(jti="jti-1"))
    authenticate(form, remember_jti=memory)
    assert fails(form, remember_jti=memory) == ("invalid_client", "private_key_jwt has already been used")
    # Another assertion with the same jti is a replay too; another jti is fine.
    assert fails(jwt_form(assertion(jti="jti-1")), remember_jti=memory)[0] == "invalid_client"
    assert authenticate(jwt_form(assertion(jti="jti-2")), remember_jti=memory).client_id == "client-1"


def test_jti_is_remembered_for_the_assertions_lifetime() -> None:
    memory = JtiMemory()
    now = time.time()
    authenticate(jwt_form(assertion(jti="jti-1", exp=int(now) + 300)), remember_jti=memory, now=lambda: now)
    ttl = memory.seen[("client-1", "jti-1")]
    # At least until the assertion would stop being accepted (exp plus the skew), and not for ever.
    assert 300 + 30 <= ttl <= 300 + 30 + 2


def test_jti_is_not_remembered_when_the_assertion_fails() -> None:
    memory = JtiMemory()
    fails(jwt_form(assertion(jti="jti-1", key=OTHER_RSA_KEY)), remember_jti=memory)
    assert memory.seen == {}
    assert authenticate(jwt_form(assertion(jti="jti-1")), remember_jti=memory).client_id == "client-1"


def test_jwks_keys_unavailable_is_server_error() -> None:
    def unavailable(source: ClientKeySource, kid: str | None) -> PublicKey:
        raise ClientKeyUnavailable("timeout")

    assert fails(jwt_form(assertion()), key_for=unavailable) == (
        "server_error",
        "Failed to fetch or parse JWKS to verify signature of private_key_jwt",
    )


def test_unknown_kid_is_invalid_signature() -> None:
    def not_found(source: ClientKeySource, kid: str | None) -> PublicKey:
        raise ClientKeyNotFound(kid or "")

    assert fails(jwt_form(assertion(headers={"kid": "nope"})), key_for=not_found) == INVALID_SIGNATURE


def test_key_lookup_gets_the_clients_source_and_the_kid() -> None:
    calls: list[tuple[ClientKeySource, str | None]] = []

    def key_for(source: ClientKeySource, kid: str | None) -> PublicKey:
        calls.append((source, kid))
        return RSA_KEY.public_key()

    client = FakeClient(public_key_source="JWKS", public_key=None, jwks_uri="https://rp.example.gov.uk/jwks")
    authenticate(jwt_form(assertion(headers={"kid": "key-7"})), client, key_for=key_for)
    assert calls == [(ClientKeySource("client-1", "JWKS", None, "https://rp.example.gov.uk/jwks"), "key-7")]


# -- client_secret_post ------------------------------------------------------------------------------------------


def secret_form(**overrides: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": "code-1",
        "client_id": "client-1",
        "client_secret": SECRET,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


SECRET_CLIENT = FakeClient(token_auth_method="client_secret_post", public_key=None, client_secret_hash=SECRET_HASH)


def test_valid_client_secret_post() -> None:
    assert authenticate(secret_form(), SECRET_CLIENT) is SECRET_CLIENT


@pytest.mark.parametrize(
    ("form", "client", "expected"),
    [
        pytest.param(secret_form(client_secret=None), SECRET_CLIENT, ("invalid_request", None), id="no-secret"),
        pytest.param(secret_form(client_secret=""), SECRET_CLIENT, ("invalid_request", None), id="empty-secret"),
        pytest.param(secret_form(client_id=None), SECRET_CLIENT, ("invalid_request", None), id="no-client_id"),
        pytest.param(secret_form(client_id="unknown"), SECRET_CLIENT, ("invalid_client", None), id="unknown-client"),
        pytest.param(
            secret_form(),
            FakeClient(client_secret_hash=SECRET_HASH),
            ("invalid_client", "Client is not registered to use client_secret_post"),
            id="registered-for-private_key_jwt",
        ),
        pytest.param(
            secret_form(),
            FakeClient(token_auth_method="client_secret_post", client_secret_hash=None),
            ("invalid_client", "No client secret registered"),
            id="no-hash",
        ),
        pytest.param(
            secret_form(client_secret=SECRET + "x"),
            SECRET_CLIENT,
            ("invalid_client", "Invalid client secret"),
            id="wrong-secret",
        ),
        pytest.param(
            secret_form(),
            FakeClient(token_auth_method="client_secret_post", client_secret_hash="$argon2id$broken"),
            ("invalid_client", "Invalid client secret"),
            id="malformed-hash",
        ),
        pytest.param(
            secret_form(),
            FakeClient(token_auth_method="client_secret_post", client_secret_hash=SECRET_HASH, is_active=False),
            ("invalid_client", None),
            id="inactive",
        ),
    ],
)
def test_client_secret_post_errors(form: dict[str, str], client: FakeClient, expected: tuple[str, str | None]) -> None:
    error, description = fails(form, client)
    assert error == expected[0]
    if expected[1] is not None:
        assert description == expected[1]
