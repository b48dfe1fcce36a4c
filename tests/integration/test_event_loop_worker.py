"""idp.web.worker.EventLoopWorker under a real gunicorn, spoken to over raw sockets so every byte is the test's.

The app is tests/integration/worker_test_app.py, a bare WSGI app; gunicorn runs in that folder, so it imports
the app as a top-level module and does not read the project's gunicorn.conf.py.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers import free_ports, stop_process_group, wait_for
from tests.integration.worker_test_app import big_body

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
#: How long any one socket operation may take: generous, for a busy two-core machine.
WAIT = 30.0
MIB = 1024 * 1024


# -- a raw HTTP/1.1 client --------------------------------------------------------------------------------------
def http(method: str, target: str, *headers: str, body: bytes = b"", version: str = "1.1") -> bytes:
    """One request's bytes; a Content-Length is added for a body unless the headers frame it already."""
    lines = [f"{method} {target} HTTP/{version}", "Host: test", *headers]
    if body and not any(line.lower().startswith(("content-length:", "transfer-encoding:")) for line in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def header(self, name: str) -> str | None:
        values = self.all(name)
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None

    def json(self) -> dict[str, Any]:
        assert self.status == 200, self.body[:500]
        seen: dict[str, Any] = json.loads(self.body)
        return seen


class Client:
    def __init__(self, port: int, receive_buffer: int | None = None) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:  # before connecting, so that the window offered is this small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.settimeout(WAIT)
        try:
            sock.connect(("127.0.0.1", port))
        except OSError:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.buffer = bytearray()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def exchange(self, method: str, target: str, *headers: str, body: bytes = b"", version: str = "1.1") -> Response:
        self.send(http(method, target, *headers, body=body, version=version))
        return self.read_response(method)

    def _more(self, size: int = 65536) -> None:
        chunk = self.sock.recv(size)
        if not chunk:
            raise EOFError(f"the server closed the connection; unread: {bytes(self.buffer)[:200]!r}")
        self.buffer += chunk

    def read_head(self) -> tuple[int, list[tuple[str, str]]]:
        while b"\r\n\r\n" not in self.buffer:
            self._more()
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        self.buffer = bytearray(rest)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        version, status, _reason = status_line.split(" ", 2)
        assert version == "HTTP/1.1", status_line
        headers = []
        for line in lines:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
        return int(status), headers

    def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._more()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def read_response(self, method: str = "GET") -> Response:
        status, headers = self.read_head()
        response = Response(status, headers, b"")
        if method != "HEAD" and status not in (204, 304) and status >= 200:
            length = response.header("Content-Length")
            assert length is not None, headers
            response.body = self.read_exactly(int(length))
        return response

    def pending(self) -> bool:
        """Whether the server has sent anything not yet read."""
        return bool(self.buffer) or bool(select.select([self.sock], [], [], 0)[0])

    def closed_within(self, seconds: float) -> bool:
        """True once the server closes the connection without sending more; False if it is still open."""
        assert not self.buffer, f"unread bytes: {bytes(self.buffer)[:200]!r}"
        deadline = time.monotonic() + seconds
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.sock.settimeout(remaining)
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                raise AssertionError(f"unexpected bytes from the server: {chunk[:200]!r}")
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        finally:
            self.sock.settimeout(WAIT)


# -- gunicorn ---------------------------------------------------------------------------------------------------
@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    directory: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, receive_buffer: int | None = None) -> Client:
        return Client(self.port, receive_buffer)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]


def _answers(server: Server) -> bool:
    try:
        with server.client() as client:
            return client.exchange("GET", "/echo", "Connection: close").status == 200
    except (OSError, EOFError):
        return False


