"""Architecture rule: identity domain code knows nothing of HTTP (no Flask import anywhere under idp/identity)."""

from __future__ import annotations

import ast
from pathlib import Path

import idp.identity

PACKAGE = Path(idp.identity.__file__).parent


def test_no_module_of_the_identity_domain_imports_flask() -> None:
    offenders = []
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 20
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "flask" or name.startswith(("flask.", "flask_")) for name in names):
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
