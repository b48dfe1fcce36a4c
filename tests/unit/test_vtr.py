"""Vectors of trust: reference §2.3 and the simulator's `vtr-validator` cases (§7.4)."""

from __future__ import annotations

from typing import Any

import pytest

from idp.oidc.vtr import (
    VTR_NOT_PERMITTED,
    VTR_NOT_VALID,
    Vector,
    VectorsOfTrust,
    VtrError,
    check_permitted,
    parse_vector,
    parse_vtr,
)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(None, id="absent"),
        pytest.param("", id="empty-string"),
        pytest.param("[]", id="empty-json-list"),
        pytest.param([], id="empty-list-from-request-object"),
    ],
)
def test_default_is_cl_cm_without_identity(raw: Any) -> None:
    vtr = parse_vtr(raw)
    assert vtr.vectors == (Vector("Cl.Cm"),)
    assert vtr.requested == Vector("Cl.Cm", None)
    assert vtr.credential_level == "Cl.Cm"
    assert not vtr.needs_identity
    assert vtr.confidence_levels == ()
    assert vtr.to_json() == ["Cl.Cm"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('["Cl"]', (Vector("Cl"),)),
        ('["Cl.Cm"]', (Vector("Cl.Cm"),)),
        ('["Cl.Cm.P0"]', (Vector("Cl.Cm", "P0"),)),
        ('["Cl.Cm.P1"]', (Vector("Cl.Cm", "P1"),)),
        ('["Cl.Cm.P2"]', (Vector("Cl.Cm", "P2"),)),
        ('["Cl.Cm.P3"]', (Vector("Cl.Cm", "P3"),)),
        # P0 goes with any credential level.
        ('["Cl.P0"]', (Vector("Cl", "P0"),)),
        ('["P0.Cl"]', (Vector("Cl", "P0"),)),
        # Credential components are sorted and re-joined.
        ('["Cm.Cl"]', (Vector("Cl.Cm"),)),
        ('["P2.Cm.Cl"]', (Vector("Cl.Cm", "P2"),)),
        # Components that start with neither C nor P are ignored.
        ('["Cl.Cm.Xy"]', (Vector("Cl.Cm"),)),
        ('["Cl.Cm.P2.Av"]', (Vector("Cl.Cm", "P2"),)),
        # Several vectors, all identity or all non-identity.
        ('["Cl.Cm.P2","Cl.Cm.P1"]', (Vector("Cl.Cm", "P2"), Vector("Cl.Cm", "P1"))),
        ('["Cl","Cl.Cm"]', (Vector("Cl"), Vector("Cl.Cm"))),
        ('["Cl.Cm.P0","Cl.Cm"]', (Vector("Cl.Cm", "P0"), Vector("Cl.Cm"))),
        (' [ "Cl.Cm" ] ', (Vector("Cl.Cm"),)),
        # Inside a request object `vtr` may already be a list.
        (["Cl.Cm.P2"], (Vector("Cl.Cm", "P2"),)),
    ],
)
def test_valid_vectors(raw: Any, expected: tuple[Vector, ...]) -> None:
    assert parse_vtr(raw).vectors == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('["Cl.Cm.P1.P2"]', id="two-P-components"),
        pytest.param('["Cl.Cm.P2.P2"]', id="same-P-twice"),
        pytest.param('["Ch.P2"]', id="bad-C-Ch.P2"),
        pytest.param('["Ch"]', id="bad-C-Ch"),
        pytest.param('["Cm"]', id="Cm-without-Cl"),
        pytest.param('["Cl.Cm.Ch"]', id="extra-C-component"),
        pytest.param('["Cl.Cl"]', id="Cl-twice"),
        pytest.param('["P2"]', id="no-credential-part"),
        pytest.param('[""]', id="empty-vector"),
        pytest.param('["Cl.Cm.P4"]', id="bad-P-P4"),
        pytest.param('["Cl.Cm.P"]', id="bad-P-bare"),
        pytest.param('["Cl.Cm.Px"]', id="bad-P-Px"),
        pytest.param('["Cl.Cm.P02"]', id="bad-P-P02"),
        pytest.param('["Cl.P1"]', id="Cl.P1"),
        pytest.param('["Cl.P2"]', id="Cl.P2"),
        pytest.param('["Cl.P3"]', id="Cl.P3"),
        pytest.param('["Cl.Cm.P2","Cl.Cm"]', id="mixed-identity-and-none"),
        pytest.param('["Cl.Cm.P2","Cl.Cm.P0"]', id="mixed-identity-and-P0"),
        pytest.param('["Cl.Cm.P1","Cl"]', id="mixed-identity-and-Cl"),
        pytest.param('["Cl.Cm","Cl.Cm.P3"]', id="mixed-none-first"),
        pytest.param("[]]", id="invalid-json"),
        pytest.param("Cl.Cm", id="not-json"),
        pytest.param('["Cl.Cm"', id="unterminated-json"),
        pytest.param('"Cl.Cm"', id="json-string-not-list"),
        pytest.param('{"vtr":"Cl.Cm"}', id="json-object"),
        pytest.param("1", id="json-number"),
        pytest.param("null", id="json-null"),
        pytest.param("[1]", id="list-of-non-strings"),
        pytest.param('[["Cl.Cm"]]', id="nested-list"),
        pytest.param({"vtr": "Cl.Cm"}, id="dict-from-request-object"),
        pytest.param(42, id="number-from-request-object"),
    ],
)
def test_invalid_vectors(raw: Any) -> None:
    with pytest.raises(VtrError) as caught:
        parse_vtr(raw)
    assert caught.value.description == VTR_NOT_VALID
    assert str(caught.value) == VTR_NOT_VALID


