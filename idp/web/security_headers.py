"""Strict security headers on every response."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, g, request


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def content_security_policy(nonce: str, form_targets: list[str]) -> str:
    # CSP3 form-action also governs the redirects that follow a form post, so the service the citizen is
    # signing in to must be allowed as well: its redirect URI is where the last form of a journey leads.
    form_action = " ".join(["'self'", *form_targets])
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    )


def init_app(app: Flask) -> None:
    @app.after_request
    def set_security_headers(response: Response) -> Response:
        headers = response.headers
        if response.mimetype == "text/html":
            targets = [origin for origin in g.get("form_action_origins", []) if origin]
            headers.setdefault("Content-Security-Policy", content_security_policy(g.get("csp_nonce", ""), targets))
            headers.setdefault("Cache-Control", "no-store")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
