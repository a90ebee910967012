"""A Slack Socket Mode stand-in: a real WebSocket server on 127.0.0.1, standard library only.

It speaks the small part of RFC 6455 that slack_sdk's built-in `SocketModeClient` uses (the
HTTP Upgrade handshake, masked client frames, unmasked server frames, text, ping/pong and
close), greets each connection with Slack's `hello`, pushes envelopes shaped exactly like
Slack's (`slash_commands`, `interactive`, `events_api`) and records every ack with the
moment it arrived, so a test can check the bot acks within Slack's three seconds.

    with SocketModeStandIn() as sockets:
        slack.socket_url = sockets.url            # what apps.connections.open hands out
        ...start the bot, then:
        envelope_id = sockets.send_slash_command("/radar", "help", ...)
        ack = sockets.wait_for_ack(envelope_id, timeout=3)
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.doubles.signing import action_body, event_body, slash_command_body

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OPCODE_CONTINUATION = 0x0
OPCODE_TEXT = 0x1
OPCODE_BINARY = 0x2
OPCODE_CLOSE = 0x8
OPCODE_PING = 0x9
OPCODE_PONG = 0xA

MAX_HANDSHAKE_BYTES = 16_384
MAX_FRAME_BYTES = 4_000_000


class _ConnectionClosed(Exception):
    """The peer went away mid-frame; the reader thread simply ends."""


@dataclass(frozen=True)
class Ack:
    """One `{"envelope_id": ...}` message the app sent back, and when it arrived."""

    envelope_id: str
    message: dict[str, Any]
    received_at: float
    sent_at: float | None

    @property
    def seconds(self) -> float | None:
        """Time from pushing the envelope to receiving its ack (what Slack's 3 s limit is on)."""
        return None if self.sent_at is None else self.received_at - self.sent_at

    @property
    def payload(self) -> dict[str, Any] | None:
        """The response payload carried in the ack (slash commands may answer inline)."""
        return self.message.get("payload")


@dataclass
class _Connection:
    sock: socket.socket
    path: str
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    open: bool = True

    def send_frame(self, opcode: int, payload: bytes) -> None:
        """Server frames are never masked (RFC 6455 section 5.1)."""
        header = bytes([0x80 | opcode])
        length = len(payload)
        if length <= 125:
            header += bytes([length])
        elif length <= 0xFFFF:
            header += bytes([126]) + struct.pack("!H", length)
        else:
            header += bytes([127]) + struct.pack("!Q", length)
        with self.send_lock:
            if not self.open:
                raise ConnectionError("the Socket Mode connection is closed")
            self.sock.sendall(header + payload)

    def close(self) -> None:
        with self.send_lock:
            self.open = False
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()


def accept_key(client_key: str) -> str:
    """The `Sec-WebSocket-Accept` value proving the server read the client's key."""
    digest = hashlib.sha1((client_key + WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def _read_exactly(sock: socket.socket, count: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < count:
        chunk = sock.recv(count - len(chunks))
        if not chunk:
            raise _ConnectionClosed
        chunks += chunk
    return bytes(chunks)


def _read_frame(sock: socket.socket) -> tuple[bool, int, bytes, bool]:
    """One frame from the client: (fin, opcode, unmasked payload, was it masked)."""
    first, second = _read_exactly(sock, 2)
    fin = bool(first & 0x80)
    opcode = first & 0x0F
    masked = bool(second & 0x80)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _read_exactly(sock, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _read_exactly(sock, 8))
    if length > MAX_FRAME_BYTES:
        raise _ConnectionClosed
    mask = _read_exactly(sock, 4) if masked else b""
    data = _read_exactly(sock, length)
    if masked:
        data = bytes(byte ^ mask[index % 4] for index, byte in enumerate(data))
    return fin, opcode, data, masked


class SocketModeStandIn:
    """Slack's Socket Mode endpoint on a local port; see the module docstring for the shape."""

    def __init__(
        self,
        *,
        app_id: str = "A1",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app_id = app_id
        self.ticket = secrets.token_hex(8)
        self._clock = clock
        self._condition = threading.Condition(threading.RLock())
        self._envelope_ids = itertools.count(1)
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._connections: list[_Connection] = []
        self._stopping = threading.Event()
        self.handshakes: list[str] = []
        self.rejected_handshakes: list[str] = []
        self.protocol_errors: list[str] = []
        self.pings_received: list[bytes] = []
        self.pongs_received: list[bytes] = []
        self.messages_received: list[dict[str, Any]] = []
        self.envelopes_sent: list[dict[str, Any]] = []
        self._sent_at: dict[str, float] = {}
        self._acks: list[Ack] = []
        self.disconnects = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SocketModeStandIn:
        if self._listener is not None:
            return self
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.1)
        self._listener = listener
        self._stopping.clear()
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        if self._listener is None:
            return
        self._stopping.set()
        for connection in self.live_connections():
            with contextlib.suppress(OSError, ConnectionError):
                connection.send_frame(OPCODE_CLOSE, struct.pack("!H", 1001) + b"going away")
            connection.close()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
        self._listener.close()
        self._listener = None
        self._accept_thread = None

    def __enter__(self) -> SocketModeStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The `wss` URL `apps.connections.open` hands out (plain `ws`: this is loopback)."""
        if self._listener is None:
            raise RuntimeError("SocketModeStandIn is not started")
        host, port = self._listener.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket={self.ticket}&app_id={self.app_id}"

    def live_connections(self) -> list[_Connection]:
        with self._condition:
            return [c for c in self._connections if c.open]

    def wait_for_connection(self, timeout: float = 5.0) -> bool:
        """True once some client has completed the handshake and is still connected."""
        return bool(self._wait(lambda: self.live_connections(), timeout))

    # -- pushing envelopes ---------------------------------------------------------------------

    def send_envelope(
        self,
        envelope_type: str,
        payload: Mapping[str, Any],
        *,
        accepts_response_payload: bool,
        **extra: Any,
    ) -> str:
        """Push one envelope to the newest connection; returns its `envelope_id`."""
        envelope_id = f"{next(self._envelope_ids):04d}-{secrets.token_hex(12)}"
        envelope = {
            "envelope_id": envelope_id,
            "payload": dict(payload),
            "type": envelope_type,
            "accepts_response_payload": accepts_response_payload,
            **extra,
        }
        connections = self.live_connections()
        if not connections:
            raise ConnectionError("no Socket Mode client is connected")
        with self._condition:
            self._sent_at[envelope_id] = self._clock()
            self.envelopes_sent.append(envelope)
        connections[-1].send_frame(OPCODE_TEXT, json.dumps(envelope).encode("utf-8"))
        return envelope_id

    def send_slash_command(
        self,
        command: str,
        text: str,
        user_id: str,
        channel_id: str,
        response_url: str,
        **fields: str,
    ) -> str:
        """A slash command as Socket Mode delivers it: the form fields, as a JSON object."""
        form = slash_command_body(
            command,
            text,
            user_id=user_id,
            channel_id=channel_id,
            response_url=response_url,
            api_app_id=self.app_id,
            **fields,
        )
        payload = dict(parse_qsl(form.decode("utf-8"), keep_blank_values=True))
        return self.send_envelope("slash_commands", payload, accepts_response_payload=True)

    def send_interactive(
        self,
        action_id: str,
        value: str,
        user_id: str,
        channel_id: str,
        response_url: str,
        **options: Any,
    ) -> str:
        """A `block_actions` button click (Socket Mode calls the envelope `interactive`)."""
        form = action_body(
            action_id,
            value,
            user_id=user_id,
            channel_id=channel_id,
            response_url=response_url,
            api_app_id=self.app_id,
            **options,
        )
        payload = json.loads(dict(parse_qsl(form.decode("utf-8")))["payload"])
        return self.send_envelope("interactive", payload, accepts_response_payload=False)

    def send_event(self, event: Mapping[str, Any], **options: Any) -> str:
        """An Events API callback (for example `app_home_opened`) wrapped in `events_api`."""
        body = json.loads(event_body(event, api_app_id=self.app_id, **options))
        return self.send_envelope(
            "events_api",
            body,
            accepts_response_payload=False,
            retry_attempt=0,
            retry_reason="",
        )

    def send_app_home_opened(self, user_id: str, channel_id: str = "D_HOME") -> str:
        return self.send_event(
            {
                "type": "app_home_opened",
                "user": user_id,
                "channel": channel_id,
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            }
        )

    def request_reconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's periodic `disconnect` message, asking the client to open a new socket."""
        for connection in self.live_connections()[-1:]:
            message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "stand-in"}}
            connection.send_frame(OPCODE_TEXT, json.dumps(message).encode("utf-8"))

    # -- what the client sent ------------------------------------------------------------------

    @property
    def acks(self) -> list[Ack]:
        with self._condition:
            return list(self._acks)

    def ack_for(self, envelope_id: str) -> Ack | None:
        with self._condition:
            return next((ack for ack in self._acks if ack.envelope_id == envelope_id), None)

    def wait_for_ack(self, envelope_id: str, timeout: float = 3.0) -> Ack | None:
        """The ack for `envelope_id`, waiting up to `timeout` seconds; None if it never came."""
        return self._wait(lambda: self.ack_for(envelope_id), timeout)

    def _wait(self, predicate: Callable[[], Any], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                result = predicate()
                remaining = deadline - time.monotonic()
                if result or remaining <= 0:
                    return result
                self._condition.wait(remaining)

    # -- the server ----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                sock, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            threading.Thread(target=self._serve_connection, args=(sock,), daemon=True).start()

    def _serve_connection(self, sock: socket.socket) -> None:
        connection = self._handshake(sock)
        if connection is None:
            return
        try:
            self._read_loop(connection)
        except (_ConnectionClosed, OSError):
            pass
        finally:
            connection.close()
            with self._condition:
                self.disconnects += 1
                self._condition.notify_all()

    def _handshake(self, sock: socket.socket) -> _Connection | None:
        """Validate the Upgrade request as Slack would; answer 101 and say hello."""
        request = b""
        try:
            while b"\r\n\r\n" not in request:
                chunk = sock.recv(1024)
                if not chunk or len(request) > MAX_HANDSHAKE_BYTES:
                    sock.close()
                    return None
                request += chunk
        except OSError:
            sock.close()
            return None
        head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        request_line, *header_lines = head.split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        method, _, rest = request_line.partition(" ")
        path = rest.rpartition(" ")[0]
        query = dict(parse_qsl(urlsplit(path).query))
        problem = None
        if method != "GET":
            problem = f"method {method}"
        elif headers.get("upgrade", "").lower() != "websocket":
            problem = "no Upgrade: websocket"
        elif "upgrade" not in headers.get("connection", "").lower():
            problem = "no Connection: Upgrade"
        elif headers.get("sec-websocket-version") != "13":
            problem = "Sec-WebSocket-Version is not 13"
        elif not headers.get("sec-websocket-key"):
            problem = "no Sec-WebSocket-Key"
        elif query.get("ticket") != self.ticket:
            problem = "unknown ticket"
        if problem is not None:
            with self._condition:
                self.rejected_handshakes.append(problem)
                self._condition.notify_all()
            with contextlib.suppress(OSError):
                sock.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
            sock.close()
            return None
        response = (
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(headers['sec-websocket-key'])}\r\n"
            "\r\n"
        )
        connection = _Connection(sock=sock, path=path)
        try:
            sock.sendall(response.encode("ascii"))
            hello = {
                "type": "hello",
                "num_connections": len(self.live_connections()) + 1,
                "debug_info": {
                    "host": "applink-stand-in",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
            connection.send_frame(OPCODE_TEXT, json.dumps(hello).encode("utf-8"))
        except OSError:
            connection.close()
            return None
        with self._condition:
            self.handshakes.append(path)
            self._connections.append(connection)
            self._condition.notify_all()
        return connection

    def _read_loop(self, connection: _Connection) -> None:
        fragments = bytearray()
        while not self._stopping.is_set():
            fin, opcode, data, masked = _read_frame(connection.sock)
            if not masked:
                self._protocol_error(connection, "client frame was not masked")
                return
            if opcode == OPCODE_PING:
                with self._condition:
                    self.pings_received.append(data)
                connection.send_frame(OPCODE_PONG, data)
            elif opcode == OPCODE_PONG:
                with self._condition:
                    self.pongs_received.append(data)
            elif opcode == OPCODE_CLOSE:
                with contextlib.suppress(OSError, ConnectionError):
                    connection.send_frame(OPCODE_CLOSE, data[:2])
                return
            elif opcode in (OPCODE_TEXT, OPCODE_CONTINUATION):
                fragments += data
                if fin:
                    self._on_text(bytes(fragments))
                    fragments.clear()
            else:
                self._protocol_error(connection, f"unexpected opcode {opcode:#x}")
                return

    def _on_text(self, raw: bytes) -> None:
        try:
            message = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            with self._condition:
                self.protocol_errors.append(f"not JSON: {raw[:80]!r}")
            return
        with self._condition:
            self.messages_received.append(message)
            envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
            if isinstance(envelope_id, str):
                self._acks.append(
                    Ack(
                        envelope_id=envelope_id,
                        message=message,
                        received_at=self._clock(),
                        sent_at=self._sent_at.get(envelope_id),
                    )
                )
            self._condition.notify_all()

    def _protocol_error(self, connection: _Connection, problem: str) -> None:
        with self._condition:
            self.protocol_errors.append(problem)
        with contextlib.suppress(OSError, ConnectionError):
            connection.send_frame(OPCODE_CLOSE, struct.pack("!H", 1002) + problem.encode())