@pytest.mark.parametrize(
    ("raw", "requested", "credential_level"),
    [
        ('["Cl.Cm.P2","Cl.Cm.P1"]', Vector("Cl.Cm", "P1"), "Cl.Cm"),
        ('["Cl.Cm.P1","Cl.Cm.P3","Cl.Cm.P2"]', Vector("Cl.Cm", "P1"), "Cl.Cm"),
        ('["Cl.Cm","Cl"]', Vector("Cl"), "Cl"),
        ('["Cl.Cm.P0","Cl.P0"]', Vector("Cl", "P0"), "Cl"),
        ('["Cl.Cm.P3"]', Vector("Cl.Cm", "P3"), "Cl.Cm"),
    ],
)
def test_requested_is_the_lowest_vector(raw: str, requested: Vector, credential_level: str) -> None:
    vtr = parse_vtr(raw)
    assert vtr.requested == requested
    assert vtr.credential_level == credential_level


@pytest.mark.parametrize(
    ("raw", "needs_identity", "levels"),
    [
        ('["Cl.Cm"]', False, ()),
        ('["Cl.Cm.P0"]', False, ("P0",)),
        ('["Cl.Cm.P1"]', True, ("P1",)),
        ('["Cl.Cm.P2","Cl.Cm.P1"]', True, ("P1", "P2")),
        ('["Cl.Cm.P2","Cl.Cm.P2"]', True, ("P2",)),
    ],
)
def test_identity_and_confidence_levels(raw: str, needs_identity: bool, levels: tuple[str, ...]) -> None:
    vtr = parse_vtr(raw)
    assert vtr.needs_identity is needs_identity
    assert vtr.confidence_levels == levels


@pytest.mark.parametrize(
    ("vector", "text", "identity_level", "second_factor"),
    [
        (Vector("Cl"), "Cl", 0, False),
        (Vector("Cl.Cm"), "Cl.Cm", 0, True),
        (Vector("Cl", "P0"), "Cl.P0", 0, False),
        (Vector("Cl.Cm", "P2"), "Cl.Cm.P2", 2, True),
    ],
)
def test_vector_properties(vector: Vector, text: str, identity_level: int, second_factor: bool) -> None:
    assert str(vector) == text
    assert vector.identity_level == identity_level
    assert vector.second_factor is second_factor
    assert parse_vector(text) == vector


def test_to_json_round_trips() -> None:
    vtr = parse_vtr('["P2.Cm.Cl","Cl.Cm.P1"]')
    assert vtr.to_json() == ["Cl.Cm.P2", "Cl.Cm.P1"]
    assert parse_vtr(vtr.to_json()) == vtr


IDENTITY_CLIENT = {"client_locs": ["P0", "P2"], "identity_supported": True, "token_auth_method": "private_key_jwt"}


@pytest.mark.parametrize(
    ("raw", "client"),
    [
        pytest.param('["Cl.Cm.P2"]', IDENTITY_CLIENT, id="identity-level-allowed"),
        pytest.param('["Cl.Cm.P0"]', IDENTITY_CLIENT, id="P0-allowed"),
        pytest.param(None, IDENTITY_CLIENT, id="omitted-LoC"),
        pytest.param('["Cl"]', {**IDENTITY_CLIENT, "client_locs": []}, id="omitted-LoC-no-locs-registered"),
        pytest.param(
            '["Cl.Cm.P0"]',
            {"client_locs": ["P0"], "identity_supported": False, "token_auth_method": "client_secret_post"},
            id="P0-for-secret-post-client",
        ),
        pytest.param('["Cl.Cm.P2","Cl.Cm.P1"]', {**IDENTITY_CLIENT, "client_locs": ["P1", "P2"]}, id="two-levels"),
    ],
)
def test_permitted(raw: str | None, client: dict[str, Any]) -> None:
    vtr = parse_vtr(raw)
    check_permitted(vtr, client["client_locs"], client["identity_supported"], client["token_auth_method"])
    assert vtr.vectors


@pytest.mark.parametrize(
    ("raw", "client"),
    [
        pytest.param('["Cl.Cm.P2"]', {**IDENTITY_CLIENT, "client_locs": ["P0"]}, id="LoC-not-allowed"),
        pytest.param('["Cl.Cm.P0"]', {**IDENTITY_CLIENT, "client_locs": ["P2"]}, id="P0-not-allowed"),
        pytest.param(
            '["Cl.Cm.P2","Cl.Cm.P1"]', {**IDENTITY_CLIENT, "client_locs": ["P2"]}, id="one-of-two-not-allowed"
        ),
        pytest.param(
            '["Cl.Cm.P2"]', {**IDENTITY_CLIENT, "identity_supported": False}, id="identity-not-enabled-for-client"
        ),
        pytest.param(
            '["Cl.Cm.P2"]',
            {**IDENTITY_CLIENT, "token_auth_method": "client_secret_post"},
            id="identity-with-client_secret_post",
        ),
    ],
)
def test_not_permitted(raw: str, client: dict[str, Any]) -> None:
    with pytest.raises(VtrError) as caught:
        check_permitted(
            parse_vtr(raw), client["client_locs"], client["identity_supported"], client["token_auth_method"]
        )
    assert caught.value.description == VTR_NOT_PERMITTED


def test_vectors_of_trust_is_a_value() -> None:
    assert VectorsOfTrust((Vector("Cl.Cm", "P2"),)) == parse_vtr('["Cl.Cm.P2"]')
