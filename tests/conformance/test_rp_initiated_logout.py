"""The RP-Initiated Logout OP plan (`oidcc-rp-initiated-logout-certification-test-plan`): all 11 modules.

Each module signs in first (with a 128-character `state`, as the suite does, to catch an OP that corrupts it),
then sends the browser to the end_session_endpoint. Where the suite says the OP "must not redirect back", the
test asserts that nothing is sent to the RP's post_logout_redirect_uri (nor any other URI of the RP); the
provider may show its own signed-out page, with or without an error.
"""

from __future__ import annotations

import base64
import json
import secrets

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conformance.harness import (
    UI_REQUIRED_ERRORS,
    ConformanceRP,
    HttpResponse,
    Provider,
    ScriptedBrowser,
    SignInCitizen,
    Tokens,
    authorize,
    check_error_callback,
    check_ui_error,
    query_params,
    sign_in_and_redeem,
    without_query,
)

RP_INITIATED_LOGOUT_PLAN = (
    "oidcc-rp-initiated-logout-discovery-endpoint-verification",
    "oidcc-rp-initiated-logout",
    "oidcc-rp-initiated-logout-bad-post-logout-redirect-uri",
    "oidcc-rp-initiated-logout-modified-id-token-hint",
    "oidcc-rp-initiated-logout-no-id-token-hint",
    "oidcc-rp-initiated-logout-no-params",
    "oidcc-rp-initiated-logout-no-post-logout-redirect-uri",
    "oidcc-rp-initiated-logout-no-state",
    "oidcc-rp-initiated-logout-only-state",
    "oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri",
    "oidcc-rp-initiated-logout-bad-id-token-hint",
)


def test_every_module_of_the_plan_has_a_test() -> None:
    """conformance.md "Plans to cover": the plan's 11 modules (the suite's `OIDCCRpInitiatedLogoutTestPlan` and
    the two it has since gained, bad-id-token-hint and query-added), each with a test of the same name here."""
    assert len(set(RP_INITIATED_LOGOUT_PLAN)) == 11
    missing = [n for n in RP_INITIATED_LOGOUT_PLAN if not callable(globals().get("test_" + n.replace("-", "_")))]
    assert not missing, missing


# -- helpers ----------------------------------------------------------------------------------------------------


def signed_in(op: Provider, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen) -> Tokens:
    return sign_in_and_redeem(op, rp, browser, citizen, request=rp.new_request(state_length=128))


def logout(op: Provider, browser: ScriptedBrowser, **params: str | None) -> HttpResponse:
    return browser.open(op.logout_url({k: v for k, v in params.items() if v is not None}))


def assert_signed_out(op: Provider, rp: ConformanceRP, browser: ScriptedBrowser) -> None:
    """The suite's second authorization: with `prompt=none` it must now fail (OIDC Core §3.1.2.6)."""
    request = rp.new_request(prompt="none")
    check_error_callback(op, rp, authorize(browser, request), request, UI_REQUIRED_ERRORS)


def assert_provider_page(op: Provider, rp: ConformanceRP, response: HttpResponse, *uris: str) -> None:
    """RP-Initiated Logout §2, §3: no redirect to the RP; the OP shows a page of its own instead."""
    check_ui_error(op, rp, response, *uris)
    assert response.status == 200 and response.mimetype == "text/html", response.describe()
    assert op.owns(response.url)


def assert_post_logout_redirect(rp: ConformanceRP, response: HttpResponse, state: str | None) -> None:
    """RP-Initiated Logout §3: a redirect to the registered post_logout_redirect_uri, carrying `state` exactly
    when one was sent, and nothing else (the suite's `CheckForUnexpectedParametersInPostLogoutRedirect`)."""
    assert response.is_redirect, response.describe()
    assert without_query(response.location) == without_query(rp.post_logout_redirect_uri), response.location
    params = query_params(response.location)
    assert params == ({"state": state} if state is not None else {}), params


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# -- the plan ---------------------------------------------------------------------------------------------------


def test_oidcc_rp_initiated_logout_discovery_endpoint_verification(op: Provider) -> None:
    """RP-Initiated Logout §2.1: the OP's metadata has `end_session_endpoint`, a URL (HTTPS when the issuer is:
    the suite's `CheckDiscEndSessionEndpoint` and `CheckDiscEndpointAllEndpointsAreHttps`)."""
    endpoint = op.endpoint("end_session_endpoint")
    assert op.owns(endpoint) and endpoint == op.issuer + "logout"
    if op.issuer.startswith("https://"):
        assert endpoint.startswith("https://")


