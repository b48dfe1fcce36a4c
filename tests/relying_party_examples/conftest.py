from __future__ import annotations

from pathlib import Path

import pytest

from relying_party_examples.keys import ensure_key_pair
from tests.relying_party_examples.rp_fakes import FakeProvider


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture(scope="session")
def rp_private_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "rp-test.private.pem"
    ensure_key_pair(path)
    return path
