"""Every page is built on base.html, so every page has the language toggle, the skip link, the GOV.UK header and
footer, the error summary and a title of GOV.UK's form ("Page – GOV.UK One Login")."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "idp" / "templates"
# GOV.UK Frontend's own macros, shadowed to speak Welsh; and base.html itself.
NOT_PAGES = ("govuk_frontend_jinja", "govuk_frontend_wtf")
_EXTENDS_BASE = re.compile(r"""\{%-?\s*extends\s+["']base\.html["']\s*-?%\}""")
_TITLE_BLOCK = re.compile(r"\{%-?\s*block\s+title\s*-?%\}(.+?)\{%-?\s*endblock", re.S)


def _templates() -> list[Path]:
    return sorted(
        path
        for path in TEMPLATES.rglob("*.html")
        if path.name != "base.html" and path.relative_to(TEMPLATES).parts[0] not in NOT_PAGES
    )


def test_there_are_pages_to_check() -> None:
    assert len(_templates()) >= 15


def test_no_page_builds_its_own_html_document() -> None:
    standalone = [
        str(path.relative_to(TEMPLATES))
        for path in _templates()
        if re.search(r"<html|<!doctype", path.read_text(), re.I) and not _EXTENDS_BASE.search(path.read_text())
    ]
    assert not standalone, "Extend base.html instead (it has the toggle, skip link, header and footer): " + ", ".join(
        standalone
    )


def test_every_page_has_a_title() -> None:
    untitled = []
    for path in _templates():
        source = path.read_text()
        if not _EXTENDS_BASE.search(source):
            continue
        title = _TITLE_BLOCK.search(source)
        if title is None or not title.group(1).strip():
            untitled.append(str(path.relative_to(TEMPLATES)))
    assert not untitled, 'Give these pages {% block title %}{{ _("…") }}{% endblock %}: ' + ", ".join(untitled)