@contextmanager
def _gunicorn(directory: Path, *options: str) -> Iterator[Server]:
    port = free_ports(1)[0]
    log = directory / "gunicorn.log"
    command = [
        str(BIN / "gunicorn"),
        "--worker-class",
        "idp.web.worker.EventLoopWorker",
        "--workers",
        "1",
        "--threads",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--no-control-socket",
        "--log-level",
        "warning",
        *options,
        "worker_test_app:app",
    ]
    env = {**os.environ, "WORKER_TEST_DIR": str(directory)}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=HERE, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(port, process, log, directory)
    try:
        assert wait_for(lambda: _answers(server) or process.poll() is not None, timeout=60), server.output()
        assert process.poll() is None, server.output()
        yield server
    finally:
        stop_process_group(process, grace=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    limits = ["--limit-request-line", "200", "--limit-request-fields", "20", "--limit-request-field_size", "300"]
    with _gunicorn(tmp_path_factory.mktemp("worker"), "--keep-alive", "5", *limits) as started:
        yield started


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with _gunicorn(tmp_path_factory.mktemp("impatient"), "--keep-alive", "1", "--timeout", "3") as started:
        yield started


def _answer_on_both_loops(server: Server) -> None:
    """Both event loops still answer: connections held open at once are spread over them, so a loop that died
    would leave one of these requests unanswered."""
    threads: set[str] = set()
    clients = []
    try:
        for _ in range(12):
            client = server.client()
            clients.append(client)
            threads.add(client.exchange("GET", "/echo").json()["thread"])
            if len(threads) == 2:
                return
    finally:
        for client in clients:
            client.sock.close()
    raise AssertionError(f"only {threads} answered")


# -- keep-alive, pipelining, bodies -----------------------------------------------------------------------------
def test_two_requests_on_one_connection(server: Server) -> None:
    with server.client() as client:
        first = client.exchange("GET", "/echo?n=1")
        second = client.exchange("GET", "/echo?n=2")
    assert first.json()["query"] == "n=1"
    assert second.json()["query"] == "n=2"
    assert first.header("Connection") is None  # HTTP/1.1 keeps the connection by default


def test_pipelined_requests_are_answered_in_order(server: Server) -> None:
    with server.client() as client:
        client.send(
            http("GET", "/slow?ms=300")
            + http("POST", "/echo?n=2", body=b"second")
            + http("GET", "/echo?n=3", "Connection: close")
        )
        first = client.read_response()
        second = client.read_response()
        third = client.read_response()
        assert client.closed_within(WAIT)
    assert first.body.startswith(b"slept 300 ms")
    assert (second.json()["query"], second.json()["body"]) == ("n=2", "second")
    assert third.json()["query"] == "n=3"
    assert third.header("Connection") == "close"


def test_a_request_sent_in_pieces(server: Server) -> None:
    request = http("POST", "/echo", "Content-Type: text/plain", body=b"one two three")
    head_end = request.index(b"\r\n\r\n") + 4
    pieces = [
        request[:7],
        request[7:30],
        request[30:head_end],
        request[head_end : head_end + 4],
        request[head_end + 4 :],
    ]
    with server.client() as client:
        for piece in pieces[:-1]:
            client.send(piece)
            time.sleep(0.2)
            assert not client.pending()  # nothing is answered before the body is whole
        client.send(pieces[-1])
        seen = client.read_response().json()
    assert (seen["method"], seen["body"], seen["content_length"]) == ("POST", "one two three", "13")
    assert seen["content_type"] == "text/plain"


def test_a_chunked_body_reaches_the_app_whole(server: Server) -> None:
    with server.client() as client:
        client.send(http("POST", "/echo", "Transfer-Encoding: chunked") + b"5\r\nhello\r\n")
        time.sleep(0.2)
        client.send(b"6\r\n world\r\n")
        time.sleep(0.2)
        assert not client.pending()
        client.send(b"0\r\n\r\n")
        seen = client.read_response().json()
    assert seen["body"] == "hello world"
    assert seen["content_length"] == "11"


def test_expect_100_continue_is_answered_before_the_body(server: Server) -> None:
    with server.client() as client:
        client.send(http("POST", "/echo", "Expect: 100-continue", "Content-Length: 5"))
        status, headers = client.read_head()
        assert (status, headers) == (100, [])
        client.send(b"hello")
        seen = client.read_response().json()
    assert seen["body"] == "hello"


def test_expect_100_continue_with_a_body_too_large_gets_413_without_100(server: Server) -> None:
    with server.client() as client:
        client.send(http("POST", "/echo", "Expect: 100-continue", f"Content-Length: {2 * MIB}"))
        response = client.read_response()
        assert client.closed_within(WAIT)
    assert response.status == 413
    assert response.header("Connection") == "close"


# -- requests the worker refuses --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /echo HTTP/1.1 extra\r\nHost: test\r\n\r\n",
        b"GET /echo HTTP/9.9\r\nHost: test\r\n\r\n",
        b"GET /echo HTTP/1.1\r\nBad Header: x\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    ],
    ids=["no-method", "extra-word", "unknown-version", "space-in-name", "two-lengths"],
)
def test_a_malformed_request_gets_400_and_the_connection_closes(server: Server, request_bytes: bytes) -> None:
    with server.client() as client:
        client.send(request_bytes)
        response = client.read_response()
        assert client.closed_within(WAIT)
    assert response.status == 400
    assert response.header("Connection") == "close"


