"""Client registrations in One Login's onboarding format (reference §6.2), validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from idp.oidc.authorization_request import IDENTITY_CLAIMS, SUPPORTED_SCOPES


class RegistrationError(ValueError):
    pass


def check_redirect_uri(uri: str, what: str) -> str:
    """No fragments, no `javascript:`-like schemes, HTTPS except for localhost."""
    parts = urlsplit(uri)
    if parts.fragment:
        raise RegistrationError(f"{what} {uri!r} must not have a fragment")
    if parts.scheme == "https" and parts.hostname:
        return uri
    if parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "[::1]", "::1"):
        return uri
    raise RegistrationError(f"{what} {uri!r} must use https (http is allowed only for localhost)")


def client_fields_from_registration(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    try:
        client_id = str(data["ClientID"])
        name = str(data["ClientName"])
        redirect_uris = [check_redirect_uri(u, "redirect URI") for u in data["RedirectUrls"]]
    except KeyError as exc:
        raise RegistrationError(f"the registration has no {exc.args[0]}") from exc
    if not redirect_uris:
        raise RegistrationError("at least one redirect URI is needed")
    post_logout = [check_redirect_uri(u, "post-logout redirect URI") for u in data.get("PostLogoutRedirectUrls", [])]
    backchannel = data.get("BackChannelLogoutUri") or None
    if backchannel:
        check_redirect_uri(backchannel, "back-channel logout URI")
    scopes = list(data.get("Scopes", ["openid"]))
    if "openid" not in scopes or any(s not in SUPPORTED_SCOPES for s in scopes):
        raise RegistrationError(f"scopes must include openid and be among {', '.join(SUPPORTED_SCOPES)}")
    claims = list(data.get("Claims", []))
    if any(c not in IDENTITY_CLAIMS for c in claims):
        raise RegistrationError("unknown claim in Claims")
    locs = list(data.get("ClientLoCs", ["P0"]))
    if any(loc not in ("P0", "P1", "P2", "P3") for loc in locs):
        raise RegistrationError("ClientLoCs must be among P0, P1, P2, P3")
    auth_method = data.get("TokenAuthMethod", "private_key_jwt")
    if auth_method not in ("private_key_jwt", "client_secret_post"):
        raise RegistrationError("TokenAuthMethod must be private_key_jwt or client_secret_post")
    identity = bool(data.get("IdentityVerificationSupported", False))
    if identity and auth_method == "client_secret_post":
        raise RegistrationError("identity verification needs private_key_jwt")
    alg = data.get("IdTokenSigningAlgorithm", "ES256")
    if alg not in ("ES256", "RS256"):
        raise RegistrationError("IdTokenSigningAlgorithm must be ES256 or RS256")
    source = data.get("PublicKeySource", "STATIC")
    public_key = data.get("PublicKey")
    if data.get("PublicKeyFile"):
        public_key = (base_dir / data["PublicKeyFile"]).read_text()
    if auth_method == "private_key_jwt":
        if source == "STATIC" and not public_key:
            raise RegistrationError("a STATIC key source needs PublicKey")
        if source == "JWKS" and not data.get("JwksUrl"):
            raise RegistrationError("a JWKS key source needs JwksUrl")
    return {
        "client_id": client_id,
        "name": name,
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
        "jwks_uri": data.get("JwksUrl"),
        "client_secret_hash": data.get("ClientSecret"),
        "sector_identifier_uri": data.get("SectorIdentifierUri"),
        "pkce_enforced": bool(data.get("PKCEEnforced", False)),
        "jar_required": bool(data.get("JarValidationRequired", False)),
        "max_age_enabled": bool(data.get("MaxAgeEnabled", False)),
        "permit_missing_nonce": bool(data.get("PermitMissingNonce", False)),
        "landing_page_url": data.get("LandingPageUrl"),
        "return_codes_enabled": bool(data.get("ReturnCodesEnabled", False)),
        "is_active": bool(data.get("IsActive", True)),
    }
