"""What a relying party sees of the provider, over HTTP only: responses, a scripted browser, a test RP, and the
checks the OpenID Foundation's conformance suite makes of what comes back.

Nothing here imports the provider. The two ways of reaching it (Flask's test client in-process, `requests`
against a live server) live in `conftest.py` behind the `Transport` protocol below.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# The errors of OIDC Core §3.1.2.6 that mean "a user interface would have been needed".
UI_REQUIRED_ERRORS = frozenset(
    {"login_required", "interaction_required", "account_selection_required", "consent_required"}
)
CLOCK_SKEW = 5

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
_VALUE = re.compile(r'value="([^"]*)"')
_FORM_ACTION = re.compile(r'<form[^>]*\baction="([^"]*)"')
# RFC 6749 §4.1.2.1 / Appendix A.7: error_description is %x20-21 / %x23-5B / %x5D-7E.
_ERROR_DESCRIPTION = re.compile(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]*$")
_EXPECTED_SKIPS = Path(__file__).with_name("expected_skips.json")


# -- HTTP ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpResponse:
    """One HTTP response, as any client sees it. `url` is the URL that was requested, in the issuer's terms."""

    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes
    url: str

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and "location" in self.headers

    @property
    def location(self) -> str:
        return urljoin(self.url, self.headers["location"]) if self.is_redirect else ""

    @property
    def mimetype(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def describe(self) -> str:
        where = f" -> {self.location}" if self.is_redirect else ""
        return f"{self.status} from {self.url}{where}: {self.text[:300]!r}"


class UserAgent(Protocol):
    """Sends one request and never follows redirects. A user agent made with cookies keeps a cookie jar."""

    def request(
        self,
        method: str,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse: ...


class Transport(Protocol):
    issuer: str
    live: bool

    def user_agent(self, cookies: bool) -> UserAgent: ...


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def query_params(url: str) -> dict[str, str]:
    """The parameters of a redirect to the RP: the query, or the fragment for `response_mode=fragment`."""
    parts = urlsplit(url)
    source = parts.query if parts.query else parts.fragment
    return {k: v[-1] for k, v in parse_qs(source, keep_blank_values=True).items()}


def without_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


# -- the provider, from the outside ----------------------------------------------------------------------------


class Provider:
    """The OpenID Provider under test, known only by its issuer and what it publishes."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.issuer = transport.issuer
        self.back_channel = transport.user_agent(cookies=False)
        self._metadata: dict[str, Any] | None = None

    @property
    def discovery_url(self) -> str:
        # OIDC Discovery §4: the issuer with `/.well-known/openid-configuration` appended.
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def fetch_discovery(self) -> HttpResponse:
        return self.back_channel.request("GET", self.discovery_url)

    @property
    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            response = self.fetch_discovery()
            assert response.status == 200, response.describe()
            self._metadata = response.json()
        return self._metadata

    def endpoint(self, name: str) -> str:
        value = self.metadata.get(name)
        assert isinstance(value, str) and value, f"discovery has no {name}"
        return value

    def owns(self, url: str) -> bool:
        return origin_of(url) == origin_of(self.issuer)

    def fetch_jwks(self) -> dict[str, Any]:
        response = self.back_channel.request("GET", self.endpoint("jwks_uri"))
        assert response.status == 200, response.describe()
        jwks = response.json()
        assert isinstance(jwks, dict) and isinstance(jwks.get("keys"), list), jwks
        return jwks

    def browser(self) -> ScriptedBrowser:
        return ScriptedBrowser(self, self.transport.user_agent(cookies=True))

    def authorization_url(self, params: Mapping[str, str]) -> str:
        return self.endpoint("authorization_endpoint") + "?" + urlencode(params)

    def token(self, form: Mapping[str, str]) -> HttpResponse:
        return self.back_channel.request("POST", self.endpoint("token_endpoint"), data=form)

    def userinfo(self, access_token: str, method: str = "GET", in_body: bool = False) -> HttpResponse:
        url = self.endpoint("userinfo_endpoint")
        if in_body:
            return self.back_channel.request("POST", url, data={"access_token": access_token})
        return self.back_channel.request(method, url, headers={"Authorization": f"Bearer {access_token}"})

    def logout_url(self, params: Mapping[str, str]) -> str:
        url = self.endpoint("end_session_endpoint")
        return url + ("?" + urlencode(params) if params else "")


# -- the scripted browser --------------------------------------------------------------------------------------


class SignInCitizen(Protocol):
    email: str
    password: str

    def totp_code(self) -> str: ...


class ScriptedBrowser:
    """A cookie jar that follows the provider's redirects and fills in its sign-in forms.

    It never follows a redirect that leaves the provider: that redirect, to the RP, is what a test inspects.
    `pages` lists the path of every HTML page the provider showed, in order."""

    SIGN_IN_STEPS: dict[str, str] = {
        "/sign-in": "email",
        "/sign-in/password": "password",
        "/sign-in/security-code": "code",
    }

    def __init__(self, provider: Provider, agent: UserAgent) -> None:
        self.provider = provider
        self.agent = agent
        self.url = ""
        self.html = ""
        self.pages: list[str] = []

    def _seen(self, response: HttpResponse) -> HttpResponse:
        if not response.is_redirect:
            self.url = response.url
            if response.mimetype == "text/html":
                self.html = response.text
                self.pages.append(urlsplit(response.url).path)
        return response

    def get(self, url: str) -> HttpResponse:
        assert self.provider.owns(url), f"the browser would leave the provider for {url}"
        return self._seen(self.agent.request("GET", url))

    def post(self, url: str, data: Mapping[str, str]) -> HttpResponse:
        assert self.provider.owns(url), f"the browser would leave the provider for {url}"
        return self._seen(self.agent.request("POST", url, data=data))

    def follow(self, response: HttpResponse, limit: int = 10) -> HttpResponse:
        """Follow redirects while they stay within the provider."""
        for _ in range(limit):
            if not response.is_redirect or not self.provider.owns(response.location):
                return response
            response = self.get(response.location)
        raise AssertionError(f"more than {limit} redirects: {response.describe()}")

    def open(self, url: str) -> HttpResponse:
        return self.follow(self.get(url))

    def submit(self, fields: Mapping[str, str]) -> HttpResponse:
        """Submit the form of the current page, with its CSRF token, as a browser would."""
        form = dict(fields)
        hidden = _CSRF.search(self.html)
        if hidden:
            value = _VALUE.search(hidden.group(0))
            if value:
                form.setdefault("csrf_token", html.unescape(value.group(1)))
        action = _FORM_ACTION.search(self.html)
        target = urljoin(self.url, html.unescape(action.group(1))) if action and action.group(1) else self.url
        return self.follow(self.post(target, form))

    def sign_in(self, response: HttpResponse, citizen: SignInCitizen) -> HttpResponse:
        """Answer the sign-in pages (email, password, security code) until the provider redirects to the RP."""
        answered: list[str] = []
        while not response.is_redirect:
            step = self.SIGN_IN_STEPS.get(urlsplit(self.url).path)
            assert response.status == 200 and step, f"sign-in stopped: {response.describe()}"
            assert step not in answered, f"the {step} was refused: {self.pages} {response.describe()}"
            answered.append(step)
            answer = {"email": citizen.email, "password": citizen.password}.get(step) or citizen.totp_code()
            response = self.submit({step: answer})
        return response

    def at_sign_in(self, response: HttpResponse) -> bool:
        return not response.is_redirect and response.status == 200 and urlsplit(self.url).path in self.SIGN_IN_STEPS

    def signed_in_pages(self) -> list[str]:
        return [page for page in self.pages if page in self.SIGN_IN_STEPS]


# -- the test relying party ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthRequest:
    params: dict[str, str]
    state: str | None
    nonce: str | None
    code_verifier: str | None


@dataclass
class ConformanceRP:
    """A registered client: its id, its key for `private_key_jwt` (or its secret), its registered URIs."""

    provider: Provider
    client_id: str
    redirect_uri: str
    post_logout_redirect_uri: str
    private_key: PrivateKey | None = None
    client_secret: str | None = None
    id_token_alg: str = "ES256"
    extra_redirect_uris: list[str] = field(default_factory=list)

    @property
    def key_alg(self) -> str:
        return "ES256" if isinstance(self.private_key, ec.EllipticCurvePrivateKey) else "RS256"

    @property
    def auth_method(self) -> str:
        return "client_secret_post" if self.client_secret else "private_key_jwt"

    def new_request(
        self,
        params: Mapping[str, str | None] | None = None,
        *,
        pkce: bool = False,
        state_length: int = 16,
        **extra: str | None,
    ) -> AuthRequest:
        """A fresh authorization request. Pass a parameter as None to leave it out."""
        state = secrets.token_urlsafe(state_length)[:state_length]
        nonce = secrets.token_urlsafe(16)
        verifier = secrets.token_urlsafe(48) if pkce else None
        values: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client_id,
            "scope": "openid email",
            "redirect_uri": self.redirect_uri,
            "state": state,
            "nonce": nonce,
        }
        if verifier:
            values["code_challenge"] = s256(verifier)
            values["code_challenge_method"] = "S256"
        values.update(params or {})
        values.update(extra)
        kept = {k: v for k, v in values.items() if v is not None}
        return AuthRequest(kept, kept.get("state"), kept.get("nonce"), verifier)

    def assertion(self, **overrides: Any) -> str:
        """A `private_key_jwt` client assertion (RFC 7523 §3); pass a claim as None to leave it out."""
        assert self.private_key is not None, "this client authenticates with a secret"
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.provider.endpoint("token_endpoint"),
            "exp": now + 60,
            "iat": now,
            "jti": str(uuid.uuid4()),
        }
        claims.update(overrides)
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, self.private_key, algorithm=self.key_alg)

    def token_form(self, code: str, request: AuthRequest | None = None, **overrides: str | None) -> dict[str, str]:
        form: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": request.params.get("redirect_uri", self.redirect_uri) if request else self.redirect_uri,
        }
        if request and request.code_verifier:
            form["code_verifier"] = request.code_verifier
        if self.client_secret:
            form["client_id"] = self.client_id
            form["client_secret"] = self.client_secret
        else:
            form["client_assertion_type"] = JWT_BEARER
            form["client_assertion"] = self.assertion()
        form.update(overrides)
        return {k: v for k, v in form.items() if v is not None}

    def request_object(self, claims: Mapping[str, Any]) -> str:
        assert self.private_key is not None
        return jwt.encode(dict(claims), self.private_key, algorithm=self.key_alg)


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")


def unsigned_jwt(claims: Mapping[str, Any]) -> str:
    """A JWT with `alg: none` and an empty signature (RFC 7519 §6)."""

    def part(value: Mapping[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(dict(value)).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


# -- flows -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tokens:
    request: AuthRequest
    callback: dict[str, str]
    body: dict[str, Any]
    id_token: str
    claims: dict[str, Any]

    @property
    def access_token(self) -> str:
        return str(self.body["access_token"])


def authorize(
    browser: ScriptedBrowser, request: AuthRequest, citizen: SignInCitizen | None = None, method: str = "GET"
) -> HttpResponse:
    """Send the browser to the authorization endpoint (GET, or POST as a form) and sign in if asked to."""
    provider = browser.provider
    if method == "POST":
        response = browser.follow(browser.post(provider.endpoint("authorization_endpoint"), request.params))
    else:
        response = browser.open(provider.authorization_url(request.params))
    if citizen is not None:
        response = browser.sign_in(response, citizen)
    return response


def callback_params(
    provider: Provider, rp: ConformanceRP, response: HttpResponse, redirect_uri: str = ""
) -> dict[str, str]:
    """The authorization response at the RP (OIDC Core §3.1.2.5), checked as the suite checks it."""
    assert response.is_redirect, f"expected a redirect to the RP: {response.describe()}"
    expected = redirect_uri or rp.redirect_uri
    assert without_query(response.location) == without_query(expected), response.location
    params = query_params(response.location)
    # RFC 9207 §2.4: if `iss` is present it must be the issuer.
    if "iss" in params:
        assert params["iss"] == provider.issuer, params
    return params


def check_success_callback(
    provider: Provider, rp: ConformanceRP, response: HttpResponse, request: AuthRequest, redirect_uri: str = ""
) -> str:
    """OIDC Core §3.1.2.5, RFC 6749 §4.1.2: a code, and `state` echoed exactly. Returns the code."""
    params = callback_params(provider, rp, response, redirect_uri)
    assert "error" not in params, f"authorization failed: {params}"
    assert params.get("code"), params
    assert params.get("state") == request.state, "state must be returned exactly as sent (RFC 6749 §4.1.2)"
    return params["code"]


def check_error_callback(
    provider: Provider,
    rp: ConformanceRP,
    response: HttpResponse,
    request: AuthRequest,
    errors: Iterable[str],
    redirect_uri: str = "",
) -> dict[str, str]:
    """RFC 6749 §4.1.2.1: an error code, a well-formed description, `state` echoed, no code, nothing else."""
    params = callback_params(provider, rp, response, redirect_uri)
    allowed = set(errors)
    assert params.get("error") in allowed, f"expected one of {sorted(allowed)}: {params}"
    assert "code" not in params, params
    assert _ERROR_DESCRIPTION.match(params.get("error_description", "")), params["error_description"]
    if request.state is not None:
        assert params.get("state") == request.state, params
    unexpected = set(params) - {"error", "error_description", "error_uri", "state", "iss"}
    assert not unexpected, f"unexpected parameters in the error response: {unexpected}"
    return params


def check_ui_error(provider: Provider, rp: ConformanceRP, response: HttpResponse, *uris: str) -> None:
    """The suite's "the OP must show an error page and not redirect": nothing is sent to the RP's URIs."""
    assert not response.is_redirect or provider.owns(response.location), (
        f"the provider redirected away from itself: {response.describe()}"
    )
    for uri in (rp.redirect_uri, rp.post_logout_redirect_uri, *rp.extra_redirect_uris, *uris):
        if response.is_redirect:
            assert not response.location.startswith(without_query(uri)), response.describe()
    assert "code=" not in response.headers.get("location", ""), response.describe()


def check_error_page(provider: Provider, rp: ConformanceRP, response: HttpResponse, *uris: str) -> None:
    """An error page of the provider's own (4xx), with nothing sent to the RP."""
    check_ui_error(provider, rp, response, *uris)
    assert not response.is_redirect and 400 <= response.status < 500, response.describe()


def check_refused(
    provider: Provider, rp: ConformanceRP, response: HttpResponse, request: AuthRequest, errors: Iterable[str]
) -> None:
    """Refused either way the suite allows: an error redirected to the RP with `state`, or an error page."""
    if response.is_redirect and not provider.owns(response.location):
        check_error_callback(provider, rp, response, request, errors)
    else:
        check_error_page(provider, rp, response)


def redeem(
    provider: Provider, rp: ConformanceRP, code: str, request: AuthRequest, **overrides: str | None
) -> HttpResponse:
    return provider.token(rp.token_form(code, request, **overrides))


def check_token_response(response: HttpResponse) -> dict[str, Any]:
    """OIDC Core §3.1.3.3, RFC 6749 §5.1."""
    assert response.status == 200, response.describe()
    assert response.mimetype == "application/json", response.headers
    assert "no-store" in response.headers.get("cache-control", ""), "RFC 6749 §5.1: Cache-Control: no-store"
    body = response.json()
    assert isinstance(body.get("access_token"), str) and body["access_token"], body
    assert str(body.get("token_type", "")).lower() == "bearer", body
    assert isinstance(body.get("expires_in"), int) and body["expires_in"] > 0, body
    assert isinstance(body.get("id_token"), str) and body["id_token"], body
    return dict(body)


def check_token_error(response: HttpResponse, error: str) -> dict[str, Any]:
    """RFC 6749 §5.2: 400 (401 for invalid_client), JSON, the error code, a well-formed description."""
    assert response.status in ((400, 401) if error == "invalid_client" else (400,)), response.describe()
    assert response.mimetype == "application/json", response.headers
    body = response.json()
    assert body.get("error") == error, body
    assert _ERROR_DESCRIPTION.match(str(body.get("error_description", ""))), body
    assert "access_token" not in body and "id_token" not in body, body
    return dict(body)


def sign_in_and_redeem(
    provider: Provider,
    rp: ConformanceRP,
    browser: ScriptedBrowser,
    citizen: SignInCitizen | None,
    *,
    method: str = "GET",
    request: AuthRequest | None = None,
    **params: str | None,
) -> Tokens:
    """The whole code flow of `oidcc-server`: authorize (signing in if `citizen` is given), redeem, check."""
    request = request or rp.new_request(params)
    response = authorize(browser, request, citizen, method=method)
    code = check_success_callback(provider, rp, response, request, request.params.get("redirect_uri", ""))
    body = check_token_response(redeem(provider, rp, code, request))
    claims = check_id_token(provider, rp, body["id_token"], nonce=request.nonce, access_token=body["access_token"])
    return Tokens(request, query_params(response.location), body, body["id_token"], claims)


# -- ID tokens, keys and logout tokens -------------------------------------------------------------------------


def jwk_for(jwks: Mapping[str, Any], token: str) -> dict[str, Any]:
    """OIDC Core §10.1: the key is the one whose `kid` the JWS header names."""
    header = jwt.get_unverified_header(token)
    kid = header.get("kid")
    assert kid, f"the JWS header has no kid: {header}"
    matches = [key for key in jwks["keys"] if key.get("kid") == kid]
    assert len(matches) == 1, f"kid {kid} is not in the provider's JWKS exactly once"
    return dict(matches[0])


def verify_signature(jwks: Mapping[str, Any], token: str, **decode_options: Any) -> dict[str, Any]:
    """Verify a JWS against the provider's JWKS; `alg: none` and an `alg` other than the key's fail."""
    header = jwt.get_unverified_header(token)
    alg = header.get("alg")
    assert alg and alg != "none", f"unsigned token: {header}"
    jwk = jwk_for(jwks, token)
    assert jwk.get("use", "sig") == "sig", jwk
    # RFC 7517 §4.4: a key that names its alg is used only with it.
    assert jwk.get("alg", alg) == alg, f"token alg {alg} but key alg {jwk.get('alg')}"
    key = jwt.PyJWK(jwk, algorithm=alg).key
    options = {"verify_aud": False, "verify_iss": False, "verify_exp": False, "verify_iat": False, "verify_nbf": False}
    claims: dict[str, Any] = jwt.decode(token, key, algorithms=[alg], options=options, **decode_options)  # type: ignore[arg-type]
    return claims


def check_id_token(
    provider: Provider,
    rp: ConformanceRP,
    id_token: str,
    *,
    nonce: str | None,
    access_token: str | None = None,
    jwks: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What the suite's `PerformStandardIdTokenChecks` asserts (OIDC Core §3.1.3.7, §2, §10.1)."""
    now = time.time()
    jwks = jwks or provider.fetch_jwks()
    header = jwt.get_unverified_header(id_token)
    assert header.get("alg") in provider.metadata["id_token_signing_alg_values_supported"], header
    claims = verify_signature(jwks, id_token)

    assert claims.get("iss") == provider.issuer, "OIDC Core §3.1.3.7(2): iss must be the issuer"
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    assert rp.client_id in audiences, "OIDC Core §3.1.3.7(3): aud must contain the client_id"
    if len(audiences) > 1:
        assert claims.get("azp") == rp.client_id, "OIDC Core §3.1.3.7(4-5): azp with several audiences"
    sub = claims.get("sub")
    assert isinstance(sub, str) and 0 < len(sub) <= 255 and sub.isascii(), "OIDC Core §2: sub, at most 255 ASCII"

    exp, iat = claims.get("exp"), claims.get("iat")
    assert isinstance(exp, int) and exp > now - CLOCK_SKEW, "OIDC Core §3.1.3.7(9): not expired"
    assert exp < now + 50 * 365 * 86400, "exp looks like milliseconds"
    assert isinstance(iat, int) and now - 300 <= iat <= now + CLOCK_SKEW, "iat must be recent and not in the future"
    assert exp > iat, claims
    if "auth_time" in claims:
        auth_time = claims["auth_time"]
        assert isinstance(auth_time, int) and now - 365 * 86400 <= auth_time <= now + CLOCK_SKEW, claims
    if "nbf" in claims:
        assert isinstance(claims["nbf"], int) and claims["nbf"] <= now + CLOCK_SKEW, claims
    if "acr" in claims:
        assert isinstance(claims["acr"], str) and claims["acr"], claims
    # OIDC Core §3.1.3.7(11): the nonce must be the one sent; and none may appear if none was sent.
    if nonce is None:
        assert "nonce" not in claims, claims
    else:
        assert claims.get("nonce") == nonce, "OIDC Core §3.1.3.7(11): nonce must match the request"
    if access_token is not None and "at_hash" in claims:
        assert claims["at_hash"] == at_hash(access_token), "OIDC Core §3.1.3.6: at_hash"
    return claims


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6 for the SHA-256 algorithms (ES256, RS256, PS256)."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def check_jwks(jwks: Mapping[str, Any]) -> None:
    """The suite's `CheckServerKeysIsValid`, `CheckForKeyIdInServerJWKs`, `CheckDistinctKeyIdValueInServerJWKs`."""
    keys = jwks["keys"]
    assert keys, "the JWKS has no keys"
    kids = [key.get("kid") for key in keys]
    assert all(isinstance(kid, str) and kid for kid in kids), "OIDC Core §10.1: every key needs a kid"
    assert len(set(kids)) == len(kids), f"kids must be distinct: {kids}"
    for key in keys:
        # RFC 7517 §9.3 / §8.1 of RFC 7518: never private members in a published set.
        private = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"} & set(key)
        assert not private, f"private key material published: {private}"
        assert key.get("use") == "sig", key
        if key.get("kty") == "EC":
            assert key.get("crv") == "P-256" and key.get("x") and key.get("y"), key
            assert key.get("alg") in (None, "ES256"), key
        else:
            assert key.get("kty") == "RSA" and key.get("n") and key.get("e"), key
            assert key.get("alg") in (None, "RS256", "PS256"), key
        jwt.PyJWK(dict(key))  # parses as a public key


def check_userinfo(response: HttpResponse, sub: str) -> dict[str, Any]:
    """OIDC Core §5.3.2: 200, JSON, `sub` equal to the ID token's; the standard claims well-formed (§5.1)."""
    assert response.status == 200, response.describe()
    assert response.mimetype == "application/json", response.headers
    claims = response.json()
    assert claims.get("sub") == sub, "OIDC Core §5.3.2: the sub must match the ID token's"
    if "email" in claims:
        assert isinstance(claims["email"], str) and "@" in claims["email"], claims
    for flag in ("email_verified", "phone_number_verified"):
        if flag in claims:
            assert isinstance(claims[flag], bool), claims
    if "phone_number" in claims:
        assert re.fullmatch(r"\+[1-9][0-9]{6,14}", claims["phone_number"]), claims
    if "updated_at" in claims:
        assert isinstance(claims["updated_at"], int) and claims["updated_at"] <= time.time() + CLOCK_SKEW, claims
    return dict(claims)


def check_logout_token(provider: Provider, rp: ConformanceRP, token: str, jwks: Mapping[str, Any]) -> dict[str, Any]:
    """Back-Channel Logout §2.4 and §2.6, as the suite's `ValidateLogoutToken*` conditions check them."""
    header = jwt.get_unverified_header(token)
    # §2.4 (and RFC 8725 §3.11): explicit typing of logout tokens.
    assert header.get("typ") == "logout+jwt", f"§2.4: typ must be logout+jwt, not {header.get('typ')!r}"
    claims = verify_signature(jwks, token)
    now = time.time()
    assert claims.get("iss") == provider.issuer, claims
    audience = claims.get("aud")
    assert rp.client_id in (audience if isinstance(audience, list) else [audience]), claims
    iat = claims.get("iat")
    assert isinstance(iat, int) and now - 86400 <= iat <= now + CLOCK_SKEW, "iat not in the future, under a day old"
    exp = claims.get("exp")
    assert isinstance(exp, int) and iat < exp and exp > now - CLOCK_SKEW, "exp after iat and not passed"
    assert isinstance(claims.get("jti"), str) and claims["jti"], claims
    events = claims.get("events")
    assert isinstance(events, dict) and list(events) == [BACKCHANNEL_LOGOUT_EVENT], "exactly one event member"
    assert events[BACKCHANNEL_LOGOUT_EVENT] == {}, "the event member maps to an empty JSON object"
    assert "nonce" not in claims, "§2.4: a logout token MUST NOT contain a nonce"
    assert claims.get("sub") or claims.get("sid"), "§2.4: sub, sid or both"
    return claims


# -- what the operator of the provider does out of band ---------------------------------------------------------


class Operator(Protocol):
    """Registering clients, creating accounts, rotating keys, running the outbox: not part of the protocol.

    In-process the suite does these itself; against a live server only the configured client and citizen exist,
    and a test that needs anything else is skipped with the reason."""

    def default_client(self) -> ConformanceRP: ...

    def register_client(self, *, client_secret: str | None = None, **fields: Any) -> ConformanceRP: ...

    def new_citizen(self) -> SignInCitizen: ...

    def key_rotation(self, alg: str = "ES256") -> Callable[[], str]:
        """What rotating the signing key takes (skipping at once where the suite cannot do it); calling the
        result rotates and returns the new key's `kid`."""
        ...

    def deliver_back_channel_logouts(self) -> int: ...


# -- expected skips --------------------------------------------------------------------------------------------


def expected_skips() -> dict[str, dict[str, str]]:
    entries = json.loads(_EXPECTED_SKIPS.read_text())
    return {entry["module"]: entry for entry in entries}


def skip_reason(module: str) -> str:
    entry = expected_skips()[module]
    return f"{module}: {entry['reason']}"
