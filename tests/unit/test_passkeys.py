"""The WebAuthn ceremonies, with real signatures from a software authenticator and a real store."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from idp.auth.passkeys import (
    NewPasskey,
    PasskeyCeremonies,
    PasskeyRefused,
    Reason,
    RegisteredPasskey,
    rp_id_and_origin,
    user_handle,
)
from idp.store.sql import SqlStore
from tests.software_authenticator import SoftwareAuthenticator, b64url

ISSUER = "https://signin.example.gov.uk/"
ORIGIN = "https://signin.example.gov.uk"
USER = "7c1f8a52-3c39-4b6f-9a3f-0d1f3c1f4d10"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    yield store
    store.dispose()


@pytest.fixture
def ceremonies(store: SqlStore) -> PasskeyCeremonies:
    return PasskeyCeremonies(store, issuer=ISSUER, rp_name="GOV.UK One Login", challenge_ttl=300)


def register(ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator) -> RegisteredPasskey:
    ceremony = ceremonies.start_registration(user_id=USER, user_name="citizen@example.com", existing=[])
    new = ceremonies.finish_registration(
        ceremony.ceremony_id, user_id=USER, credential_json=json.dumps(authenticator.create(ceremony.options_json))
    )
    return RegisteredPasskey(new.credential_id, USER, new.public_key, new.sign_count)


def sign_in(
    ceremonies: PasskeyCeremonies,
    authenticator: SoftwareAuthenticator,
    passkey: RegisteredPasskey,
    *,
    user_id: str | None = None,
    **behaviour: Any,
) -> tuple[str, dict[str, Any]]:
    ceremony = ceremonies.start_authentication(user_id=user_id)
    return ceremony.ceremony_id, authenticator.get(ceremony.options_json, **behaviour)


def finish(
    ceremonies: PasskeyCeremonies,
    ceremony_id: str,
    assertion: object,
    passkey: RegisteredPasskey | None,
    user_id: str | None = None,
) -> object:
    body = assertion if isinstance(assertion, str) else json.dumps(assertion)
    return ceremonies.finish_authentication(
        ceremony_id,
        credential_json=body,
        find_passkey=lambda cid: passkey if passkey and cid == passkey.credential_id else None,
        user_id=user_id,
    )


def refusal(call: object) -> Reason:
    assert callable(call)
    with pytest.raises(PasskeyRefused) as refused:
        call()
    return refused.value.reason


# -- options ------------------------------------------------------------------------------------------------------


def test_rp_id_and_origin_come_from_the_issuer() -> None:
    assert rp_id_and_origin("https://signin.example.gov.uk/") == ("signin.example.gov.uk", ORIGIN)
    assert rp_id_and_origin("http://localhost:8080/") == ("localhost", "http://localhost:8080")


def test_registration_options_require_a_discoverable_credential_and_user_verification(
    ceremonies: PasskeyCeremonies,
) -> None:
    existing = b"\x01" * 16
    ceremony = ceremonies.start_registration(user_id=USER, user_name="citizen@example.com", existing=[existing])
    options = json.loads(ceremony.options_json)
    assert options["rp"] == {"id": "signin.example.gov.uk", "name": "GOV.UK One Login"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["requireResidentKey"] is True
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["user"]["id"] == b64url(user_handle(USER))
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(existing)]
    assert options["pubKeyCredParams"][0]["alg"] == -7
    assert options["timeout"] == 300_000


def test_authentication_options_require_user_verification(ceremonies: PasskeyCeremonies) -> None:
    options = json.loads(ceremonies.start_authentication().options_json)
    assert options["userVerification"] == "required"
    assert options["rpId"] == "signin.example.gov.uk"
    assert options["allowCredentials"] == []
    two_ceremonies = {ceremonies.start_authentication().options_json for _ in range(2)}
    assert len(two_ceremonies) == 2, "every ceremony has its own challenge"


# -- registration -----------------------------------------------------------------------------------------------


def test_a_passkey_registers_with_its_key_counter_aaguid_and_transports(ceremonies: PasskeyCeremonies) -> None:
    authenticator = SoftwareAuthenticator(ORIGIN, rp_id="signin.example.gov.uk")
    ceremony = ceremonies.start_registration(user_id=USER, user_name="citizen@example.com", existing=[])
    new = ceremonies.finish_registration(
        ceremony.ceremony_id, user_id=USER, credential_json=json.dumps(authenticator.create(ceremony.options_json))
    )
    assert new == NewPasskey(
        credential_id=authenticator.credential_id,
        public_key=authenticator.cose_public_key(),
        sign_count=0,
        aaguid="00000000-0000-0000-0000-000000000000",
        transports=["internal"],
    )


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ({"origin": "https://evil.example.com"}, Reason.WRONG_ORIGIN),
        ({"rp_id": "evil.example.com"}, Reason.WRONG_RP_ID),
        ({"user_verified": False}, Reason.USER_NOT_VERIFIED),
    ],
)
def test_registration_refuses(ceremonies: PasskeyCeremonies, behaviour: dict[str, object], reason: Reason) -> None:
    authenticator = SoftwareAuthenticator(ORIGIN, rp_id="signin.example.gov.uk")
    ceremony = ceremonies.start_registration(user_id=USER, user_name="citizen@example.com", existing=[])
    response = authenticator.create(ceremony.options_json, **behaviour)  # type: ignore[arg-type]
    assert (
        refusal(
            lambda: ceremonies.finish_registration(
                ceremony.ceremony_id, user_id=USER, credential_json=json.dumps(response)
            )
        )
        == reason
    )


def test_a_registration_challenge_is_single_use_and_bound_to_its_user(ceremonies: PasskeyCeremonies) -> None:
    authenticator = SoftwareAuthenticator(ORIGIN, rp_id="signin.example.gov.uk")
    ceremony = ceremonies.start_registration(user_id=USER, user_name="citizen@example.com", existing=[])
    body = json.dumps(authenticator.create(ceremony.options_json))
    other = "0f0f0f0f-0000-4000-8000-000000000000"
    assert refusal(
        lambda: ceremonies.finish_registration(ceremony.ceremony_id, user_id=other, credential_json=body)
    ) == (Reason.STALE_CHALLENGE)
    # The wrong user's attempt spent the challenge: the right user must start again.
    assert refusal(
        lambda: ceremonies.finish_registration(ceremony.ceremony_id, user_id=USER, credential_json=body)
    ) == (Reason.STALE_CHALLENGE)


def test_malformed_registration_is_refused(ceremonies: PasskeyCeremonies) -> None:
    for body in ("not json", "[]", json.dumps({"id": "x", "rawId": "x", "response": {}, "type": "public-key"})):
        ceremony = ceremonies.start_registration(user_id=USER, user_name="citizen@example.com", existing=[])
        assert (
            refusal(lambda: ceremonies.finish_registration(ceremony.ceremony_id, user_id=USER, credential_json=body))  # noqa: B023
            == Reason.MALFORMED
        )


# -- authentication -----------------------------------------------------------------------------------------------


@pytest.fixture
def authenticator() -> SoftwareAuthenticator:
    return SoftwareAuthenticator(ORIGIN, rp_id="signin.example.gov.uk")


@pytest.fixture
def passkey(ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator) -> RegisteredPasskey:
    return register(ceremonies, authenticator)


def test_a_passwordless_sign_in_names_the_owner_and_the_new_counter(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey
) -> None:
    ceremony_id, assertion = sign_in(ceremonies, authenticator, passkey)
    result = finish(ceremonies, ceremony_id, assertion, passkey)
    assert result.passkey.user_id == USER  # type: ignore[attr-defined]
    assert result.new_sign_count == 1  # type: ignore[attr-defined]


def test_as_a_second_factor_only_the_users_own_credentials_are_allowed(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey
) -> None:
    ceremony = ceremonies.start_authentication(user_id=USER, allowed=[passkey.credential_id])
    options = json.loads(ceremony.options_json)
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(passkey.credential_id)]
    result = finish(ceremonies, ceremony.ceremony_id, authenticator.get(ceremony.options_json), passkey, USER)
    assert result.passkey.user_id == USER  # type: ignore[attr-defined]

    someone_else = "0f0f0f0f-0000-4000-8000-000000000000"
    ceremony_id, assertion = sign_in(ceremonies, authenticator, passkey, user_id=someone_else)
    assert refusal(lambda: finish(ceremonies, ceremony_id, assertion, passkey, someone_else)) == Reason.WRONG_USER


def test_a_replayed_assertion_is_refused(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey
) -> None:
    ceremony_id, assertion = sign_in(ceremonies, authenticator, passkey)
    finish(ceremonies, ceremony_id, assertion, passkey)
    assert refusal(lambda: finish(ceremonies, ceremony_id, assertion, passkey)) == Reason.STALE_CHALLENGE


def test_an_assertion_for_another_ceremony_is_refused(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey
) -> None:
    _, assertion = sign_in(ceremonies, authenticator, passkey)
    other_ceremony = ceremonies.start_authentication().ceremony_id
    assert refusal(lambda: finish(ceremonies, other_ceremony, assertion, passkey)) == Reason.STALE_CHALLENGE


def test_an_expired_challenge_is_refused(
    store: SqlStore, authenticator: SoftwareAuthenticator, ceremonies: PasskeyCeremonies, passkey: RegisteredPasskey
) -> None:
    brief = PasskeyCeremonies(store, issuer=ISSUER, rp_name="GOV.UK One Login", challenge_ttl=1)
    ceremony = brief.start_authentication()
    assertion = authenticator.get(ceremony.options_json)
    time.sleep(1.1)
    assert refusal(lambda: finish(brief, ceremony.ceremony_id, assertion, passkey)) == Reason.STALE_CHALLENGE


def test_a_registration_challenge_does_not_authenticate(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey
) -> None:
    ceremony = ceremonies.start_registration(user_id=USER, user_name="citizen@example.com", existing=[])
    challenge = json.loads(ceremony.options_json)["challenge"]
    assertion = authenticator.get(json.dumps({"rpId": "signin.example.gov.uk", "challenge": challenge}))
    assert refusal(lambda: finish(ceremonies, ceremony.ceremony_id, assertion, passkey, USER)) == Reason.STALE_CHALLENGE


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ({"origin": "https://evil.example.com"}, Reason.WRONG_ORIGIN),
        ({"origin": "http://signin.example.gov.uk"}, Reason.WRONG_ORIGIN),
        ({"rp_id": "example.gov.uk"}, Reason.WRONG_RP_ID),
        ({"user_verified": False}, Reason.USER_NOT_VERIFIED),
        ({"counter_step": 0}, Reason.CLONED_AUTHENTICATOR),
    ],
)
def test_authentication_refuses(
    ceremonies: PasskeyCeremonies,
    authenticator: SoftwareAuthenticator,
    passkey: RegisteredPasskey,
    behaviour: dict[str, Any],
    reason: Reason,
) -> None:
    used = RegisteredPasskey(passkey.credential_id, USER, passkey.public_key, sign_count=5)
    authenticator.sign_count = 5
    ceremony_id, assertion = sign_in(ceremonies, authenticator, used, **behaviour)
    with pytest.raises(PasskeyRefused) as refused:
        finish(ceremonies, ceremony_id, assertion, used)
    assert refused.value.reason == reason
    assert refused.value.user_id == USER


def test_a_counter_that_goes_backwards_is_a_clone(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey
) -> None:
    stored = RegisteredPasskey(passkey.credential_id, USER, passkey.public_key, sign_count=10)
    authenticator.sign_count = 3
    ceremony_id, assertion = sign_in(ceremonies, authenticator, stored)
    assert refusal(lambda: finish(ceremonies, ceremony_id, assertion, stored)) == Reason.CLONED_AUTHENTICATOR


def test_an_authenticator_without_a_counter_is_accepted(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey
) -> None:
    # §6.1.1: authenticators that keep no counter always send zero; zero against a stored zero is not a clone.
    ceremony_id, assertion = sign_in(ceremonies, authenticator, passkey, counter_step=0)
    assert finish(ceremonies, ceremony_id, assertion, passkey).new_sign_count == 0  # type: ignore[attr-defined]


def test_a_forged_signature_is_refused(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey
) -> None:
    impostor = SoftwareAuthenticator(ORIGIN, rp_id="signin.example.gov.uk", credential_id=authenticator.credential_id)
    impostor.user_handle = authenticator.user_handle
    ceremony_id, assertion = sign_in(ceremonies, impostor, passkey)
    assert refusal(lambda: finish(ceremonies, ceremony_id, assertion, passkey)) == Reason.INVALID


def test_an_unknown_credential_is_refused(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey
) -> None:
    ceremony_id, assertion = sign_in(ceremonies, authenticator, passkey)
    assert refusal(lambda: finish(ceremonies, ceremony_id, assertion, None)) == Reason.UNKNOWN_CREDENTIAL


def test_a_user_handle_of_someone_else_is_refused(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey
) -> None:
    authenticator.user_handle = user_handle("0f0f0f0f-0000-4000-8000-000000000000")
    ceremony_id, assertion = sign_in(ceremonies, authenticator, passkey)
    assert refusal(lambda: finish(ceremonies, ceremony_id, assertion, passkey)) == Reason.WRONG_USER


@pytest.mark.parametrize(
    "body",
    ["", "{", "null", "[]", json.dumps({"id": "AA", "rawId": "AA", "type": "public-key", "response": {}})],
)
def test_malformed_assertions_are_refused(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey, body: str
) -> None:
    ceremony_id = ceremonies.start_authentication().ceremony_id
    assert refusal(lambda: finish(ceremonies, ceremony_id, body, passkey)) == Reason.MALFORMED


def test_garbage_inside_a_well_formed_assertion_is_refused(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey
) -> None:
    ceremony_id, assertion = sign_in(ceremonies, authenticator, passkey)
    response = dict(assertion["response"])
    response["clientDataJSON"] = b64url(b"not json at all")
    assertion["response"] = response
    assert refusal(lambda: finish(ceremonies, ceremony_id, assertion, passkey)) == Reason.MALFORMED


def test_a_forgotten_ceremony_cannot_be_answered(
    ceremonies: PasskeyCeremonies, authenticator: SoftwareAuthenticator, passkey: RegisteredPasskey
) -> None:
    ceremony_id, assertion = sign_in(ceremonies, authenticator, passkey)
    ceremonies.forget(ceremony_id)
    assert refusal(lambda: finish(ceremonies, ceremony_id, assertion, passkey)) == Reason.STALE_CHALLENGE
