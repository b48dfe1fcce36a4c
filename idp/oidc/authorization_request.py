"""Validation of an authorization request, in One Login's order and with its error strings (reference §2).

Pure: the view hands in the parameters (last value wins for duplicates), a way to find the client and a
way to verify a request object, and gets back a validated request or an `AuthorizeError` saying whether the
error may be redirected to the RP.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from idp.keys import jws
from idp.oidc.vtr import VectorsOfTrust, VtrError, check_permitted, parse_vtr

VOCAB = "https://vocab.account.gov.uk/v1/"
IDENTITY_CLAIMS = tuple(
    VOCAB + name
    for name in ("coreIdentityJWT", "address", "passport", "drivingPermit", "returnCode", "inheritedIdentityJWT")
)
SUPPORTED_SCOPES = ("openid", "email", "phone", "wallet-subject-id")
OIDC_PROMPTS = {"none", "login", "consent", "select_account", "create"}
RESPONSE_MODES = ("query", "fragment")
CHANNELS = ("web", "generic_app")
_FORBIDDEN_SCHEMES = {"data", "javascript", "vbscript"}
_PKCE_VERIFIER_CHARS = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")

MISSING_PARAMETERS = "Request is missing parameters"
INVALID_REQUEST = "Invalid request"
REQUEST_OBJECT_SIGNATURE_FAILED = "Validation failed"


class ClientRegistration(Protocol):
    client_id: str
    redirect_uris: list[str]
    scopes: list[str]
    claims: list[str]
    client_locs: list[str]
    identity_verification_supported: bool
    token_auth_method: str
    pkce_enforced: bool
    jar_required: bool
    max_age_enabled: bool
    permit_missing_nonce: bool
    is_active: bool


class RequestObjectSignatureError(Exception):
    pass


class RequestObjectKeyError(Exception):
    """The client's keys could not be had (JWKS unreachable, no `kid`, `kid` not found)."""


@dataclass
class AuthorizeError(Exception):
    error: str
    description: str
    redirect_uri: str | None = None
    state: str | None = None
    response_mode: str = "query"
    status: int = 302

    @property
    def redirectable(self) -> bool:
        return self.redirect_uri is not None and self.status == 302


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    state: str
    nonce: str | None
    scopes: tuple[str, ...]
    claims: tuple[str, ...]
    vtr: VectorsOfTrust
    response_mode: str = "query"
    prompt: frozenset[str] = frozenset()
    max_age: int | None = None
    code_challenge: str | None = None
    ui_locales: tuple[str, ...] = ()
    login_hint: str | None = None
    channel: str = "web"
    id_token_hint: str | None = None
    rp_sid: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "nonce": self.nonce,
            "scopes": list(self.scopes),
            "claims": list(self.claims),
            "vtr": self.vtr.to_json(),
            "response_mode": self.response_mode,
            "prompt": sorted(self.prompt),
            "max_age": self.max_age,
            "code_challenge": self.code_challenge,
            "ui_locales": list(self.ui_locales),
            "login_hint": self.login_hint,
            "channel": self.channel,
            "rp_sid": self.rp_sid,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuthorizationRequest:
        return cls(
            client_id=data["client_id"],
            redirect_uri=data["redirect_uri"],
            state=data["state"],
            nonce=data.get("nonce"),
            scopes=tuple(data["scopes"]),
            claims=tuple(data["claims"]),
            vtr=parse_vtr(data["vtr"]),
            response_mode=data.get("response_mode", "query"),
            prompt=frozenset(data.get("prompt", ())),
            max_age=data.get("max_age"),
            code_challenge=data.get("code_challenge"),
            ui_locales=tuple(data.get("ui_locales", ())),
            login_hint=data.get("login_hint"),
            channel=data.get("channel", "web"),
            rp_sid=data.get("rp_sid"),
        )


