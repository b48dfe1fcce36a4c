"""The provider's own pages outside the journeys: signed in, signed out, errors, health."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy import text

from idp.extensions import db
from idp.services import current_services

log = logging.getLogger(__name__)

pages_blueprint = Blueprint("pages", __name__)


@pages_blueprint.get("/signed-out")
def signed_out() -> str:
    return render_template(
        "pages/signed_out.html",
        error_code=request.args.get("error_code"),
        error_description=request.args.get("error_description"),
    )


@pages_blueprint.get("/signed-in")
def signed_in() -> str:
    return render_template("pages/signed_in.html")


@pages_blueprint.get("/session-expired")
def session_expired() -> tuple[str, int]:
    return render_template("pages/session_expired.html"), 400


@pages_blueprint.get("/accessibility-statement")
def accessibility() -> str:
    return render_template("pages/accessibility.html")


@pages_blueprint.get("/cookies")
def cookies() -> str:
    return render_template(
        "pages/cookies.html",
        session_minutes=current_app.config["IDP_SESSION_IDLE_TTL"] // 60,
    )


@pages_blueprint.get("/privacy-notice")
def privacy_notice() -> str:
    return render_template("pages/privacy_notice.html")


@pages_blueprint.get("/terms-and-conditions")
def terms() -> str:
    return render_template("pages/terms.html")


@pages_blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    return Response("ok", mimetype="text/plain")


@pages_blueprint.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready when both the database and the store answer; the reason for not being ready goes to the log only."""
    for part, check in (("database", _database_answers), ("store", _store_answers)):
        try:
            check()
        except Exception as error:  # noqa: BLE001 - any failure means not ready; the reason is not for the caller
            db.session.rollback()
            log.warning("not ready: the %s did not answer (%s)", part, type(error).__name__)
            return _probe_response("not ready", 503)
    return _probe_response("ok", 200)


def _database_answers() -> None:
    db.session.execute(text("SELECT 1"))


def _store_answers() -> None:
    current_services().store.get("readyz")


def _probe_response(body: str, status: int) -> Response:
    response = Response(body, status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(_error: Exception) -> tuple[str, int]:
        return render_template("pages/error.html", status=404), 404

    @app.errorhandler(405)
    def method_not_allowed(_error: Exception) -> tuple[str, int]:
        return render_template("pages/error.html", status=405), 405

    @app.errorhandler(400)
    def bad_request(_error: Exception) -> tuple[str, int]:
        return render_template("pages/error.html", status=400), 400

    @app.errorhandler(CSRFError)
    def csrf_failed(_error: Exception) -> tuple[str, int]:
        return render_template("pages/error.html", status=400, csrf_failed=True), 400

    @app.errorhandler(500)
    def server_error(_error: Exception) -> tuple[str, int]:
        return render_template("pages/error.html", status=500), 500
