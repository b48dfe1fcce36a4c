"""Relying parties' public keys (reference §6.2): a static PEM, or a `jwks_uri` read through a cache."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from idp.oidc import client_keys
from idp.oidc.client_keys import (
    ClientKeyNotFound,
    ClientKeyResolver,
    ClientKeySource,
    ClientKeyUnavailable,
    PublicKey,
    load_static_key,
)

JWKS_URI = "https://rp.example.gov.uk/.well-known/jwks.json"
MINUTE = 60.0
DAY = 24 * 3600.0

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_KEY_2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def der(key: PublicKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    public = key if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey) else key.public_key()
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str, use: str | None = "sig") -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        value: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        value = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    value["kid"] = kid
    if use is not None:
        value["use"] = use
    return value


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeJwksEndpoint:
    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.calls: list[tuple[str, float]] = []
        self.failure: Exception | None = None
        self.body: Any = None

    def __call__(self, url: str, timeout: float) -> dict[str, Any]:
        self.calls.append((url, timeout))
        if self.failure is not None:
            raise self.failure
        if self.body is not None:
            body: dict[str, Any] = self.body
            return body
        return {"keys": list(self.keys)}


def jwks_source(client_id: str = "client-1", uri: str | None = JWKS_URI) -> ClientKeySource:
    return ClientKeySource(client_id, "JWKS", None, uri)


def resolver(endpoint: FakeJwksEndpoint, clock: Clock) -> ClientKeyResolver:
    return ClientKeyResolver(timeout=5.0, fetch=endpoint, clock=clock)


# -- static keys -------------------------------------------------------------------------------------------------


def strip_affixes(text: str) -> str:
    return "\n".join(line for line in text.strip().splitlines() if "-----" not in line)


@pytest.mark.parametrize("key", [RSA_KEY, EC_KEY], ids=["rsa", "ec"])
@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(lambda text: text, id="with-BEGIN-END"),
        pytest.param(lambda text: "\n  " + text + "\n\n", id="surrounding-whitespace"),
        pytest.param(strip_affixes, id="without-BEGIN-END-multi-line"),
        pytest.param(lambda text: "".join(strip_affixes(text).split()), id="without-BEGIN-END-one-line"),
        pytest.param(lambda text: " " + strip_affixes(text).replace("\n", " ") + " ", id="without-BEGIN-END-spaces"),
    ],
)
def test_static_keys(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, shape: Any) -> None:
    text = shape(pem(key))
    assert der(load_static_key(text)) == der(key)
    endpoint = FakeJwksEndpoint()
    source = ClientKeySource("client-1", "STATIC", text, None)
    assert der(resolver(endpoint, Clock()).key_for(source, None)) == der(key)
    assert der(resolver(endpoint, Clock()).key_for(source, "any-kid")) == der(key)
    assert endpoint.calls == []


@pytest.mark.parametrize("text", [None, "", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"])
def test_static_key_missing_or_unparseable(text: str | None) -> None:
    with pytest.raises(ClientKeyUnavailable):
        resolver(FakeJwksEndpoint(), Clock()).key_for(ClientKeySource("client-1", "STATIC", text, None), None)


def test_static_key_is_not_confused_between_clients() -> None:
    keys = resolver(FakeJwksEndpoint(), Clock())
    first = keys.key_for(ClientKeySource("client-1", "STATIC", pem(RSA_KEY), None), None)
    second = keys.key_for(ClientKeySource("client-2", "STATIC", pem(EC_KEY), None), None)
    assert der(first) == der(RSA_KEY)
    assert der(second) == der(EC_KEY)


# -- keys from a jwks_uri ----------------------------------------------------------------------------------------


def test_key_chosen_by_kid_and_cached() -> None:
    endpoint = FakeJwksEndpoint(jwk(RSA_KEY, "rsa-1"), jwk(EC_KEY, "ec-1"))
    clock = Clock()
    keys = resolver(endpoint, clock)
    assert der(keys.key_for(jwks_source(), "ec-1")) == der(EC_KEY)
    assert der(keys.key_for(jwks_source(), "rsa-1")) == der(RSA_KEY)
    clock.now += DAY - 1
    assert der(keys.key_for(jwks_source(), "rsa-1")) == der(RSA_KEY)
    assert endpoint.calls == [(JWKS_URI, 5.0)]


def test_kid_is_required_for_jwks_keys() -> None:
    endpoint = FakeJwksEndpoint(jwk(RSA_KEY, "rsa-1"))
    with pytest.raises(ClientKeyNotFound):
        resolver(endpoint, Clock()).key_for(jwks_source(), None)
    assert endpoint.calls == []


def test_no_jwks_uri_registered() -> None:
    with pytest.raises(ClientKeyUnavailable):
        resolver(FakeJwksEndpoint(), Clock()).key_for(jwks_source(uri=None), "rsa-1")


def test_unknown_kid_refetches_at_most_once_a_minute() -> None:
    endpoint = FakeJwksEndpoint(jwk(RSA_KEY, "rsa-1"))
    clock = Clock()
    keys = resolver(endpoint, clock)
    keys.key_for(jwks_source(), "rsa-1")
    assert len(endpoint.calls) == 1

    # The RP publishes a new key; the first request with it arrives within the minute of the last fetch.
    endpoint.keys.append(jwk(RSA_KEY_2, "rsa-2"))
    clock.now += 30
    with pytest.raises(ClientKeyNotFound):
        keys.key_for(jwks_source(), "rsa-2")
    assert len(endpoint.calls) == 1

    clock.now += MINUTE
    assert der(keys.key_for(jwks_source(), "rsa-2")) == der(RSA_KEY_2)
    assert len(endpoint.calls) == 2


def test_unknown_kid_storm_fetches_once() -> None:
    endpoint = FakeJwksEndpoint(jwk(RSA_KEY, "rsa-1"))
    clock = Clock()
    keys = resolver(endpoint, clock)
    for n in range(20):
        with pytest.raises(ClientKeyNotFound):
            keys.key_for(jwks_source(), f"unknown-{n}")
        clock.now += 1
    assert len(endpoint.calls) == 1
    clock.now += MINUTE
    with pytest.raises(ClientKeyNotFound):
        keys.key_for(jwks_source(), "unknown-again")
    assert len(endpoint.calls) == 2


def test_refetch_limit_is_per_client() -> None:
    endpoint = FakeJwksEndpoint(jwk(RSA_KEY, "rsa-1"))
    keys = resolver(endpoint, Clock())
    keys.key_for(jwks_source("client-1"), "rsa-1")
    keys.key_for(jwks_source("client-2"), "rsa-1")
    assert len(endpoint.calls) == 2


def test_keys_of_one_client_do_not_serve_another() -> None:
    clock = Clock()
    first = FakeJwksEndpoint(jwk(RSA_KEY, "shared-kid"))
    keys = resolver(first, clock)
    keys.key_for(jwks_source("client-1"), "shared-kid")
    first.keys = [jwk(EC_KEY, "shared-kid")]
    assert der(keys.key_for(jwks_source("client-2"), "shared-kid")) == der(EC_KEY)
    assert der(keys.key_for(jwks_source("client-1"), "shared-kid")) == der(RSA_KEY)


def test_cached_keys_expire_after_24_hours() -> None:
    endpoint = FakeJwksEndpoint(jwk(RSA_KEY, "rsa-1"), jwk(RSA_KEY_2, "rsa-2"))
    clock = Clock()
    keys = resolver(endpoint, clock)
    keys.key_for(jwks_source(), "rsa-1")
    clock.now += DAY + 1
    assert der(keys.key_for(jwks_source(), "rsa-2")) == der(RSA_KEY_2)
    assert len(endpoint.calls) == 2


def test_a_key_removed_from_the_jwks_is_not_trusted_after_24_hours() -> None:
    """Reference §6.2: keys are cached for up to 24 hours; an RP that withdraws a key relies on that."""
    endpoint = FakeJwksEndpoint(jwk(RSA_KEY, "old"))
    clock = Clock()
    keys = resolver(endpoint, clock)
    keys.key_for(jwks_source(), "old")
    endpoint.keys = [jwk(RSA_KEY_2, "new")]
    clock.now += DAY + 1
    with pytest.raises(ClientKeyNotFound):
        keys.key_for(jwks_source(), "old")
    assert len(endpoint.calls) == 2


def test_encryption_keys_are_not_used_for_signatures() -> None:
    endpoint = FakeJwksEndpoint(jwk(RSA_KEY, "enc-1", use="enc"), jwk(EC_KEY, "no-use", use=None))
    keys = resolver(endpoint, Clock())
    assert der(keys.key_for(jwks_source(), "no-use")) == der(EC_KEY)
    with pytest.raises(ClientKeyNotFound):
        keys.key_for(jwks_source(), "enc-1")


@pytest.mark.parametrize(
    ("failure", "body"),
    [
        (requests.ConnectionError("refused"), None),
        (requests.Timeout("slow"), None),
        (requests.HTTPError("503"), None),
        (ValueError("not a JWK set"), None),
        (None, {"keys": []}),
        (None, {"keys": [{"kty": "bogus", "kid": "x"}]}),
        (None, {"not": "a jwk set"}),
    ],
    ids=["connection", "timeout", "http-error", "not-a-jwk-set", "empty", "unusable-key", "no-keys-member"],
)
def test_fetch_failure_is_unavailable(failure: Exception | None, body: Any) -> None:
    endpoint = FakeJwksEndpoint()
    endpoint.failure = failure
    endpoint.body = body
    with pytest.raises(ClientKeyUnavailable):
        resolver(endpoint, Clock()).key_for(jwks_source(), "rsa-1")
    assert len(endpoint.calls) == 1


# -- the real fetch function -------------------------------------------------------------------------------------


class FakeResponse:
    def __init__(self, body: Any, status: int = 200) -> None:
        self._body = body
        self.status = status

    def raise_for_status(self) -> None:
        if self.status >= 400:
            raise requests.HTTPError(str(self.status))

    def json(self) -> Any:
        return self._body


def test_fetch_jwks(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def fake_get(url: str, **kwargs: Any) -> FakeResponse:
        calls.append((url, kwargs))
        return FakeResponse({"keys": [jwk(RSA_KEY, "rsa-1")]})

    monkeypatch.setattr(client_keys.requests, "get", fake_get)
    assert client_keys.fetch_jwks(JWKS_URI, 5.0) == {"keys": [jwk(RSA_KEY, "rsa-1")]}
    (url, kwargs) = calls[0]
    assert url == JWKS_URI
    assert kwargs["timeout"] == 5.0
    assert kwargs["allow_redirects"] is False
    assert kwargs["headers"]["User-Agent"]


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (FakeResponse({"keys": {}}), ValueError),
        (FakeResponse([]), ValueError),
        (FakeResponse({"keys": []}, status=500), requests.HTTPError),
    ],
)
def test_fetch_jwks_refuses_what_is_not_a_jwk_set(
    monkeypatch: pytest.MonkeyPatch, response: FakeResponse, error: type[Exception]
) -> None:
    monkeypatch.setattr(client_keys.requests, "get", lambda url, **kwargs: response)
    with pytest.raises(error):
        client_keys.fetch_jwks(JWKS_URI, 5.0)
