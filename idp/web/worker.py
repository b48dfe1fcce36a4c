"""A gunicorn worker that answers each request on the thread that read it.

gunicorn's gthread worker reads a request on its main thread, hands it to a pool thread through a queue and a
future, and wakes its main loop through a pipe once the response is written. On one core that relay costs more
than the app spends on a discovery document or a userinfo request (about 0.14 ms against 0.01 ms here).

Here each of the `threads` threads runs its own epoll loop over the connections it owns, parses them with llhttp
(httptools, uvicorn's parser) and calls the app inline. A thread waiting on PostgreSQL or Redis releases the GIL,
so the others go on serving their own connections. The main thread accepts connections, gives each to the loop
with the fewest, and beats gunicorn's heartbeat.

A request reaches the app only once it has been read whole, and responses are written without blocking, so a
slow client holds memory, never a thread. TLS ends at the load balancer: the worker refuses `certfile`.
"""

from __future__ import annotations

import errno
import os
import queue
import selectors
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from email.utils import formatdate
from io import BytesIO
from typing import Any
from urllib.parse import unquote_to_bytes

import httptools
from gunicorn.workers.base import Worker

#: The largest request body accepted. Forms, token requests and passkey answers are a few kilobytes.
MAX_BODY_BYTES = 1024 * 1024
#: Bytes read from one connection at a time.
_READ_SIZE = 65536
#: How often, in seconds, a loop looks for connections idle or stalled for too long.
_SWEEP_SECONDS = 1.0
#: How long kept-alive connections may linger once the worker is told to stop (as gthread).
_STOP_LINGER_SECONDS = 2.0

_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}
#: Hop-by-hop headers are the server's to write, never the app's (RFC 9110 §7.6.1).
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "upgrade"})


class _Rejected(Exception):
    """A request the worker answers itself with `status`, then closes the connection."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def error_response(status: int) -> bytes:
    reason = _REASONS[status]
    body = f"{status} {reason}\n".encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
        f"Date: {http_date()}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    # RFC 9110 §6.6.1: an origin server with a clock MUST send Date. Formatting it once a second is enough.
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


_environ_keys: dict[bytes, str] = {}


def environ_key(name: bytes) -> str:
    key = _environ_keys.get(name)
    if key is None:
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        if len(_environ_keys) < 1024:
            _environ_keys[name] = key
    return key


class Request:
    __slots__ = ("method", "target", "headers", "body", "version", "keep_alive")

    def __init__(
        self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes, version: str, keep: bool
    ) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.version = version
        self.keep_alive = keep


class Connection:
    """One client connection: llhttp's callbacks collect whole requests; output waits here until sent."""

    def __init__(self, sock: socket.socket, address: Any, base_environ: dict[str, Any], limits: Limits) -> None:
        self.sock = sock
        self.address = address
        self.base_environ = base_environ
        self.limits = limits
        self.parser = httptools.HttpRequestParser(self)
        self.requests: deque[Request] = deque()
        self.output = bytearray()
        self.closing = False
        self.last_activity = time.monotonic()
        self.in_request = False
        self._target: list[bytes] = []
        self._target_size = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._headers_done = False
        self._head_size = 0
        self._body: list[bytes] = []
        self._body_size = 0

    # -- llhttp callbacks ----------------------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.in_request = True
        self._target = []
        self._target_size = 0
        self._headers = []
        self._body = []
        self._body_size = 0

    def on_url(self, part: bytes) -> None:
        self._target_size += len(part)
        if self._target_size > self.limits.request_line:
            raise _Rejected(414)
        self._target.append(part)

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self._headers) >= self.limits.header_count or len(name) + len(value) > self.limits.header_size:
            raise _Rejected(431)
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        expects_continue = False
        for name, value in self._headers:
            lowered = name.lower()
            if lowered == b"content-length" and value.isdigit() and int(value) > MAX_BODY_BYTES:
                raise _Rejected(413)
            if lowered == b"expect" and value.lower() == b"100-continue":
                expects_continue = True
        if expects_continue and self.parser.get_http_version() == "1.1":
            # RFC 9110 §10.1.1: a client that expects 100-continue may wait for it before sending the body. Only
            # once the body is known to be wanted: a 413 after it would come while the body is on its way.
            self.output += b"HTTP/1.1 100 Continue\r\n\r\n"

    def on_body(self, part: bytes) -> None:
        self._body_size += len(part)
        if self._body_size > MAX_BODY_BYTES:
            raise _Rejected(413)
        self._body.append(part)

    def on_message_complete(self) -> None:
        parser = self.parser
        target = self._target[0] if len(self._target) == 1 else b"".join(self._target)
        body = b"".join(self._body) if self._body else b""
        self.requests.append(
            Request(
                parser.get_method(),
                target,
                self._headers,
                body,
                parser.get_http_version(),
                parser.should_keep_alive(),
            )
        )
        self.in_request = False
        self._headers_done = False
        self._head_size = 0

    # -- reading ------------------------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Parse what arrived; whole requests join `requests`. Raises `_Rejected` for a request to refuse."""
        if not self._headers_done:
            self._head_size += len(data)
            if self._head_size > self.limits.head_size:
                raise _Rejected(431)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, _Rejected):
                raise error.__context__ from None
            raise _Rejected(400) from error
        except httptools.HttpParserUpgrade as error:
            # No protocol upgrades (WebSocket, h2c, CONNECT): the request is answered as plain HTTP/1.1, then the
            # connection closes, since the parser stops at the upgrade.
            if not self.requests:
                raise _Rejected(400) from error
            self.requests[-1].keep_alive = False
        except httptools.HttpParserError as error:
            raise _Rejected(400) from error


