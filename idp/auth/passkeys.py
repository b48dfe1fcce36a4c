"""Passkeys: the WebAuthn registration and authentication ceremonies (W3C Web Authentication Level 3, §7).

py_webauthn does the cryptography and most of the verification steps. Around it this module keeps what the
library leaves to the relying party: single-use challenges with a short life in the store, the owner of a
credential, the user handle, and the signature counter, which the library would only report as a generic
failure: here a counter that goes backwards is told apart, because it means a cloned authenticator (§6.1.1).

Every refusal is a `PasskeyRefused` with a `reason` from `Reason`; callers turn it into words for the citizen.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    ClientDataType,
    CollectedClientData,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from idp.store import Store

# ES256 first: every platform authenticator supports it. RS256 for Windows Hello. EdDSA for security keys.
SUPPORTED_ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
REGISTER = "register"
AUTHENTICATE = "authenticate"


class Reason(StrEnum):
    STALE_CHALLENGE = "stale_challenge"  # expired, already used, never issued, or issued for something else
    MALFORMED = "malformed"
    WRONG_ORIGIN = "wrong_origin"
    WRONG_RP_ID = "wrong_rp_id"
    UNKNOWN_CREDENTIAL = "unknown_credential"
    WRONG_USER = "wrong_user"
    USER_NOT_VERIFIED = "user_not_verified"
    INVALID = "invalid"  # a bad signature, or any other step of §7 that failed
    CLONED_AUTHENTICATOR = "cloned_authenticator"
    ALREADY_REGISTERED = "already_registered"


class PasskeyRefused(Exception):
    def __init__(self, reason: Reason, user_id: str | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.user_id = user_id  # the owner of the credential, when it was known


@dataclass(frozen=True)
class Ceremony:
    """A ceremony begun: the id the browser's session keeps, and the options for navigator.credentials."""

    ceremony_id: str
    options_json: str


@dataclass(frozen=True)
class RegisteredPasskey:
    credential_id: bytes
    user_id: str
    public_key: bytes
    sign_count: int


@dataclass(frozen=True)
class NewPasskey:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    transports: list[str]


@dataclass(frozen=True)
class Authenticated:
    passkey: RegisteredPasskey
    new_sign_count: int


def rp_id_and_origin(issuer: str) -> tuple[str, str]:
    """The relying party id is the issuer's host; the only origin accepted is the issuer's."""
    parts = urlsplit(issuer)
    host = parts.hostname or ""
    return host, f"{parts.scheme}://{parts.netloc}"


def user_handle(user_id: str) -> bytes:
    # §14.6.1: the user handle must not contain personal data. The account's id is a random UUID: opaque.
    return user_id.encode()