def test_a_request_line_over_the_limit_gets_414(server: Server) -> None:
    with server.client() as client:
        client.send(http("GET", "/echo?" + "a" * 300))
        response = client.read_response()
        assert client.closed_within(WAIT)
    assert response.status == 414
    assert response.header("Connection") == "close"
    with server.client() as client:  # just under the limit is fine
        assert client.exchange("GET", "/echo?" + "a" * 150).json()["query"] == "a" * 150


def test_too_many_headers_get_431(server: Server) -> None:
    with server.client() as client:
        client.send(http("GET", "/echo", *(f"X-Many-{index}: {index}" for index in range(30))))
        response = client.read_response()
        assert client.closed_within(WAIT)
    assert response.status == 431
    assert response.header("Connection") == "close"


def test_a_header_over_the_size_limit_gets_431(server: Server) -> None:
    with server.client() as client:
        client.send(http("GET", "/echo", "X-Large: " + "b" * 1000))
        response = client.read_response()
        assert client.closed_within(WAIT)
    assert response.status == 431
    with server.client() as client:
        assert client.exchange("GET", "/echo", "X-Large: " + "b" * 250).json()["headers"]["HTTP_X_LARGE"] == "b" * 250


def test_a_content_length_over_a_mebibyte_gets_413_before_the_body(server: Server) -> None:
    with server.client() as client:
        client.send(http("POST", "/echo", f"Content-Length: {MIB + 1}"))
        response = client.read_response()
        assert client.closed_within(WAIT)
    assert response.status == 413
    assert response.header("Connection") == "close"


def test_a_websocket_upgrade_is_answered_as_plain_http_then_closed(server: Server) -> None:
    with server.client() as client:
        response = client.exchange("GET", "/echo", "Connection: Upgrade", "Upgrade: websocket")
        assert client.closed_within(WAIT)
    assert response.json()["path"] == "/echo"
    assert response.header("Connection") == "close"


def test_connect_gets_400_and_both_loops_go_on(server: Server) -> None:
    with server.client() as client:
        client.send(http("CONNECT", "example.com:443"))
        response = client.read_response()
        assert client.closed_within(WAIT)
    assert response.status == 400
    _answer_on_both_loops(server)


# -- what the response says -------------------------------------------------------------------------------------
def test_head_has_the_length_of_get_but_no_body(server: Server) -> None:
    with server.client() as client:
        head = client.exchange("HEAD", "/big?mb=1")
        after = client.exchange("GET", "/echo?after=head")  # would misparse had any body bytes been sent
    assert head.status == 200
    assert head.header("Content-Length") == str(MIB)
    assert after.json()["query"] == "after=head"


def test_204_has_no_body(server: Server) -> None:
    with server.client() as client:
        empty = client.exchange("GET", "/empty")
        after = client.exchange("GET", "/echo?after=204")
    assert empty.status == 204
    assert empty.header("Content-Length") is None
    assert after.json()["query"] == "after=204"


def test_connection_close_is_honoured(server: Server) -> None:
    with server.client() as client:
        response = client.exchange("GET", "/echo", "Connection: close")
        assert client.closed_within(WAIT)
    assert response.header("Connection") == "close"


def test_http_10_closes_after_the_response(server: Server) -> None:
    with server.client() as client:
        response = client.exchange("GET", "/echo", version="1.0")
        assert client.closed_within(WAIT)
    assert response.json()["protocol"] == "HTTP/1.0"
    assert response.header("Connection") == "close"


def test_http_10_with_keep_alive_stays_open(server: Server) -> None:
    with server.client() as client:
        first = client.exchange("GET", "/echo?n=1", "Connection: keep-alive", version="1.0")
        assert not client.closed_within(0.5)
        second = client.exchange("GET", "/echo?n=2", "Connection: keep-alive", version="1.0")
    assert first.header("Connection") == "keep-alive"
    assert second.json()["query"] == "n=2"


def test_a_header_with_an_underscore_is_dropped(server: Server) -> None:
    with server.client() as client:
        seen = client.exchange("GET", "/echo", "X_Forwarded_For: 6.6.6.6", "X-Forwarded-For: 10.0.0.1").json()
    assert seen["headers"]["HTTP_X_FORWARDED_FOR"] == "10.0.0.1"


def test_duplicate_headers_are_joined(server: Server) -> None:
    with server.client() as client:
        seen = client.exchange("GET", "/echo", "X-Dup: a", "Cookie: a=1", "X-Dup: b", "Cookie: b=2").json()
    assert seen["headers"]["HTTP_X_DUP"] == "a, b"
    assert seen["headers"]["HTTP_COOKIE"] == "a=1; b=2"


