"""Running the operators' `idp` commands in-process, as the console script would, and reading what they did."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent

OPERATOR = "ops.tester"
ACTOR = f"operator:{OPERATOR}"

RunCommand = Callable[..., Result]


@pytest.fixture
def idp(app: Flask) -> RunCommand:
    """`idp(*args)` runs a command and checks its exit code (0 unless `code=` says otherwise)."""
    runner = app.test_cli_runner()

    def run(*args: str, code: int = 0, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        result = runner.invoke(args=list(args), env={"IDP_OPERATOR": OPERATOR, **(env or {})}, input=input)
        if result.exit_code != code:
            raise AssertionError(
                f"idp {' '.join(args)} exited {result.exit_code}, expected {code}:\n{result.output}"
            ) from result.exception
        return result

    return run


def json_of(result: Result) -> Any:
    return json.loads(result.stdout)


def audit_events(app: Flask, event: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == event).order_by(AuditEvent.id)))
        db.session.expunge_all()
        return rows
