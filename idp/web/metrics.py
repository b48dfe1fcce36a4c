"""/metrics for Prometheus, and the count of the published documents served before Flask sees the request.

Access: with `IDP_METRICS_TOKEN` set, a scrape must send `Authorization: Bearer <token>`. Without it, the
endpoint is open in development and test, and absent (404) in production, so that a forgotten setting never
publishes the provider's figures.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, request

from idp import metrics
from idp.extensions import db

metrics_blueprint = Blueprint("metrics", __name__)


def metrics_token_required() -> Response | None:
    """The access rule of /metrics: the bearer token of `IDP_METRICS_TOKEN`; open only outside production."""
    expected = current_app.config.get("IDP_METRICS_TOKEN", "")
    if not expected:
        if current_app.config["IDP_ENV"] == "production":
            abort(404)
        return None
    supplied = request.headers.get("Authorization", "")
    if not hmac.compare_digest(supplied.encode(), f"Bearer {expected}".encode()):
        response = Response("A bearer token is required\n", status=401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return None


@metrics_blueprint.get("/metrics")
def scrape() -> Response:
    response = Response(metrics.exposition(db.session), mimetype=None)
    response.headers["Content-Type"] = metrics.CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


def published_document_counter() -> Callable[[str, str], None]:
    """Counts a discovery, JWKS or trustmark response (always 200) without timing it: one increment each."""
    children: dict[tuple[str, str], Callable[[], None]] = {}

    def count(path: str, method: str) -> None:
        increment = children.get((path, method))
        if increment is None:
            increment = children[(path, method)] = metrics.HTTP_REQUESTS.labels(path, method, "200").inc
        increment()

    return count