def redirect_uri_is_safe(uri: str) -> bool:
    """Schemes `data`, `javascript`, `vbscript` and query parameters `code`, `state`, `response` are refused."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    if not parts.scheme or parts.scheme.lower() in _FORBIDDEN_SCHEMES or parts.fragment:
        return False
    query_names = {pair.split("=", 1)[0] for pair in parts.query.split("&") if pair}
    return not query_names & {"code", "state", "response"}


@dataclass
class _Context:
    client: ClientRegistration
    redirect_uri: str
    response_mode: str
    state: str | None = None

    def fail(self, error: str, description: str, with_state: bool = True) -> AuthorizeError:
        return AuthorizeError(
            error, description, self.redirect_uri, self.state if with_state else None, self.response_mode
        )


def validate_authorization_request(
    params: Mapping[str, str],
    find_client: Callable[[str], ClientRegistration | None],
    verify_request_object: Callable[[ClientRegistration, str], dict[str, Any]],
    authorize_endpoint: str,
    identity_available: bool,
    now: Callable[[], float] = time.time,
) -> AuthorizationRequest:
    client_id = params.get("client_id")
    if not params or not client_id:
        raise AuthorizeError("invalid_request", MISSING_PARAMETERS, status=400)
    client = find_client(client_id)
    if client is None:
        raise AuthorizeError("invalid_request", INVALID_REQUEST, status=400)

    values: dict[str, Any] = dict(params)
    request_object = params.get("request")
    if request_object:
        values = _merge_request_object(params, client, verify_request_object, authorize_endpoint, now)
    elif "redirect_uri" not in params:
        raise AuthorizeError("invalid_request", MISSING_PARAMETERS, status=400)

    redirect_uri = values.get("redirect_uri")
    if not isinstance(redirect_uri, str) or redirect_uri not in client.redirect_uris:
        raise AuthorizeError("invalid_request", INVALID_REQUEST, status=400)
    response_mode = values.get("response_mode") or "query"
    if response_mode not in RESPONSE_MODES:
        raise AuthorizeError("invalid_request", INVALID_REQUEST, status=400)

    ctx = _Context(client, redirect_uri, response_mode)
    state = values.get("state")
    if not isinstance(state, str) or not state:
        # Reference §2.1: a missing state is reported without echoing one.
        raise ctx.fail("invalid_request", "Request is missing state parameter", with_state=False)
    ctx.state = state

    if request_object and "__object_error__" in values:
        error, description = values["__object_error__"]
        raise ctx.fail(error, description)
    if not client.is_active:
        raise ctx.fail("unauthorized_client", "client deactivated")
    if client.jar_required and not request_object:
        raise ctx.fail("access_denied", "JAR required for client but request does not contain Request Object")
    if "request_uri" in params:
        if request_object:
            raise ctx.fail("invalid_request", "Request must not contain both request and request_uri")
        raise ctx.fail("request_uri_not_supported", "Request URI parameter not supported")

    scopes = _check_response_type_and_scope(ctx, params, values, bool(request_object))
    claims = _check_claims(ctx, values.get("claims"))
    prompt = _check_prompt(ctx, values.get("prompt"))

    nonce = values.get("nonce")
    if not nonce and not client.permit_missing_nonce:
        raise ctx.fail("invalid_request", "Request is missing nonce parameter")

    code_challenge = _check_pkce(ctx, values.get("code_challenge"), values.get("code_challenge_method"))

    try:
        vtr = parse_vtr(values.get("vtr"))
        check_permitted(vtr, client.client_locs, client.identity_verification_supported, client.token_auth_method)
    except VtrError as exc:
        raise ctx.fail("invalid_request", exc.description) from exc

    max_age = _check_max_age(ctx, values.get("max_age"), "request object" if request_object else "query params")

    channel = values.get("channel") or "web"
    if channel not in CHANNELS:
        raise ctx.fail("invalid_request", "Invalid value for channel parameter.")
    login_hint = values.get("login_hint") or None
    if login_hint is not None and (not isinstance(login_hint, str) or len(login_hint) > 256):
        raise ctx.fail("invalid_request", "login_hint parameter is invalid")

    if "select_account" in prompt:
        raise ctx.fail("unmet_authentication_requirements", "Unmet authentication requirements")
    if vtr.needs_identity and not identity_available:
        raise ctx.fail("temporarily_unavailable", "Identity proving is temporarily unavailable")

    ui_locales = tuple(
        tag for tag in str(values.get("ui_locales") or "").split() if tag.split("-")[0].lower() in ("en", "cy")
    )
    return AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        state=state,
        nonce=nonce or None,
        scopes=scopes,
        claims=claims if vtr.needs_identity else (),
        vtr=vtr,
        response_mode=response_mode,
        prompt=prompt,
        max_age=max_age if client.max_age_enabled else None,
        code_challenge=code_challenge,
        ui_locales=ui_locales,
        login_hint=login_hint,
        channel=channel,
        id_token_hint=values.get("id_token_hint") or None,
        rp_sid=values.get("rp_sid") or None,
    )


def _merge_request_object(
    params: Mapping[str, str],
    client: ClientRegistration,
    verify_request_object: Callable[[ClientRegistration, str], dict[str, Any]],
    authorize_endpoint: str,
    now: Callable[[], float],
) -> dict[str, Any]:
    """Verify the signed request object and return the parameters it carries (reference §2.2)."""
    token = params["request"]
    header = _unverified_header(token)
    if header is None:
        raise AuthorizeError("invalid_request_object", "Request object could not be parsed", status=400)
    if str(header.get("alg", "none")).lower() == "none":
        # We never accept unsigned request objects, and never silently ignore one either.
        redirect_uri = params.get("redirect_uri")
        if redirect_uri in client.redirect_uris and params.get("state"):
            raise AuthorizeError(
                "invalid_request_object", "Request object JWT must be signed", redirect_uri, params.get("state")
            )
        raise AuthorizeError("invalid_request_object", "Request object JWT must be signed", status=400)
    try:
        claims = verify_request_object(client, token)
    except RequestObjectSignatureError as exc:
        raise AuthorizeError("invalid_request", REQUEST_OBJECT_SIGNATURE_FAILED, status=400) from exc
    except RequestObjectKeyError as exc:
        raise AuthorizeError("server_error", "Unexpected server error", status=500) from exc

    values: dict[str, Any] = {k: v for k, v in claims.items() if k not in ("iss", "aud", "exp", "nbf", "iat", "jti")}
    for name in ("vtr", "claims"):
        if isinstance(values.get(name), list | dict):
            values[name] = json.dumps(values[name])
    if "max_age" in values and isinstance(values["max_age"], int):
        values["max_age"] = str(values["max_age"])

    current = now()
    skew = 30
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if (isinstance(exp, int | float) and exp + skew < current) or (
        isinstance(nbf, int | float) and nbf - skew > current
    ):
        raise AuthorizeError("invalid_request_object", "Request expired", status=400)

    object_error: tuple[str, str] | None = None
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if claims.get("client_id") != params.get("client_id") or "client_id" not in claims:
        object_error = ("unauthorized_client", "Invalid client_id in request object")
    elif claims.get("iss") != client.client_id:
        object_error = ("unauthorized_client", "Invalid issuer in request object")
    elif authorize_endpoint not in audiences:
        object_error = ("access_denied", "Invalid audience in request object")
    elif "request" in claims or "request_uri" in claims:
        object_error = ("invalid_request", "Request object must not contain request or request_uri")
    if object_error:
        values["__object_error__"] = object_error
    return values


def _unverified_header(token: str) -> dict[str, Any] | None:
    try:
        return jws.parse(token).header
    except jws.MalformedJWS:
        return None


def _check_response_type_and_scope(
    ctx: _Context, params: Mapping[str, str], values: dict[str, Any], with_request_object: bool
) -> tuple[str, ...]:
    if with_request_object:
        _check_response_type(ctx, params.get("response_type"))
        _check_scope(ctx, params.get("scope"))
    _check_response_type(ctx, values.get("response_type"))
    scopes = _check_scope(ctx, values.get("scope"))
    # Reference §2.2: the top-level response_type and scope must equal the values in the object.
    if with_request_object and (
        params.get("response_type") != values.get("response_type") or params.get("scope") != values.get("scope")
    ):
        raise ctx.fail("invalid_request", "Parameters must match those in the request object")
    return scopes


def _check_response_type(ctx: _Context, response_type: Any) -> None:
    if not response_type:
        raise ctx.fail("invalid_request", "Request is missing response_type parameter")
    if response_type != "code":
        known = {"token", "id_token", "code id_token", "code token", "id_token token", "code id_token token", "none"}
        if " ".join(sorted(str(response_type).split())) in {" ".join(sorted(k.split())) for k in known}:
            raise ctx.fail("unsupported_response_type", "Unsupported response type")
        raise ctx.fail("invalid_request", "Invalid response_type parameter")


def _check_scope(ctx: _Context, scope: Any) -> tuple[str, ...]:
    if not isinstance(scope, str) or not scope.strip():
        raise ctx.fail("invalid_request", "Request is missing scope parameter")
    scopes = tuple(dict.fromkeys(scope.split()))
    if "openid" not in scopes:
        raise ctx.fail("invalid_request", "Request is missing openid scope")
    if any(s not in SUPPORTED_SCOPES or s not in ctx.client.scopes for s in scopes):
        raise ctx.fail("invalid_scope", "Invalid, unknown or malformed scope")
    return scopes


def _check_claims(ctx: _Context, raw: Any) -> tuple[str, ...]:
    if raw is None or raw == "":
        return ()
    try:
        claims = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise ctx.fail("invalid_request", "Request contains invalid claims") from exc
    if not isinstance(claims, dict):
        raise ctx.fail("invalid_request", "Request contains invalid claims")
    userinfo = claims.get("userinfo") or {}
    if not isinstance(userinfo, dict):
        raise ctx.fail("invalid_request", "Request contains invalid claims")
    names = tuple(userinfo)
    if any(name not in IDENTITY_CLAIMS or name not in ctx.client.claims for name in names):
        raise ctx.fail("invalid_request", "Request contains invalid claims")
    return names


def _check_prompt(ctx: _Context, raw: Any) -> frozenset[str]:
    if not raw:
        return frozenset()
    values = frozenset(str(raw).split())
    if not values <= OIDC_PROMPTS or ("none" in values and len(values) > 1):
        raise ctx.fail("invalid_request", "Invalid prompt parameter")
    return values


def _check_pkce(ctx: _Context, challenge: Any, method: Any) -> str | None:
    if challenge is None:
        if ctx.client.pkce_enforced:
            raise ctx.fail("invalid_request", "Request is missing code_challenge parameter, but PKCE is enforced.")
        return None
    if not isinstance(challenge, str) or not challenge.strip():
        raise ctx.fail("invalid_request", "Invalid value for code_challenge parameter.")
    if not method:
        raise ctx.fail(
            "invalid_request",
            "Request is missing code_challenge_method parameter. "
            "code_challenge_method is required when code_challenge is present.",
        )
    if method != "S256":
        raise ctx.fail("invalid_request", "Invalid value for code_challenge_method parameter.")
    return challenge


def _check_max_age(ctx: _Context, raw: Any, source: str) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        max_age = int(str(raw))
    except ValueError as exc:
        raise ctx.fail("invalid_request", "Max age could not be parsed to an integer") from exc
    if max_age < 0:
        raise ctx.fail("invalid_request", f"Max age is negative in {source}")
    return max_age


def pkce_verifier_is_well_formed(verifier: str) -> bool:
    """RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"."""
    return bool(_PKCE_VERIFIER_CHARS.match(verifier))
