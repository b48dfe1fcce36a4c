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


def signed_in() -> Any:
    """A citizen signed in with two factors; anyone else is sent to sign in and brought back here afterwards."""
    from flask import redirect, request, session, url_for

    from idp.web.citizen_session import current_sign_in

    sign_in = current_sign_in()
    if sign_in is not None and sign_in.credential_level == "Cl.Cm":
        return None
    if request.method == "GET":
        session["return_to"] = request.full_path.rstrip("?")
    # Coming to the account on purpose leaves any unfinished sign-in to a service behind.
    session.pop("journey_id", None)
    return redirect(url_for("auth.start"))


def safe_return_path(path: object) -> str | None:
    """A path on this provider to go back to, never somewhere else (no open redirects)."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path