def test_oidcc_rp_initiated_logout(
    op: Provider, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """RP-Initiated Logout §2, §3: with a valid `id_token_hint`, a registered `post_logout_redirect_uri` and a
    `state`, the OP logs the user out and redirects there with that `state`; `prompt=none` then fails."""
    tokens = signed_in(op, rp, browser, citizen)
    state = secrets.token_urlsafe(32)
    response = logout(
        op, browser, id_token_hint=tokens.id_token, post_logout_redirect_uri=rp.post_logout_redirect_uri, state=state
    )
    assert_post_logout_redirect(rp, response, state)
    assert response.location == f"{rp.post_logout_redirect_uri}?state={state}"
    assert_signed_out(op, rp, browser)


def test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(
    op: Provider, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """RP-Initiated Logout §3: the post_logout_redirect_uri "MUST have been previously registered with the OP";
    an unregistered one is not redirected to (nor is the registered one)."""
    tokens = signed_in(op, rp, browser, citizen)
    unregistered = f"https://{rp.client_id}.example.org/post_logout_redirect"
    response = logout(op, browser, id_token_hint=tokens.id_token, post_logout_redirect_uri=unregistered, state="xyz")
    assert_provider_page(op, rp, response, unregistered)


def test_oidcc_rp_initiated_logout_modified_id_token_hint(
    op: Provider, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """RP-Initiated Logout §2 (the OP verifies `id_token_hint` was issued by it), RFC 8725 §3.1: a hint changed
    to `alg: none` with its signature removed is not valid, so no redirect."""
    tokens = signed_in(op, rp, browser, citizen)
    header = jwt.get_unverified_header(tokens.id_token)
    modified_header = _b64(json.dumps({**header, "alg": "none"}).encode())
    modified = f"{modified_header}.{tokens.id_token.split('.')[1]}."
    response = logout(
        op, browser, id_token_hint=modified, post_logout_redirect_uri=rp.post_logout_redirect_uri, state="xyz"
    )
    assert_provider_page(op, rp, response)


def test_oidcc_rp_initiated_logout_no_id_token_hint(
    op: Provider, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """RP-Initiated Logout §2, §3: without `id_token_hint` the OP cannot tell which RP is asking, so it must not
    redirect to the post_logout_redirect_uri it was given."""
    signed_in(op, rp, browser, citizen)
    response = logout(op, browser, post_logout_redirect_uri=rp.post_logout_redirect_uri, state="xyz")
    assert_provider_page(op, rp, response)


def test_oidcc_rp_initiated_logout_no_params(
    op: Provider, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """RP-Initiated Logout §2: all parameters are OPTIONAL; with none, the user is logged out and the OP shows
    its own logged-out page (One Login ends the session without asking)."""
    signed_in(op, rp, browser, citizen)
    response = logout(op, browser)
    assert_provider_page(op, rp, response)
    assert_signed_out(op, rp, browser)


def test_oidcc_rp_initiated_logout_no_post_logout_redirect_uri(
    op: Provider, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """RP-Initiated Logout §2, §3: a valid `id_token_hint` and a `state` but no post_logout_redirect_uri: the
    user is logged out and stays on the OP's logged-out page."""
    tokens = signed_in(op, rp, browser, citizen)
    response = logout(op, browser, id_token_hint=tokens.id_token, state="xyz")
    assert_provider_page(op, rp, response)
    assert_signed_out(op, rp, browser)


def test_oidcc_rp_initiated_logout_no_state(
    op: Provider, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """RP-Initiated Logout §2 (`state` is OPTIONAL), §3: the redirect to the post_logout_redirect_uri carries no
    `state` when none was sent; `prompt=none` then fails."""
    tokens = signed_in(op, rp, browser, citizen)
    response = logout(op, browser, id_token_hint=tokens.id_token, post_logout_redirect_uri=rp.post_logout_redirect_uri)
    assert_post_logout_redirect(rp, response, None)
    assert_signed_out(op, rp, browser)


def test_oidcc_rp_initiated_logout_only_state(
    op: Provider, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """RP-Initiated Logout §2: `state` alone means nothing without a post_logout_redirect_uri; the user is
    logged out on the OP's own page, and nothing is sent to the RP."""
    signed_in(op, rp, browser, citizen)
    response = logout(op, browser, state="xyz")
    assert_provider_page(op, rp, response)
    assert_signed_out(op, rp, browser)


def test_oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri(
    op: Provider, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen
) -> None:
    """RP-Initiated Logout §3 (and OIDC Core §3.1.2.1's exact matching): the registered URI with `?foo=bar`
    added is a different, unregistered URI: no redirect."""
    tokens = signed_in(op, rp, browser, citizen)
    added = rp.post_logout_redirect_uri + "?foo=bar"
    response = logout(op, browser, id_token_hint=tokens.id_token, post_logout_redirect_uri=added, state="xyz")
    assert_provider_page(op, rp, response, added)


@pytest.mark.parametrize("kid", ["provider", "own"], ids=["providers-kid", "own-kid"])
def test_oidcc_rp_initiated_logout_bad_id_token_hint(
    op: Provider, rp: ConformanceRP, browser: ScriptedBrowser, citizen: SignInCitizen, kid: str
) -> None:
    """RP-Initiated Logout §2: the hint must be an ID token the OP issued. One with the real claims signed by
    someone else's key (naming the provider's `kid`, or a `kid` of its own) is refused: no redirect."""
    tokens = signed_in(op, rp, browser, citizen)
    header = jwt.get_unverified_header(tokens.id_token)
    forger = ec.generate_private_key(ec.SECP256R1())
    fake_kid = header["kid"] if kid == "provider" else secrets.token_hex(32)
    fake = jwt.encode(tokens.claims, forger, algorithm="ES256", headers={"kid": fake_kid})
    response = logout(
        op, browser, id_token_hint=fake, post_logout_redirect_uri=rp.post_logout_redirect_uri, state="xyz"
    )
    assert_provider_page(op, rp, response)
