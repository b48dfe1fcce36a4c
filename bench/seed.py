"""Benchmark fixtures for our provider: the bench client's key and registration, and a pool of users.

    python bench/seed.py client OUT_DIR
        writes OUT_DIR/bench-rp.private.pem (the client's ES256 key, read by bench/mint.py) and
        OUT_DIR/registration.json (One Login registration format, for `flask --app idp setup --registrations`).

    python bench/seed.py users --n 4000 --out FILE
        with the provider's environment (DATABASE_URL, IDP_MASTER_KEY, ...): inserts N users straight into the
        database, each with email_verified, an authenticator app (mfa_method auth_app) and its own TOTP secret,
        all with one Argon2id hash of the same password computed once at the provider's own cost; writes one JSON
        object per line to FILE: {"email", "password", "totp_secret"} for bench/mint.py --users.

Only for a throwaway benchmark database: the password and the TOTP secrets are written in clear to FILE.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pyotp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

CLIENT_ID = "bench-rp"
REDIRECT_URI = "http://127.0.0.1:8080/callback"
PASSWORD = "bench-password-1"


def write_client(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path = out_dir / "bench-rp.private.pem"
    private_path.write_bytes(private_pem)
    private_path.chmod(0o600)
    registration = {
        "ClientID": CLIENT_ID,
        "ClientName": "Benchmark RP",
        "RedirectUrls": [REDIRECT_URI],
        "PostLogoutRedirectUrls": [],
        "Scopes": ["openid", "email", "phone"],
        "Claims": [],
        "ClientLoCs": ["P0"],
        "IdentityVerificationSupported": False,
        "IdTokenSigningAlgorithm": "ES256",
        "TokenAuthMethod": "private_key_jwt",
        "PublicKeySource": "STATIC",
        "PublicKey": public_pem.decode(),
        "PKCEEnforced": True,
        "IsActive": True,
    }
    (out_dir / "registration.json").write_text(json.dumps(registration, indent=2) + "\n")


def insert_users(n: int, out: Path) -> None:
    from idp import create_app
    from idp.extensions import db
    from idp.models import User
    from idp.models._types import new_id
    from idp.services import current_services

    app = create_app()
    with app.app_context():
        services = current_services()
        config = app.config
        started = time.perf_counter()
        password_hash = services.passwords.hash(PASSWORD)
        hash_ms = (time.perf_counter() - started) * 1000
        lines = []
        users = []
        for i in range(n):
            user_id = new_id()
            secret = pyotp.random_base32(length=32)
            email = f"bench-user-{i:05d}@example.com"
            users.append(
                User(
                    id=user_id,
                    email=email,
                    email_verified=True,
                    password_hash=password_hash,
                    mfa_method="auth_app",
                    totp_secret_encrypted=services.secret_box.seal(secret.encode(), context=f"totp:{user_id}"),
                )
            )
            lines.append(json.dumps({"email": email, "password": PASSWORD, "totp_secret": secret}))
        db.session.add_all(users)
        db.session.commit()
    out.write_text("\n".join(lines) + "\n")
    out.chmod(0o600)
    print(
        json.dumps(
            {
                "users": n,
                "argon2": {
                    "type": "argon2id",
                    "memory_kib": config["IDP_ARGON2_MEMORY_KIB"],
                    "time_cost": config["IDP_ARGON2_TIME_COST"],
                    "parallelism": 1,
                    "one_hash_ms": round(hash_ms, 1),
                },
                "hash_prefix": password_hash.split("$")[1:4],
            }
        )
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    client = sub.add_parser("client", help="the bench client's key and registration JSON")
    client.add_argument("out_dir", type=Path)
    users = sub.add_parser("users", help="insert the user pool and write it for the minter")
    users.add_argument("--n", type=int, default=4000)
    users.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "client":
        write_client(args.out_dir)
    else:
        insert_users(args.n, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
