"""Every blueprint is registered with an explicit access rule; a test asserts no route is left without one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask


def public() -> None:
    """Anyone may call these routes; each view does its own protocol checks."""


def register_blueprint(app: Flask, blueprint: Blueprint, access_rule: Callable[[], Any]) -> None:
    app.register_blueprint(blueprint)
    app.before_request_funcs.setdefault(blueprint.name, []).append(access_rule)
    app.extensions.setdefault("access_rules", {})[blueprint.name] = access_rule.__name__
