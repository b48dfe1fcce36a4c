"""`idp clients`: onboarding and looking after the services (relying parties) that use the provider.

Registrations use One Login's onboarding fields (reference §6.2). A committed change to a client is forgotten by
the store-backed read-through (`idp/lookups.py`), so every running web worker sees it on its next request.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select

from idp import audit
from idp.admin.output import emit, fails_cleanly, fields_table, json_option, operator_actor, table
from idp.admin.registration import (
    ID_TOKEN_ALGS,
    LEVELS,
    TOKEN_AUTH_METHODS,
    RegistrationError,
    client_fields_from_registration,
)
from idp.extensions import db
from idp.models import Client
from idp.services import current_services

clients_group = AppGroup("clients", help="The services that use the provider: add, list, show, update, and more.")

LIST_COLUMNS = ("client_id", "name", "token_auth_method", "levels", "identity", "active")


def _registration_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The registration as options: each maps to a One Login onboarding field."""
    options = [
        click.option("--name", help="The service's name, as citizens see it (ClientName)."),
        click.option("--redirect-uri", "redirect_uris", multiple=True, help="A redirect URI (repeat for more)."),
        click.option("--post-logout-uri", "post_logout_uris", multiple=True, help="A post-logout redirect URI."),
        click.option("--backchannel-logout-uri", help="Where back-channel logout tokens are posted."),
        click.option("--scope", "scopes", multiple=True, help="A scope the service may ask for (openid is required)."),
        click.option("--claim", "claims", multiple=True, help="An identity claim the service may ask for."),
        click.option("--level", "levels", multiple=True, type=click.Choice(LEVELS), help="An identity level allowed."),
        click.option("--identity/--no-identity", default=None, help="Identity verification supported."),
        click.option("--id-token-alg", type=click.Choice(ID_TOKEN_ALGS), help="How ID tokens are signed."),
        click.option(
            "--token-auth-method", type=click.Choice(TOKEN_AUTH_METHODS), help="How it authenticates at /token."
        ),
        click.option("--public-key-file", type=click.Path(path_type=Path), help="Its public key (PEM), STATIC source."),
        click.option("--jwks-uri", help="Where its public keys are published (JWKS source)."),
        click.option("--sector-identifier-uri", help="The sector its pairwise subjects are computed for."),
        click.option("--pkce-enforced/--no-pkce-enforced", default=None, help="PKCE required."),
        click.option("--request-object-required/--no-request-object-required", default=None, help="JAR required."),
        click.option("--max-age-enabled/--no-max-age-enabled", default=None, help="max_age honoured."),
        click.option("--permit-missing-nonce/--no-permit-missing-nonce", default=None, help="nonce optional."),
        click.option("--return-codes/--no-return-codes", default=None, help="Return codes instead of access_denied."),
        click.option("--landing-page-url", help="The service's start page."),
        click.option("--active/--inactive", default=None, help="Whether citizens can sign in to it."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _fields_from_options(options: dict[str, Any]) -> dict[str, Any]:
    """The onboarding fields given as options; options left out are left out."""
    fields: dict[str, Any] = {}
    simple = {
        "name": "ClientName",
        "backchannel_logout_uri": "BackChannelLogoutUri",
        "identity": "IdentityVerificationSupported",
        "id_token_alg": "IdTokenSigningAlgorithm",
        "token_auth_method": "TokenAuthMethod",
        "sector_identifier_uri": "SectorIdentifierUri",
        "pkce_enforced": "PKCEEnforced",
        "request_object_required": "JarValidationRequired",
        "max_age_enabled": "MaxAgeEnabled",
        "permit_missing_nonce": "PermitMissingNonce",
        "return_codes": "ReturnCodesEnabled",
        "landing_page_url": "LandingPageUrl",
        "active": "IsActive",
    }
    for option, field in simple.items():
        if options.get(option) is not None:
            fields[field] = options[option]
    lists = {
        "redirect_uris": "RedirectUrls",
        "post_logout_uris": "PostLogoutRedirectUrls",
        "scopes": "Scopes",
        "claims": "Claims",
        "levels": "ClientLoCs",
    }
    for option, field in lists.items():
        if options.get(option):
            fields[field] = list(options[option])
    if options.get("public_key_file") is not None:
        try:
            fields["PublicKey"] = Path(options["public_key_file"]).read_text()
        except OSError as exc:
            raise RegistrationError(f"the public key file cannot be read: {exc.strerror}") from exc
        fields["PublicKeySource"] = "STATIC"
        fields["JwksUrl"] = None
    if options.get("jwks_uri") is not None:
        fields["JwksUrl"] = options["jwks_uri"]
        fields["PublicKeySource"] = "JWKS"
        fields["PublicKey"] = None
    return fields


def _read_registration(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise RegistrationError(f"{path} cannot be read: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise RegistrationError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from exc
    if not isinstance(data, dict):
        raise RegistrationError(f"{path} must hold one JSON object")
    return data


def _find(client_id: str) -> Client:
    client = db.session.get(Client, client_id)
    if client is None:
        raise RegistrationError(f"no service has client ID {client_id}; `idp clients list` shows them")
    return client


def new_client_secret() -> tuple[str, str]:
    """A secret the way One Login asks services to make one (`openssl rand 40 | base64`), and its Argon2id hash."""
    secret = base64.b64encode(secrets.token_bytes(40)).decode()
    return secret, current_services().passwords.hash(secret)


def summary(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "token_auth_method": client.token_auth_method,
        "levels": list(client.client_locs),
        "identity": client.identity_verification_supported,
        "active": client.is_active,
    }


def details(client: Client) -> dict[str, Any]:
    """The registration in One Login's field names; whether a secret is set, never its hash."""
    return {
        **client.registration(),
        "ReturnCodesEnabled": client.return_codes_enabled,
        "ClientSecretSet": client.client_secret_hash is not None,
    }


def _secret_notice(client_id: str, secret: str) -> str:
    return (
        f"Client secret for {client_id} (shown once; only its Argon2id hash is kept):\n{secret}\n"
        "Give it to the service's team through a channel that identifies nothing else."
    )


@clients_group.command("add")
@click.option("--client-id", help="The client ID; a random one if left out.")
@click.option("--registration", type=click.Path(path_type=Path), help="A registration file in One Login's fields.")
@_registration_options
@json_option
@fails_cleanly
def add(client_id: str | None, registration: Path | None, as_json: bool, **options: Any) -> None:
    """Register a new service, from options or from a registration file."""
    given = _fields_from_options(options)
    if registration is not None:
        if given:
            raise click.UsageError("give either --registration or registration options, not both")
        data = _read_registration(registration)
        base_dir = Path.cwd()
    else:
        data = {**given, "ClientID": client_id or secrets.token_urlsafe(24)}
        base_dir = Path.cwd()
    if client_id is not None and data.get("ClientID") != client_id:
        raise RegistrationError(f"--client-id {client_id} does not match the file's ClientID {data.get('ClientID')}")
    fields = client_fields_from_registration(data, base_dir)
    if db.session.get(Client, fields["client_id"]) is not None:
        raise RegistrationError(f"a service with client ID {fields['client_id']} exists; use `idp clients update`")
    secret = None
    if fields["token_auth_method"] == "client_secret_post" and not fields["client_secret_hash"]:
        secret, fields["client_secret_hash"] = new_client_secret()
    client = Client(**fields)
    db.session.add(client)
    audit.record("client_registered", actor=operator_actor(), client_id=client.client_id, fields=sorted(data))
    db.session.commit()
    record = details(client)
    text = f"Registered {client.client_id}.\n" + fields_table(record)
    if secret:
        record["NewClientSecret"] = secret
        text += "\n\n" + _secret_notice(client.client_id, secret)
    emit(record, as_json, text)


@clients_group.command("list")
@click.option("--inactive", "only_inactive", is_flag=True, help="Only the services that are disabled.")
@json_option
@fails_cleanly
def list_clients(only_inactive: bool, as_json: bool) -> None:
    """Every registered service."""
    query = select(Client).order_by(Client.client_id)
    if only_inactive:
        query = query.where(Client.is_active.is_(False))
    records = [summary(client) for client in db.session.scalars(query)]
    emit(records, as_json, table(records, LIST_COLUMNS) if records else "No services are registered.")


@clients_group.command("show")
@click.argument("client_id")
@json_option
@fails_cleanly
def show(client_id: str, as_json: bool) -> None:
    """One service's registration (without its secret)."""
    record = details(_find(client_id))
    emit(record, as_json, fields_table(record))


_COLUMN_NAMES = {
    "redirect_uris": "RedirectUrls",
    "post_logout_redirect_uris": "PostLogoutRedirectUrls",
    "backchannel_logout_uri": "BackChannelLogoutUri",
    "client_locs": "ClientLoCs",
    "identity_verification_supported": "IdentityVerificationSupported",
    "id_token_signing_alg": "IdTokenSigningAlgorithm",
    "token_auth_method": "TokenAuthMethod",
    "public_key_source": "PublicKeySource",
    "public_key": "PublicKey",
    "jwks_uri": "JwksUrl",
    "client_secret_hash": "ClientSecret",
    "sector_identifier_uri": "SectorIdentifierUri",
    "pkce_enforced": "PKCEEnforced",
    "jar_required": "JarValidationRequired",
    "max_age_enabled": "MaxAgeEnabled",
    "permit_missing_nonce": "PermitMissingNonce",
    "return_codes_enabled": "ReturnCodesEnabled",
    "landing_page_url": "LandingPageUrl",
    "is_active": "IsActive",
    "name": "ClientName",
    "scopes": "Scopes",
    "claims": "Claims",
}


@clients_group.command("update")
@click.argument("client_id")
@click.option("--registration", type=click.Path(path_type=Path), help="Replace the registration with this file.")
@_registration_options
@json_option
@fails_cleanly
def update(client_id: str, registration: Path | None, as_json: bool, **options: Any) -> None:
    """Change a service's registration: only the options given change."""
    client = _find(client_id)
    given = _fields_from_options(options)
    if registration is not None:
        if given:
            raise click.UsageError("give either --registration or registration options, not both")
        data = _read_registration(registration)
        if data.get("ClientID") != client_id:
            raise RegistrationError(f"the file's ClientID {data.get('ClientID')} is not {client_id}")
        data.setdefault("ClientSecret", client.client_secret_hash)
    else:
        if not given:
            raise click.UsageError("nothing to change: give registration options or --registration")
        data = {
            **client.registration(),
            "ReturnCodesEnabled": client.return_codes_enabled,
            "ClientSecret": client.client_secret_hash,
            **given,
        }
    fields = client_fields_from_registration(data, Path.cwd())
    secret = None
    if fields["token_auth_method"] == "client_secret_post" and not fields["client_secret_hash"]:
        secret, fields["client_secret_hash"] = new_client_secret()
    changed = sorted(_COLUMN_NAMES.get(name, name) for name, value in fields.items() if getattr(client, name) != value)
    if not changed:
        emit({"client_id": client_id, "changed": []}, as_json, f"Nothing changed for {client_id}.")
        return
    for name, value in fields.items():
        setattr(client, name, value)
    audit.record("client_updated", actor=operator_actor(), client_id=client_id, changed=changed)
    db.session.commit()
    record: dict[str, Any] = {"client_id": client_id, "changed": changed}
    text = f"Updated {client_id}: {', '.join(changed)}."
    if secret:
        record["client_secret"] = secret
        text += "\n\n" + _secret_notice(client_id, secret)
    emit(record, as_json, text)


def _set_active(client_id: str, active: bool, as_json: bool) -> None:
    client = _find(client_id)
    word = "enabled" if active else "disabled"
    if client.is_active == active:
        emit({"client_id": client_id, "active": active, "changed": False}, as_json, f"{client_id} is already {word}.")
        return
    client.is_active = active
    audit.record(f"client_{word}", actor=operator_actor(), client_id=client_id)
    db.session.commit()
    text = f"{client_id} is {word}."
    if not active:
        text += " Citizens sent to sign in to it now get unauthorized_client; its tokens are no longer issued."
    emit({"client_id": client_id, "active": active, "changed": True}, as_json, text)


@clients_group.command("disable")
@click.argument("client_id")
@json_option
@fails_cleanly
def disable(client_id: str, as_json: bool) -> None:
    """Stop citizens signing in to a service."""
    _set_active(client_id, False, as_json)


@clients_group.command("enable")
@click.argument("client_id")
@json_option
@fails_cleanly
def enable(client_id: str, as_json: bool) -> None:
    """Let citizens sign in to a service again."""
    _set_active(client_id, True, as_json)


@clients_group.command("rotate-secret")
@click.argument("client_id")
@json_option
@fails_cleanly
def rotate_secret(client_id: str, as_json: bool) -> None:
    """Give a client_secret_post service a new secret: printed once, stored only as its Argon2id hash."""
    client = _find(client_id)
    if client.token_auth_method != "client_secret_post":
        raise RegistrationError(
            f"{client_id} authenticates with {client.token_auth_method}, which uses no secret; "
            "switch it with `idp clients update --token-auth-method client_secret_post` first"
        )
    secret, client.client_secret_hash = new_client_secret()
    audit.record("client_secret_rotated", actor=operator_actor(), client_id=client_id)
    db.session.commit()
    emit(
        {"client_id": client_id, "client_secret": secret},
        as_json,
        _secret_notice(client_id, secret) + "\nThe previous secret no longer works.",
    )
