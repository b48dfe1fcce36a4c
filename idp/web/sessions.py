"""Server-side browser sessions in the store.

The cookie holds only a random id. It is `HttpOnly`, `SameSite=Lax`, `Secure` under HTTPS; the session
expires after an hour idle; its id is replaced at sign-in (`rotate`) so a fixed id cannot be carried in.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from idp.store import Store

COOKIE_NAME = "idp_session"
_REFRESH_AFTER_SECONDS = 60
#: The WSGI environ key under which a layer ahead of Flask (idp.oidc.single_sign_on) hands over the session it has
#: read already: (the cookie's session id, the `StoredSession` or None when there is none).
SESSION_READ_AHEAD = "idp.session_read_ahead"


@dataclass(frozen=True)
class StoredSession:
    sid: str
    data: dict[str, Any]
    #: What `user_records` hold for the session's user, by key; empty when the session has no user.
    user_records: dict[str, bytes | None]


def needs_refresh(data: Mapping[str, Any], now: float) -> bool:
    """The session has not been written for a while: its expiry is pushed back at the end of this request."""
    return now - data.get("_refreshed", 0) > _REFRESH_AFTER_SECONDS


class StoreSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None, new: bool = False) -> None:
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.new = new
        self.modified = False
        self.rotate_requested = False

    def rotate(self) -> None:
        """Give the session a new id at the next response; the old id stops working."""
        self.rotate_requested = True
        self.modified = True


class StoreSessionInterface(SessionInterface):
    """`user_records`: key prefixes of what a signed-in page reads of its citizen (`<prefix><user_id>`), read in the
    round trip that reads the session and handed to `keep_user_records` for the rest of the request."""

    def __init__(
        self,
        store: Store,
        idle_ttl: int,
        user_records: Sequence[str] = (),
        keep_user_records: Callable[[dict[str, bytes | None]], None] | None = None,
    ) -> None:
        self._store = store
        self._idle_ttl = idle_ttl
        self._user_records = list(user_records)
        self._keep_user_records = keep_user_records

    def read(self, sid: str) -> StoredSession | None:
        """The session the cookie names, with its user's records, in one round trip."""
        if not sid or len(sid) > 64:
            return None
        raw, values = self._store.get_linked(f"session:{sid}", "user_id", self._user_records)
        if raw is None:
            return None
        data = orjson.loads(raw)
        user_id = data.get("user_id")
        if not isinstance(user_id, str):
            return StoredSession(sid, data, {})
        keys = [prefix + user_id for prefix in self._user_records]
        return StoredSession(sid, data, dict(zip(keys, values, strict=True)))

    def open_session(self, app: Flask, request: Request) -> StoreSession:
        sid = request.cookies.get(COOKIE_NAME)
        if sid:
            read_ahead = request.environ.get(SESSION_READ_AHEAD)
            stored = read_ahead[1] if read_ahead is not None and read_ahead[0] == sid else self.read(sid)
            if stored is not None:
                if self._keep_user_records is not None and stored.user_records:
                    self._keep_user_records(stored.user_records)
                return StoreSession(stored.data, sid=sid)
        return StoreSession(new=True)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, StoreSession)
        secure = app.config["SESSION_COOKIE_SECURE"]
        if not session:
            if session.sid and (session.modified or session.rotate_requested):
                self._store.delete(f"session:{session.sid}")
                response.delete_cookie(COOKIE_NAME, httponly=True, samesite="Lax", secure=secure)
            return
        now = time.time()
        if not (session.modified or needs_refresh(session, now) or session.sid is None):
            return
        if session.rotate_requested and session.sid:
            self._store.delete(f"session:{session.sid}")
            session.sid = None
        if session.sid is None:
            session.sid = secrets.token_urlsafe(32)
        session["_refreshed"] = now
        self._store.set(f"session:{session.sid}", orjson.dumps(dict(session)), self._idle_ttl)
        response.set_cookie(
            COOKIE_NAME,
            session.sid,
            max_age=self._idle_ttl,
            httponly=True,
            samesite="Lax",
            secure=secure,
            path="/",
        )
        response.vary.add("Cookie")
