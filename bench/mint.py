"""Provider-agnostic sign-in minter, used for both providers so that the client side is identical.

A Python port of /work/shared/peers/harness/mint.mjs (same algorithm, same output), extended with a user pool
with authenticator-app codes (our provider asks for email, password and a TOTP code) and a single-sign-on mode.

Each sign-in, with a fresh cookie jar:
    GET authorization_endpoint (response_type=code, scope, state, nonce, PKCE S256)
    -> follow 3xx; whenever a 200 page with a <form> arrives, submit its first form (action, method), filling
       the inputs named in --field (or, with --users, `email`, `password` and `code`), passing every other
       input's value unchanged (hidden CSRF tokens) plus the first named submit button; at most 12 requests
    -> stop at the 3xx to --redirect-uri, check `state`, take `code`
and writes one ready token-request body per line (form-urlencoded): grant_type=authorization_code, code,
redirect_uri, code_verifier, client_assertion_type=jwt-bearer and client_assertion, a fresh JWT (iss=sub=
client_id, aud=token endpoint, random jti, iat=now, exp=now+--assertion-ttl) signed with --key (ES256 for an
EC P-256 key, RS256 for RSA; JWK JSON or PEM).

Modes:
    (default)    N full sign-ins with --concurrency workers, one token-request body per sign-in
    --exchange   redeem each code at once, check the ID token (signature against the JWKS, iss, aud, nonce) and
                 userinfo; write one access token per line
    --sso        single sign-on: S = ceil(N / --codes-per-session) full sign-ins (signed-in browsers, each its own
                 cookie jar), then N authorization requests spread round-robin over those jars, each of which must
                 answer with the code-bearing redirect in exactly one request; one body per code. The rate reported
                 is that of the authorization requests alone. --w5-out writes, for wrk's W5, one line per browser
                 (up to --w5-sessions): an authorization request path (fresh state, nonce, PKCE challenge), a tab,
                 and that browser's Cookie header.
                 --codes-per-session 0 uses one browser for all N (see bench/README.md: node-oidc-provider's
                 in-memory adapter slows down as one grant collects thousands of codes).

--users FILE (JSON lines with email, password, totp_secret, from bench/seed.py) takes users round-robin starting
at the index in --user-cursor (a file, updated on exit, so that successive runs continue the rotation); the code is
pyotp.TOTP(secret).now() when the form is filled. A user may be used at most once per 30-second TOTP step (our
provider accepts each code once); the minter stops with an error rather than reuse one.

Stops at the first error. Bounded by N and by --max-seconds. Refuses any URL that is not loopback HTTP.
Prints a JSON summary on stdout (sign-ins/s, per-sign-in latency percentiles, client CPU).
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import hashlib
import http.client
import json
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import jwt
import pyotp
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

MAX_STEPS = 12  # HTTP requests per sign-in before giving up
LOOPBACK = ("127.0.0.1", "localhost", "::1")
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOTP_STEP = 30


class MintError(Exception):
    pass


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def checked(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise MintError(f"refusing non-loopback URL {url}")
    return url


# --- HTTP: one keep-alive connection per worker -----------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str


class Http:
    def __init__(self) -> None:
        self._conns: dict[tuple[str, int], http.client.HTTPConnection] = {}

    def request(self, method: str, url: str, headers: dict[str, str], body: str | None = None) -> Response:
        parts = urlsplit(checked(url))
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        address = (parts.hostname or "127.0.0.1", parts.port or 80)
        for attempt in (1, 2):
            conn = self._conns.get(address)
            reused = conn is not None
            if conn is None:
                conn = http.client.HTTPConnection(address[0], address[1], timeout=30)
                self._conns[address] = conn
            try:
                conn.request(method, target, body=body.encode() if body is not None else None, headers=headers)
                res = conn.getresponse()
                text = res.read().decode("utf-8", "replace")
                if res.will_close:
                    conn.close()
                    del self._conns[address]
                return Response(res.status, res.msg, text)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self._conns.pop(address, None)
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()


# --- cookie jar (one per sign-in; Path, Domain and Secure ignored: everything is one loopback origin) ----------


def store_cookies(jar: dict[str, str], set_cookie: list[str]) -> None:
    for line in set_cookie:
        pair, *attrs = line.split(";")
        name, _, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        expired = False
        for attr in attrs:
            key, _, val = attr.strip().partition("=")
            if key.lower() == "max-age":
                try:
                    expired = expired or int(val) <= 0
                except ValueError:
                    pass
            elif key.lower() == "expires":
                try:
                    expired = expired or email.utils.parsedate_to_datetime(val).timestamp() < time.time()
                except (TypeError, ValueError):
                    pass
        if expired or value == "":
            jar.pop(name, None)
        else:
            jar[name] = value


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


# --- minimal HTML form extraction (the regular expressions of mint.mjs) ----------------------------------------

_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "#39": "'", "#x27": "'", "#x2F": "/"}
_ENTITY = re.compile(r"&(amp|lt|gt|quot|#39|#x27|#x2F);")
_FORM = re.compile(r"<form\b([^>]*)>([\s\S]*?)</form>", re.IGNORECASE)
_CONTROL = re.compile(r"<(input|button|select|textarea)\b([^>]*)>", re.IGNORECASE)
_CHECKED = re.compile(r"\schecked\b", re.IGNORECASE)
_ATTRS: dict[str, re.Pattern[str]] = {}


def decode(value: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], value)


def attr(tag: str, name: str) -> str | None:
    pattern = _ATTRS.get(name)
    if pattern is None:
        pattern = re.compile(rf"""\s{name}\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
        _ATTRS[name] = pattern
    m = pattern.search(tag)
    if not m:
        return None
    return decode(next(g for g in m.groups() if g is not None))


