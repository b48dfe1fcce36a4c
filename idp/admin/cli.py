"""The `idp` console script: Flask's CLI bound to this app."""

from __future__ import annotations

import gc
import sys

from flask.cli import FlaskGroup

from idp import create_app

# The operator commands answer in under a second: only these need Alembic loaded, and these need none of the
# web pages (importing the views and their libraries is most of the start-up time).
_COMMANDS_NEEDING_MIGRATIONS = {"db", "setup"}
_OPERATOR_COMMANDS = {"keys", "clients", "users", "audit", "worker"}


def main() -> None:
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "")
    config = {
        "IDP_CLI_MIGRATIONS": command in _COMMANDS_NEEDING_MIGRATIONS or command == "",
        "IDP_WEB": command not in _OPERATOR_COMMANDS,
    }
    try:
        FlaskGroup(create_app=lambda: create_app(config), help="Run and administer the identity provider.")()
    finally:
        # Shutting down, the interpreter's collector would walk every object the app loaded: a quarter of a second.
        gc.freeze()
