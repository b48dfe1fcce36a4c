"""The service's pages: sign in, the callback, the account page, sign out, and back-channel logout."""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from pathlib import Path
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from .core_identity import claims_request, return_codes
from .id_token import credential_level, validate_id_token
from .jwks import InvalidTokenError
from .logout_token import validate_logout_token
from .provider import ProviderError, Service

log = logging.getLogger(__name__)
bp = Blueprint("service", __name__)


def _service() -> Service:
    service: Service = current_app.extensions["sample_service"]
    return service


def _same(received: str | None, expected: str) -> bool:
    return received is not None and hmac.compare_digest(received.encode(), expected.encode())


def _problem(status: int, message: str, error: str | None = None, description: str | None = None) -> Response:
    page = render_template("error.html", message=message, error=error, error_description=description)
    return Response(page, status=status)


@bp.before_app_request
def end_session_if_signed_out_elsewhere() -> None:
    """Sessions are signed cookies, so a back-channel logout cannot delete them: it records when the citizen was
    signed out, and each request ends a session that began before that."""
    sub = session.get("sub")
    if sub is None:
        return
    signed_in_at = session.get("signed_in_at", 0.0)
    signed_out_at = _service().sign_outs.signed_out_at(sub)
    too_old = time.time() - signed_in_at > current_app.config["RP_SESSION_MAX_AGE"]
    # OIDC Back-Channel Logout §2.7: the RP clears the state of every session identified by the token's iss and sub.
    if too_old or (signed_out_at is not None and signed_in_at <= signed_out_at):
        session.clear()


@bp.after_app_request
def do_not_cache(response: Response) -> Response:
    # Pages show personal data; after signing out, Back must not show them again from the cache. (Static files
    # already say no-cache, so browsers revalidate them rather than download them again.)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.get("/")
def start() -> str:
    return render_template("start.html", signed_in="sub" in session)


@bp.get("/assets/<path:filename>")
def govuk_frontend_assets(filename: str) -> Response:
    # GOV.UK Frontend's stylesheet loads its fonts and images from /assets/; they are copied into static/.
    return send_from_directory(Path(current_app.root_path, "static"), filename)


@bp.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")


@bp.get("/sign-in")
def sign_in() -> BaseResponse:
    service = _service()
    extra: dict[str, Any] = {}
    if request.args.get("lang") in ("en", "cy"):  # the languages One Login supports (reference §2.1)
        extra["ui_locales"] = request.args["lang"]
    try:
        service.metadata()
        # Authlib adds state (RFC 6749 §10.12), nonce (OIDC Core §3.1.2.1) and the S256 code challenge (RFC 7636).
        if service.identity is not None:
            extra["claims"] = claims_request(service.identity.claims)
        authorization = service.client.create_authorization_url(
            f"{service.base_url}/callback", vtr=json.dumps(service.vtr), **extra
        )
    except ProviderError as error:
        log.warning("Cannot start sign-in: %s", error)
        return _problem(503, "Sign in is not available at the moment. Try again later.")
    session["sign_in"] = {name: authorization[name] for name in ("state", "nonce", "code_verifier")}
    return redirect(authorization["url"])


