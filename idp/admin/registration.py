"""Client registrations in One Login's onboarding format (reference §6.2), validated.

The same checks apply whether the registration comes from a file (`idp clients add --registration`,
`flask setup --registrations`) or from command options, which are turned into these fields first.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from idp.oidc.authorization_request import IDENTITY_CLAIMS, SUPPORTED_SCOPES

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
LEVELS = ("P0", "P1", "P2", "P3")
TOKEN_AUTH_METHODS = ("private_key_jwt", "client_secret_post")
ID_TOKEN_ALGS = ("ES256", "RS256")
KEY_SOURCES = ("STATIC", "JWKS")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")

#: Every field of One Login's production registration JSON, and our `PublicKeyFile` (a path beside the file).
KNOWN_FIELDS = frozenset(
    {
        "ClientID",
        "ClientName",
        "RedirectUrls",
        "PostLogoutRedirectUrls",
        "BackChannelLogoutUri",
        "Scopes",
        "Claims",
        "ClientLoCs",
        "IdentityVerificationSupported",
        "IdTokenSigningAlgorithm",
        "TokenAuthMethod",
        "PublicKeySource",
        "PublicKey",
        "PublicKeyFile",
        "JwksUrl",
        "ClientSecret",
        "SectorIdentifierUri",
        "SubjectType",
        "JarValidationRequired",
        "PKCEEnforced",
        "MaxAgeEnabled",
        "PermitMissingNonce",
        "ReturnCodesEnabled",
        "LandingPageUrl",
        "ClientType",
        "Channel",
        "ServiceType",
        "IsActive",
        "CookieConsentShared",
        "OneLoginService",
        "SmokeTest",
        "TestClient",
        "TestClientEmailAllowlist",
    }
)


class RegistrationError(ValueError):
    pass


def check_redirect_uri(uri: object, what: str) -> str:
    """No fragments, no `javascript:`-like schemes, HTTPS except for localhost."""
    if not isinstance(uri, str) or not uri:
        raise RegistrationError(f"{what} must be a URL")
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise RegistrationError(f"{what} {uri!r} must not have a fragment")
    if any(ch.isspace() for ch in uri):
        raise RegistrationError(f"{what} {uri!r} must not contain spaces")
    if parts.scheme == "https" and parts.hostname:
        return uri
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return uri
    raise RegistrationError(f"{what} {uri!r} must use https (http is allowed only for localhost)")


def check_https_url(uri: object, what: str) -> str:
    """For URLs the provider itself fetches or shows: HTTPS, or http on localhost for development."""
    return check_redirect_uri(uri, what)


def _list(data: dict[str, Any], name: str, default: list[str]) -> list[str]:
    value = data.get(name, default)
    if value is None:
        return list(default)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RegistrationError(f"{name} must be a list of strings")
    return list(value)


def _flag(data: dict[str, Any], name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise RegistrationError(f"{name} must be true or false")
    return value


def _check_public_key(pem: str) -> str:
    text = pem.strip()
    if "BEGIN" not in text:
        # One Login accepts the key without its PEM header and footer (reference §6.2).
        text = "-----BEGIN PUBLIC KEY-----\n" + text + "\n-----END PUBLIC KEY-----"
    try:
        load_pem_public_key(text.encode())
    except ValueError as exc:
        raise RegistrationError("PublicKey is not a PEM public key") from exc
    return text + "\n"


def _client_keys(data: dict[str, Any], auth_method: str, base_dir: Path) -> tuple[str, str | None, str | None]:
    """How the service's keys are found: a STATIC PEM public key, or a JWKS at a URL."""
    source = data.get("PublicKeySource", "STATIC")
    if source not in KEY_SOURCES:
        raise RegistrationError(f"PublicKeySource must be {' or '.join(KEY_SOURCES)}")
    public_key = data.get("PublicKey") or None
    if data.get("PublicKeyFile"):
        try:
            public_key = (base_dir / str(data["PublicKeyFile"])).read_text()
        except OSError as exc:
            raise RegistrationError(f"PublicKeyFile cannot be read: {exc.strerror}") from exc
    if public_key is not None:
        if not isinstance(public_key, str):
            raise RegistrationError("PublicKey must be a PEM string")
        public_key = _check_public_key(public_key)
    jwks_uri = data.get("JwksUrl") or None
    if jwks_uri is not None:
        check_https_url(jwks_uri, "JwksUrl")
    if auth_method == "private_key_jwt":
        if source == "STATIC" and not public_key:
            raise RegistrationError("a STATIC key source needs PublicKey")
        if source == "JWKS" and not jwks_uri:
            raise RegistrationError("a JWKS key source needs JwksUrl")
    return source, public_key, jwks_uri


