"""Create a service's RSA key pair for `private_key_jwt`, if it does not exist yet.

    python -m relying_party_examples.keys keys/rp-fishing-licence.private.pem

writes `keys/rp-fishing-licence.private.pem` (mode 0600) and `keys/rp-fishing-licence.public.pem`. The service signs
its client assertions with the private key; the provider is given the public one (`PublicKeySource` `STATIC`).
One Login asks for RSA 2048 keys (reference §3.1, §6.2).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PRIVATE_SUFFIX = ".private.pem"
PUBLIC_SUFFIX = ".public.pem"


def public_key_path(private_key_path: str | Path) -> Path:
    path = Path(private_key_path)
    if not path.name.endswith(PRIVATE_SUFFIX):
        raise ValueError(f"the private key file name must end with {PRIVATE_SUFFIX}: {path}")
    return path.with_name(path.name.removesuffix(PRIVATE_SUFFIX) + PUBLIC_SUFFIX)


def ensure_key_pair(private_key_path: str | Path) -> Path:
    """Create the private key (unless present) and its public key (unless present). Returns the public key path."""
    private_path = Path(private_key_path)
    public_path = public_key_path(private_path)
    private_path.parent.mkdir(parents=True, exist_ok=True)
    if not private_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # O_EXCL: never overwrite a key another process has just written; 0600 from the start, not chmod afterwards.
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
    if not public_path.exists():
        private_key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
        public_path.write_bytes(
            private_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return public_path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write(f"usage: python -m relying_party_examples.keys PATH{PRIVATE_SUFFIX}\n")
        return 2
    sys.stdout.write(f"{ensure_key_pair(args[0])}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