class PasskeyCeremonies:
    def __init__(self, store: Store, *, issuer: str, rp_name: str, challenge_ttl: int) -> None:
        self.store = store
        self.rp_id, self.origin = rp_id_and_origin(issuer)
        self.rp_name = rp_name
        self.challenge_ttl = challenge_ttl

    # -- registration (§7.1) ------------------------------------------------------------------------------------

    def start_registration(self, *, user_id: str, user_name: str, existing: list[bytes]) -> Ceremony:
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=self.rp_name,
            user_id=user_handle(user_id),
            user_name=user_name,
            timeout=self.challenge_ttl * 1000,
            attestation=AttestationConveyancePreference.NONE,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            # §5.4.3: excludeCredentials stops the same authenticator being registered twice.
            exclude_credentials=[PublicKeyCredentialDescriptor(id=credential) for credential in existing],
            supported_pub_key_algs=SUPPORTED_ALGORITHMS,
        )
        return Ceremony(self._remember(REGISTER, options.challenge, user_id), options_to_json(options))

    def finish_registration(self, ceremony_id: str, *, user_id: str, credential_json: str) -> NewPasskey:
        challenge = self._redeem(ceremony_id, REGISTER, user_id)
        try:
            credential = parse_registration_credential_json(credential_json)
        except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
            raise PasskeyRefused(Reason.MALFORMED, user_id) from exc
        self._check_client_data(credential, ClientDataType.WEBAUTHN_CREATE, user_id)
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                # §7.1 step 15: "If user verification is required for this registration, verify that the User
                # Verified bit of the flags in authData is set."
                require_user_verification=True,
                supported_pub_key_algs=SUPPORTED_ALGORITHMS,
            )
        except WebAuthnException as exc:
            raise PasskeyRefused(_reason_of(exc), user_id) from exc
        transports = [transport.value for transport in (credential.response.transports or [])]
        return NewPasskey(
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            aaguid=verified.aaguid,
            transports=transports,
        )

    # -- authentication (§7.2) ----------------------------------------------------------------------------------

    def start_authentication(self, *, user_id: str | None = None, allowed: list[bytes] | None = None) -> Ceremony:
        """With no user: a passwordless sign-in, the authenticator offers its discoverable credentials.
        With a user (the second factor after a password): only that user's credentials will do."""
        options = generate_authentication_options(
            rp_id=self.rp_id,
            timeout=self.challenge_ttl * 1000,
            allow_credentials=[PublicKeyCredentialDescriptor(id=credential) for credential in allowed or []],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        return Ceremony(self._remember(AUTHENTICATE, options.challenge, user_id), options_to_json(options))

    def finish_authentication(
        self,
        ceremony_id: str,
        *,
        credential_json: str,
        find_passkey: Callable[[bytes], RegisteredPasskey | None],
        user_id: str | None = None,
    ) -> Authenticated:
        # The challenge is spent before anything else is looked at: a replayed or second attempt never verifies.
        challenge = self._redeem(ceremony_id, AUTHENTICATE, user_id)
        try:
            credential = parse_authentication_credential_json(credential_json)
        except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
            raise PasskeyRefused(Reason.MALFORMED, user_id) from exc

        # §7.2 steps 5-6: the credential must be one we registered, and belong to the user being signed in.
        passkey = find_passkey(credential.raw_id)
        if passkey is None:
            raise PasskeyRefused(Reason.UNKNOWN_CREDENTIAL, user_id)
        owner = passkey.user_id
        if user_id is not None and owner != user_id:
            raise PasskeyRefused(Reason.WRONG_USER, user_id)
        handle = credential.response.user_handle
        if (user_id is None and handle is None) or (handle is not None and handle != user_handle(owner)):
            # "If the user was not identified before the authentication ceremony was initiated, verify that
            # response.userHandle is present", and that it is the owner of the credential.
            raise PasskeyRefused(Reason.WRONG_USER, owner)

        self._check_client_data(credential, ClientDataType.WEBAUTHN_GET, owner)
        try:
            # The counter is checked below, after the signature, so that a clone is told from a forgery.
            verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                credential_public_key=passkey.public_key,
                credential_current_sign_count=0,
                require_user_verification=True,
            )
            new_count = parse_authenticator_data(credential.response.authenticator_data).sign_count
        except WebAuthnException as exc:
            raise PasskeyRefused(_reason_of(exc), owner) from exc

        # §7.2 step 23: "If authData.signCount is nonzero or storedSignCount is nonzero ... [and] less than or
        # equal to storedSignCount: This is a signal that the authenticator may be cloned". We refuse it.
        if (new_count > 0 or passkey.sign_count > 0) and new_count <= passkey.sign_count:
            raise PasskeyRefused(Reason.CLONED_AUTHENTICATOR, owner)
        return Authenticated(passkey, new_count)

    # -- challenges ---------------------------------------------------------------------------------------------

    def forget(self, ceremony_id: str) -> None:
        """A ceremony the browser gave up (it began another): its challenge can no longer be answered."""
        self.store.delete(_key(ceremony_id))

    def _remember(self, kind: str, challenge: bytes, user_id: str | None) -> str:
        ceremony_id = secrets.token_urlsafe(24)
        value = {"kind": kind, "challenge": bytes_to_base64url(challenge), "user_id": user_id}
        self.store.set(_key(ceremony_id), json.dumps(value).encode(), self.challenge_ttl)
        return ceremony_id

    def _redeem(self, ceremony_id: str, kind: str, user_id: str | None) -> bytes:
        stored = self.store.take(_key(ceremony_id)) if ceremony_id else None
        if stored is None:
            raise PasskeyRefused(Reason.STALE_CHALLENGE, user_id)
        value: dict[str, Any] = json.loads(stored)
        if value.get("kind") != kind or value.get("user_id") != user_id:
            raise PasskeyRefused(Reason.STALE_CHALLENGE, user_id)
        return base64url_to_bytes(str(value["challenge"]))

    def _check_client_data(
        self, credential: RegistrationCredential | AuthenticationCredential, kind: ClientDataType, user_id: str | None
    ) -> None:
        """Origin and rp id first, so that a passkey used on another site is named as such (§7.2 steps 13, 15)."""
        try:
            client_data: CollectedClientData = parse_client_data_json(credential.response.client_data_json)
            if isinstance(credential, AuthenticationCredential):
                rp_id_hash = parse_authenticator_data(credential.response.authenticator_data).rp_id_hash
            else:
                rp_id_hash = None
        except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
            raise PasskeyRefused(Reason.MALFORMED, user_id) from exc
        if client_data.type != kind:
            raise PasskeyRefused(Reason.INVALID, user_id)
        if client_data.origin != self.origin:
            raise PasskeyRefused(Reason.WRONG_ORIGIN, user_id)
        if rp_id_hash is not None and rp_id_hash != hashlib.sha256(self.rp_id.encode()).digest():
            raise PasskeyRefused(Reason.WRONG_RP_ID, user_id)


def _key(ceremony_id: str) -> str:
    return f"passkey-ceremony:{ceremony_id}"


def _reason_of(exc: WebAuthnException) -> Reason:
    message = str(exc)
    if "RP ID hash" in message:
        return Reason.WRONG_RP_ID
    if "User verification is required" in message:
        return Reason.USER_NOT_VERIFIED
    if "challenge" in message:
        return Reason.STALE_CHALLENGE
    return Reason.INVALID
