"""The axe-core check itself: it must fail on a page with a real accessibility fault, and pass a clean one."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.accessibility import assert_no_axe_violations, axe_violations
from tests.browser.conftest import Stack

pytestmark = pytest.mark.browser

CLEAN = """<!doctype html><html lang="en"><head><title>Clean</title></head>
<body><main><h1>A heading</h1><img src="data:," alt="A picture"></main></body></html>"""
FAULTY = """<!doctype html><html><head><title>Faulty</title></head>
<body><main><h1>A heading</h1><img src="data:,"><input type="text"></main></body></html>"""


def test_a_clean_page_passes(page: Page) -> None:
    page.set_content(CLEAN)
    assert_no_axe_violations(page, "a clean page")


def test_faults_are_reported_by_rule_and_target(page: Page) -> None:
    page.set_content(FAULTY)
    ids = {violation["id"] for violation in axe_violations(page)}
    assert {"html-has-lang", "image-alt", "label"} <= ids
    with pytest.raises(AssertionError) as failure:
        assert_no_axe_violations(page, "a faulty page")
    report = str(failure.value)
    assert "a faulty page" in report
    assert "image-alt (critical)" in report
    assert "at img" in report


def test_the_check_runs_under_the_providers_content_security_policy(stack: Stack, page: Page) -> None:
    response = page.goto(stack.provider_url + "sign-in")
    assert response is not None and "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    assert_no_axe_violations(page, "sign in")
    page.evaluate("document.documentElement.removeAttribute('lang')")
    assert "html-has-lang" in {violation["id"] for violation in axe_violations(page)}
