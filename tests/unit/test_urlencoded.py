"""The urlencoded reader of the requests served ahead of Flask reads what the standard library and werkzeug read."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl

import pytest
import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" decoding error handler)
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from idp.web.urlencoded import TooManyFields, UrlencodedParser

_ALPHABET = "ab=&+%2Ff%e2%82%acZ%zz %%0;é"
TEXTS = [
    "",
    "a=1&&b=&c",
    "a+b=%20x+y&%E2%82%AC=%ff",
    "=x&y=",
    "a=1;b=2",
    "k=%zz&k=2&k=%41",
    "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback",
    *["".join(random.Random(seed).choices(_ALPHABET, k=40)) for seed in range(300)],
]


@pytest.mark.parametrize("text", TEXTS)
def test_a_form_is_read_as_parse_qsl_reads_it(text: str) -> None:
    parser = UrlencodedParser(max_fields=1000)
    expected = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=1000))
    assert parser.parse(text) == expected
    assert parser.parse(text) == expected  # the second time from the decoded values kept


@pytest.mark.parametrize("text", TEXTS)
def test_a_query_is_read_as_flask_reads_it(text: str) -> None:
    parser = UrlencodedParser(errors="werkzeug.url_quote")
    query = text.encode().decode("latin-1")  # as a WSGI server puts it in QUERY_STRING
    environ = EnvironBuilder().get_environ()
    environ["QUERY_STRING"] = query
    args = Request(environ).args
    assert parser.parse(query.encode("latin-1").decode()) == {name: args.getlist(name)[-1] for name in args}


def test_a_form_of_one_field_too_many_is_refused() -> None:
    parser = UrlencodedParser(max_fields=1000)
    at_the_limit = "&".join(f"f{number}=x" for number in range(1000))
    assert len(parser.parse(at_the_limit)) == 1000
    with pytest.raises(TooManyFields):
        parser.parse(at_the_limit + "&one=more")


def test_what_is_kept_stays_bounded() -> None:
    parser = UrlencodedParser()
    for number in range(5000):
        assert parser.parse(f"v=%41{number}") == {"v": f"A{number}"}
    assert len(parser._decoded) <= 1024
    long_value = "%41" * 200
    assert parser.parse("v=" + long_value) == {"v": "A" * 200}
    assert long_value not in parser._decoded
