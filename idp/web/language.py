"""The citizen's language: the toggle on every page, and the cookie that remembers the choice.

The locale selector (`idp._select_locale`) reads `lang` from the query, then the session, then the cookie. A toggle
link is the same page with `?lang=`; choosing a language here also stores it in the session (so it outranks a
`ui_locales` choice made earlier in the journey) and in a cookie that outlives the session. One Login's
`ui_locales` "only sets the language cookie" (reference, authorize parameters): the session's language is copied
to the cookie in the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Flask, Response, request, session

LANGUAGE_COOKIE = "lang"
COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600

# Each language is named in itself (GOV.UK's pattern), so the names are not translated through the catalogue.
LANGUAGE_NAMES = {"en": "English", "cy": "Cymraeg"}


@dataclass(frozen=True)
class LanguageLink:
    locale: str
    name: str
    href: str
    current: bool


def _supported() -> tuple[str, ...]:
    from idp import SUPPORTED_LOCALES

    return SUPPORTED_LOCALES


def same_page_in(locale: str) -> str:
    """This page with `lang` set, so the citizen stays where they are. Only the query is written: a relative link
    keeps the path the browser already has, and an address like `//elsewhere.example` cannot become the link."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return "?" + urlencode([*args, ("lang", locale)])


def language_links(current_locale: str) -> list[LanguageLink]:
    return [
        LanguageLink(locale, LANGUAGE_NAMES[locale], same_page_in(locale), locale == current_locale)
        for locale in _supported()
    ]


def init_app(app: Flask) -> None:
    supported = _supported()

    @app.before_request
    def remember_a_chosen_language() -> None:
        chosen = request.args.get("lang")
        if chosen in supported and session.get("locale") != chosen:
            session["locale"] = chosen

    @app.after_request
    def set_language_cookie(response: Response) -> Response:
        chosen = request.args.get("lang")
        locale = chosen if chosen in supported else session.get("locale")
        if locale in supported and request.cookies.get(LANGUAGE_COOKIE) != locale:
            response.set_cookie(
                LANGUAGE_COOKIE,
                str(locale),
                max_age=COOKIE_MAX_AGE_SECONDS,
                secure=bool(app.config["SESSION_COOKIE_SECURE"]),
                httponly=True,
                samesite="Lax",
                path="/",
            )
        return response

    app.add_template_global(language_links)
