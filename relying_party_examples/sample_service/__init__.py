"""A department service that signs citizens in with GOV.UK One Login, or with this provider: the example to copy.

Settings, from environment variables (a test passes a dict to `create_app` instead):

- `RP_NAME`: the service name shown on pages, for example "Apply for a fishing licence".
- `RP_CLIENT_ID`: the client ID the provider registered for the service.
- `RP_BASE_URL`: where the service runs, for example `http://localhost:8081`. The provider must have registered
  `{RP_BASE_URL}/callback`, `{RP_BASE_URL}/signed-out` and `{RP_BASE_URL}/backchannel-logout`.
- `RP_ISSUER`: the provider's issuer (default `http://localhost:8080/`); discovery is at
  `{RP_ISSUER}.well-known/openid-configuration`. GOV.UK One Login's is `https://oidc.integration.account.gov.uk/`.
- `RP_PRIVATE_KEY`: the service's RSA private key (PEM) for `private_key_jwt`; create it with
  `python -m relying_party_examples.keys PATH`.
- `RP_SECRET_KEY`: signs the session cookie. Default: random per process (everyone is signed out on restart).
- `RP_VTR`: the vector of trust as a JSON array (default `["Cl.Cm"]`). `RP_SCOPE`: default `openid email`.
- For a service that needs a proven identity (a `vtr` such as `["Cl.Cm.P2"]`): `RP_IDENTITY_CLAIMS`, the identity
  claims to request, comma-separated short names (`coreIdentityJWT,address,returnCode`); `RP_DID_URL`, the ONLY
  place the identity issuer's DID document is fetched from (One Login's is
  `https://identity.integration.account.gov.uk/.well-known/did.json`); `RP_IDENTITY_ISSUER`, the `iss` of the core
  identity JWT (default: `RP_ISSUER`); `RP_IDENTITY_DID`, the DID its keys belong to (default: derived from
  `RP_DID_URL`'s host, `did:web:<host>` with a port's colon as `%3A`).

Run it with `flask --app relying_party_examples.sample_service run --port 8081`. The replay cache and the sign-out
register are in process memory (see `stores.py`), so run one process, or pass shared stores in `config`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from joserfc.jwk import RSAKey

from .core_identity import VOCAB, DidDocumentCache, IdentityRequest, did_for_url, fetch_did_document
from .jwks import USER_AGENT, fetch_jwks
from .provider import ClientAssertion, Service
from .stores import InMemoryReplayCache, InMemorySignOutRegister
from .views import bp

#: A sign-in here lasts at most this long; then the citizen signs in again (silently, if still signed in at the
#: provider: its session lasts 1 hour, reference §0).
SESSION_MAX_AGE_SECONDS = 3600


class RedactQueryStrings(logging.Filter):
    """The development server logs every request line, and /callback's carries the authorization code."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(re.sub(r"\?\S*", "?…", arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


_redact_query_strings = RedactQueryStrings()


