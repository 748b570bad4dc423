"""The HTTP protocol: uvicorn's httptools protocol, with the door held.

uvicorn with httptools bounds neither the time a client takes to send its
request head nor the head's size, and answers its own errors in plain text.
This subclass adds, per connection:

- the request head must be complete within `head_timeout` seconds, counted
  from the connection's start or from the first byte of a later request;
- once the head is in, the body must bring MIN_BODY_RATE bytes a second in
  every stretch of `head_timeout` seconds, and be whole within
  max(`head_timeout`, size / MIN_BODY_RATE) of the head, however it trickles;
- an answer given before the request's body is whole (a 413, a 401) closes
  the connection: the rest of the body is never read;
- a head over MAX_HEAD_BYTES or with over MAX_HEADER_FIELDS fields is refused
  with 431 and the connection closed;
- past `max_connections` open connections a new one gets 503 at once, and
  past `max_connections_per_client` from one client address (the peer, or
  for trusted proxies the client their request names), 429;
- a client that stops reading its answer (an export, a stream) is cut off
  once it has taken no byte of it for `reader_timeout` seconds;
- when the server stops, a live stream's connection is closed (it never ends by itself);
- every answer this layer gives itself is JSON, like the application's.

Idle keep-alive connections are closed by uvicorn after `idle_timeout`;
bytes that start no request (empty lines) do not put that off. So every
connection is under some deadline at every moment, whatever its client
sends, except while the application itself is answering.
A request whose head (and body) arrive in one read, the usual case, costs
no timer: timers are armed only when a read ends with the head or the body
unfinished, or when the answer fills the transport's write buffer (uvicorn's
write flow control pauses the application then, so a reader that stalls
holds no more than that buffer).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import socket
import struct
import termios
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import httptools
import uvicorn
from starlette.types import Scope
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from tracker.api.body import MAX_BODY_BYTES
from tracker.api.sse import ENDLESS, STALLED
from tracker.client_slots import ClientSlots
from tracker.config import Config
from tracker.enrich.client import TrustedProxies, client_address
from tracker.schemas import Error, encode
from tracker.throttle import Throttled

MAX_HEAD_BYTES = 16 * 1024
MAX_HEADER_FIELDS = 100
MIN_BODY_RATE = 1024  # bytes per second
# A connection turned away, or answered before its body was whole, stays open
# this long after its answer, so that the client reads the answer before the
# close (with its request unread) resets it; it reads and drops LINGER_BYTES
# of what the client sends on, then stops reading.
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 1024
# A paused answer's write buffer is looked at this many times per reader
# timeout, so a reader that stalls after taking a few bytes is cut off at
# most a tenth of the timeout late.
READER_CHECKS = 10

log = logging.getLogger("tracker.http")
warn_refused_heads = Throttled(log)
warn_invalid = Throttled(log)
warn_slow = Throttled(log)
warn_full = Throttled(log)
warn_client_full = Throttled(log)
warn_stalled = Throttled(log)


@dataclass(frozen=True)
class Limits:
    max_connections: int = 4096
    head_timeout: float = 10.0
    idle_timeout: int = 5
    reader_timeout: float = 60.0
    max_connections_per_client: int = 64
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def of(cls, config: Config) -> Limits:
        return cls(config.max_connections, config.head_timeout_seconds,
                   config.idle_timeout_seconds, config.reader_timeout_seconds,
                   config.max_connections_per_client, config.trusted_proxies)


@dataclass(frozen=True)
class Answer:
    """An error answered by this layer, before (or instead of) the application."""

    status: int
    code: str
    detail: str
    retry_after: int | None = None

    def encode(self, default_headers: list[tuple[bytes, bytes]]) -> bytes:
        body = encode(Error(self.code, self.detail))
        lines = [STATUS_LINE[self.status]]
        lines += [name + b": " + value + b"\r\n" for name, value in default_headers]
        if self.retry_after is not None:
            lines.append(b"retry-after: %d\r\n" % self.retry_after)
        lines.append(b"content-type: application/json\r\ncontent-length: %d\r\n"
                     b"connection: close\r\n\r\n" % len(body))
        return b"".join(lines) + body


INVALID = Answer(400, "bad_request", "the request is not valid HTTP/1.1")
HEAD_TOO_LARGE = Answer(431, "head_too_large",
                        f"a request head is at most {MAX_HEAD_BYTES} bytes and "
                        f"{MAX_HEADER_FIELDS} header fields")
HEAD_TOO_SLOW = Answer(408, "request_timeout", "the request head took too long to arrive")
BODY_TOO_SLOW = Answer(408, "request_timeout",
                       f"the request body arrived slower than {MIN_BODY_RATE} bytes per second")
OVER_CAPACITY = Answer(503, "too_many_connections",
                       "this server holds as many connections as it may; retry later", 1)
CLIENT_OVER_CAPACITY = Answer(429, "too_many_connections",
                              "this client address holds as many connections as it may; "
                              "close one or retry later", 1)


class Refused(Exception):
    """Raised in a parser callback to stop reading a request that breaks a limit."""


class Discard:
    """The parser of a connection being closed: what arrives is dropped, LINGER_BYTES at most;
    past that the connection stops reading, and the client's sending stalls."""

    def __init__(self, transport: asyncio.Transport):
        self._transport = transport
        self._left = LINGER_BYTES

    def feed_data(self, data: bytes) -> None:
        self._left -= len(data)
        if self._left < 0:
            self._transport.pause_reading()


