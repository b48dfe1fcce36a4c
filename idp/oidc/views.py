"""The OpenID Connect endpoints. Views parse the request, call the domain, and answer in the protocol's terms."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Blueprint, Response, current_app, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from idp.extensions import csrf
from idp.identity.outcome import IdentityOutcome, wants_return_codes
from idp.lookups import ClientRecord, find_client, find_user_profile, prefetch, user_key
from idp.oidc import logout as logout_service
from idp.oidc.authorization_request import (
    AuthorizationRequest,
    AuthorizeError,
    ClientRegistration,
    RequestObjectKeyError,
    RequestObjectSignatureError,
    redirect_uri_is_safe,
    validate_authorization_request,
)
from idp.oidc.client_keys import ClientKeyNotFound, ClientKeySource, ClientKeyUnavailable
from idp.oidc.grants import Grant
from idp.oidc.journeys import end_journey, load_journey, save_journey
from idp.oidc.subject import pairwise_subject, sector_host
from idp.services import current_services
from idp.web.citizen_session import SignedIn, clear_sign_in, current_sign_in, signed_out_key

oidc_blueprint = Blueprint("oidc", __name__)

_RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")


def _last_wins(values: MultiDict[str, str]) -> dict[str, str]:
    """Reference §2: duplicate parameters are not rejected; the last value wins."""
    return {key: values.getlist(key)[-1] for key in values}


# -- /authorize -------------------------------------------------------------------------------------------------


def _verify_request_object(client: ClientRegistration, token: str) -> dict[str, Any]:
    assert isinstance(client, ClientRecord)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise RequestObjectSignatureError(str(exc)) from exc
    source = ClientKeySource(client.client_id, client.public_key_source, client.public_key, client.jwks_uri)
    try:
        key = current_services().client_keys.key_for(source, header.get("kid"))
    except (ClientKeyUnavailable, ClientKeyNotFound) as exc:
        raise RequestObjectKeyError(str(exc)) from exc
    try:
        return jwt.decode(
            token,
            key,
            # Only the algorithms of the registered key's type: a mismatched `alg` is a failed signature.
            algorithms=["ES256"] if isinstance(key, ec.EllipticCurvePublicKey) else list(_RSA_ALGORITHMS),
            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise RequestObjectSignatureError(str(exc)) from exc


def client_location(redirect_uri: str, response_mode: str, params: Mapping[str, str | None]) -> str:
    """The service's redirect URI with the response parameters in its query, or its fragment (`response_mode`)."""
    encoded = urlencode({k: v for k, v in params.items() if v is not None})
    if response_mode == "fragment":
        return f"{redirect_uri}#{encoded}"
    return f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{encoded}"


def redirect_to_client(redirect_uri: str, response_mode: str, params: dict[str, str | None]) -> ResponseReturnValue:
    return _back_to_client(client_location(redirect_uri, response_mode, params))


def _back_to_client(location: str) -> ResponseReturnValue:
    response = redirect(location, code=302)
    response.headers["Cache-Control"] = "no-store"
    return response


def authorize_error_response(error: AuthorizeError) -> ResponseReturnValue:
    if error.redirectable and error.redirect_uri:
        return redirect_to_client(
            error.redirect_uri,
            error.response_mode,
            {"error": error.error, "error_description": error.description, "state": error.state or None},
        )
    if error.status == 500:
        response = jsonify(error="server_error", error_description=error.description)
        response.status_code = 500
        return response
    return Response(error.description, status=error.status, mimetype="text/plain")


