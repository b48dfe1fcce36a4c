"""What every operator command shares: who is running it, how it answers, how it fails.

A command prints a readable table by default and JSON with `--json`. When it fails it says what was wrong on
standard error, exits non-zero and leaves the database as it was (the session is rolled back).
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import click

from idp.extensions import db

_P = ParamSpec("_P")
_R = TypeVar("_R")

_OPERATOR_NAME = re.compile(r"^[A-Za-z0-9._@+-]{1,100}$")

json_option = click.option("--json", "as_json", is_flag=True, help="Answer in JSON instead of a table.")


def operator_actor() -> str:
    """The audit actor for the person running the command: `IDP_OPERATOR`, else the operating system's user."""
    name = os.environ.get("IDP_OPERATOR", "").strip()
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    if not _OPERATOR_NAME.match(name):
        raise click.ClickException("IDP_OPERATOR must be 1 to 100 letters, digits or . _ @ + -")
    return f"operator:{name}"


def fails_cleanly(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn a refused input into a clear message and a non-zero exit, with nothing written."""

    @functools.wraps(command)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return command(*args, **kwargs)
        except click.ClickException:
            db.session.rollback()
            raise
        except ValueError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc

    return run


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain aligned table with a header row, readable in a terminal and by `grep`."""
    cells = [[column.upper().replace("_", " ") for column in columns]]
    cells += [[show(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in cells
    )


def fields_table(record: dict[str, Any]) -> str:
    """One record, one field per line."""
    width = max((len(name) for name in record), default=0)
    return "\n".join(f"{name.ljust(width)}  {show(value)}" for name, value in record.items())


def emit(data: Any, as_json: bool, text: str) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
    else:
        click.echo(text)
