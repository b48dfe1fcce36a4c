from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from idp.identity.credentials import TrustedIssuer
from idp.identity.issuers import IssuerRegistry, build_registry
from idp.identity.registers import Registers
from idp.identity.registers.shipped import shipped_registers
from idp.keys.keyring import Keyring
from idp.services import current_services

BASE_URL = "http://localhost:8080/"


@dataclass
class Checks:
    keyring: Keyring
    registry: IssuerRegistry
    registers: Registers
    trusted: dict[str, TrustedIssuer]


@pytest.fixture
def checks(app: Flask) -> Iterator[Checks]:
    """The real keyring (the app's, with every check's key active) and the shipped registers."""
    with app.app_context():
        keyring = current_services().keyring
        registry = build_registry(keyring, BASE_URL, test_mode=True)
        yield Checks(keyring, registry, shipped_registers(), registry.trusted(trust_simulations=True))