FieldValue = str | Callable[[], str]


@dataclass
class Form:
    action: str | None
    method: str
    fields: list[tuple[str, str]]


def parse_form(page: str, fill: dict[str, FieldValue]) -> Form | None:
    m = _FORM.search(page)
    if not m:
        return None
    fields: list[tuple[str, str]] = []
    submit_seen = False
    for tag_name, tag in _CONTROL.findall(m.group(2)):
        name = attr(tag, "name")
        if not name:
            continue
        kind = (attr(tag, "type") or ("submit" if tag_name.lower() == "button" else "text")).lower()
        if kind == "submit":
            if not submit_seen:
                fields.append((name, attr(tag, "value") or ""))
            submit_seen = True
        elif kind in ("checkbox", "radio") and not _CHECKED.search(tag):
            continue
        else:
            fields.append((name, attr(tag, "value") or ""))
    filled = []
    for name, value in fields:
        given = fill.get(name)
        filled.append((name, value if given is None else (given() if callable(given) else given)))
    return Form(attr(m.group(1), "action"), (attr(m.group(1), "method") or "GET").upper(), filled)


# --- keys and JWTs -----------------------------------------------------------------------------------------------


@dataclass
class SigningKey:
    key: Any
    alg: str
    kid: str | None


def load_signing_key(path: Path) -> SigningKey:
    text = path.read_text()
    if text.lstrip().startswith("{"):
        jwk = json.loads(text)
        if jwk.get("kty") == "EC":
            return SigningKey(jwt.algorithms.ECAlgorithm.from_jwk(jwk), "ES256", jwk.get("kid"))
        return SigningKey(jwt.algorithms.RSAAlgorithm.from_jwk(jwk), "RS256", jwk.get("kid"))
    key = load_pem_private_key(text.encode(), password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return SigningKey(key, "ES256", None)
    if isinstance(key, rsa.RSAPrivateKey):
        return SigningKey(key, "RS256", None)
    raise MintError("the client key must be EC P-256 or RSA")


# --- the minter --------------------------------------------------------------------------------------------------


@dataclass
class User:
    index: int
    email: str
    password: str
    totp: pyotp.TOTP


@dataclass
class SignInResult:
    code: str
    verifier: str
    nonce: str
    steps: int


class Minter:
    def __init__(self, opt: argparse.Namespace) -> None:
        self.opt = opt
        self.key = load_signing_key(opt.key)
        self.fields: dict[str, str] = {}
        for kv in opt.field:
            name, _, value = kv.partition("=")
            self.fields[name] = value
        self.users: list[User] = []
        if opt.users:
            for i, line in enumerate(opt.users.read_text().splitlines()):
                if line.strip():
                    record = json.loads(line)
                    self.users.append(User(i, record["email"], record["password"], pyotp.TOTP(record["totp_secret"])))
            if not self.users:
                raise MintError(f"{opt.users} holds no users")
        cursor_file: Path | None = opt.user_cursor
        self.cursor = int(cursor_file.read_text().strip() or 0) if cursor_file and cursor_file.exists() else 0
        self.users_taken = 0
        self.last_step: dict[int, int] = {}
        self.lock = threading.Lock()
        self.local = threading.local()
        self.redirect = urlsplit(opt.redirect_uri)
        issuer = opt.issuer if opt.issuer.endswith("/") else opt.issuer + "/"
        discovery = self.http().request(
            "GET", urljoin(issuer, ".well-known/openid-configuration"), {"Accept": "application/json"}
        )
        if discovery.status != 200:
            raise MintError(f"discovery HTTP {discovery.status}")
        self.discovery: dict[str, Any] = json.loads(discovery.text)
        self.authz_endpoint = checked(self.discovery["authorization_endpoint"])
        self.token_endpoint = checked(self.discovery["token_endpoint"])
        self.jwks: dict[str, Any] | None = None
        self.id_token_alg: str | None = None
        self.userinfo_claims: list[str] | None = None
        self.sso_jars: list[dict[str, str]] = []

    def http(self) -> Http:
        conn: Http | None = getattr(self.local, "http", None)
        if conn is None:
            conn = Http()
            self.local.http = conn
        return conn

    # -- which values go into the forms

    def next_user(self) -> User:
        with self.lock:
            user = self.users[(self.cursor + self.users_taken) % len(self.users)]
            self.users_taken += 1
        return user

    def totp_code(self, user: User) -> str:
        now = time.time()
        step = int(now // TOTP_STEP)
        with self.lock:
            if self.last_step.get(user.index) == step:
                raise MintError(
                    f"user {user.email} would sign in twice in one 30-second TOTP step: the pool of "
                    f"{len(self.users)} users is too small for this rate"
                )
            self.last_step[user.index] = step
        return user.totp.at(now)

    def form_values(self) -> dict[str, FieldValue]:
        values: dict[str, FieldValue] = dict(self.fields)
        if self.users:
            user = self.next_user()
            values.update(email=user.email, password=user.password, code=lambda: self.totp_code(user))
        return values

    # -- protocol

    def authorization_url(self) -> tuple[str, str, str, str]:
        state, nonce = b64u(secrets.token_bytes(16)), b64u(secrets.token_bytes(16))
        verifier = b64u(secrets.token_bytes(32))
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.opt.client_id,
                "redirect_uri": self.opt.redirect_uri,
                "scope": self.opt.scope,
                "state": state,
                "nonce": nonce,
                "code_challenge": b64u(hashlib.sha256(verifier.encode()).digest()),
                "code_challenge_method": "S256",
            }
        )
        base = urlsplit(self.authz_endpoint)
        sep = "&" if base.query else "?"
        return self.authz_endpoint + sep + query, state, nonce, verifier

    def code_from_redirect(self, location: str, state: str) -> str | None:
        """The code when `location` is the redirect URI (checked), None when it is somewhere else."""
        loc = urlsplit(location)
        if (loc.scheme, loc.netloc, loc.path) != (self.redirect.scheme, self.redirect.netloc, self.redirect.path):
            return None
        q = {k: v[-1] for k, v in parse_qs(loc.query).items()}
        if q.get("error"):
            raise MintError(f"authorization error: {q['error']} {q.get('error_description', '')}")
        if q.get("state") != state:
            raise MintError("state mismatch")
        if not q.get("code"):
            raise MintError("no code in redirect")
        return q["code"]

    def sign_in(self, jar: dict[str, str]) -> SignInResult:
        url, state, nonce, verifier = self.authorization_url()
        fill = self.form_values()
        method, body = "GET", None
        conn = self.http()
        for step in range(MAX_STEPS):
            headers = {"Cookie": cookie_header(jar), "Accept": "text/html,application/json"}
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            res = conn.request(method, url, headers, body)
            store_cookies(jar, res.headers.get_all("Set-Cookie") or [])
            location = res.headers.get("Location")
            if 300 <= res.status < 400 and location:
                target = urljoin(url, location)
                code = self.code_from_redirect(target, state)
                if code is not None:
                    return SignInResult(code, verifier, nonce, step + 1)
                url, method, body = target, "GET", None
                continue
            form = parse_form(res.text, fill) if res.status == 200 else None
            if form is None:
                raise MintError(f"unexpected HTTP {res.status} at {method} {urlsplit(url).path}: {res.text[:200]}")
            target = urljoin(url, form.action or url)
            params = urlencode(form.fields)
            if form.method == "POST":
                url, method, body = target, "POST", params
            else:
                url, method, body = target.split("?")[0] + "?" + params, "GET", None
        raise MintError(f"sign-in did not reach the redirect_uri within {MAX_STEPS} requests (login rejected?)")

    def sso_authorize(self, jar: dict[str, str]) -> SignInResult:
        """One authorization request with a signed-in jar: must answer with the code-bearing redirect."""
        url, state, nonce, verifier = self.authorization_url()
        with self.lock:
            cookies = cookie_header(jar)
        res = self.http().request("GET", url, {"Cookie": cookies, "Accept": "text/html,application/json"})
        set_cookie = res.headers.get_all("Set-Cookie") or []
        if set_cookie:
            with self.lock:
                store_cookies(jar, set_cookie)
        location = res.headers.get("Location")
        code = self.code_from_redirect(urljoin(url, location), state) if location and 300 <= res.status < 400 else None
        if code is None:
            raise MintError(
                f"single sign-on: the authorization request answered HTTP {res.status}"
                f"{' to ' + str(location) if location else ''}, not the code-bearing redirect to the redirect_uri"
            )
        return SignInResult(code, verifier, nonce, 1)

    def token_body(self, result: SignInResult) -> str:
        now = int(time.time())
        headers = {"kid": self.key.kid} if self.key.kid else None
        assertion = jwt.encode(
            {
                "iss": self.opt.client_id,
                "sub": self.opt.client_id,
                "aud": self.token_endpoint,
                "jti": b64u(secrets.token_bytes(16)),
                "iat": now,
                "exp": now + self.opt.assertion_ttl,
            },
            self.key.key,
            algorithm=self.key.alg,
            headers=headers,
        )
        return urlencode(
            {
                "grant_type": "authorization_code",
                "code": result.code,
                "redirect_uri": self.opt.redirect_uri,
                "code_verifier": result.verifier,
                "client_assertion_type": JWT_BEARER,
                "client_assertion": assertion,
            }
        )

    def exchange(self, result: SignInResult, body: str) -> str:
        conn = self.http()
        res = conn.request(
            "POST",
            self.token_endpoint,
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            body,
        )
        if res.status != 200:
            raise MintError(f"token endpoint HTTP {res.status}: {res.text[:300]}")
        tok = json.loads(res.text)
        if not tok.get("access_token") or not tok.get("id_token") or str(tok.get("token_type", "")).lower() != "bearer":
            raise MintError(f"bad token response {res.text[:300]}")
        if self.jwks is None:
            self.jwks = json.loads(conn.request("GET", checked(self.discovery["jwks_uri"]), {}).text)
        header = jwt.get_unverified_header(tok["id_token"])
        keys = [k for k in self.jwks["keys"] if not header.get("kid") or k.get("kid") == header.get("kid")]
        if not keys:
            raise MintError(f"no JWKS key for kid {header.get('kid')}")
        try:
            payload = jwt.decode(
                tok["id_token"],
                jwt.PyJWK(keys[0]).key,
                algorithms=[header["alg"]],
                options={"verify_aud": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise MintError(f"ID token signature invalid: {exc}") from exc
        aud = payload.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if payload.get("iss") != self.discovery["issuer"] or self.opt.client_id not in audiences:
            raise MintError(f"ID token claims wrong: {payload}")
        if payload.get("nonce") != result.nonce:
            raise MintError(f"ID token nonce wrong: {payload}")
        self.id_token_alg = header["alg"]
        ui = conn.request(
            "GET",
            checked(self.discovery["userinfo_endpoint"]),
            {"Authorization": f"Bearer {tok['access_token']}", "Accept": "application/json"},
        )
        if ui.status != 200:
            raise MintError(f"userinfo HTTP {ui.status}: {ui.text[:300]}")
        self.userinfo_claims = sorted(json.loads(ui.text))
        return str(tok["access_token"])

    def save_cursor(self) -> None:
        if self.opt.user_cursor and self.users:
            self.opt.user_cursor.write_text(f"{(self.cursor + self.users_taken) % len(self.users)}\n")


@dataclass
class Progress:
    next: int = 0
    steps: int = 0
    timed_out: bool = False
    error: str | None = None


def in_parallel(count: int, concurrency: int, deadline: float, task: Callable[[int], int | None]) -> Progress:
    """task(0) ... task(count - 1) on `concurrency` threads; stops at the first error or at the deadline."""
    state = Progress()
    lock = threading.Lock()
    local = threading.local()

    def worker() -> None:
        try:
            while True:
                with lock:
                    if state.error is not None or state.next >= count:
                        return
                    if time.monotonic() > deadline:
                        state.timed_out = True
                        return
                    index = state.next
                    state.next += 1
                steps = task(index)
                local.steps = steps
        except Exception as exc:  # noqa: BLE001 - stop at the first error of any kind, and say what it was
            with lock:
                state.error = state.error or f"{type(exc).__name__}: {exc}"
        finally:
            with lock:
                state.steps = getattr(local, "steps", None) or state.steps

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, concurrency))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return state


