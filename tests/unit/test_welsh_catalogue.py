"""The Welsh catalogue is complete: every string a citizen can read has a Welsh translation.

The extraction runs here exactly as `make translations` runs it (the keywords are read from the Makefile), so a
string wrapped in `_()` but never added to the catalogue fails this test, as does an empty or fuzzy translation.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "idp" / "translations" / "cy" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdi]|%%")


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _translated(catalogue: Catalog) -> list[Message]:
    return [message for message in catalogue if message.id]


def _singular(message: Message) -> str:
    return str(message.id[0] if isinstance(message.id, tuple | list) else message.id)


def _forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string or ""]


def _extraction_keywords() -> list[str]:
    """The `-k` options of the Makefile's `translations` target."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntranslations:", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    extract = next(line for line in recipe.splitlines() if "pybabel extract" in line)
    words = shlex.split(extract)
    return [words[i + 1] for i, word in enumerate(words) if word == "-k"]


@pytest.fixture(scope="module")
def catalogue() -> Catalog:
    return _read(CATALOGUE)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    template = tmp_path_factory.mktemp("babel") / "messages.pot"
    keywords = [option for keyword in _extraction_keywords() for option in ("-k", keyword)]
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "--no-location"]
        + ["--omit-header", *keywords, "-o", str(template), "--project", "idp", "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return _read(template)


def test_the_extraction_finds_the_strings_a_citizen_reads(extracted: Catalog) -> None:
    ids = {_singular(message) for message in _translated(extracted)}
    assert {"Continue", "Enter your email address", "Skip to main content"} <= ids
    plural = next(message for message in extracted if _singular(message) == "You can try again in %(num)d minute.")
    assert isinstance(plural.id, tuple | list), "ngettext must be extracted with its plural form"


def test_every_wrapped_string_is_in_the_welsh_catalogue(catalogue: Catalog, extracted: Catalog) -> None:
    missing = sorted(_singular(message) for message in _translated(extracted) if message.id not in catalogue)
    assert not missing, "Run `make translations` and translate these:\n" + "\n".join(missing)


def test_every_entry_has_a_welsh_translation(catalogue: Catalog) -> None:
    untranslated = [_singular(m) for m in _translated(catalogue) if not all(form.strip() for form in _forms(m))]
    assert not untranslated, "No Welsh for:\n" + "\n".join(untranslated)


def test_no_translation_is_fuzzy(catalogue: Catalog) -> None:
    fuzzy = [_singular(message) for message in _translated(catalogue) if message.fuzzy]
    assert not fuzzy, "Fuzzy translations (check them, then remove the flag):\n" + "\n".join(fuzzy)


def test_every_plural_form_is_there(catalogue: Catalog) -> None:
    short = [
        _singular(message)
        for message in _translated(catalogue)
        if message.pluralizable and len(_forms(message)) != catalogue.num_plurals
    ]
    assert not short, f"Welsh needs {catalogue.num_plurals} plural forms:\n" + "\n".join(short)


def test_translations_keep_every_placeholder(catalogue: Catalog) -> None:
    wrong = []
    for message in _translated(catalogue):
        expected = set(PLACEHOLDER.findall(_singular(message)))
        for form in _forms(message):
            if set(PLACEHOLDER.findall(form)) != expected:
                wrong.append(f"{_singular(message)!r} -> {form!r}")
    assert not wrong, "Placeholders differ:\n" + "\n".join(wrong)


def test_the_catalogue_is_sorted_and_has_no_locations_so_branches_merge(catalogue: Catalog) -> None:
    ids = [_singular(message) for message in _translated(catalogue)]
    assert ids == sorted(ids)
    assert not any(message.locations for message in catalogue)