class LingerOnClose:
    """The transport as the answer to a request whose body is still arriving sees it: closing
    it lingers (GuardedHttpToolsProtocol._linger) rather than reset the connection under an
    answer the client may not have read yet."""

    def __init__(self, transport: asyncio.Transport, linger: Callable[[], None]):
        self._transport = transport
        self.close = linger

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedConfig(uvicorn.Config):
    """uvicorn's settings, with this protocol and the limits it enforces."""

    def __init__(self, app: Any, limits: Limits, **kwargs: Any):
        super().__init__(app, http=GuardedHttpToolsProtocol, ws="none",
                         timeout_keep_alive=limits.idle_timeout, **kwargs)
        self.limits = limits
        self.trusted_proxies = TrustedProxies(limits.trusted_proxies)
        # Per process: each worker unpickles a copy of this config, so counts its own connections.
        self.client_slots = ClientSlots(limits.max_connections_per_client)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, config: GuardedConfig, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None):
        super().__init__(config, server_state, app_state, _loop)
        self.limits = config.limits
        self.proxies = config.trusted_proxies
        self.client_slots = config.client_slots
        self._address: str | None = None  # the client address whose slot this connection holds
        self._from_proxy = False  # the peer is a trusted proxy: each request names the client
        self._refusal = INVALID
        self._head_pending = True  # a request head is awaited or arriving
        self._message_began = False  # the read being parsed began a request
        self._head_reads = 0  # bytes of reads that fell wholly inside the pending head
        self._head_fields = 0  # bytes of its complete header fields
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_pending = False
        self._body_bytes = 0
        self._body_deadline = 0.0  # when the whole body must be in
        self._window_start = 0.0  # the stretch of time whose bytes are counted against the rate
        self._window_bytes = 0  # body bytes received before it
        self._body_timer: asyncio.TimerHandle | None = None
        self._keep_alive_after_body = True  # what the request asked for, while its body arrives
        self._stopping = False
        self._lingering = False
        self._unsent = 0  # bytes of the answer in the write buffer at the last look
        self._quiet_checks = 0  # looks in a row that found the client had taken none
        self._reader_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        full = len(self.connections) >= self.limits.max_connections
        super().connection_made(transport)
        if full:
            warn_full.warning("%d connections open (TRACKER_MAX_CONNECTIONS): new ones get 503",
                              len(self.connections) - 1)
            self._turn_away(OVER_CAPACITY)
            return
        peer = self.client[0] if self.client else ""
        if peer in self.proxies:
            self._from_proxy = True
        elif peer and not self._hold_slot(peer):
            self._turn_away(CLIENT_OVER_CAPACITY)
            return
        self._head_timer = self.loop.call_later(self.limits.head_timeout, self._head_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        self._free_slot()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """The server stops: as uvicorn does, but an endless answer (a live stream) is ended by
        closing its connection, which the server would otherwise wait for in vain."""
        self._stopping = True
        super().shutdown()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and cycle.scope.get(ENDLESS):
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        idle = self.timeout_keep_alive_task is not None
        whole_read_in_head = self._head_pending
        self._message_began = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._no_upgrade()
        except httptools.HttpParserError:
            self._refuse(self._refusal)
            return
        if self._message_began or not idle:  # bytes that begin no request leave the idle timer
            self._unset_keepalive_if_required()
        if self._head_pending:
            self._head_unfinished(len(data) if whole_read_in_head else 0)
        elif self._body_pending and self._body_timer is None:
            self._start_body_clock()
            self._close_if_answered_early()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._lingering:  # uvicorn armed its idle timer: the linger closes the connection
            self._unset_keepalive_if_required()

    # Write flow control: the transport pauses writing when its buffer passes
    # the high-water mark, and resumes it once the client has taken most of it.

    def pause_writing(self) -> None:
        super().pause_writing()
        self._unsent = self._untaken_bytes()
        self._quiet_checks = 0
        self._watch_reader()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._reader_timer is not None:
            self._reader_timer.cancel()
            self._reader_timer = None

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_pending = True
        self._message_began = True

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_fields += len(name) + len(value) + 4  # ": " and CRLF
        if self._head_fields > MAX_HEAD_BYTES or len(self.headers) >= MAX_HEADER_FIELDS:
            self._stop_parsing(HEAD_TOO_LARGE)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._head_fields + len(self.url) > MAX_HEAD_BYTES:
            self._stop_parsing(HEAD_TOO_LARGE)
        if self._from_proxy:
            self._count_forwarded_client()
        self._head_pending = False
        self._head_reads = self._head_fields = 0
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self._body_pending = True
        self._body_bytes = 0
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._body_pending = False
        if self._body_timer is not None:  # the body came in several reads (its clock ran)
            self._body_timer.cancel()
            self._body_timer = None
            self._not_answered_early()
        super().on_message_complete()

    # Limits

    def _stop_parsing(self, answer: Answer) -> None:
        self._refusal = answer
        raise Refused(answer.code)

    def _hold_slot(self, address: str) -> bool:
        """Count this connection for `address`; False when that address holds its share."""
        if not self.client_slots.take(address):
            warn_client_full.warning(
                "a client address holds %d connections (TRACKER_MAX_CONNECTIONS_PER_CLIENT): "
                "its new ones get 429", self.client_slots.limit)
            return False
        self._address = address
        return True

    def _free_slot(self) -> None:
        if self._address is not None:
            self.client_slots.give_back(self._address)
            self._address = None

    def _count_forwarded_client(self) -> None:
        """A trusted proxy's connection counts for the client its latest request names."""
        address = client_address(cast(Scope, self.scope), self.proxies)
        if address != self._address:
            self._free_slot()
            if not self._hold_slot(address):
                self._stop_parsing(CLIENT_OVER_CAPACITY)

    def _head_unfinished(self, read_bytes: int) -> None:
        self._head_reads += read_bytes
        if self._head_reads > MAX_HEAD_BYTES:
            self._refuse(HEAD_TOO_LARGE)
        elif self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.head_timeout, self._head_too_slow)

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._head_reads or self._head_fields:  # not a connection that never spoke
            warn_slow.warning("closed a connection whose request head took over %g s",
                              self.limits.head_timeout)
        self._refuse(HEAD_TOO_SLOW)

    def _start_body_clock(self) -> None:
        """The head is in and its body is not: the body's deadline, and its first stretch."""
        now = self.loop.time()
        self._body_deadline = now + max(self.limits.head_timeout, self._body_size() / MIN_BODY_RATE)
        self._next_body_check(now)

    def _body_size(self) -> int:
        """The bytes the body may take: its declared length, at most what any request may send."""
        for name, value in self.headers:
            if name == b"content-length" and value.isdigit():
                return min(int(value), MAX_BODY_BYTES)
        return MAX_BODY_BYTES  # chunked: the application refuses more than this anyway

    def _next_body_check(self, now: float) -> None:
        self._window_start, self._window_bytes = now, self._body_bytes
        check_at = min(now + self.limits.head_timeout, self._body_deadline)
        self._body_timer = self.loop.call_at(check_at, self._check_body)

    def _check_body(self) -> None:
        """Is the body on time: within its deadline, and at MIN_BODY_RATE over the last stretch?
        A stretch in which the application had stopped reading does not count against it."""
        self._body_timer = None
        now = self.loop.time()
        came = self._body_bytes - self._window_bytes
        kept_up = self.flow.read_paused or came >= MIN_BODY_RATE * (now - self._window_start)
        if now < self._body_deadline and kept_up:
            self._next_body_check(now)
            return
        warn_slow.warning("closed a connection whose request body came slower than %d bytes/s",
                          MIN_BODY_RATE)
        self._refuse(BODY_TOO_SLOW)

    def _close_if_answered_early(self) -> None:
        """The body is still to come: should the answer start before it is whole, it says
        `Connection: close` and the connection is closed rather than read on (uvicorn reads
        the request's keep-alive wish when the answer starts, and closes after it if false)."""
        cycle = self.cycle
        self._keep_alive_after_body = cycle.keep_alive
        cycle.keep_alive = False
        cycle.transport = LingerOnClose(cycle.transport, self._linger)  # type: ignore[assignment]

    def _not_answered_early(self) -> None:
        """The body is whole before the answer started: keep-alive as the request asked."""
        cycle = self.cycle
        if not cycle.response_started:
            cycle.keep_alive = self._keep_alive_after_body and not self._stopping
            cycle.transport = self.transport

    def _watch_reader(self) -> None:
        interval = self.limits.reader_timeout / READER_CHECKS
        self._reader_timer = self.loop.call_later(interval, self._check_reader)

    def _check_reader(self) -> None:
        """While writing is paused: has the client taken any bytes lately? Cut it off if not."""
        self._reader_timer = None
        unsent = self._untaken_bytes()
        self._quiet_checks = 0 if unsent < self._unsent else self._quiet_checks + 1
        self._unsent = unsent
        if self._quiet_checks < READER_CHECKS:
            self._watch_reader()
            return
        warn_stalled.warning("closed a connection that took no byte of its answer for %g s",
                             self.limits.reader_timeout)
        if self.cycle is not None:
            cast(Scope, self.cycle.scope)[STALLED] = True  # a key of ours, for the application
        self._cancel_timers()
        _reset_on_close(self.transport)
        self.transport.abort()  # close() would wait for the buffer to be taken: it never is

    def _untaken_bytes(self) -> int:
        """Bytes written and not yet taken by the client: in the transport's buffer, and in the
        socket's send queue (sent but unacknowledged, or unsent) where the system tells."""
        return self.transport.get_write_buffer_size() + _send_queue(self.transport)

    def _no_upgrade(self) -> None:
        """No WebSockets or tunnels here: the request was served as plain HTTP; then close."""
        if self.cycle is not None:
            self.cycle.keep_alive = False

    def _refuse(self, answer: Answer) -> None:
        if answer is HEAD_TOO_LARGE:
            warn_refused_heads.warning("refused a request head over %d bytes or %d fields (431)",
                                       MAX_HEAD_BYTES, MAX_HEADER_FIELDS)
        elif answer is INVALID:
            warn_invalid.warning("refused a request that is not valid HTTP (400)")
        if not self._answer_in_flight():
            self.transport.write(answer.encode(self.server_state.default_headers))
        self._cancel_timers()
        self.transport.close()

    def _answer_in_flight(self) -> bool:
        """Whether the application is answering on this connection, so no other answer fits."""
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return False
        # While a head is pending, `cycle` is the previous request's, still answering.
        return self._head_pending or cycle.response_started

    def _turn_away(self, answer: Answer) -> None:
        self.connections.discard(self)  # not served, so not counted; it closes soon
        self.transport.write(answer.encode(self.server_state.default_headers))
        self._linger()

    def _linger(self) -> None:
        """Close once the answer is out: the client's further bytes are dropped, and the
        connection is closed after LINGER_SECONDS (sooner when the client closes its side)."""
        if self._lingering:
            return
        self._lingering = True
        self._cancel_timers()
        self._body_pending = self._head_pending = False
        self.parser = cast(httptools.HttpRequestParser, Discard(self.transport))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer, self._reader_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = self._reader_timer = None


def _send_queue(transport: asyncio.Transport) -> int:
    """The bytes in a socket's send queue (Linux's SIOCOUTQ), 0 where that cannot be asked.

    The kernel's buffer grows to megabytes and lets the transport write again
    only once a good part of it is free, so the transport's own buffer alone
    would show a slow reader's progress in steps far apart.
    """
    sock = transport.get_extra_info("socket")
    if sock is None or not hasattr(termios, "TIOCOUTQ"):
        return 0
    try:
        answer = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4)
    except OSError:
        return 0
    return struct.unpack("i", answer)[0]


def _reset_on_close(transport: asyncio.Transport) -> None:
    """Make closing the socket drop its send queue and reset the connection (SO_LINGER 0),
    rather than leave the system trying to deliver megabytes to a client that takes none."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
