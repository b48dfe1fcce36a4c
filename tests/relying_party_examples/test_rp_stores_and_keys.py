from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from relying_party_examples.keys import ensure_key_pair, main, public_key_path
from relying_party_examples.sample_service.stores import InMemoryReplayCache, InMemorySignOutRegister


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_replay_cache_remembers_a_key_for_its_time_to_live() -> None:
    clock = Clock()
    cache = InMemoryReplayCache(clock=clock)
    assert cache.first_use("jti-1", 180)
    assert not cache.first_use("jti-1", 180)
    clock.now += 179
    assert not cache.first_use("jti-1", 180)
    clock.now += 1
    assert cache.first_use("jti-1", 180)


def test_sign_out_register_keeps_the_latest_time_and_forgets_after_the_retention() -> None:
    clock = Clock()
    register = InMemorySignOutRegister(retention_seconds=3600, clock=clock)
    register.record("sub-1", clock.now)
    register.record("sub-1", clock.now - 10)
    assert register.signed_out_at("sub-1") == clock.now
    assert register.signed_out_at("sub-2") is None
    clock.now += 3601
    register.record("sub-2", clock.now)
    assert register.signed_out_at("sub-1") is None


def test_ensure_key_pair_creates_a_private_key_0600_and_its_public_key(tmp_path: Path) -> None:
    private_path = tmp_path / "keys" / "rp-fishing-licence.private.pem"
    public_path = ensure_key_pair(private_path)
    assert public_path == tmp_path / "keys" / "rp-fishing-licence.public.pem"
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    private_key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    assert private_key.key_size == 2048
    public_key = serialization.load_pem_public_key(public_path.read_bytes())
    assert isinstance(public_key, rsa.RSAPublicKey)
    assert public_key.public_numbers() == private_key.public_key().public_numbers()


def test_ensure_key_pair_is_idempotent_and_restores_a_missing_public_key(tmp_path: Path) -> None:
    private_path = tmp_path / "rp-x.private.pem"
    public_path = ensure_key_pair(private_path)
    private_pem, public_pem = private_path.read_bytes(), public_path.read_bytes()
    ensure_key_pair(private_path)
    assert (private_path.read_bytes(), public_path.read_bytes()) == (private_pem, public_pem)
    public_path.unlink()
    ensure_key_pair(private_path)
    assert public_path.read_bytes() == public_pem


def test_the_private_key_file_name_must_end_with_private_pem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.private\.pem"):
        public_key_path(tmp_path / "rp.pem")


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "rp-y.private.pem")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "rp-y.public.pem")
    assert main([]) == 2