def client_fields_from_registration(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """The `Client` columns for a registration, or a `RegistrationError` saying what is wrong."""
    if not isinstance(data, dict):
        raise RegistrationError("a registration is a JSON object")
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise RegistrationError(f"unknown field(s) {', '.join(unknown)}")
    for required in ("ClientID", "ClientName", "RedirectUrls"):
        if required not in data:
            raise RegistrationError(f"the registration has no {required}")
    client_id = data["ClientID"]
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise RegistrationError("ClientID must be 1 to 128 letters, digits or . _ ~ -")
    name = data["ClientName"]
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise RegistrationError("ClientName must be a name of 1 to 255 characters")
    redirect_uris = [check_redirect_uri(u, "redirect URI") for u in _list(data, "RedirectUrls", [])]
    if not redirect_uris:
        raise RegistrationError("at least one redirect URI is needed")
    post_logout = [check_redirect_uri(u, "post-logout redirect URI") for u in _list(data, "PostLogoutRedirectUrls", [])]
    backchannel = data.get("BackChannelLogoutUri") or None
    if backchannel is not None:
        check_redirect_uri(backchannel, "back-channel logout URI")
    scopes = _list(data, "Scopes", ["openid"])
    if "openid" not in scopes or any(s not in SUPPORTED_SCOPES for s in scopes):
        raise RegistrationError(f"Scopes must include openid and be among {', '.join(SUPPORTED_SCOPES)}")
    claims = _list(data, "Claims", [])
    unknown_claims = [c for c in claims if c not in IDENTITY_CLAIMS]
    if unknown_claims:
        raise RegistrationError(f"unknown claim(s) in Claims: {', '.join(unknown_claims)}")
    locs = _list(data, "ClientLoCs", ["P0"])
    if not locs or any(loc not in LEVELS for loc in locs):
        raise RegistrationError(f"ClientLoCs must be among {', '.join(LEVELS)}")
    auth_method = data.get("TokenAuthMethod", "private_key_jwt")
    if auth_method not in TOKEN_AUTH_METHODS:
        raise RegistrationError(f"TokenAuthMethod must be {' or '.join(TOKEN_AUTH_METHODS)}")
    identity = _flag(data, "IdentityVerificationSupported", False)
    if identity and auth_method == "client_secret_post":
        raise RegistrationError("identity verification needs private_key_jwt")
    alg = data.get("IdTokenSigningAlgorithm", "ES256")
    if alg not in ID_TOKEN_ALGS:
        raise RegistrationError(f"IdTokenSigningAlgorithm must be {' or '.join(ID_TOKEN_ALGS)}")
    source, public_key, jwks_uri = _client_keys(data, auth_method, base_dir)
    secret_hash = data.get("ClientSecret") or None
    if secret_hash is not None and (not isinstance(secret_hash, str) or not secret_hash.startswith("$argon2id$")):
        # One Login (reference §6.2): the service sends only the Argon2id hash of its secret, never the secret.
        raise RegistrationError("ClientSecret must be the Argon2id hash of the secret ($argon2id$...)")
    sector = data.get("SectorIdentifierUri") or None
    if sector is not None:
        check_https_url(sector, "SectorIdentifierUri")
    landing = data.get("LandingPageUrl") or None
    if landing is not None:
        check_https_url(landing, "LandingPageUrl")
    if data.get("SubjectType", "pairwise") != "pairwise":
        raise RegistrationError("SubjectType must be pairwise")
    return {
        "client_id": client_id,
        "name": name.strip(),
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": post_logout,
        "backchannel_logout_uri": backchannel,
        "scopes": scopes,
        "claims": claims,
        "client_locs": locs,
        "identity_verification_supported": identity,
        "id_token_signing_alg": alg,
        "token_auth_method": auth_method,
        "public_key_source": source,
        "public_key": public_key,
        "jwks_uri": jwks_uri,
        "client_secret_hash": secret_hash,
        "sector_identifier_uri": sector,
        "pkce_enforced": _flag(data, "PKCEEnforced", False),
        "jar_required": _flag(data, "JarValidationRequired", False),
        "max_age_enabled": _flag(data, "MaxAgeEnabled", False),
        "permit_missing_nonce": _flag(data, "PermitMissingNonce", False),
        "landing_page_url": landing,
        "return_codes_enabled": _flag(data, "ReturnCodesEnabled", False),
        "is_active": _flag(data, "IsActive", True),
    }
