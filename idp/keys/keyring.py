"""The keyring: the one place that signs and verifies the provider's JWTs.

It always sets `kid` and signs only with the single active key of a purpose and algorithm; it never hands a
key set to a signing call. Keys are read from the database; a process keeps what it read for a few seconds
(`_CACHE_SECONDS`), which is safe because a key is published for a day before it may sign and stays
published after it stops.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from sqlalchemy import select
from sqlalchemy.orm import Session, scoped_session

from idp.keys import jws
from idp.keys.encryption import SecretBox
from idp.keys.rotation import (
    PUBLISHED_STATES,
    KeyFacts,
    KeyRuleError,
    KeyState,
    check_activation,
    check_purpose,
    check_retirement,
    kept_after_retirement,
    kid_for,
    purgeable,
)
from idp.models._types import new_id, utcnow
from idp.models.keys import SigningKey

_CACHE_SECONDS = 5.0

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class NoActiveKeyError(RuntimeError):
    pass


class UnknownKeyError(jwt.InvalidTokenError):
    pass


@dataclass(frozen=True)
class PublishedKey:
    id: str
    kid: str
    purpose: str
    alg: str
    state: KeyState
    public_jwk: dict[str, Any]
    public_key: PublicKey


def generate_private_key(alg: str) -> PrivateKey:
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise KeyRuleError(f"unsupported algorithm {alg}")


def public_jwk_for(public_key: PublicKey, kid: str, alg: str) -> dict[str, Any]:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
    else:
        jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    jwk.pop("key_ops", None)
    return {**jwk, "use": "sig", "kid": kid, "alg": alg}


class Keyring:
    def __init__(self, session_factory: Callable[[], Session | scoped_session[Any]], secret_box: SecretBox) -> None:
        self._session_factory = session_factory
        self._box = secret_box
        self._lock = threading.Lock()
        self._published: tuple[float, list[PublishedKey]] = (0.0, [])
        self._active: dict[tuple[str, str], tuple[float, str, PrivateKey]] = {}
        self._private_by_id: dict[str, PrivateKey] = {}
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever this process learns that the published keys changed."""
        self._listeners.append(listener)

    # -- reading ----------------------------------------------------------------------------------------------

    def published(self, purpose_prefix: str | None = None) -> list[PublishedKey]:
        loaded_at, keys = self._published
        if time.monotonic() - loaded_at > _CACHE_SECONDS:
            keys = self._load_published()
        if purpose_prefix is None:
            return keys
        return [k for k in keys if k.purpose == purpose_prefix or k.purpose.startswith(purpose_prefix + ":")]

    def _load_published(self) -> list[PublishedKey]:
        session = self._session_factory()
        rows = session.scalars(
            select(SigningKey)
            .where(SigningKey.state.in_([s.value for s in PUBLISHED_STATES]))
            .order_by(SigningKey.created_at.desc())
        ).all()
        keys = [
            PublishedKey(
                id=row.id,
                kid=row.kid,
                purpose=row.purpose,
                alg=row.alg,
                state=KeyState(row.state),
                public_jwk=dict(row.public_jwk),
                public_key=_public_key_from_jwk(row.public_jwk),
            )
            for row in rows
        ]
        with self._lock:
            self._published = (time.monotonic(), keys)
        return keys

    def jwks(self, purpose_prefix: str) -> dict[str, list[dict[str, Any]]]:
        return {"keys": [k.public_jwk for k in self.published(purpose_prefix)]}

    def _tell_listeners(self) -> None:
        for listener in self._listeners:
            listener()

    def forget_cache(self) -> None:
        with self._lock:
            self._published = (0.0, [])
            self._active.clear()
        self._tell_listeners()

    def _active_key(self, purpose: str, alg: str) -> tuple[str, PrivateKey]:
        cached = self._active.get((purpose, alg))
        if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1], cached[2]
        session = self._session_factory()
        row = session.scalars(
            select(SigningKey).where(
                SigningKey.purpose == purpose, SigningKey.alg == alg, SigningKey.state == KeyState.ACTIVE.value
            )
        ).first()
        if row is None:
            raise NoActiveKeyError(f"no active {alg} key for {purpose}")
        private_key = self._private_by_id.get(row.id)
        if private_key is None:
            der = self._box.open(row.private_key_encrypted, context=row.id)
            loaded = serialization.load_der_private_key(der, password=None)
            assert isinstance(loaded, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
            private_key = loaded
            self._private_by_id[row.id] = private_key
        with self._lock:
            self._active[(purpose, alg)] = (time.monotonic(), row.kid, private_key)
        if cached is None or cached[1] != row.kid:
            # Another process activated this key: publish what this process serves before signing with it.
            if all(key.kid != row.kid for key in self.published()):
                self._load_published()
                self._tell_listeners()
        return row.kid, private_key

    # -- signing and verifying --------------------------------------------------------------------------------

    def sign(
        self,
        claims: dict[str, Any],
        purpose: str,
        alg: str = "ES256",
        headers: dict[str, Any] | None = None,
        kid_prefix: str = "",
    ) -> str:
        kid, private_key = self._active_key(purpose, alg)
        header = {**(headers or {}), "kid": kid_prefix + kid}
        return jws.sign(claims, private_key, alg, header)

    def active_kid(self, purpose: str, alg: str = "ES256") -> str:
        return self._active_key(purpose, alg)[0]

    def verify(
        self,
        token: str,
        purpose_prefix: str,
        *,
        audience: str | Iterable[str] | None = None,
        issuer: str | None = None,
        verify_exp: bool = True,
        leeway: int = 30,
        kid_prefix: str = "",
        verify_nbf: bool = True,
    ) -> dict[str, Any]:
        """Verify one of our own tokens: the key is chosen by `kid` among the published keys of the purpose."""
        header = jwt.get_unverified_header(token)
        kid = str(header.get("kid", ""))
        if kid_prefix:
            if not kid.startswith(kid_prefix):
                raise UnknownKeyError("unknown kid")
            kid = kid[len(kid_prefix) :]
        key = self._find(kid, purpose_prefix)
        if key is None:
            raise UnknownKeyError("unknown kid")
        if header.get("alg") != key.alg:
            raise jwt.InvalidAlgorithmError("alg does not match the key")
        return jwt.decode(
            token,
            key.public_key,
            algorithms=[key.alg],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"verify_exp": verify_exp, "verify_aud": audience is not None, "verify_nbf": verify_nbf},
        )

    def _find(self, kid: str, purpose_prefix: str) -> PublishedKey | None:
        for refresh in (False, True):
            if refresh:
                self._load_published()
            for key in self.published(purpose_prefix):
                if key.kid == kid:
                    return key
        return None

    # -- the key life cycle (the admin commands call these) ---------------------------------------------------

    def generate(self, purpose: str, alg: str, state: KeyState = KeyState.PENDING) -> SigningKey:
        check_purpose(purpose, alg)
        session = self._session_factory()
        internal_id = new_id()
        private_key = generate_private_key(alg)
        kid = kid_for(internal_id)
        der = private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        row = SigningKey(
            id=internal_id,
            kid=kid,
            purpose=purpose,
            alg=alg,
            state=state.value,
            private_key_encrypted=self._box.seal(der, context=internal_id),
            public_jwk=public_jwk_for(private_key.public_key(), kid, alg),
            activated_at=utcnow() if state is KeyState.ACTIVE else None,
        )
        session.add(row)
        session.flush()
        self.forget_cache()
        return row

    def activate(self, kid: str, publish_period: timedelta, force: bool = False) -> SigningKey:
        session = self._session_factory()
        row = self._row(session, kid)
        check_activation(_facts(row), utcnow(), publish_period, force)
        now = utcnow()
        for other in session.scalars(
            select(SigningKey).where(
                SigningKey.purpose == row.purpose, SigningKey.alg == row.alg, SigningKey.state == KeyState.ACTIVE.value
            )
        ):
            other.state = KeyState.RETIRED.value
            other.retired_at = now
        row.state = KeyState.ACTIVE.value
        row.activated_at = now
        session.flush()
        self.forget_cache()
        return row

    def retire(self, kid: str) -> SigningKey:
        session = self._session_factory()
        row = self._row(session, kid)
        check_retirement(_facts(row))
        row.state = KeyState.RETIRED.value
        row.retired_at = utcnow()
        session.flush()
        self.forget_cache()
        return row

    def purge(
        self, longest_token_lifetime: timedelta, purpose: str | None = None, alg: str | None = None
    ) -> list[SigningKey]:
        """Remove retired keys (of one purpose and algorithm, if given) once every token they signed has expired."""
        session = self._session_factory()
        now = utcnow()
        query = select(SigningKey).where(SigningKey.state == KeyState.RETIRED.value)
        if purpose is not None:
            query = query.where(SigningKey.purpose == purpose)
        if alg is not None:
            query = query.where(SigningKey.alg == alg)
        removed = [
            row
            for row in session.scalars(query)
            if purgeable(_facts(row), now, longest_token_lifetime) and not kept_after_retirement(row.purpose)
        ]
        for row in removed:
            session.delete(row)
            self._private_by_id.pop(row.id, None)
        session.flush()
        self.forget_cache()
        return removed

    def ensure_active(self, purposes: Iterable[tuple[str, str]]) -> list[SigningKey]:
        """First run: give each (purpose, alg) without a signing key an active one."""
        session = self._session_factory()
        created = []
        for purpose, alg in purposes:
            exists = session.scalars(
                select(SigningKey.id).where(
                    SigningKey.purpose == purpose, SigningKey.alg == alg, SigningKey.state == KeyState.ACTIVE.value
                )
            ).first()
            if exists is None:
                created.append(self.generate(purpose, alg, state=KeyState.ACTIVE))
        return created

    @staticmethod
    def _row(session: Session | scoped_session[Any], kid: str) -> SigningKey:
        row = session.scalars(select(SigningKey).where(SigningKey.kid == kid)).first()
        if row is None:
            raise KeyRuleError(f"no key with kid {kid}")
        return row


def _facts(row: SigningKey) -> KeyFacts:
    return KeyFacts(state=KeyState(row.state), created_at=row.created_at, retired_at=row.retired_at)


def _public_key_from_jwk(jwk: dict[str, Any]) -> PublicKey:
    key: Any = ECAlgorithm.from_jwk(jwk) if jwk["kty"] == "EC" else RSAAlgorithm.from_jwk(jwk)
    assert isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
    return key