@oidc_blueprint.route("/authorize", methods=["GET", "POST"])
@csrf.exempt
def authorize() -> ResponseReturnValue:
    params = _last_wins(request.form if request.method == "POST" else request.args)
    user_id = session.get("user_id")
    if isinstance(user_id, str):  # usually read already, with the session; the client comes from find_client
        prefetch([signed_out_key(user_id), user_key(user_id)])
    try:
        auth_request = validated_authorization_request(params)
    except AuthorizeError as error:
        return authorize_error_response(error)

    if auth_request.ui_locales:
        session["locale"] = auth_request.ui_locales[0].split("-")[0].lower()
    sign_in = current_sign_in()
    if sign_in is not None and single_sign_on_applies(auth_request, sign_in):
        if auth_request.vtr.needs_identity:
            # Architecture, step 4: signed in at the level asked for; the identity blueprint takes over.
            session["journey_id"] = save_journey(auth_request, fresh_login_required=False)
            return redirect(url_for("identity.start"), code=302)
        return issue_code(auth_request, sign_in, journey_id=secrets.token_urlsafe(16))
    if "none" in auth_request.prompt:
        return redirect_to_client(
            auth_request.redirect_uri,
            auth_request.response_mode,
            {"error": "login_required", "error_description": "Login required", "state": auth_request.state},
        )
    journey_id = save_journey(auth_request, fresh_login_required=_fresh_login_required(auth_request, sign_in))
    session["journey_id"] = journey_id
    return redirect(url_for("auth.start"), code=302)


def validated_authorization_request(params: dict[str, str]) -> AuthorizationRequest:
    """The request, checked in the reference's order against the client's registration; AuthorizeError if not."""
    return validate_authorization_request(
        params,
        find_client,
        _verify_request_object,
        authorize_endpoint=current_app.config["IDP_ISSUER"] + "authorize",
        identity_available=current_app.config["IDP_IDENTITY_PROVING_AVAILABLE"],
    )


def single_sign_on_applies(auth_request: AuthorizationRequest, sign_in: SignedIn) -> bool:
    """The browser is signed in strongly and recently enough for this request: no sign-in is asked for."""
    return not _fresh_login_required(auth_request, sign_in) and _level_met(auth_request, sign_in)


def _fresh_login_required(auth_request: AuthorizationRequest, sign_in: SignedIn | None) -> bool:
    return "login" in auth_request.prompt or _max_age_passed(auth_request, sign_in)


def _max_age_passed(auth_request: AuthorizationRequest, sign_in: SignedIn | None) -> bool:
    return bool(sign_in and auth_request.max_age is not None and sign_in.auth_time + auth_request.max_age < time.time())


def _level_met(auth_request: AuthorizationRequest, sign_in: SignedIn) -> bool:
    return auth_request.vtr.credential_level == "Cl" or sign_in.credential_level == "Cl.Cm"


@oidc_blueprint.get("/authorize/continue")
def continue_journey() -> ResponseReturnValue:
    """Where the sign-in journey comes back to once the citizen has authenticated."""
    journey_id = session.get("journey_id")
    journey = load_journey(journey_id) if journey_id else None
    if journey is None or journey_id is None:
        return redirect(url_for("pages.session_expired"))
    sign_in = current_sign_in()
    if sign_in is None or not _level_met(journey.request, sign_in):
        return redirect(url_for("auth.start"))
    if journey.fresh_login_required and session.get("authenticated_for_journey") != journey_id:
        return redirect(url_for("auth.start"))
    if journey.request.vtr.needs_identity and journey.identity is None:
        return redirect(url_for("identity.start"))
    session.pop("journey_id", None)
    session.pop("authenticated_for_journey", None)
    end_journey(journey_id)
    identity = IdentityOutcome.from_dict(journey.identity) if journey.identity is not None else None
    return issue_code(journey.request, sign_in, journey_id, identity)


@dataclass(frozen=True)
class ServiceSignIn:
    """A service this browser session has signed the citizen in to (see logout.remember_service)."""

    user_id: str
    client_id: str
    subject: str
    session_ref: str


@dataclass(frozen=True)
class CodeAnswer:
    """Where the browser goes back to the service: with a code, or with access_denied."""

    location: str
    signed_in_to: ServiceSignIn | None


def issue_code(
    auth_request: AuthorizationRequest, sign_in: SignedIn, journey_id: str, identity: IdentityOutcome | None = None
) -> ResponseReturnValue:
    answer = answer_with_code(auth_request, sign_in, journey_id, identity)
    if answer.signed_in_to is not None:
        service = answer.signed_in_to
        logout_service.remember_service(service.user_id, service.client_id, service.subject, service.session_ref)
    return _back_to_client(answer.location)