def run(opt: argparse.Namespace) -> int:
    minter = Minter(opt)
    n = opt.n
    deadline = time.monotonic() + opt.max_seconds
    lines: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()

    sign_in_seconds = 0.0
    if opt.sso:
        # the signed-in browsers, signed in by the same workers before the timed part; their codes are not used
        sessions = 1 if opt.codes_per_session <= 0 else max(1, -(-n // opt.codes_per_session))
        minter.sso_jars = [{} for _ in range(sessions)]
        started = time.perf_counter()
        signed = in_parallel(sessions, opt.concurrency, deadline, lambda i: minter.sign_in(minter.sso_jars[i]).steps)
        sign_in_seconds = time.perf_counter() - started
        if signed.error is not None or signed.timed_out:
            minter.save_cursor()
            print(f"mint: FAILED signing in the browsers for single sign-on: {signed.error}", file=sys.stderr)
            return 1
        if opt.w5_out:
            lines_w5 = []
            for jar in minter.sso_jars[: opt.w5_sessions]:
                parts = urlsplit(minter.authorization_url()[0])
                lines_w5.append(f"{parts.path}?{parts.query}\t{cookie_header(jar)}")
            opt.w5_out.write_text("\n".join(lines_w5) + "\n")

    def one(index: int) -> int:
        started = time.perf_counter()
        if opt.sso:
            result = minter.sso_authorize(minter.sso_jars[index % len(minter.sso_jars)])
        else:
            result = minter.sign_in({})
        elapsed = time.perf_counter() - started
        body = minter.token_body(result)
        line = minter.exchange(result, body) if opt.exchange else body
        with lock:
            latencies.append(elapsed)
            lines.append(line)
        return result.steps

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    state = in_parallel(n, opt.concurrency, deadline, one)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    minter.save_cursor()
    if state.error is not None:
        print(f"mint: FAILED after {len(lines)} sign-ins: {state.error}", file=sys.stderr)
        return 1
    opt.out.write_text("".join(f"{line}\n" for line in lines))

    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000 if latencies else 0.0

    summary: dict[str, Any] = {
        "label": opt.label,
        "kind": "mint",
        "signins": len(lines),
        "concurrency": opt.concurrency,
        "seconds": round(elapsed, 3),
        "rps": round(len(lines) / elapsed, 1) if elapsed > 0 else 0,
        "p50_ms": round(pct(50), 2),
        "p99_ms": round(pct(99), 2),
        "http_requests_per_signin": state.steps,
        "client_cpu_pct": round(cpu / elapsed * 100, 1) if elapsed > 0 else 0,
        "errors": 0,
        "timed_out": state.timed_out,
    }
    if opt.sso:
        summary.update(sso_sessions=len(minter.sso_jars), sso_sign_in_seconds=round(sign_in_seconds, 3))
    if opt.exchange:
        summary.update(id_token_alg=minter.id_token_alg, userinfo_claims=minter.userinfo_claims)
    print(json.dumps(summary))
    if state.timed_out or len(lines) < n:
        print(f"mint: stopped by --max-seconds after {len(lines)}/{n}", file=sys.stderr)
        return 3
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--redirect-uri", required=True)
    parser.add_argument("--scope", default="openid email phone")
    parser.add_argument("--key", type=Path, required=True, help="the client's private key: JWK JSON or PEM")
    parser.add_argument("--field", action="append", default=[], help="NAME=VALUE for a form input")
    parser.add_argument("--users", type=Path, help="user pool (JSON lines: email, password, totp_secret)")
    parser.add_argument("--user-cursor", type=Path, help="file holding the pool index to continue from")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--exchange", action="store_true")
    parser.add_argument("--sso", action="store_true")
    parser.add_argument("--codes-per-session", type=int, default=100)
    parser.add_argument("--w5-out", type=Path)
    parser.add_argument("--w5-sessions", type=int, default=64)
    parser.add_argument("--assertion-ttl", type=int, default=600)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--label", default="mint")
    opt = parser.parse_args(argv)
    checked(opt.issuer)
    try:
        return run(opt)
    except MintError as exc:
        print(f"mint: FAILED: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
