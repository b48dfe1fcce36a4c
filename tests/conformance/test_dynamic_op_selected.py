"""Selected modules of the Dynamic OP plan (`oidcc-dynamic-certification-test-plan`) that apply to a provider with
static registration: OP key rotation, the redirect-URI rules, a client assertion with the issuer as `aud`, and
RS256 ID tokens for a client registered for them.
"""

from __future__ import annotations

import jwt
import pytest

from tests.conformance.harness import (
    ConformanceRP,
    Operator,
    Provider,
    ScriptedBrowser,
    SignInCitizen,
    authorize,
    check_error_page,
    check_id_token,
    check_jwks,
    check_token_response,
    check_userinfo,
    query_params,
    redeem,
    sign_in_and_redeem,
)
from tests.helpers import wait_for


def _signing_kids(jwks: dict[str, object]) -> set[str]:
    keys = jwks["keys"]
    assert isinstance(keys, list)
    return {key["kid"] for key in keys if key.get("use", "sig") == "sig"}


def test_oidcc_server_rotate_keys(
    op: Provider, operator: Operator, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """OIDC Core §10.1.1 ("Rotation of Asymmetric Signing Keys … the signer publishes its keys in a JWK Set at
    its jwks_uri location and includes the kid of the signing key in the JOSE Header"): after the operator
    rotates (generate + forced activate), the JWKS has a new `use=sig` key with a new `kid` and still the old
    one (the suite's `VerifyNewJwksHasNewSigningKey`, `VerifyNewJwksStillHasOldSigningKey`); new ID tokens name
    the new kid, and tokens signed before and after both validate against the JWKS fetched after."""
    rotate = operator.key_rotation("ES256")
    before = op.fetch_jwks()
    check_jwks(before)
    first = sign_in_and_redeem(op, rp, browser, citizen)
    old_kid = jwt.get_unverified_header(first.id_token)["kid"]
    assert old_kid in _signing_kids(before)

    new_kid = rotate()
    try:
        after = op.fetch_jwks()
        check_jwks(after)
        assert new_kid not in _signing_kids(before)
        assert new_kid in _signing_kids(after), "the new signing key must be published as soon as it signs"
        assert old_kid in _signing_kids(after), "the old key stays published until its tokens have expired"
        old_key = next(key for key in after["keys"] if key["kid"] == old_kid)
        new_key = next(key for key in after["keys"] if key["kid"] == new_kid)
        assert (new_key["x"], new_key["y"]) != (old_key["x"], old_key["y"]), "new key material"
        assert new_key["use"] == "sig" and new_key["alg"] == "ES256"

        second = sign_in_and_redeem(op, rp, browser, None)  # single sign-on: a new ID token, no sign-in
        assert jwt.get_unverified_header(second.id_token)["kid"] == new_kid
        for tokens in (first, second):
            check_id_token(op, rp, tokens.id_token, nonce=tokens.request.nonce, jwks=after)
    finally:
        # Leave the provider consistent for the tests that follow: wait (briefly) for the JWKS to show the key.
        wait_for(lambda: new_kid in _signing_kids(op.fetch_jwks()), timeout=10)


@pytest.mark.parametrize("registered", [2, 1], ids=["two-redirect-uris", "one-redirect-uri"])
def test_oidcc_ensure_redirect_uri_in_authorization_request(
    op: Provider, operator: Operator, rp: ConformanceRP, browser: ScriptedBrowser, registered: int
) -> None:
    """OIDC Core §3.1.2.1: `redirect_uri` is REQUIRED. A client with two registered redirect URIs that leaves
    it out gets an error page, never a redirect (the suite's module). With one registered URI, One Login
    still requires it (RFC 6749 §3.1.2.3 would allow the default): the same error page."""
    if registered == 2:
        base = "https://rp-two-uris.example.gov.uk"
        rp = operator.register_client(redirect_uris=[f"{base}/callback", f"{base}/callback-2"])
        assert rp.extra_redirect_uris
    response = authorize(browser, rp.new_request(redirect_uri=None))
    check_error_page(op, rp, response)


def test_oidcc_redirect_uri_query_ok(
    op: Provider, operator: Operator, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """OIDC Core §3.1.2.1 (exact match), RFC 6749 §3.1.2: a registered redirect URI with a query works as is,
    and the response "MUST retain" that query, adding `code` and `state` to it."""
    registered = "https://rp-query.example.gov.uk/callback?foo=bar"
    rp = operator.register_client(redirect_uris=[registered])
    request = rp.new_request()
    response = authorize(browser, request, citizen)
    assert response.is_redirect and response.location.startswith(registered + "&"), response.describe()
    params = query_params(response.location)
    assert params["foo"] == "bar" and params["state"] == request.state and params["code"]
    body = check_token_response(redeem(op, rp, params["code"], request))
    claims = check_id_token(op, rp, body["id_token"], nonce=request.nonce, access_token=body["access_token"])
    check_userinfo(op.userinfo(body["access_token"]), claims["sub"])


def test_oidcc_redirect_uri_query_mismatch(op: Provider, operator: Operator, browser: ScriptedBrowser) -> None:
    """OIDC Core §3.1.2.1: "This URI MUST exactly match one of the Redirection URI values for the Client":
    the registered URI with a different query value gets an error page, not a redirect."""
    rp = operator.register_client(redirect_uris=["https://rp-query.example.gov.uk/callback?foo=bar"])
    changed = "https://rp-query.example.gov.uk/callback?foo=zot"
    response = authorize(browser, rp.new_request(redirect_uri=changed))
    check_error_page(op, rp, response, changed)


def test_oidcc_redirect_uri_query_added(op: Provider, rp: ConformanceRP, browser: ScriptedBrowser) -> None:
    """OIDC Core §3.1.2.1 (exact match): the registered URI with a query added is not registered: error page."""
    added = rp.redirect_uri + "?foo=bar"
    response = authorize(browser, rp.new_request(redirect_uri=added))
    check_error_page(op, rp, response, added)


def test_oidcc_ensure_client_assertion_with_iss_aud_succeeds(
    op: Provider, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """RFC 7523 §3 ("The JWT MUST contain an aud … the authorization server … MAY accept its issuer
    identifier"), OIDC Core §9, RFC 9700 §2.7: a client assertion whose `aud` is the issuer is accepted."""
    request = rp.new_request()
    response = authorize(browser, request, citizen)
    code = query_params(response.location)["code"]
    assertion = rp.assertion(aud=op.issuer)
    body = check_token_response(redeem(op, rp, code, request, client_assertion=assertion))
    check_id_token(op, rp, body["id_token"], nonce=request.nonce, access_token=body["access_token"])


def test_oidcc_idtoken_rs256(
    op: Provider, operator: Operator, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """OIDC Core §3.1.3.7(6-7), §10.1, OIDC Discovery §3 ("RS256 MUST be included"): a client registered for
    RS256 ID tokens (One Login's IdTokenSigningAlgorithm) gets them signed RS256, under a published RSA kid, with
    an `at_hash` computed with SHA-256."""
    rp = operator.register_client(id_token_signing_alg="RS256")
    tokens = sign_in_and_redeem(op, rp, browser, citizen)
    header = jwt.get_unverified_header(tokens.id_token)
    assert header["alg"] == "RS256"
    key = next(key for key in op.fetch_jwks()["keys"] if key["kid"] == header["kid"])
    assert key["kty"] == "RSA" and key["alg"] == "RS256"
    assert "at_hash" in tokens.claims
    check_userinfo(op.userinfo(tokens.access_token), tokens.claims["sub"])
