"""Pairwise subject identifiers (reference §3.3)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import urlsplit

SUBJECT_PREFIX = "urn:fdc:gov.uk:2022:"


def sector_host(sector_identifier_uri: str | None, redirect_uris: list[str]) -> str:
    """The host of the sector identifier, else of the (first) redirect URI, without a leading `www.`."""
    source = sector_identifier_uri or (redirect_uris[0] if redirect_uris else "")
    host = urlsplit(source).hostname or source
    return host.removeprefix("www.")


def pairwise_subject(sector: str, internal_id: str, salt: str) -> str:
    digest = hashlib.sha256(sector.encode() + internal_id.encode() + salt.encode()).digest()
    return SUBJECT_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")
