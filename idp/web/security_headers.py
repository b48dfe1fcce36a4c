"""Strict security headers on every response."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, g, request


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def content_security_policy(nonce: str | None, form_targets: list[str]) -> str:
    # CSP3 form-action also governs the redirects that follow a form post, so the service the citizen is
    # signing in to must be allowed as well: its redirect URI is where the last form of a journey leads.
    form_action = " ".join(["'self'", *form_targets])
    script_src = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return (
        f"default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    )


EVERY_RESPONSE = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def csp_nonce() -> str:
    """The nonce of this response's inline scripts, made when a page first needs one."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def init_app(app: Flask) -> None:
    @app.after_request
    def set_security_headers(response: Response) -> Response:
        headers = response.headers
        # One pass over the headers already set: werkzeug's setdefault looks each name up by raising KeyError.
        present = {name.lower() for name in headers.keys()}
        additions = [header for header in EVERY_RESPONSE if header[0].lower() not in present]
        if response.mimetype == "text/html":
            targets = [origin for origin in g.get("form_action_origins", []) if origin]
            if "content-security-policy" not in present:
                # A response that rendered no page (a redirect) has no inline script to allow, hence no nonce.
                nonce = g.get("csp_nonce")
                additions.append(("Content-Security-Policy", content_security_policy(nonce, targets)))
            if "cache-control" not in present:
                additions.append(("Cache-Control", "no-store"))
        if request.is_secure and "strict-transport-security" not in present:
            additions.append(HSTS)
        headers.extend(additions)
        return response
