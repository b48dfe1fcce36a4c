"""Admin commands under `flask` / `idp`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from flask import Flask
from flask_migrate import upgrade

from idp import audit
from idp.admin.registration import RegistrationError, client_fields_from_registration
from idp.config import PROJECT_ROOT
from idp.extensions import db
from idp.identity.issuers import ISSUER_KEYS
from idp.models import Client
from idp.services import current_services

DEFAULT_KEYS = (("oidc", "ES256"), ("oidc", "RS256"), ("identity", "ES256"), *ISSUER_KEYS)


def import_registration(path: Path, actor: str) -> tuple[Client, bool]:
    fields = client_fields_from_registration(json.loads(path.read_text()), PROJECT_ROOT)
    client = db.session.get(Client, fields["client_id"])
    created = client is None
    if client is None:
        client = Client(**fields)
        db.session.add(client)
    else:
        for name, value in fields.items():
            setattr(client, name, value)
    audit.record("client_registered" if created else "client_updated", actor=actor, client_id=client.client_id)
    return client, created


def register_commands(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--interval", default=1.0, show_default=True, help="Seconds between delivery rounds.")
    @click.option("--once", is_flag=True, help="Deliver what is due, then stop.")
    def worker(interval: float, once: bool) -> None:
        """Deliver the outbox (back-channel logouts, email, text messages): the production worker."""
        from idp.services import outbox_delivery_round

        while True:
            delivered = outbox_delivery_round(app)
            if once:
                click.echo(f"delivered {delivered}")
                return
            time.sleep(interval)

    @app.cli.command("setup")
    @click.option("--registrations", type=click.Path(path_type=Path), multiple=True, help="Client registration files.")
    def setup(registrations: tuple[Path, ...]) -> None:
        """Migrate the database, create any missing signing key, register the given services."""
        upgrade()
        created = current_services().keyring.ensure_active(DEFAULT_KEYS)
        for key in created:
            audit.record("key_generated", actor="setup", purpose=key.purpose, alg=key.alg, kid=key.kid)
        for path in registrations:
            try:
                client, was_new = import_registration(path, actor="setup")
            except (RegistrationError, OSError, ValueError) as exc:
                db.session.rollback()
                raise click.ClickException(f"{path}: {exc}") from exc
            click.echo(f"{'registered' if was_new else 'updated'} {client.client_id}")
        db.session.commit()
        click.echo(f"signing keys: {len(created)} created")
