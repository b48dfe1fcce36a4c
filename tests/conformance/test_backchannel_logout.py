"""The Back-Channel Logout OP plan (`oidcc-backchannel-rp-initiated-logout-certification-test-plan`).

A real HTTP server on 127.0.0.1, started by the test, is registered as the client's `backchannel_logout_uri`
(registration allows plain HTTP only for localhost). After the citizen logs out, one round of the outbox
delivers the logout tokens to it, and each is checked as the suite's `ValidateLogoutToken*` conditions do.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from tests.conformance.harness import (
    UI_REQUIRED_ERRORS,
    ConformanceRP,
    Operator,
    Provider,
    ScriptedBrowser,
    SignInCitizen,
    authorize,
    check_error_callback,
    check_logout_token,
    query_params,
    sign_in_and_redeem,
)


@dataclass(frozen=True)
class Delivery:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)

    @property
    def logout_token(self) -> str:
        return self.form["logout_token"][0]


@dataclass
class Receiver:
    """An RP's back-channel logout endpoint: records every request and answers 200."""

    url: str
    deliveries: list[Delivery] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received: list[Delivery] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            received.append(Delivery("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="backchannel-receiver", daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/backchannel-logout", received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _client(operator: Operator, receiver: Receiver) -> ConformanceRP:
    return operator.register_client(backchannel_logout_uri=receiver.url)


def _logout(op: Provider, browser: ScriptedBrowser, rp: ConformanceRP, id_token: str, state: str) -> None:
    """RP-Initiated Logout §2, §3, as the suite's back-channel module drives it: a redirect back with `state`."""
    params = {"id_token_hint": id_token, "post_logout_redirect_uri": rp.post_logout_redirect_uri, "state": state}
    response = browser.open(op.logout_url(params))
    assert response.is_redirect and response.location.startswith(rp.post_logout_redirect_uri), response.describe()
    assert query_params(response.location) == {"state": state}


def _check_delivery(delivery: Delivery) -> None:
    """Back-Channel Logout §2.5: an HTTP POST, form-encoded, with the single parameter `logout_token`."""
    assert delivery.method == "POST"
    assert delivery.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
    assert set(delivery.form) == {"logout_token"}, f"unexpected POST parameters: {set(delivery.form)}"
    assert len(delivery.form["logout_token"]) == 1


def test_oidcc_backchannel_logout_discovery_endpoint_verification(op: Provider) -> None:
    """Back-Channel Logout §2.1: `backchannel_logout_supported` true, with an `end_session_endpoint` to start
    from. `backchannel_logout_session_supported` is false, as One Login's: logout tokens carry `sub` and no
    `sid` (the certification profile would want `sid`; the One Login profile does not send one)."""
    assert op.metadata["backchannel_logout_supported"] is True
    assert op.metadata["backchannel_logout_session_supported"] is False
    assert op.owns(op.endpoint("end_session_endpoint"))


def test_oidcc_backchannel_rp_initiated_logout(
    op: Provider, operator: Operator, receiver: Receiver, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """Back-Channel Logout §2.4-§2.6: after RP-initiated logout the OP POSTs a logout token to the RP's
    `backchannel_logout_uri`: signed with a key in the JWKS, `typ: logout+jwt`, `iss`, `aud`, `iat`, `exp`,
    `jti`, `events` with exactly the back-channel member mapping to `{}`, no `nonce`, and the `sub` of the
    ID token. Then `prompt=none` fails."""
    rp = _client(operator, receiver)
    tokens = sign_in_and_redeem(op, rp, browser, citizen)
    _logout(op, browser, rp, tokens.id_token, "bcl-state")

    assert operator.deliver_back_channel_logouts() == 1
    assert len(receiver.deliveries) == 1
    delivery = receiver.deliveries[0]
    _check_delivery(delivery)
    assert delivery.path == "/backchannel-logout"

    claims = check_logout_token(op, rp, delivery.logout_token, op.fetch_jwks())
    header = jwt.get_unverified_header(delivery.logout_token)
    assert header["alg"] == "ES256", "One Login signs logout tokens with ES256"
    assert claims["sub"] == tokens.claims["sub"], "the suite's CheckIdTokenSubMatchesLogoutToken"
    if "sid" in claims:
        assert claims["sid"] == tokens.claims.get("sid"), "the suite's CheckIdTokenSidMatchesLogoutToken"
    assert claims["aud"] == rp.client_id
    assert claims["exp"] - claims["iat"] <= 120, "One Login: exp is iat + 2 minutes"

    request = rp.new_request(prompt="none")
    check_error_callback(op, rp, authorize(browser, request), request, UI_REQUIRED_ERRORS)


def test_logout_token_jti_is_unique_across_logouts(op: Provider, operator: Operator, receiver: Receiver) -> None:
    """Back-Channel Logout §2.4 and RFC 7519 §4.1.7: `jti` is unique per token, so an RP can refuse replays;
    two logouts (two citizens of the same service) give two distinct `jti`s, each token for its own `sub`."""
    rp = _client(operator, receiver)
    subjects = []
    for _ in range(2):
        browser, citizen = op.browser(), operator.new_citizen()
        tokens = sign_in_and_redeem(op, rp, browser, citizen)
        subjects.append(tokens.claims["sub"])
        _logout(op, browser, rp, tokens.id_token, "s")
        assert operator.deliver_back_channel_logouts() == 1

    jwks = op.fetch_jwks()
    assert len(receiver.deliveries) == 2
    for delivery in receiver.deliveries:
        _check_delivery(delivery)
    first, second = (check_logout_token(op, rp, d.logout_token, jwks) for d in receiver.deliveries)
    assert first["jti"] != second["jti"]
    assert [first["sub"], second["sub"]] == subjects
    assert subjects[0] != subjects[1]


def test_logout_token_for_every_service_signed_in_to(
    op: Provider, operator: Operator, receiver: Receiver, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """Back-Channel Logout §2.7 / One Login profile ("back-channel logout to every RP the session signed in
    to"): one logout, a token to each service, each with that service as `aud`, its own pairwise `sub` and its
    own `jti`."""
    first_rp, second_rp = _client(operator, receiver), _client(operator, receiver)
    first = sign_in_and_redeem(op, first_rp, browser, citizen)
    second = sign_in_and_redeem(op, second_rp, browser, None)  # single sign-on: no second sign-in
    _logout(op, browser, first_rp, first.id_token, "s")

    assert operator.deliver_back_channel_logouts() == 2
    jwks = op.fetch_jwks()
    by_audience: dict[str, dict[str, Any]] = {}
    for delivery in receiver.deliveries:
        _check_delivery(delivery)
        claims = jwt.decode(delivery.logout_token, options={"verify_signature": False})
        rp = first_rp if claims["aud"] == first_rp.client_id else second_rp
        by_audience[claims["aud"]] = check_logout_token(op, rp, delivery.logout_token, jwks)
    assert set(by_audience) == {first_rp.client_id, second_rp.client_id}
    assert by_audience[first_rp.client_id]["sub"] == first.claims["sub"]
    assert by_audience[second_rp.client_id]["sub"] == second.claims["sub"]
    assert by_audience[first_rp.client_id]["jti"] != by_audience[second_rp.client_id]["jti"]


def test_a_forged_logout_token_does_not_pass_the_checks(
    op: Provider, operator: Operator, receiver: Receiver, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """The checks above are not vacuous (Back-Channel Logout §2.4, §2.6): the genuine token passes; the same
    claims signed by another key under the provider's `kid` fail the signature; and, against a key set that
    trusts the forger, a token with a `nonce` or without `typ: logout+jwt` still fails."""
    rp = _client(operator, receiver)
    tokens = sign_in_and_redeem(op, rp, browser, citizen)
    _logout(op, browser, rp, tokens.id_token, "s")
    assert operator.deliver_back_channel_logouts() == 1
    genuine = receiver.deliveries[0].logout_token
    jwks = op.fetch_jwks()
    claims = check_logout_token(op, rp, genuine, jwks)
    kid = jwt.get_unverified_header(genuine)["kid"]

    forger = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims, forger, algorithm="ES256", headers={"kid": kid, "typ": "logout+jwt"})
    with pytest.raises(jwt.InvalidSignatureError):
        check_logout_token(op, rp, forged, jwks)

    forger_jwk = {**json.loads(ECAlgorithm.to_jwk(forger.public_key())), "kid": "forger", "use": "sig", "alg": "ES256"}
    trusting = {"keys": [forger_jwk]}
    with_nonce = jwt.encode({**claims, "nonce": "n"}, forger, "ES256", headers={"kid": "forger", "typ": "logout+jwt"})
    with pytest.raises(AssertionError, match="nonce"):
        check_logout_token(op, rp, with_nonce, trusting)
    untyped = jwt.encode(claims, forger, algorithm="ES256", headers={"kid": "forger"})
    with pytest.raises(AssertionError, match="typ"):
        check_logout_token(op, rp, untyped, trusting)
