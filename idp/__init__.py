"""The identity provider: one Flask app, built by `create_app`."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, request
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from idp.config import settings_from_environment
from idp.extensions import babel, csrf, db
from idp.logs import configure_logging

SUPPORTED_LOCALES = ("en", "cy")


class IdentityProviderApp(Flask):
    """Flask, asking once per view or hook whether it is `async def`, not on every call (ten times a request)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_functions: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        sync = self._sync_functions.get(func)
        if sync is None:
            sync = super().ensure_sync(func)
            if len(self._sync_functions) < 1024:
                self._sync_functions[func] = sync
        return sync


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = IdentityProviderApp(__name__, static_folder="static/govuk", static_url_path="/assets")
    app.config.update(settings_from_environment())
    if config:
        app.config.update(config)
    _finish_config(app)

    configure_logging(app.config["IDP_LOG_LEVEL"])

    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("idp"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    db.init_app(app)
    if app.testing or (
        click.get_current_context(silent=True) is not None and app.config.get("IDP_CLI_MIGRATIONS", True)
    ):
        init_migrations(app)
    csrf.init_app(app)

    @app.before_request
    def protect_forms_from_forgery() -> None:
        # Flask-WTF's own hook (off in _finish_config) works out the view's exemption before looking at the method;
        # a GET needs neither, and most requests are GETs.
        if request.method in app.config["WTF_CSRF_METHODS"] and app.config["WTF_CSRF_ENABLED"]:
            csrf.protect(apply_exemptions=True)

    babel.init_app(app, locale_selector=_select_locale)

    from idp import services
    from idp.web import language, request_log, security_headers
    from idp.web.security_headers import csp_nonce

    services.init_app(app)
    request_log.init_app(app)
    security_headers.init_app(app)
    language.init_app(app)

    if app.config.get("IDP_WEB", True):
        _register_web(app)
    if app.config["IDP_OUTBOX_IN_PROCESS"]:
        services.start_in_process_outbox(app)
    if app.config["IDP_TRUST_PROXY"]:
        # Outermost, so that the endpoints served ahead of Flask (idp.web.api) see the client's scheme and address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    from idp.admin.commands import register_commands

    register_commands(app)

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        return {"csp_nonce": csp_nonce(), "current_locale": _select_locale()}

    return app


def _register_web(app: Flask) -> None:
    """The pages, endpoints and published documents; an operator's command (`idp keys …`) starts without them."""
    from govuk_frontend_wtf.main import WTFormsHelpers

    from idp.account.passkeys import passkey_account_blueprint
    from idp.account.views import account_blueprint
    from idp.auth.passkey_views import passkey_sign_in_blueprint
    from idp.auth.recovery import recovery_blueprint
    from idp.auth.views import auth_blueprint
    from idp.oidc.single_sign_on import serve_single_sign_on
    from idp.oidc.views import oidc_blueprint
    from idp.proving.views import identity_blueprint, identity_journey_in_this_browser
    from idp.web.access import public, register_blueprint, signed_in
    from idp.web.metrics import metrics_blueprint, metrics_token_required
    from idp.web.pages import pages_blueprint, register_error_pages

    WTFormsHelpers(app)
    register_blueprint(app, oidc_blueprint, public)
    register_blueprint(app, auth_blueprint, public)
    register_blueprint(app, identity_blueprint, identity_journey_in_this_browser)
    register_blueprint(app, pages_blueprint, public)
    register_blueprint(app, account_blueprint, signed_in)
    register_blueprint(app, recovery_blueprint, public)
    register_blueprint(app, metrics_blueprint, metrics_token_required)
    if app.config["IDP_ENV"] in ("development", "test"):
        from idp.notify.development_inbox import development_inbox_blueprint, development_only

        register_blueprint(app, development_inbox_blueprint, development_only)
    register_blueprint(app, passkey_sign_in_blueprint, public)
    register_blueprint(app, passkey_account_blueprint, signed_in)
    register_error_pages(app)
    _serve_api(app)
    serve_single_sign_on(app)
    _serve_published_documents(app)


def init_migrations(app: Flask) -> None:
    """Alembic, for `flask db …`, `flask setup` and the tests; a web worker never migrates."""
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))


def _serve_api(app: Flask) -> None:
    from idp.oidc.token_endpoint import token
    from idp.oidc.userinfo import bearer_token_required, userinfo
    from idp.web.api import ApiRoute, public, serve_api

    serve_api(
        app,
        {
            "/token": ApiRoute(token, frozenset({"POST"}), public),
            "/userinfo": ApiRoute(userinfo, frozenset({"GET", "POST"}), bearer_token_required),
        },
    )


def _serve_published_documents(app: Flask) -> None:
    from idp.identity.core_identity import did_document
    from idp.oidc.discovery import discovery_document, trustmark
    from idp.services import current_services
    from idp.web.documents import PublishedDocument, PublishedDocuments, within
    from idp.web.metrics import published_document_counter

    issuer = app.config["IDP_ISSUER"]
    identity_issuer = app.config["IDP_IDENTITY_ISSUER"]
    documents = {
        "/.well-known/openid-configuration": PublishedDocument(lambda: discovery_document(issuer), "max-age=86400"),
        "/.well-known/jwks.json": PublishedDocument(
            within(app, lambda: current_services().keyring.jwks("oidc")), f"max-age={app.config['IDP_JWKS_MAX_AGE']}"
        ),
        "/trustmark": PublishedDocument(lambda: trustmark(issuer), "max-age=86400"),
        # Reference §1.4: the DID document of the identity issuer, `max-age=3600, private`.
        "/.well-known/did.json": PublishedDocument(
            within(app, lambda: did_document(identity_issuer, current_services().keyring.published("identity"))),
            f"max-age={app.config['IDP_DID_MAX_AGE']}, private",
        ),
    }
    current_keyring = app.extensions["idp"].keyring
    current_keyring.on_change(documents["/.well-known/jwks.json"].invalidate)
    current_keyring.on_change(documents["/.well-known/did.json"].invalidate)
    app.extensions["published_documents"] = documents
    app.wsgi_app = PublishedDocuments(  # type: ignore[method-assign]
        app.wsgi_app, documents, published_document_counter()
    )


def _finish_config(app: Flask) -> None:
    config = app.config
    if not config.get("SECRET_KEY"):
        if config["IDP_ENV"] == "production":
            raise RuntimeError("SECRET_KEY must be set in production")
        config["SECRET_KEY"] = secrets.token_hex(32)
    issuer: str = config["IDP_ISSUER"]
    config["SESSION_COOKIE_SECURE"] = issuer.startswith("https://")
    config["PREFERRED_URL_SCHEME"] = "https" if issuer.startswith("https://") else "http"
    config["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the session, which expires when idle
    config["WTF_CSRF_SSL_STRICT"] = issuer.startswith("https://")
    config["WTF_CSRF_CHECK_DEFAULT"] = False  # protect_forms_from_forgery checks instead
    config["BABEL_DEFAULT_LOCALE"] = "en"
    config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).resolve().parent / "translations")
    config.setdefault("SQLALCHEMY_TRACK_MODIFICATIONS", False)


def _select_locale() -> str:
    from flask import session

    chosen = request.args.get("lang") if request else None
    if chosen in SUPPORTED_LOCALES:
        return chosen
    stored = session.get("locale") if request else None
    if stored in SUPPORTED_LOCALES:
        return str(stored)
    cookie = request.cookies.get("lang") if request else None
    return cookie if cookie in SUPPORTED_LOCALES else "en"
