"""/metrics: request counts by route rule and status, audited events, tokens issued, the outbox, its access rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from idp import audit
from idp.extensions import db
from idp.models import OutboxMessage
from idp.models._types import utcnow
from tests.helpers import Browser, RelyingPartyUnderTest, sign_in
from tests.integration._support import exchange, quick_citizen, recorded_sql


def scrape(client: FlaskClient, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by (name, sorted labels)."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def metrics_token(app: Flask) -> Iterator[str]:
    app.config["IDP_METRICS_TOKEN"] = "scrape-me-" + "x" * 20
    yield app.config["IDP_METRICS_TOKEN"]
    app.config["IDP_METRICS_TOKEN"] = ""


def test_requests_are_counted_by_route_rule_method_and_status(client: FlaskClient) -> None:
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/authorize?client_id=nobody&response_type=code")
    client.get("/no/such/page/12345")
    client.post("/token", data={"grant_type": "password"})
    client.open("/healthz", method="BREW")
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("idp_http_requests_total", route="/healthz", method="GET", status="200") == 2
    assert delta("idp_http_requests_total", route="/authorize", method="GET", status="400") == 1
    assert delta("idp_http_requests_total", route="<unmatched>", method="GET", status="404") == 1
    assert delta("idp_http_requests_total", route="/token", method="POST", status="400") == 1
    assert delta("idp_http_request_duration_seconds_count", route="/healthz", method="GET") == 2
    assert delta("idp_http_request_duration_seconds_bucket", route="/healthz", method="GET", le="+Inf") == 2
    # Never the raw path nor an invented method: anyone could make the series grow without end.
    assert delta("idp_http_requests_total", route="<unmatched>", method="other", status="405") == 1
    assert not [key for key in after if "/no/such/page/12345" in str(key) or "BREW" in str(key)]


def test_published_documents_are_counted_on_their_fast_path(client: FlaskClient) -> None:
    before = scrape(client)
    for _ in range(3):
        assert client.get("/.well-known/jwks.json").status_code == 200
    assert client.get("/.well-known/openid-configuration").status_code == 200
    after = scrape(client)
    labels = {"method": "GET", "status": "200"}
    jwks = value(after, "idp_http_requests_total", route="/.well-known/jwks.json", **labels)
    assert jwks - value(before, "idp_http_requests_total", route="/.well-known/jwks.json", **labels) == 3
    discovery = "/.well-known/openid-configuration"
    assert (
        value(after, "idp_http_requests_total", route=discovery, **labels)
        - value(before, "idp_http_requests_total", route=discovery, **labels)
        == 1
    )


def test_sign_ins_failures_lockouts_and_tokens_are_counted(
    app: Flask, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    client = app.test_client()
    before = scrape(client)
    citizen = quick_citizen(app)
    result = sign_in(browser, rp, citizen)
    assert exchange(browser.client, rp, result["code"]).status_code == 200
    assert exchange(browser.client, rp, result["code"]).status_code == 400  # a code is single-use: no token

    other = Browser(app.test_client())
    response = other.authorize(rp.authorize_params())
    assert other.follow(other.post_form("/sign-in", {"email": citizen.email})).request.path == "/sign-in/password"
    for _ in range(app.config["IDP_SIGN_IN_ATTEMPTS"]):
        other.follow(other.post_form("/sign-in/password", {"password": "not the password 1"}))
    after = scrape(client)
    assert response.status_code == 200

    def events(name: str) -> float:
        labels = {"event": name, "result": ""}
        return value(after, "idp_audit_events_total", **labels) - value(before, "idp_audit_events_total", **labels)

    assert events("sign_in") == 1
    assert events("password_failed") == app.config["IDP_SIGN_IN_ATTEMPTS"]
    assert events("lockout") == 1
    assert value(after, "idp_tokens_issued_total") - value(before, "idp_tokens_issued_total") == 1


def test_an_audited_event_counts_only_when_its_transaction_commits(app: Flask, client: FlaskClient) -> None:
    labels = {"event": "test_rolled_back", "result": ""}
    before = value(scrape(client), "idp_audit_events_total", **labels)
    with app.app_context():
        audit.record("test_rolled_back", actor="test")
        db.session.flush()
        db.session.rollback()
    assert value(scrape(client), "idp_audit_events_total", **labels) == before
    with app.app_context():
        audit.record("test_rolled_back", actor="test")
        db.session.commit()
    assert value(scrape(client), "idp_audit_events_total", **labels) == before + 1


def test_an_events_result_is_a_label_when_it_is_a_word(app: Flask, client: FlaskClient) -> None:
    before = scrape(client)
    with app.app_context():
        audit.record("test_identity_check", actor="test", check="passport", result="pass")
        audit.record("test_identity_check", actor="test", check="passport", result="fail")
        audit.record("test_identity_check", actor="test", check="passport", result="fail")
        audit.record("test_identity_check", actor="test", result="Someone's free text, not a label")
        db.session.commit()
    after = scrape(client)

    def delta(result: str) -> float:
        labels = {"event": "test_identity_check", "result": result}
        return value(after, "idp_audit_events_total", **labels) - value(before, "idp_audit_events_total", **labels)

    assert (delta("pass"), delta("fail"), delta("other")) == (1, 2, 1)


def test_outbox_depth_and_age_of_the_oldest_message(app: Flask, client: FlaskClient) -> None:
    empty = scrape(client)
    assert value(empty, "idp_outbox_messages", status="pending") == 0
    assert value(empty, "idp_outbox_oldest_pending_age_seconds") == 0
    with app.app_context():
        now = utcnow()
        db.session.add_all(
            [
                OutboxMessage(kind="backchannel_logout", payload={}, created_at=now - timedelta(seconds=120)),
                OutboxMessage(kind="backchannel_logout", payload={}, created_at=now - timedelta(seconds=5)),
                OutboxMessage(
                    kind="backchannel_logout", payload={}, created_at=now - timedelta(hours=2), status="failed"
                ),
                OutboxMessage(
                    kind="backchannel_logout", payload={}, created_at=now - timedelta(days=1), status="delivered"
                ),
            ]
        )
        db.session.commit()
    samples = scrape(client)
    assert value(samples, "idp_outbox_messages", status="pending") == 2
    assert value(samples, "idp_outbox_messages", status="failed") == 1
    # The oldest pending one, not the failed or delivered ones.
    assert 120 <= value(samples, "idp_outbox_oldest_pending_age_seconds") < 180


def test_a_scrape_makes_one_database_query(app: Flask, client: FlaskClient) -> None:
    client.get("/healthz")
    with recorded_sql(app) as statements:
        scrape(client)
    queries = [s for s in statements if s != "COMMIT" and not s.upper().startswith(("BEGIN", "ROLLBACK"))]
    assert len(queries) == 1, queries
    assert "outbox_messages" in queries[0]


def test_metrics_need_the_bearer_token_when_one_is_set(client: FlaskClient, metrics_token: str) -> None:
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"idp_" not in missing.data
    wrong = client.get("/metrics", headers={"Authorization": "Bearer " + metrics_token[:-1] + "y"})
    assert wrong.status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic " + metrics_token}).status_code == 401
    assert scrape(client, Authorization="Bearer " + metrics_token)


def test_metrics_are_absent_in_production_without_a_token(app: Flask, client: FlaskClient) -> None:
    app.config["IDP_ENV"] = "production"
    try:
        assert client.get("/metrics").status_code == 404
    finally:
        app.config["IDP_ENV"] = "test"
    assert client.get("/metrics").status_code == 200


def test_metrics_have_their_own_access_rule(app: Flask) -> None:
    assert app.extensions["access_rules"]["metrics"] == "metrics_token_required"