def test_the_path_is_decoded_and_the_raw_target_and_query_kept(server: Server) -> None:
    target = "/echo/caf%C3%A9/a%2Fb%20c?q=a%20b&x=%2F"
    with server.client() as client:
        seen = client.exchange("GET", target).json()
        absolute = client.exchange("GET", "http://example.com/echo/x?y=%20").json()
    assert seen["path"] == "/echo/café/a/b c".encode().decode("latin-1")  # WSGI: bytes as latin-1
    assert seen["raw_uri"] == target
    assert seen["query"] == "q=a%20b&x=%2F"
    assert (absolute["path"], absolute["query"]) == ("/echo/x", "y=%20")


def test_headers_are_exactly_the_apps_plus_length_and_date(server: Server) -> None:
    with server.client() as client:
        echo = client.exchange("GET", "/echo")
        refused = client.exchange("GET", "/echo?" + "a" * 300)
    # No Server header, nor any other the app did not set: only the framing and the Date.
    assert [name for name, _ in echo.headers] == ["Content-Type", "Content-Length", "Date"]
    assert [name for name, _ in refused.headers] == ["Content-Type", "Content-Length", "Date", "Connection"]


def test_every_response_has_a_current_date(server: Server) -> None:
    with server.client() as client:
        dates = [client.exchange("GET", "/echo").header("Date"), client.exchange("GET", "/empty").header("Date")]
        dates.append(client.exchange("GET", "/echo?" + "a" * 300).header("Date"))
    for date in dates:
        assert date is not None and date.endswith(" GMT")
        assert abs(parsedate_to_datetime(date) - datetime.now(UTC)) < timedelta(minutes=5)


def test_the_apps_own_content_length_is_kept_and_not_repeated(server: Server) -> None:
    with server.client() as client:
        response = client.exchange("GET", "/length")
        after = client.exchange("GET", "/echo?after=length")
    assert response.all("Content-Length") == ["5"]
    assert response.body == b"hello"
    assert after.json()["query"] == "after=length"


def test_a_content_length_that_does_not_match_the_body_is_refused(server: Server) -> None:
    # Sent as is, a wrong length would make the client read the next response from the wrong byte.
    for declared in ("3", "9"):
        with server.client() as client:
            client.send(http("GET", f"/length?declared={declared}") + http("GET", "/echo"))
            response = client.read_response()
            assert client.closed_within(WAIT)
        assert response.status == 500


def test_hop_by_hop_headers_from_the_app_are_not_sent(server: Server) -> None:
    with server.client() as client:
        response = client.exchange("GET", "/hop")
        after = client.exchange("GET", "/echo?after=hop")
    assert response.body == b"hop"
    assert {name.lower() for name, _ in response.headers} == {"content-type", "content-length", "date"}
    assert after.json()["query"] == "after=hop"


def test_a_header_with_cr_lf_gets_500(server: Server) -> None:
    with server.client() as client:
        response = client.exchange("GET", "/crlf")
        assert client.closed_within(WAIT)
    assert response.status == 500
    assert response.header("Set-Cookie") is None
    assert response.header("X-Injected") is None
    assert b"crlf" not in response.body


def test_an_app_exception_gets_500_and_the_server_goes_on(server: Server) -> None:
    with server.client() as client:
        client.send(http("GET", "/raise") + http("GET", "/echo?after=raise"))
        response = client.read_response()
        assert client.closed_within(WAIT)  # the pipelined request after it is not answered
    assert response.status == 500
    assert response.header("Connection") == "close"
    assert b"the app failed" not in response.body
    assert requests.get(server.url + "/echo?new=connection", timeout=WAIT).json()["query"] == "new=connection"
    _answer_on_both_loops(server)


# -- concurrency ------------------------------------------------------------------------------------------------
def test_a_slow_request_does_not_hold_up_another_loop(server: Server) -> None:
    # Connections held open at once, until two are on different loops (the echo names the loop's thread).
    clients: dict[str, Client] = {}
    spare = []
    try:
        for _ in range(12):
            client = server.client()
            thread = client.exchange("GET", "/echo").json()["thread"]
            if thread in clients:
                spare.append(client)
            else:
                clients[thread] = client
            if len(clients) == 2:
                break
        assert len(clients) == 2, f"all on {list(clients)}"
        slow_client, fast_client = clients.values()
        slow_client.send(http("GET", "/slow?ms=4000"))
        time.sleep(0.2)
        fast = fast_client.exchange("GET", "/echo?fast=1")
        assert not slow_client.pending(), "the slow request was answered before the fast one"
        assert fast.json()["query"] == "fast=1"
        assert slow_client.read_response().body.startswith(b"slept 4000 ms")
    finally:
        for client in [*clients.values(), *spare]:
            client.sock.close()