def settings_from_environment() -> dict[str, Any]:
    env = os.environ
    return {
        "RP_NAME": env.get("RP_NAME", "Sample service"),
        "RP_CLIENT_ID": env.get("RP_CLIENT_ID", ""),
        "RP_BASE_URL": env.get("RP_BASE_URL", ""),
        "RP_ISSUER": env.get("RP_ISSUER", "http://localhost:8080/"),
        "RP_PRIVATE_KEY": env.get("RP_PRIVATE_KEY", ""),
        "RP_SECRET_KEY": env.get("RP_SECRET_KEY") or secrets.token_hex(32),
        "RP_VTR": env.get("RP_VTR", '["Cl.Cm"]'),
        "RP_SCOPE": env.get("RP_SCOPE", "openid email"),
        "RP_SESSION_MAX_AGE": SESSION_MAX_AGE_SECONDS,
        "RP_IDENTITY_CLAIMS": env.get("RP_IDENTITY_CLAIMS", ""),
        "RP_DID_URL": env.get("RP_DID_URL", ""),
        "RP_IDENTITY_ISSUER": env.get("RP_IDENTITY_ISSUER", ""),
        "RP_IDENTITY_DID": env.get("RP_IDENTITY_DID", ""),
    }


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Besides the settings, `config` may hold `PROVIDER_METADATA` (a discovery document, to skip fetching it),
    `JWKS_FETCHER`, `DID_FETCHER`, `REPLAY_CACHE` and `SIGN_OUT_REGISTER` (for example Redis-backed stores)."""
    settings = settings_from_environment()
    settings.update(config or {})
    for name in ("RP_CLIENT_ID", "RP_BASE_URL", "RP_PRIVATE_KEY"):
        if not settings[name]:
            raise RuntimeError(f"{name} is not set")
    vtr = json.loads(settings["RP_VTR"]) if isinstance(settings["RP_VTR"], str) else settings["RP_VTR"]
    if not isinstance(vtr, list) or not all(isinstance(vector, str) for vector in vtr):
        raise RuntimeError('RP_VTR must be a JSON array of strings, for example ["Cl.Cm"]')
    issuer = settings["RP_ISSUER"] if settings["RP_ISSUER"].endswith("/") else settings["RP_ISSUER"] + "/"
    base_url = settings["RP_BASE_URL"].rstrip("/")
    private_key_path = Path(settings["RP_PRIVATE_KEY"])
    if not private_key_path.exists():
        raise RuntimeError(f"no key at {private_key_path}: create it with python -m relying_party_examples.keys PATH")

    app = Flask(__name__)
    logging.getLogger("werkzeug").addFilter(_redact_query_strings)
    app.config.update(settings)
    app.config.update(
        SECRET_KEY=settings["RP_SECRET_KEY"],
        # Browsers share cookies between ports of one host: two services on localhost:8081 and :8082 (and the
        # provider on :8080) would overwrite each other's "session" cookie. One name per service keeps them apart.
        SESSION_COOKIE_NAME="session_" + re.sub(r"[^A-Za-z0-9_-]", "_", settings["RP_CLIENT_ID"]),
        SESSION_COOKIE_SECURE=base_url.startswith("https://"),
        # Lax: the cookie comes back on the provider's top-level redirect to /callback, not on cross-site POSTs.
        SESSION_COOKIE_SAMESITE="Lax",
        GOVUK_STYLESHEET=(Path(app.root_path) / "static" / "govuk-frontend.min.css").exists(),
    )
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(Path(app.root_path) / "templates"),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )

    metadata = settings.get("PROVIDER_METADATA")
    oauth = OAuth(app)
    client = oauth.register(
        "provider",
        client_id=settings["RP_CLIENT_ID"],
        client_secret=RSAKey.import_key(private_key_path.read_bytes()),
        server_metadata_url=None if metadata else f"{issuer}.well-known/openid-configuration",
        client_kwargs={
            "scope": settings["RP_SCOPE"],
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "private_key_jwt",
            "default_timeout": 10,
        },
        client_auth_methods=[ClientAssertion()],
        user_agent=USER_AGENT,  # One Login refuses back-channel calls without one (reference §0)
        **(metadata or {}),
    )
    app.extensions["sample_service"] = Service(
        client=client,
        issuer=issuer,
        client_id=settings["RP_CLIENT_ID"],
        base_url=base_url,
        vtr=vtr,
        replay_cache=settings.get("REPLAY_CACHE") or InMemoryReplayCache(),
        sign_outs=settings.get("SIGN_OUT_REGISTER") or InMemorySignOutRegister(settings["RP_SESSION_MAX_AGE"]),
        jwks_fetcher=settings.get("JWKS_FETCHER") or fetch_jwks,
        identity=_identity_settings(settings, vtr, issuer),
    )
    app.register_blueprint(bp)
    return app


def _identity_settings(settings: dict[str, Any], vtr: list[str], issuer: str) -> IdentityRequest | None:
    names = [name.strip() for name in str(settings.get("RP_IDENTITY_CLAIMS") or "").split(",") if name.strip()]
    if not names:
        return None
    did_url = settings.get("RP_DID_URL") or ""
    if not did_url:
        raise RuntimeError("RP_DID_URL is not set: a service that asks for identity needs the DID document's URL")
    return IdentityRequest(
        claims=[VOCAB + name for name in names],
        vtr=vtr,
        identity_issuer=settings.get("RP_IDENTITY_ISSUER") or issuer,
        expected_did=settings.get("RP_IDENTITY_DID") or did_for_url(did_url),
        did_documents=DidDocumentCache(did_url, fetch=settings.get("DID_FETCHER") or fetch_did_document),
    )
