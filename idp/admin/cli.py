"""The `idp` console script: Flask's CLI bound to this app."""

from __future__ import annotations

from flask.cli import FlaskGroup

from idp import create_app


def main() -> None:
    FlaskGroup(create_app=lambda: create_app(), help="Run and administer the identity provider.")()
