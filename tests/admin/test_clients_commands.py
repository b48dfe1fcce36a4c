"""`idp clients`: add, list, show, update, disable, enable, rotate-secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy import func, select

from idp.auth.passwords import verify_argon2_secret
from idp.extensions import db
from idp.lookups import client_key, find_client
from idp.models import AuditEvent, Client
from idp.services import current_services
from tests.admin.conftest import ACTOR, RunCommand, audit_events, json_of
from tests.helpers import Browser, RelyingPartyUnderTest, public_pem, redirect_params

REGISTRATION_FIELDS = {
    "ClientID",
    "ClientName",
    "RedirectUrls",
    "PostLogoutRedirectUrls",
    "BackChannelLogoutUri",
    "Scopes",
    "Claims",
    "ClientLoCs",
    "IdentityVerificationSupported",
    "IdTokenSigningAlgorithm",
    "TokenAuthMethod",
    "PublicKeySource",
    "PublicKey",
    "JwksUrl",
    "SectorIdentifierUri",
    "SubjectType",
    "JarValidationRequired",
    "PKCEEnforced",
    "MaxAgeEnabled",
    "PermitMissingNonce",
    "LandingPageUrl",
    "IsActive",
}
PEM = public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def registration(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ClientID": "renew-passport",
        "ClientName": "Renew a passport",
        "RedirectUrls": ["https://passport.example.gov.uk/callback"],
        "PostLogoutRedirectUrls": ["https://passport.example.gov.uk/signed-out"],
        "BackChannelLogoutUri": "https://passport.example.gov.uk/backchannel-logout",
        "Scopes": ["openid", "email"],
        "Claims": [],
        "ClientLoCs": ["P0", "P2"],
        "IdentityVerificationSupported": True,
        "IdTokenSigningAlgorithm": "RS256",
        "TokenAuthMethod": "private_key_jwt",
        "PublicKeySource": "STATIC",
        "PublicKey": PEM,
        "SectorIdentifierUri": "https://passport.example.gov.uk",
        "PKCEEnforced": True,
        "ClientType": "web",
        "IsActive": True,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "registration.json"
    path.write_text(json.dumps(data))
    return str(path)


def stored(app: Flask, client_id: str) -> Client | None:
    with app.app_context():
        client = db.session.get(Client, client_id)
        db.session.expunge_all()
        return client


def nothing_written(app: Flask) -> bool:
    with app.app_context():
        return not db.session.scalar(select(func.count()).select_from(Client)) and not db.session.scalar(
            select(func.count()).select_from(AuditEvent)
        )


def add_from_options(idp: RunCommand, *extra: str) -> Any:
    return json_of(
        idp(
            "clients",
            "add",
            "--client-id",
            "tax-return",
            "--name",
            "File a tax return",
            "--redirect-uri",
            "https://tax.example.gov.uk/callback",
            "--redirect-uri",
            "http://localhost:3000/callback",
            "--scope",
            "openid",
            "--scope",
            "email",
            "--jwks-uri",
            "https://tax.example.gov.uk/.well-known/jwks.json",
            *extra,
            "--json",
        )
    )


# -- add ----------------------------------------------------------------------------------------------------------


def test_add_from_options(app: Flask, idp: RunCommand) -> None:
    added = add_from_options(idp, "--pkce-enforced", "--level", "P0")
    assert added["ClientID"] == "tax-return" and added["PublicKeySource"] == "JWKS" and added["PKCEEnforced"] is True
    assert set(added) == REGISTRATION_FIELDS | {"ReturnCodesEnabled", "ClientSecretSet"}
    client = stored(app, "tax-return")
    assert client is not None and client.redirect_uris == [
        "https://tax.example.gov.uk/callback",
        "http://localhost:3000/callback",
    ]
    assert client.jwks_uri == "https://tax.example.gov.uk/.well-known/jwks.json" and client.public_key is None
    [event] = audit_events(app, "client_registered")
    assert event.actor == ACTOR and event.client_id == "tax-return"


def test_add_from_a_registration_file(app: Flask, idp: RunCommand, tmp_path: Path) -> None:
    output = idp("clients", "add", "--registration", write(tmp_path, registration())).output
    assert "Registered renew-passport." in output and "Renew a passport" in output
    client = stored(app, "renew-passport")
    assert client is not None
    assert client.client_locs == ["P0", "P2"] and client.identity_verification_supported is True
    assert client.id_token_signing_alg == "RS256" and client.public_key and "BEGIN PUBLIC KEY" in client.public_key
    assert len(audit_events(app, "client_registered")) == 1


def test_the_sample_services_registration_files_are_accepted(app: Flask, idp: RunCommand) -> None:
    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "relying_party_examples" / "registrations").glob("*.json")):
        data = json.loads(path.read_text())
        data["PublicKeyFile"] = str(root / data["PublicKeyFile"])
        tmp = root / "instance" / f"test-{path.name}"
        tmp.parent.mkdir(exist_ok=True)
        tmp.write_text(json.dumps(data))
        try:
            idp("clients", "add", "--registration", str(tmp))
        finally:
            tmp.unlink()
        assert stored(app, data["ClientID"]) is not None


def test_a_client_secret_is_printed_once_and_only_its_hash_kept(app: Flask, idp: RunCommand) -> None:
    added = json_of(
        idp(
            "clients",
            "add",
            "--client-id",
            "fish",
            "--name",
            "Fish",
            "--redirect-uri",
            "https://fish.example.gov.uk/cb",
            "--token-auth-method",
            "client_secret_post",
            "--json",
        )
    )
    secret = added["NewClientSecret"]
    client = stored(app, "fish")
    assert client is not None and client.client_secret_hash and client.client_secret_hash.startswith("$argon2id$")
    assert verify_argon2_secret(client.client_secret_hash, secret)
    shown = idp("clients", "show", "fish", "--json").stdout
    assert secret not in shown and client.client_secret_hash not in shown and json.loads(shown)["ClientSecretSet"]
    with app.app_context():
        assert secret not in json.dumps([e.details for e in db.session.scalars(select(AuditEvent))])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"RedirectUrls": ["javascript:alert(1)"]}, "must use https"),
        ({"RedirectUrls": ["https://a.example.gov.uk/cb#x"]}, "must not have a fragment"),
        ({"RedirectUrls": ["http://a.example.gov.uk/cb"]}, "http is allowed only for localhost"),
        ({"RedirectUrls": []}, "at least one redirect URI is needed"),
        ({"PostLogoutRedirectUrls": ["data:text/html,hi"]}, "post-logout redirect URI 'data:text/html,hi' must use"),
        ({"BackChannelLogoutUri": "https://a.example.gov.uk/logout#frag"}, "must not have a fragment"),
        ({"Scopes": ["email"]}, "Scopes must include openid"),
        ({"Scopes": ["openid", "admin"]}, "Scopes must include openid and be among"),
        ({"Claims": ["https://vocab.example/secret"]}, "unknown claim(s) in Claims"),
        ({"ClientLoCs": ["P9"]}, "ClientLoCs must be among P0, P1, P2, P3"),
        ({"TokenAuthMethod": "client_secret_basic"}, "TokenAuthMethod must be"),
        ({"TokenAuthMethod": "client_secret_post"}, "identity verification needs private_key_jwt"),
        ({"IdTokenSigningAlgorithm": "HS256"}, "IdTokenSigningAlgorithm must be ES256 or RS256"),
        ({"PublicKey": None}, "a STATIC key source needs PublicKey"),
        ({"PublicKey": "not a key"}, "PublicKey is not a PEM public key"),
        ({"PublicKeySource": "JWKS", "PublicKey": None}, "a JWKS key source needs JwksUrl"),
        ({"PublicKeySource": "JWKS", "JwksUrl": "http://keys.example.gov.uk/jwks"}, "JwksUrl"),
        ({"ClientSecret": "plain-text-secret"}, "ClientSecret must be the Argon2id hash"),
        ({"RedirectUrl": ["https://a.example.gov.uk/cb"]}, "unknown field(s) RedirectUrl"),
        ({"ClientID": "bad id!"}, "ClientID must be 1 to 128 letters"),
        ({"PKCEEnforced": "yes"}, "PKCEEnforced must be true or false"),
        ({"SubjectType": "public"}, "SubjectType must be pairwise"),
    ],
)
def test_add_refuses_a_bad_registration_and_changes_nothing(
    app: Flask, idp: RunCommand, tmp_path: Path, overrides: dict[str, Any], message: str
) -> None:
    data = registration(**{k: v for k, v in overrides.items() if v is not None})
    for name in [k for k, v in overrides.items() if v is None]:
        data.pop(name, None)
    result = idp("clients", "add", "--registration", write(tmp_path, data), code=1)
    assert message in result.output
    assert nothing_written(app)


def test_add_refuses_bad_options_and_files(app: Flask, idp: RunCommand, tmp_path: Path) -> None:
    assert "redirect URI 'javascript:alert(1)' must use https" in (
        idp("clients", "add", "--name", "X", "--redirect-uri", "javascript:alert(1)", code=1).output
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert "is not JSON" in idp("clients", "add", "--registration", str(broken), code=1).output
    assert "cannot be read" in idp("clients", "add", "--registration", str(tmp_path / "none.json"), code=1).output
    both = idp("clients", "add", "--registration", str(broken), "--name", "X", code=2)
    assert "either --registration or registration options" in both.output
    assert nothing_written(app)


def test_add_refuses_a_client_id_in_use(app: Flask, idp: RunCommand, tmp_path: Path) -> None:
    path = write(tmp_path, registration())
    idp("clients", "add", "--registration", path)
    assert "exists; use `idp clients update`" in idp("clients", "add", "--registration", path, code=1).output
    assert len(audit_events(app, "client_registered")) == 1


# -- list and show ------------------------------------------------------------------------------------------------


def test_list_and_show(app: Flask, idp: RunCommand, tmp_path: Path) -> None:
    assert "No services are registered." in idp("clients", "list").output
    idp("clients", "add", "--registration", write(tmp_path, registration()))
    add_from_options(idp)
    idp("clients", "disable", "tax-return")
    table = idp("clients", "list").output.splitlines()
    assert table[0].split() == ["CLIENT", "ID", "NAME", "TOKEN", "AUTH", "METHOD", "LEVELS", "IDENTITY", "ACTIVE"]
    assert table[1].startswith("renew-passport") and "P0, P2" in table[1]
    listed = json_of(idp("clients", "list", "--json"))
    assert [c["client_id"] for c in listed] == ["renew-passport", "tax-return"]
    assert set(listed[0]) == {"client_id", "name", "token_auth_method", "levels", "identity", "active"}
    assert [c["client_id"] for c in json_of(idp("clients", "list", "--inactive", "--json"))] == ["tax-return"]
    shown = json_of(idp("clients", "show", "renew-passport", "--json"))
    assert shown["RedirectUrls"] == ["https://passport.example.gov.uk/callback"] and shown["ClientSecretSet"] is False
    assert "ClientName                     Renew a passport" in idp("clients", "show", "renew-passport").output
    assert "no service has client ID nobody" in idp("clients", "show", "nobody", code=1).output


# -- update -------------------------------------------------------------------------------------------------------


def test_update_changes_only_what_is_given(app: Flask, idp: RunCommand, tmp_path: Path) -> None:
    idp("clients", "add", "--registration", write(tmp_path, registration()))
    updated = json_of(
        idp(
            "clients",
            "update",
            "renew-passport",
            "--redirect-uri",
            "https://passport.example.gov.uk/new-callback",
            "--max-age-enabled",
            "--json",
        )
    )
    assert updated == {"client_id": "renew-passport", "changed": ["MaxAgeEnabled", "RedirectUrls"]}
    client = stored(app, "renew-passport")
    assert client is not None and client.redirect_uris == ["https://passport.example.gov.uk/new-callback"]
    assert client.max_age_enabled is True and client.client_locs == ["P0", "P2"] and client.pkce_enforced is True
    [event] = audit_events(app, "client_updated")
    assert event.actor == ACTOR and event.details == {"changed": ["MaxAgeEnabled", "RedirectUrls"]}
    assert "Nothing changed" in idp("clients", "update", "renew-passport", "--max-age-enabled").output
    assert len(audit_events(app, "client_updated")) == 1


def test_update_from_a_registration_file(app: Flask, idp: RunCommand, tmp_path: Path) -> None:
    idp("clients", "add", "--registration", write(tmp_path, registration()))
    path = write(tmp_path, registration(ClientName="Renew your passport", ClientLoCs=["P2"]))
    assert "ClientLoCs, ClientName" in idp("clients", "update", "renew-passport", "--registration", path).output
    other = write(tmp_path, registration(ClientID="someone-else"))
    assert "is not renew-passport" in idp("clients", "update", "renew-passport", "--registration", other, code=1).output


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (("--redirect-uri", "javascript:alert(1)"), "must use https", 1),
        (("--post-logout-uri", "https://a.example.gov.uk/out#top"), "must not have a fragment", 1),
        (("--backchannel-logout-uri", "http://a.example.gov.uk/bcl"), "http is allowed only for localhost", 1),
        (("--token-auth-method", "client_secret_post"), "identity verification needs private_key_jwt", 1),
        ((), "nothing to change", 2),
    ],
)
def test_update_refuses_bad_changes_and_changes_nothing(
    app: Flask, idp: RunCommand, tmp_path: Path, args: tuple[str, ...], message: str, code: int
) -> None:
    idp("clients", "add", "--registration", write(tmp_path, registration()))
    before = stored(app, "renew-passport")
    assert message in idp("clients", "update", "renew-passport", *args, code=code).output
    after = stored(app, "renew-passport")
    assert before is not None and after is not None and before.registration() == after.registration()
    assert audit_events(app, "client_updated") == []


def test_update_of_an_unknown_client(idp: RunCommand) -> None:
    assert "no service has client ID ghost" in idp("clients", "update", "ghost", "--name", "Ghost", code=1).output


# -- disable, enable, and what running web workers see ------------------------------------------------------------


def test_disable_is_seen_at_once_by_a_worker_that_cached_the_client(
    app: Flask, idp: RunCommand, browser: Browser, rp: RelyingPartyUnderTest
) -> None:
    with app.test_request_context():
        assert find_client(rp.client_id) is not None
        assert current_services().store.get(client_key(rp.client_id)) is not None  # cached in the shared store
    result = json_of(idp("clients", "disable", rp.client_id, "--json"))
    assert result == {"client_id": rp.client_id, "active": False, "changed": True}
    with app.test_request_context():
        assert current_services().store.get(client_key(rp.client_id)) is None
        cached = find_client(rp.client_id)
        assert cached is not None and cached.is_active is False
    response = browser.get("/authorize", query_string=rp.authorize_params())
    assert redirect_params(response.location)["error"] == "unauthorized_client"
    [event] = audit_events(app, "client_disabled")
    assert event.actor == ACTOR and event.client_id == rp.client_id

    assert "is already disabled" in idp("clients", "disable", rp.client_id).output
    assert len(audit_events(app, "client_disabled")) == 1
    assert f"{rp.client_id} is enabled." in idp("clients", "enable", rp.client_id).output
    response = browser.get("/authorize", query_string=rp.authorize_params())
    assert response.status_code == 302 and "error=" not in response.location
    assert len(audit_events(app, "client_enabled")) == 1
    assert "no service has client ID ghost" in idp("clients", "enable", "ghost", code=1).output


# -- rotate-secret ------------------------------------------------------------------------------------------------


def test_rotate_secret(app: Flask, idp: RunCommand) -> None:
    first = add_from_options(idp, "--token-auth-method", "client_secret_post")["NewClientSecret"]
    rotated = json_of(idp("clients", "rotate-secret", "tax-return", "--json"))
    assert set(rotated) == {"client_id", "client_secret"}
    client = stored(app, "tax-return")
    assert client is not None and client.client_secret_hash is not None
    assert verify_argon2_secret(client.client_secret_hash, rotated["client_secret"])
    assert not verify_argon2_secret(client.client_secret_hash, first)
    [event] = audit_events(app, "client_secret_rotated")
    assert event.actor == ACTOR and rotated["client_secret"] not in json.dumps(event.details)
    assert "shown once" in idp("clients", "rotate-secret", "tax-return").output


def test_rotate_secret_refuses_a_client_without_secrets(app: Flask, idp: RunCommand, tmp_path: Path) -> None:
    idp("clients", "add", "--registration", write(tmp_path, registration()))
    assert "uses no secret" in idp("clients", "rotate-secret", "renew-passport", code=1).output
    assert "no service has client ID ghost" in idp("clients", "rotate-secret", "ghost", code=1).output
    assert audit_events(app, "client_secret_rotated") == []
