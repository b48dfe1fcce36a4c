"""Compact JWS serialisation (RFC 7515 §7.1) over PyJWT's algorithms.

PyJWT does the cryptography (`jwt.get_algorithm_by_name(...).sign/verify`, including the ECDSA signature encoding of
RFC 7518 §3.4), except ES256, done here with `cryptography` directly. We do the compact serialisation
ourselves because PyJWT 2.15 checks every character of every segment in a Python generator, which cost about 60 µs
per token on /token, the busiest endpoint; here a compiled regular expression does the same check. JSON is read and
written with orjson, as on every hot path (records in the store, the API's bodies): the standard library's json takes
12 µs to write a token's claims, orjson under 1.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from jwt.algorithms import Algorithm, get_default_algorithms

_SEGMENT = re.compile(rb"^[A-Za-z0-9_-]*$")
_ALGORITHMS: dict[str, Algorithm] = {}
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_ENCODED_HEADERS: dict[tuple[Any, ...], bytes] = {}
_MAX_ENCODED_HEADERS = 256


class MalformedJWS(ValueError):
    pass


class BadSignature(ValueError):
    pass


def algorithm(name: str) -> Algorithm:
    found = _ALGORITHMS.get(name)
    if found is None:
        if name.lower() == "none":
            raise BadSignature("the none algorithm is never accepted")
        known = get_default_algorithms()
        if name not in known:
            raise BadSignature(f"unknown algorithm {name}")
        found = known[name]
        _ALGORITHMS[name] = found
    return found


def b64url_encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def b64url_decode(segment: bytes) -> bytes:
    if not _SEGMENT.match(segment) or len(segment) % 4 == 1:
        raise MalformedJWS("not base64url")
    return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))


@dataclass(frozen=True)
class ParsedJWS:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse(token: str) -> ParsedJWS:
    """Split and decode a compact JWS whose payload is a JSON object; the signature is not checked here."""
    raw = token.encode("ascii", errors="strict") if token.isascii() else b""
    parts = raw.split(b".")
    if len(parts) != 3:
        raise MalformedJWS("a compact JWS has three segments")
    try:
        header = orjson.loads(b64url_decode(parts[0]))
        claims = orjson.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError as exc:
        raise MalformedJWS("a segment is not base64url-encoded JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise MalformedJWS("header and payload must be JSON objects")
    return ParsedJWS(header, claims, parts[0] + b"." + parts[1], signature)


def verify(parsed: ParsedJWS, key: Any, allowed_algorithms: tuple[str, ...]) -> None:
    alg = parsed.header.get("alg")
    if not isinstance(alg, str) or alg not in allowed_algorithms:
        raise BadSignature("algorithm not allowed")
    if alg == "ES256":
        _verify_es256(parsed, key)
        return
    try:
        valid = algorithm(alg).verify(parsed.signing_input, key, parsed.signature)
    except (TypeError, ValueError) as exc:
        raise BadSignature("the key does not fit the algorithm") from exc
    if not valid:
        raise BadSignature("signature does not verify")


def _verify_es256(parsed: ParsedJWS, key: Any) -> None:
    # RFC 7518 §3.4: ES256 is ECDSA on P-256 with SHA-256, the signature R and S as 32 octets each. (PyJWT takes the
    # curve from the key, and converts through hex strings: 4 µs slower, and /token verifies one per request.)
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise BadSignature("the key does not fit the algorithm")
    signature = parsed.signature
    if len(signature) != 64:
        raise BadSignature("signature does not verify")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, parsed.signing_input, _ECDSA_SHA256)
    except InvalidSignature as exc:
        raise BadSignature("signature does not verify") from exc


def _encoded_header(alg: str, header: dict[str, Any]) -> bytes:
    """A process signs with a handful of headers (a `kid` per active key and purpose), so each is encoded once."""
    try:
        cache_key = (alg, *header.items())
        encoded = _ENCODED_HEADERS.get(cache_key)
    except TypeError:  # a value that cannot be a dictionary key: encoded every time
        cache_key, encoded = None, None
    if encoded is None:
        encoded = b64url_encode(orjson.dumps({"alg": alg, **header}))
        if cache_key is not None and len(_ENCODED_HEADERS) < _MAX_ENCODED_HEADERS:
            _ENCODED_HEADERS[cache_key] = encoded
    return encoded


def sign(claims: dict[str, Any], key: Any, alg: str, header: dict[str, Any]) -> str:
    signing_input = _encoded_header(alg, header) + b"." + b64url_encode(orjson.dumps(claims))
    if alg == "ES256":
        # RFC 7518 §3.4: R and S as 32 octets each. PyJWT does the same through hex strings, 9 µs slower a
        # signature, and /token signs two.
        r, s = decode_dss_signature(key.sign(signing_input, _ECDSA_SHA256))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = algorithm(alg).sign(signing_input, key)
    return (signing_input + b"." + b64url_encode(signature)).decode("ascii")
