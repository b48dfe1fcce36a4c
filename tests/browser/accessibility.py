"""axe-core in the browser tests: every page a test visits is checked against WCAG 2.x A and AA.

The pinned axe-core (package.json) is evaluated through the DevTools protocol, as the test's own script, so the
provider's Content-Security-Policy stays exactly as strict as a citizen's browser sees it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.backends import IN_CI

AXE_SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN_AXE = """async (tags) => {
  const results = await window.axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    helpUrl: violation.helpUrl,
    targets: violation.nodes.map((node) => node.target.join(" ")),
  }));
}"""


@functools.cache
def axe_source() -> str:
    if not AXE_SOURCE.exists():
        message = f"axe-core is not installed at {AXE_SOURCE} (run `make assets`)"
        if IN_CI:
            pytest.fail(message + ": CI must install it")
        pytest.skip(message)
    return AXE_SOURCE.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The WCAG 2.x A/AA violations axe finds on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, WCAG_TAGS)
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        lines.extend(f"    at {target}" for target in violation["targets"])
    return "\n".join(lines)


def assert_no_axe_violations(page: Page, context: str = "") -> None:
    """Fail with a readable list (rule id, impact, what to fix, where) if axe finds any violation."""
    page.wait_for_load_state("load")
    violations = axe_violations(page)
    where = f"{context} ({page.url})" if context else page.url
    assert not violations, f"axe-core found {len(violations)} accessibility violation(s) on {where}:\n" + describe(
        violations
    )