class Limits:
    def __init__(self, request_line: int, header_count: int, header_size: int) -> None:
        # gunicorn's settings: 0 means no limit.
        self.request_line = request_line or sys.maxsize
        self.header_count = header_count or sys.maxsize
        self.header_size = header_size or sys.maxsize
        self.head_size = (request_line or 8190) + (header_count or 100) * ((header_size or 8190) + 4) + 4


class EventLoop:
    """One thread's epoll loop: reads, parses, calls the app and writes for the connections it owns."""

    def __init__(self, worker: EventLoopWorker, name: str) -> None:
        self.worker = worker
        self.selector = selectors.DefaultSelector()
        self.connections: set[Connection] = set()
        self.arrivals: queue.SimpleQueue[tuple[socket.socket, Any, dict[str, Any]]] = queue.SimpleQueue()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self.selector.register(self._wake_reader, selectors.EVENT_READ, None)
        self.stopping = False
        self.thread = threading.Thread(target=self.run, name=name, daemon=True)

    def adopt(self, sock: socket.socket, address: Any, base_environ: dict[str, Any]) -> None:
        """Called by the accepting thread: this loop takes the connection over."""
        self.arrivals.put((sock, address, base_environ))
        self.wake()

    def wake(self) -> None:
        try:
            self._wake_writer.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # a wake-up is already pending

    def stop(self) -> None:
        self.stopping = True
        self.wake()

    def run(self) -> None:
        worker = self.worker
        next_sweep = time.monotonic() + _SWEEP_SECONDS
        stop_deadline: float | None = None
        while True:
            events = self.selector.select(_SWEEP_SECONDS)
            for key, mask in events:
                connection = key.data
                if connection is None:
                    self._take_arrivals()
                    continue
                try:
                    if mask & selectors.EVENT_WRITE:
                        self._answer_waiting(connection)
                    else:
                        self._read(connection)
                except Exception:
                    # Whatever went wrong is this connection's alone: the loop goes on serving the others.
                    worker.log.exception("Error on a connection; closing it")
                    self._close(connection)
            now = time.monotonic()
            if self.stopping:
                # Connections accepted just before the stop are in `arrivals`: served, not left to be reset at exit.
                self._take_arrivals()
                if stop_deadline is None:
                    stop_deadline = now + worker.cfg.graceful_timeout
                for connection in list(self.connections):
                    if not connection.in_request and not connection.output and not connection.requests:
                        if now - connection.last_activity > _STOP_LINGER_SECONDS or connection.closing:
                            self._close(connection)
                if not self.connections or now > stop_deadline:
                    break
            if now >= next_sweep:
                self._sweep(now)
                next_sweep = now + _SWEEP_SECONDS
        for connection in list(self.connections):
            self._close(connection)
        self.selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def _take_arrivals(self) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        while True:
            try:
                sock, address, base_environ = self.arrivals.get_nowait()
            except queue.Empty:
                return
            connection = Connection(sock, address, base_environ, self.worker.limits)
            self.connections.add(connection)
            self.selector.register(sock, selectors.EVENT_READ, connection)

    def _sweep(self, now: float) -> None:
        keepalive = self.worker.cfg.keepalive
        stalled_after = self.worker.cfg.timeout
        for connection in list(self.connections):
            quiet_for = now - connection.last_activity
            if connection.output or connection.in_request:
                if quiet_for > stalled_after:
                    if connection.in_request and not connection.output:
                        self._send_error(connection, 408)
                    else:
                        self._close(connection)
            elif quiet_for > keepalive:
                self._close(connection)

    def _read(self, connection: Connection) -> None:
        try:
            data = connection.sock.recv(_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(connection)
            return
        connection.last_activity = time.monotonic()
        try:
            connection.feed(data)
        except _Rejected as rejected:
            self._answer_waiting(connection)
            self._send_error(connection, rejected.status)
            return
        self._answer_waiting(connection)

    def _answer_waiting(self, connection: Connection) -> None:
        """Answer the requests read so far, in order, sending as it goes; wait whenever the client reads slowly.

        A loop, not recursion: one read may hold thousands of pipelined requests."""
        worker = self.worker
        while True:
            while connection.requests and not connection.closing and len(connection.output) <= _READ_SIZE:
                request = connection.requests.popleft()
                keep_alive = request.keep_alive and not self.stopping and worker.alive
                connection.output += worker.respond(request, connection, keep_alive)
                if not keep_alive:
                    connection.closing = True
                    connection.requests.clear()
            if not self._send(connection):
                return
            if connection.closing:
                self._close(connection)
                return
            if not connection.requests:
                self._watch(connection, selectors.EVENT_READ)
                return

    def _send(self, connection: Connection) -> bool:
        """Send what the socket takes now; True when nothing is left to send (False also when the client is gone)."""
        output = connection.output
        while output:
            try:
                sent = connection.sock.send(output)
            except (BlockingIOError, InterruptedError):
                self._watch(connection, selectors.EVENT_WRITE)
                return False
            except OSError:
                self._close(connection)
                return False
            del output[:sent]
            connection.last_activity = time.monotonic()
        return True

    def _watch(self, connection: Connection, events: int) -> None:
        key = self.selector.get_key(connection.sock)
        if key.events != events:
            self.selector.modify(connection.sock, events, connection)

    def _send_error(self, connection: Connection, status: int) -> None:
        connection.requests.clear()
        connection.output += error_response(status)
        connection.closing = True
        self._answer_waiting(connection)

    def _close(self, connection: Connection) -> None:
        if connection not in self.connections:
            return
        self.connections.discard(connection)
        try:
            self.selector.unregister(connection.sock)
        except (KeyError, ValueError):
            pass
        try:
            connection.sock.close()
        except OSError:
            pass


class EventLoopWorker(Worker):
    """gunicorn's `worker_class = "idp.web.worker.EventLoopWorker"`; `threads` sets the number of loops."""

    limits: Limits
    loops: list[EventLoop]
    alive: bool

    def init_process(self) -> None:
        if self.cfg.is_ssl:
            raise RuntimeError("EventLoopWorker does not speak TLS: end TLS at the load balancer")
        self.limits = Limits(
            self.cfg.limit_request_line, self.cfg.limit_request_fields, self.cfg.limit_request_field_size
        )
        self.multiprocess = self.cfg.workers > 1
        self._served_lock = threading.Lock()
        super().init_process()

    def run(self) -> None:
        self.base_environ = {listener: self._base_environ(listener) for listener in self.sockets}
        self.loops = [EventLoop(self, f"loop-{index}") for index in range(max(1, self.cfg.threads))]
        for loop in self.loops:
            loop.thread.start()
        selector = selectors.DefaultSelector()
        for listener in self.sockets:
            listener.setblocking(False)
            selector.register(listener, selectors.EVENT_READ, listener)
        selector.register(self.PIPE[0], selectors.EVENT_READ, None)
        accepting = True
        while self.alive:
            self.notify()
            if self.ppid != os.getppid():
                self.log.info("Parent changed, shutting down: %s", self)
                break
            open_connections = sum(len(loop.connections) for loop in self.loops)
            if accepting != (open_connections < self.cfg.worker_connections):
                accepting = not accepting
                for listener in self.sockets:
                    if accepting:
                        selector.register(listener, selectors.EVENT_READ, listener)
                    else:
                        selector.unregister(listener)
            try:
                events = selector.select(1.0)
            except OSError as error:
                if error.errno != errno.EINTR:
                    raise
                continue
            for key, _ in events:
                if key.data is None:
                    self._drain_wakeup_pipe()
                else:
                    self._accept(key.data)
        selector.close()
        for listener in self.sockets:
            listener.close()
        for loop in self.loops:
            loop.stop()
        deadline = time.monotonic() + self.cfg.graceful_timeout
        for loop in self.loops:
            while loop.thread.is_alive() and time.monotonic() < deadline:
                self.notify()
                loop.thread.join(0.5)

    def _drain_wakeup_pipe(self) -> None:
        try:
            while os.read(self.PIPE[0], 4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(64):
            if not self.alive:  # max_requests reached or told to stop: the next worker takes new connections
                return
            try:
                sock, address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                if error.errno in (errno.ECONNABORTED, errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    self.log.warning("accept failed: %s", error)
                    return
                raise
            sock.setblocking(False)
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            loop = min(self.loops, key=lambda loop: len(loop.connections))
            loop.adopt(sock, address, self.base_environ[listener])

    def _base_environ(self, listener: socket.socket) -> dict[str, Any]:
        name = listener.getsockname()
        if isinstance(name, tuple):
            server_name, server_port = str(name[0]), str(name[1])
        else:
            server_name, server_port = str(name), ""
        return {
            "SCRIPT_NAME": os.environ.get("SCRIPT_NAME", ""),
            "SERVER_NAME": server_name,
            "SERVER_PORT": server_port,
            "SERVER_SOFTWARE": "gunicorn",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": self.multiprocess,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
        }

    def environ_for(self, request: Request, connection: Connection) -> dict[str, Any]:
        environ = connection.base_environ.copy()
        target = request.target
        if not target.startswith(b"/"):  # absolute-form (RFC 9112 §3.2.2) or "*"
            url = httptools.parse_url(target)
            target = (url.path or b"/") + (b"?" + url.query if url.query else b"")
        path, _, query = target.partition(b"?")
        path = path.partition(b"#")[0]
        query = query.partition(b"#")[0]
        environ["REQUEST_METHOD"] = request.method.decode("latin-1")
        environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1") if b"%" in path else path.decode("latin-1")
        environ["QUERY_STRING"] = query.decode("latin-1")
        environ["RAW_URI"] = request.target.decode("latin-1")
        environ["SERVER_PROTOCOL"] = "HTTP/" + request.version
        address = connection.address
        if isinstance(address, tuple):
            environ["REMOTE_ADDR"] = address[0]
            environ["REMOTE_PORT"] = str(address[1])
        else:
            environ["REMOTE_ADDR"] = ""
        environ["wsgi.input"] = BytesIO(request.body)
        for name, value in request.headers:
            if b"_" in name:
                continue  # as gunicorn: X_Forwarded_For must not pass for X-Forwarded-For
            key = environ_key(name)
            text = value.decode("latin-1")
            if key == "HTTP_CONTENT_TYPE":
                environ["CONTENT_TYPE"] = text
                continue
            if key == "HTTP_CONTENT_LENGTH":
                environ["CONTENT_LENGTH"] = text
                continue
            if key in environ:
                text = environ[key] + ("; " if key == "HTTP_COOKIE" else ", ") + text
            environ[key] = text
        if request.body and "CONTENT_LENGTH" not in environ:  # a chunked body, read whole
            environ["CONTENT_LENGTH"] = str(len(request.body))
        return environ

    def respond(self, request: Request, connection: Connection, keep_alive: bool) -> bytes:
        """The whole response to one request, as bytes: status line, headers and body."""
        try:
            environ = self.environ_for(request, connection)
        except httptools.HttpParserError:  # a target llhttp lets through with no path in it: CONNECT's host:port
            connection.closing = True
            return error_response(400)
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., None]:
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return _no_write

        try:
            result: Iterable[bytes] = self.wsgi(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if not started:
                raise RuntimeError("the app returned without calling start_response")
            status_code = started[0][:3]
            bodiless = request.method == b"HEAD" or status_code in ("204", "304") or status_code[0] == "1"
            head = self._head(started[0], started[1], len(body), keep_alive, request.version, not bodiless)
        except Exception:
            self.log.exception("Error handling request %s", environ.get("PATH_INFO", ""))
            connection.closing = True
            return error_response(500)
        self._count_request()
        if bodiless:
            return head
        return head + body

    def _head(
        self,
        status: str,
        headers: list[tuple[str, str]],
        body_length: int,
        keep_alive: bool,
        version: str,
        sends_body: bool,
    ) -> bytes:
        lines = ["HTTP/1.1 ", status, "\r\n"]
        has_length = False
        for name, value in headers:
            lowered = name.lower()
            if lowered in _HOP_BY_HOP:
                continue
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
                raise ValueError(f"invalid response header {name!r}")
            if lowered == "content-length":
                # A length that is not the body's would have the client read the next response from the wrong byte.
                if sends_body and value.strip() != str(body_length):
                    raise ValueError(f"Content-Length {value!r} for a body of {body_length} bytes")
                has_length = True
            lines += (name, ": ", value, "\r\n")
        if not has_length and status[:3] not in ("204", "304") and status[0] != "1":
            lines += ("Content-Length: ", str(body_length), "\r\n")
        lines += ("Date: ", http_date(), "\r\n")
        if not keep_alive:
            lines.append("Connection: close\r\n")
        elif version == "1.0":
            lines.append("Connection: keep-alive\r\n")
        lines.append("\r\n")
        return "".join(lines).encode("latin-1")

    def _count_request(self) -> None:
        with self._served_lock:
            self.nr += 1
            if self.nr >= self.max_requests and self.alive:
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
                os.write(self.PIPE[1], b".")


def _no_write(data: bytes) -> None:
    raise RuntimeError("the write() callable of start_response is not supported: return the body instead")
