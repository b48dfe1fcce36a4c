"""The `idp` console script itself, in a process of its own: the operator commands start without the web pages."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from idp import create_app
from idp.extensions import db
from idp.notify import send
from idp.notify.messages import EMAIL_CODE

IDP = Path(sys.executable).with_name("idp")


def run_idp(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(IDP), *args], env=environment, capture_output=True, text=True, timeout=120, check=False)


def test_operator_commands_run_from_the_console_script(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'idp.sqlite3'}",
        "REDIS_URL": "",
        "IDP_ENV": "test",
        "IDP_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        "IDP_OPERATOR": "console.tester",
    }
    setup = run_idp("setup", environment=environment)
    assert setup.returncode == 0, setup.stderr

    keys = run_idp("keys", "list", "--json", environment=environment)
    assert keys.returncode == 0, keys.stderr
    listed = json.loads(keys.stdout)
    assert {(key["purpose"], key["alg"], key["state"]) for key in listed} >= {
        ("oidc", "ES256", "active"),
        ("oidc", "RS256", "active"),
        ("identity", "ES256", "active"),
    }

    clients = run_idp("clients", "list", "--json", environment=environment)
    assert clients.returncode == 0, clients.stderr
    assert json.loads(clients.stdout) == []

    unknown = run_idp("users", "show", "nobody@example.com", environment=environment)
    assert unknown.returncode != 0
    assert "Traceback" not in unknown.stderr

    queue_a_welsh_email_code(environment)
    worker = run_idp("worker", "--once", environment=environment)
    assert worker.returncode == 0, worker.stderr
    assert worker.stdout.strip() == "delivered 1"


def queue_a_welsh_email_code(environment: dict[str, str]) -> None:
    application = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": environment["DATABASE_URL"],
            "REDIS_URL": "",
            "IDP_ENV": "test",
            "IDP_MASTER_KEY": environment["IDP_MASTER_KEY"],
            "IDP_OUTBOX_IN_PROCESS": False,
        }
    )
    with application.app_context():
        send(EMAIL_CODE, "citizen@example.com", locale="cy", code="123456")
        db.session.commit()
