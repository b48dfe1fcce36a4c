"""The `idp` console script: Flask's CLI bound to this app."""

from __future__ import annotations

import sys

from flask.cli import FlaskGroup

from idp import create_app

# The operator commands answer in under a second; only these need Alembic loaded.
_COMMANDS_NEEDING_MIGRATIONS = {"db", "setup"}


def main() -> None:
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "")
    config = {"IDP_CLI_MIGRATIONS": command in _COMMANDS_NEEDING_MIGRATIONS or command == ""}
    FlaskGroup(create_app=lambda: create_app(config), help="Run and administer the identity provider.")()