def _unsendable_megabytes() -> int:
    """A response larger than the kernel buffers for one socket (4 MiB by default on Linux), so that a client that
    does not read keeps the rest waiting in the worker."""
    try:
        cap = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        cap = 4 * MIB
    return max(5, cap // MIB + 2)


def test_a_client_that_reads_slowly_holds_no_thread(tmp_path: Path) -> None:
    megabytes = _unsendable_megabytes()
    with _gunicorn(tmp_path, "--threads", "1") as single_loop:
        with single_loop.client(receive_buffer=16384) as slow:
            slow.send(http("GET", f"/big?mb={megabytes}"))
            status, headers = slow.read_head()
            assert status == 200
            # The one loop answers another connection while most of the big response waits to be written.
            with single_loop.client() as other:
                for index in range(3):
                    assert other.exchange("GET", f"/echo?n={index}").json()["query"] == f"n={index}"
                assert len(other.exchange("GET", "/big?mb=1").body) == MIB
            length = int(dict(headers)["Content-Length"])
            body = bytearray(slow.buffer)
            slow.buffer.clear()
            while len(body) < length:
                chunk = slow.sock.recv(65536)
                assert chunk, f"closed after {len(body)} of {length} bytes"
                body += chunk
        assert body == big_body(megabytes)


# -- timeouts ---------------------------------------------------------------------------------------------------
def test_an_idle_keep_alive_connection_is_closed_after_keepalive(impatient: Server) -> None:
    with impatient.client() as client:
        response = client.exchange("GET", "/echo")
        answered = time.monotonic()
        assert client.closed_within(WAIT)
        waited = time.monotonic() - answered
    assert response.header("Connection") is None
    assert waited > 0.5, "closed at once rather than after the keep-alive time"


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(impatient: Server) -> None:
    with impatient.client() as client:
        assert client.closed_within(WAIT)


def test_a_stalled_request_head_gets_408(impatient: Server) -> None:
    with impatient.client() as client:
        client.send(b"GET /echo HTTP/1.1\r\nHost: test\r\n")
        response = client.read_response()
        assert client.closed_within(WAIT)
    assert response.status == 408
    assert response.header("Connection") == "close"


def test_a_stalled_request_body_gets_408(impatient: Server) -> None:
    with impatient.client() as client:
        client.send(http("POST", "/echo", "Content-Length: 10") + b"12345")
        response = client.read_response()
        assert client.closed_within(WAIT)
    assert response.status == 408


# -- stopping and restarting ------------------------------------------------------------------------------------
def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    with _gunicorn(tmp_path, "--graceful-timeout", "60") as stopping:
        with stopping.client() as busy, stopping.client() as idle:
            idle.exchange("GET", "/echo")
            busy.send(http("GET", "/slow?ms=3000&started=slow"))
            assert wait_for((tmp_path / "slow").exists, timeout=WAIT)
            stopping.process.send_signal(signal.SIGTERM)
            response = busy.read_response()
            assert busy.closed_within(WAIT)
            assert idle.closed_within(WAIT)  # kept-alive connections are closed, not waited on
        # Well before the graceful timeout: nothing holds the worker once the slow request is answered.
        assert stopping.process.wait(timeout=45) == 0, stopping.output()
    assert response.body.startswith(b"slept 3000 ms")


def test_max_requests_restarts_the_worker_and_service_goes_on(tmp_path: Path) -> None:
    with _gunicorn(tmp_path, "--max-requests", "5") as restarting:
        pids = []
        for index in range(20):
            with restarting.client() as client:
                response = client.exchange("GET", f"/echo?n={index}", "Connection: close")
            assert response.json()["query"] == f"n={index}"
            pids.append(response.json()["pid"])
    runs = [(pid, len(list(run))) for pid, run in groupby(pids)]
    assert len(runs) >= 3, runs
    assert len({pid for pid, _ in runs}) == len(runs), f"a worker came back: {runs}"
    # The first worker also answered the fixture's probe; each later one answers 5 requests, or 6 when the next
    # connection arrived before it stopped accepting.
    assert all(count in (5, 6) for _, count in runs[1:-1]), runs
    assert Counter(pids)[runs[0][0]] <= 6, runs