@bp.get("/callback")
def callback() -> BaseResponse:
    service = _service()
    pending = session.pop("sign_in", None)
    if "error" in request.args:
        error, description = request.args["error"], request.args.get("error_description")
        log.info("The provider refused the sign-in: %r", error)
        # Reference §5.3: after login_required the service "must end its own session".
        if error == "login_required":
            session.clear()
        return _problem(400, "You could not be signed in.", error, description)
    # RFC 6749 §10.12: state binds this response to the request this browser made, against cross-site forgery.
    if pending is None or not _same(request.args.get("state"), pending["state"]) or not request.args.get("code"):
        return _problem(400, "Your sign-in link is not valid or has expired. Sign in again.")

    try:
        token = service.client.fetch_access_token(
            redirect_uri=f"{service.base_url}/callback",
            code=request.args["code"],
            code_verifier=pending["code_verifier"],
        )
        claims = validate_id_token(
            token["id_token"],
            keys=service.jwks(),
            issuer=service.issuer,
            client_id=service.client_id,
            nonce=pending["nonce"],
            access_token=token["access_token"],
            expected_vot=credential_level(service.vtr),
        )
        userinfo = service.client.userinfo(token=token)
        identity = (
            service.identity.identity_from(userinfo, service.client_id, claims["sub"])
            if service.identity is not None and userinfo.get("sub") == claims["sub"]
            else None
        )
    except InvalidTokenError as error:
        log.warning("Rejected an ID token: %s", error)
        return _problem(400, "You could not be signed in.")
    except OAuthError as error:
        log.warning("The token or userinfo endpoint refused us: %r", error.error)
        return _problem(400, "You could not be signed in.")
    except (ProviderError, requests.RequestException, KeyError, ValueError) as error:
        log.warning("Sign-in failed talking to the provider: %s", type(error).__name__)
        return _problem(503, "Sign in is not available at the moment. Try again later.")
    # OIDC Core §5.3.2: the UserInfo sub "MUST be verified to exactly match the sub Claim in the ID Token".
    if userinfo.get("sub") != claims["sub"]:
        log.warning("Userinfo sub does not match the ID token's")
        return _problem(400, "You could not be signed in.")

    if service.identity is not None and identity is None:
        # Reference §4.1: "If coreIdentityJWT is absent, identity was not proven"; return codes say why.
        log.info("The provider did not prove the identity; return codes %s", return_codes(userinfo))
        return _problem(403, "We could not confirm your identity, so you cannot use this service online.")
    session.clear()
    session.update(
        sub=claims["sub"],
        email=userinfo.get("email"),
        vot=claims["vot"],
        id_token=token["id_token"],  # the id_token_hint for signing out
        signed_in_at=time.time(),
    )
    if identity is not None:
        # Reference §4.1: keep the name and date of birth, never the JWT itself.
        session.update(
            name=f"{identity.given_names} {identity.family_name}".strip(),
            birth_date=identity.birth_date,
            identity_vot=identity.vot,
        )
    return redirect(url_for(".account"))


@bp.get("/account")
def account() -> BaseResponse | str:
    if "sub" not in session:
        return redirect(url_for(".start"))
    return render_template(
        "account.html",
        sub=session["sub"],
        email=session.get("email"),
        vot=session["vot"],
        name=session.get("name"),
        birth_date=session.get("birth_date"),
        identity_vot=session.get("identity_vot"),
    )


@bp.route("/sign-out", methods=["GET", "POST"])
def sign_out() -> BaseResponse | str:
    service = _service()
    id_token = session.get("id_token")
    session.clear()
    if id_token is None:
        return render_template("signed_out.html")
    # OIDC RP-Initiated Logout §2: state comes back on the redirect to post_logout_redirect_uri.
    state = secrets.token_urlsafe(32)
    try:
        service.metadata()
        logout = service.client.create_logout_url(
            post_logout_redirect_uri=f"{service.base_url}/signed-out", id_token_hint=id_token, state=state
        )
    except ProviderError as error:
        log.warning("Cannot sign out at the provider: %s", error)
        return _problem(503, "You have signed out of this service, but not of GOV.UK One Login. Try again later.")
    session["sign_out_state"] = state
    return redirect(logout["url"])


@bp.get("/signed-out")
def signed_out() -> Response | str:
    expected = session.pop("sign_out_state", None)
    if expected is None or not _same(request.args.get("state"), expected):
        return _problem(400, "We could not confirm that you signed out. Sign out again.")
    return render_template("signed_out.html")


@bp.post("/backchannel-logout")
def backchannel_logout() -> Response:
    service = _service()
    try:
        claims = validate_logout_token(
            request.form.get("logout_token", ""),
            keys=service.jwks(),
            issuer=service.issuer,
            client_id=service.client_id,
            seen_jtis=service.replay_cache,
        )
    except (InvalidTokenError, ProviderError) as error:
        log.warning("Rejected a back-channel logout: %s", error)
        # OIDC Back-Channel Logout §2.8: "If the logout request was invalid or the logout failed, the RP MUST
        # respond with 400 Bad Request".
        body = json.dumps({"error": "invalid_request", "error_description": str(error)})
        return Response(body, status=400, mimetype="application/json")
    service.sign_outs.record(claims["sub"], time.time())
    log.info("Back-channel logout accepted")
    # §2.8: "If the logout succeeded, the RP MUST respond with HTTP 200 OK"; no-store is set for every response.
    return Response(status=200)