def answer_with_code(
    auth_request: AuthorizationRequest, sign_in: SignedIn, journey_id: str, identity: IdentityOutcome | None = None
) -> CodeAnswer:
    """Issue a code for the validated request and the signed-in citizen, unless access is to be denied."""
    client = find_client(auth_request.client_id)
    user = find_user_profile(sign_in.user_id)
    denied = client is None or user is None or user.suspended
    if client is not None and identity is not None and not identity.proven:
        # Reference §4.2: a failed proving is `access_denied`, unless the client is registered for return codes
        # and asked for them, in which case it gets a normal code and /userinfo carries only the codes.
        denied = denied or not wants_return_codes(auth_request.claims, client.return_codes_enabled)
    if denied or client is None or user is None:
        denial = {"error": "access_denied", "error_description": "Access denied", "state": auth_request.state}
        return CodeAnswer(client_location(auth_request.redirect_uri, auth_request.response_mode, denial), None)
    subject = pairwise_subject(
        sector_host(client.sector_identifier_uri, client.redirect_uris), user.id, user.subject_salt
    )
    credential_level = "Cl.Cm" if auth_request.vtr.credential_level == "Cl.Cm" else "Cl"
    grant = Grant(
        client_id=client.client_id,
        redirect_uri=auth_request.redirect_uri,
        user_id=user.id,
        subject=subject,
        journey_id=journey_id,
        session_ref=sign_in.session_ref,
        scopes=list(auth_request.scopes),
        credential_level=credential_level,
        auth_time=sign_in.auth_time,
        nonce=auth_request.nonce,
        code_challenge=auth_request.code_challenge,
        vtr=auth_request.vtr.to_json(),
        claims=list(auth_request.claims),
        identity_level=identity.vot if identity is not None and identity.proven else None,
        identity=identity.to_dict() if identity is not None else None,
    )
    code = current_services().grants.issue_code(grant)
    location = client_location(
        auth_request.redirect_uri, auth_request.response_mode, {"code": code, "state": auth_request.state}
    )
    return CodeAnswer(location, ServiceSignIn(user.id, client.client_id, subject, sign_in.session_ref))


# -- /logout ----------------------------------------------------------------------------------------------------


@oidc_blueprint.get("/logout")
def logout() -> ResponseReturnValue:
    params = _last_wins(request.args)
    state = params.get("state")
    default_page = url_for("pages.signed_out")

    def to_default(**extra: str) -> ResponseReturnValue:
        query = {k: v for k, v in {**extra, "state": state}.items() if v}
        return redirect(default_page + ("?" + urlencode(query) if query else ""))

    sign_in = current_sign_in()
    if sign_in is not None:
        logout_service.sign_out_everywhere(sign_in.user_id, actor="citizen")
    clear_sign_in()

    hint = params.get("id_token_hint")
    redirect_uri = params.get("post_logout_redirect_uri")
    if not hint:
        return to_default()
    try:
        # Reference §5.1: the hint is checked for its signature only; an expired hint is accepted.
        claims = current_services().keyring.verify(hint, "oidc", verify_exp=False)
    except jwt.InvalidSignatureError:
        return to_default(error_code="invalid_request", error_description="unable to validate id_token_hint")
    except (jwt.DecodeError, ValueError):
        return to_default(error_code="invalid_request", error_description="invalid id_token_hint")
    except jwt.PyJWTError:
        return to_default(error_code="invalid_request", error_description="unable to validate id_token_hint")
    audience = claims.get("aud")
    client_id = audience[0] if isinstance(audience, list) and audience else audience
    if not client_id or not claims.get("sub"):
        return to_default()
    client = find_client(str(client_id))
    if client is None:
        return to_default(error_code="unauthorized_client", error_description="client not found")
    if not redirect_uri:
        return to_default()
    if redirect_uri not in client.post_logout_redirect_uris:
        return to_default(
            error_code="invalid_request", error_description="client registry does not contain post_logout_redirect_uri"
        )
    if not redirect_uri_is_safe(redirect_uri):
        return to_default(error_code="invalid_request", error_description="invalid post logout redirect URI")
    return redirect_to_client(redirect_uri, "query", {"state": state} if state else {})
