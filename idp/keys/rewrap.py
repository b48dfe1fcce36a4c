"""Re-encrypting every secret sealed under the master key (the key-encryption key) under a new one.

The operator rotates the master key with `idp keys rewrap`. Every sealed value is opened with the key in use
and sealed again with the new key in one transaction: if any value fails to open, nothing is written. Rows are
read and written in batches by primary key, so memory stays flat however many citizens have an authenticator
app. Anything new that seals a secret must be listed in `SEALED_COLUMNS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, scoped_session

from idp.keys.encryption import SecretBox
from idp.models import SigningKey, User

_BATCH = 500


class RewrapError(ValueError):
    pass


@dataclass(frozen=True)
class SealedColumn:
    """A column holding values sealed by `SecretBox`, and the context each was sealed with (`{id}` is the key)."""

    table: Table
    column: str
    context: str

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"


SEALED_COLUMNS: list[SealedColumn] = [
    SealedColumn(SigningKey.__table__, "private_key_encrypted", "{id}"),
    SealedColumn(User.__table__, "totp_secret_encrypted", "totp:{id}"),
]


def rewrap(
    session: Session | scoped_session[Any],
    current: SecretBox,
    new: SecretBox,
    columns: list[SealedColumn] | None = None,
) -> dict[str, int]:
    """Re-seal every value under `new`; returns how many values each column held. The caller commits."""
    counts: dict[str, int] = {}
    for sealed in columns if columns is not None else SEALED_COLUMNS:
        primary_key = sealed.table.c.id
        value_column = sealed.table.c[sealed.column]
        counts[sealed.name] = 0
        last_id: Any = None
        while True:
            query = select(primary_key, value_column).where(value_column.is_not(None)).order_by(primary_key)
            if last_id is not None:
                query = query.where(primary_key > last_id)
            batch = session.execute(query.limit(_BATCH)).all()
            if not batch:
                break
            resealed = []
            for row_id, value in batch:
                context = sealed.context.format(id=row_id)
                try:
                    plaintext = current.open(bytes(value), context)
                except (ValueError, InvalidTag) as exc:
                    raise RewrapError(f"{sealed.name} of {row_id} does not open with the master key in use") from exc
                resealed.append({"row_id": row_id, "value": new.seal(plaintext, context)})
            session.execute(
                update(sealed.table)
                .where(primary_key == bindparam("row_id"))
                .values({sealed.column: bindparam("value")}),
                resealed,
            )
            counts[sealed.name] += len(batch)
            last_id = batch[-1][0]
    return counts
