"""The discovery document and trustmark (reference §1.1, §1.3), with our values."""

from __future__ import annotations

from typing import Any

from idp.oidc.authorization_request import IDENTITY_CLAIMS
from idp.oidc.client_authentication import ASSERTION_ALGORITHMS


def discovery_document(issuer: str) -> dict[str, Any]:
    return {
        "authorization_endpoint": issuer + "authorize",
        "token_endpoint": issuer + "token",
        "issuer": issuer,
        "jwks_uri": issuer + ".well-known/jwks.json",
        "scopes_supported": ["openid", "email", "phone"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_post"],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "ui_locales_supported": ["en", "cy"],
        "service_documentation": "https://docs.sign-in.service.gov.uk/",
        "op_policy_uri": issuer + "privacy-notice",
        "op_tos_uri": issuer + "terms-and-conditions",
        "request_parameter_supported": True,
        "request_uri_parameter_supported": False,
        "request_object_signing_alg_values_supported": ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256"],
        "trustmarks": issuer + "trustmark",
        "subject_types_supported": ["public", "pairwise"],
        "userinfo_endpoint": issuer + "userinfo",
        "end_session_endpoint": issuer + "logout",
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "claim_types_supported": ["normal"],
        "claims_supported": [
            "sub",
            "email",
            "email_verified",
            "phone_number",
            "phone_number_verified",
            *IDENTITY_CLAIMS,
        ],
        "claims_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": False,
    }


def trustmark(issuer: str) -> dict[str, Any]:
    return {
        "idp": issuer,
        "trustmark_provider": issuer,
        "C": ["Cl", "Cl.Cm"],
        "P": ["P0", "P1", "P2", "P3"],
    }
