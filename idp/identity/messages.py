"""Marks user-facing text in domain code for extraction into the Welsh catalogue, without importing Flask.

`_l("…")` returns its argument unchanged; `make translations` extracts it (the `_l` keyword), and the page that
shows the text translates it with `gettext(message, **params)`.
"""

from __future__ import annotations


def _l(message: str) -> str:
    return message
