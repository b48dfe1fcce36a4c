"""Who an operator command is run by, and how it answers (idp/admin/output.py)."""

from __future__ import annotations

import getpass

import click
import pytest
from flask import Flask

from idp.admin.output import fields_table, operator_actor, table
from tests.admin.conftest import audit_events


def test_the_operator_is_idp_operator_else_the_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDP_OPERATOR", "alice@ops")
    assert operator_actor() == "operator:alice@ops"
    monkeypatch.delenv("IDP_OPERATOR")
    assert operator_actor() == f"operator:{getpass.getuser()}"


@pytest.mark.parametrize("name", ["two words", "x" * 101, "semi;colon", "new\nline"])
def test_an_unreadable_operator_name_is_refused(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("IDP_OPERATOR", name)
    with pytest.raises(click.ClickException, match="IDP_OPERATOR must be"):
        operator_actor()


def test_a_refused_operator_name_changes_nothing(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["keys", "generate", "--purpose", "oidc"], env={"IDP_OPERATOR": "bad name"}
    )
    assert result.exit_code == 1 and "IDP_OPERATOR must be" in result.output
    assert audit_events(app, "key_generated") == []


def test_tables() -> None:
    rows: list[dict[str, object]] = [
        {"kid": "abc", "state": "active", "dates": None},
        {"kid": "d", "state": "retired", "dates": ["x", "y"]},
    ]
    assert table(rows, ("kid", "state", "dates")).splitlines() == [
        "KID  STATE    DATES",
        "abc  active   -",
        "d    retired  x, y",
    ]
    assert fields_table({"name": "Tax", "active": True, "levels": []}) == "name    Tax\nactive  yes\nlevels  -"
