"""Every form's validation messages come in the citizen's language: each form of the provider is submitted empty,
and with nonsense in its text fields, once in English and once in Welsh, and no error may read the same in both."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField

import idp

NONSENSE = "x"
# The forms every test suite of this provider has; others are found by walking the package.
KNOWN_FORMS = {"EmailForm", "PasswordForm", "NewPasswordForm", "SecurityCodeForm"}


def _form_classes() -> list[type[FlaskForm]]:
    found: dict[str, type[FlaskForm]] = {}
    for module_info in pkgutil.walk_packages(idp.__path__, "idp."):
        if not module_info.name.endswith("forms"):
            continue
        module = importlib.import_module(module_info.name)
        for name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, FlaskForm) and value is not FlaskForm and value.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = value
    return [found[key] for key in sorted(found)]


def _errors(app: Flask, form_class: type[FlaskForm], locale: str, data: dict[str, str]) -> dict[str, str]:
    with app.test_request_context(f"/?lang={locale}", method="POST", data=data):
        form = form_class(meta={"csrf": False})
        form.validate()
        return {name: str(messages[0]) for name, messages in _flatten(form.errors)}


def _flatten(errors: object, prefix: str = "") -> Iterator[tuple[str, list[object]]]:
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _flatten(value, f"{prefix}{key}.")
    elif isinstance(errors, list) and errors and not isinstance(errors[0], dict | list):
        yield prefix.rstrip("."), errors


def _nonsense(form_class: type[FlaskForm], app: Flask) -> dict[str, str]:
    with app.test_request_context("/", method="GET"):
        form = form_class(meta={"csrf": False})
        return {
            field.name: NONSENSE
            for field in form
            if isinstance(field, StringField | PasswordField | TextAreaField) and field.type != "HiddenField"
        }


def test_the_forms_are_found(app: Flask) -> None:
    names = {form_class.__name__ for form_class in _form_classes()}
    assert names >= KNOWN_FORMS


@pytest.mark.parametrize("form_class", _form_classes(), ids=lambda form_class: form_class.__name__)
def test_form_errors_are_in_welsh(app: Flask, form_class: type[FlaskForm]) -> None:
    checked = 0
    for data in ({}, _nonsense(form_class, app)):
        english = _errors(app, form_class, "en", data)
        welsh = _errors(app, form_class, "cy", data)
        assert english.keys() == welsh.keys()
        same = {field: message for field, message in welsh.items() if english[field] == message}
        assert not same, f"{form_class.__name__}: these errors are not translated: {same}"
        checked += len(welsh)
    assert checked or form_class.__name__ not in KNOWN_FORMS, "an empty form of the journeys has errors to check"
