"""The front door under hostile traffic (issue 10), against `python -m bot serve` in its
own process, as an attacker and an unlucky production day would meet it.

Each test asserts what a user and an operator would see: the HTTP status, the process's
peak memory (`VmHWM` in /proc/<pid>/status), the log (no traceback, one short line per
refused signed request), the answers at the response_url, and what was stored. Two
checks need a hand on the bot's internals and run in-process: a request whose body never
finishes must not hold answers back, and a listener that raises still answers 200.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import select
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from bot.replay_guard import ReplayGuard
from bot.request_body import MAX_BODY
from bot.slack.server import APOLOGY, REPLAY_WINDOW
from bot.store import open_store
from tests.doubles.hub_fixtures import background
from tests.doubles.hub_server import HubStandIn
from tests.doubles.signing import (
    FORM,
    JSON,
    action_body,
    event_body,
    post_signed,
    sign,
    slash_command_body,
)
from tests.doubles.slack_server import SlackStandIn
from tests.harness import SIGNING_SECRET, RadarHarness
from tests.reliability.helpers import LAB_ROTATION, keep_only_labs, report
from tests.serve_process import BotProcess, standin_env

pytestmark = [pytest.mark.reliability, pytest.mark.security]

MB = 1 << 20
HUGE = 64 * MB
_names = itertools.count()


# ------------------------------------------------------------------ serve, and raw HTTP


@dataclass
class Served:
    bot: BotProcess
    hub: HubStandIn
    slack: SlackStandIn

    @property
    def events_url(self) -> str:
        return f"{self.bot.url}/slack/events"

    def log_since(self, offset: int) -> str:
        return self.bot.log_text()[offset:]

    def log_size(self) -> int:
        return len(self.bot.log_text())


@contextlib.contextmanager
def served(tmp_path: Path, **env: str) -> Iterator[Served]:
    """`serve` on loopback against fresh stand-ins; polls rarely, so the log is quiet."""
    with HubStandIn() as hub, SlackStandIn() as slack:
        hub.add_many(background(datetime.now(UTC), 10))
        settings = {"POLL_INTERVAL_SECONDS": "3600", **env}
        bot = BotProcess(
            standin_env(hub, slack, tmp_path, **settings), tmp_path / "serve.log", cwd=tmp_path
        )
        try:
            bot.start().wait_ready(timeout=60)
            yield Served(bot, hub, slack)
        finally:
            hub.release()
            bot.close()


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(tmp_path_factory.mktemp("security")) as running:
        yield running


def fresh(name: str) -> str:
    return f"{name}-{next(_names)}"


def peak_memory(pid: int) -> int:
    """VmHWM, the process's peak resident memory so far, in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1)) * 1024


def head(
    *,
    length: int | None = None,
    chunked: bool = False,
    signature: str | None = None,
    timestamp: int | None = None,
    content_type: str = FORM,
) -> bytes:
    """Request line and headers of a POST to /slack/events; signature headers when given."""
    lines = ["POST /slack/events HTTP/1.1", "Host: radar", f"Content-Type: {content_type}"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if signature is not None:
        stamp = int(time.time()) if timestamp is None else timestamp
        lines += [f"X-Slack-Request-Timestamp: {stamp}", f"X-Slack-Signature: {signature}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def plausible_signature() -> str:
    """Well-formed and fresh, but wrong: it gets a request past the header check only."""
    return "v0=" + "ab" * 32


def raw_post(url: str, request_head: bytes, body: Iterable[bytes], timeout: float = 20) -> int:
    """Send the head, then the body a piece at a time, stopping as soon as the server has
    answered (a refused upload is not sent in full); returns the HTTP status."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request_head)
        for piece in body:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(piece)
            except OSError:  # the server answered and closed while we were still sending
                break
        received = b""
        with contextlib.suppress(OSError):
            while b"\r\n" not in received and (data := sock.recv(4096)):
                received += data
    return int(received.split(b" ", 2)[1]) if received else 0


def megabytes(count: int) -> Iterator[bytes]:
    piece = b"a" * MB
    for _ in range(count):
        yield piece


def chunked(pieces: Iterable[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield b"%x\r\n" % len(piece) + piece + b"\r\n"
    yield b"0\r\n\r\n"


def in_parallel(calls: list[Any]) -> list[Any]:
    """Run each zero-argument call on its own thread, all at once; results in order."""
    results: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        start.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def assert_no_traceback(log: str) -> None:
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]


# ------------------------------------------------------------- 1. limits before reading


def test_oversized_bodies_are_refused_without_the_memory_they_ask_for(tmp_path: Path) -> None:
    """Sixteen 64 MB uploads at once, declared and chunked: each is refused, and the
    process's peak memory grows by far less than one of them."""
    with served(tmp_path) as door:
        pid = door.bot.process.pid
        post_signed(door.events_url, b"warm=up", SIGNING_SECRET, content_type=FORM)
        before = peak_memory(pid)
        declared = head(length=HUGE, signature=plausible_signature())
        streamed = head(chunked=True, signature=plausible_signature())
        unsigned = head(chunked=True)
        started = time.monotonic()
        statuses = in_parallel(
            [lambda: raw_post(door.events_url, declared, megabytes(64))] * 6
            + [lambda: raw_post(door.events_url, streamed, chunked(megabytes(64)))] * 6
            + [lambda: raw_post(door.events_url, unsigned, chunked(megabytes(64)))] * 4
        )
        seconds = time.monotonic() - started
        after = peak_memory(pid)
        assert door.bot.health()[0] == 200  # still up and answering
        log = door.bot.log_text()

    assert statuses == [413] * 12 + [401] * 4
    assert "/slack/events" not in log  # unauthenticated refusals are not worth a log line
    growth = after - before
    margin = 16 * MAX_BODY + 16 * MB  # each request's cap, plus the allocator's slack
    assert growth <= margin, f"peak memory grew by {growth / MB:.1f} MB"
    assert_no_traceback(log)
    report(
        "security-oversized",
        uploads=16,
        asked_mb=16 * 64,
        peak_before_mb=round(before / MB, 1),
        peak_growth_mb=round(growth / MB, 1),
        seconds=round(seconds, 2),
    )


def test_a_slow_body_is_timed_out_with_408(door: Served) -> None:
    started = time.monotonic()
    status = raw_post(
        door.events_url, head(length=1000, signature=plausible_signature()), [b"x" * 10]
    )
    seconds = time.monotonic() - started

    assert status == 408
    assert 4.0 <= seconds < 15.0  # the deadline is 5 s
    assert door.bot.health()[0] == 200


def test_a_declared_length_that_is_not_a_number_gets_400(door: Served) -> None:
    request = head(signature=plausible_signature()).replace(
        b"\r\n\r\n", b"\r\nContent-Length: 12abc\r\n\r\n"
    )
    assert raw_post(door.events_url, request, [b"x" * 12]) in (400, 413)


# ------------------------------------------------- 2. unsigned junk, signed junk, shapes

JUNK_BODIES = {
    "invalid utf-8": b"\xff\xfe\xfa\x80 not text",
    "payload with invalid JSON": b"payload=%7Bnot%20json",
    "payload=null": b"payload=null",
    "deeply nested JSON": b"payload=" + quote("[" * 200_000).encode(),
    "JSON list": b"[1, 2, 3]",
    "120k form fields": "&".join(f"f{i}=v" for i in range(120_000)).encode()[: MAX_BODY - 10],
    "empty": b"",
}


def test_unsigned_junk_gets_401_and_leaves_no_trace_in_the_log(door: Served) -> None:
    offset = door.log_size()
    statuses = []
    for _round in range(20):
        for body in JUNK_BODIES.values():
            for headers in (
                {"Content-Type": FORM},
                {
                    "Content-Type": FORM,
                    "X-Slack-Request-Timestamp": str(int(time.time())),
                    "X-Slack-Signature": plausible_signature(),
                },
            ):
                statuses.append(door_post(door, body, headers))
    log = door.log_since(offset)

    assert set(statuses) == {401}
    assert_no_traceback(log)
    assert len(log) < 2_000, f"{len(statuses)} refusals wrote {len(log)} bytes of log"
    report("security-unsigned-junk", requests=len(statuses), log_bytes=len(log))


def door_post(door: Served, body: bytes, headers: dict[str, str]) -> int:
    import httpx

    return httpx.post(door.events_url, content=body, headers=headers, timeout=10).status_code


@pytest.mark.parametrize("name", list(JUNK_BODIES))
def test_signed_junk_gets_400_with_one_short_log_line(door: Served, name: str) -> None:
    offset = door.log_size()
    status, _, _ = post_signed(
        door.events_url, JUNK_BODIES[name], SIGNING_SECRET, content_type=FORM
    )
    time.sleep(0.1)
    log = door.log_since(offset)

    assert status == 400
    assert_no_traceback(log)
    lines = [line for line in log.splitlines() if " bot.slack" in line]  # not the poller's
    assert len(lines) == 1 and "(400)" in lines[0] and len(lines[0]) < 200, lines


def signed_payload(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def click(action: Any, **extra: Any) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U_MALLORY"},
        "channel": {"id": "C_SHAPES"},
        "response_url": "http://127.0.0.1:9/unused",
        "actions": action,
        **extra,
    }


MALFORMED = {
    "actions: []": signed_payload(click([])),
    "actions as a string": signed_payload(click("mute_lab")),
    "action_id as an object": signed_payload(click([{"action_id": {"x": 1}, "value": "Qwen"}])),
    "action value as a list": signed_payload(click([{"action_id": "mute_lab", "value": ["Q"]}])),
    "user as a number": signed_payload({**click([{"action_id": "mute_lab"}]), "user": 7}),
    "view without type": signed_payload(
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1"}}
    ),
    "event as a string": json.dumps({"type": "event_callback", "event": "app_home_opened"}),
    "event without a type": json.dumps({"type": "event_callback", "event": {"user": "U1"}}),
    "no type, no command": json.dumps({"hello": "world"}),
    "command that is not a /command": urlencode({"command": "radar", "text": "x"}),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_signed_malformed_payloads_get_400_and_change_nothing(door: Served, name: str) -> None:
    body = MALFORMED[name]
    body = body.encode() if isinstance(body, str) else body
    content_type = JSON if body.startswith(b"{") else FORM
    offset = door.log_size()

    status, _, _ = post_signed(door.events_url, body, SIGNING_SECRET, content_type=content_type)
    time.sleep(0.1)

    assert status == 400
    log = door.log_since(offset)
    assert_no_traceback(log)
    assert log.count("(400)") == 1
    assert door.slack.responses("unused") == []


UNHANDLED = {
    "an event the bot has no listener for": (
        event_body({"type": "reaction_added", "user": "U1", "reaction": "eyes"}),
        JSON,
    ),
    "a button the bot does not know": (
        action_body("old_button", "v", user_id="U1", channel_id="C1", response_url="x"),
        FORM,
    ),
    "a modal submitted": (
        signed_payload(
            {
                "type": "view_submission",
                "user": {"id": "U1"},
                "view": {"type": "modal", "callback_id": "x"},
            }
        ),
        FORM,
    ),
    "a global shortcut": (
        signed_payload({"type": "shortcut", "callback_id": "x", "user": {"id": "U1"}}),
        FORM,
    ),
    "a slash command the bot does not own": (
        slash_command_body("/weather", "paris", user_id="U1", channel_id="C1", response_url="x"),
        FORM,
    ),
}


@pytest.mark.parametrize("name", list(UNHANDLED))
def test_unknown_events_and_actions_are_acknowledged_quietly(door: Served, name: str) -> None:
    body, content_type = UNHANDLED[name]
    offset = door.log_size()

    status, text, _ = post_signed(door.events_url, body, SIGNING_SECRET, content_type=content_type)
    time.sleep(0.1)

    assert status == 200  # Slack retries anything else, three times for events
    log = door.log_since(offset)
    assert_no_traceback(log)
    assert "WARNING" not in log, log
    if name.startswith("a slash command"):
        assert "I do not know `/weather`" in text


# ---------------------------------------------------------------------- 3. replays


def simultaneous(url: str, request: bytes, copies: int) -> list[int]:
    """Send `copies` of a request so they complete at the same moment: each connection
    gets all but the last byte first, then the last bytes go out together."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    socks = [socket.create_connection((host, int(port)), timeout=15) for _ in range(copies)]
    try:
        for sock in socks:
            sock.sendall(request[:-1])
        time.sleep(0.2)
        for sock in socks:
            sock.sendall(request[-1:])
        statuses = []
        for sock in socks:
            received = b""
            while b"\r\n" not in received and (data := sock.recv(4096)):
                received += data
            statuses.append(int(received.split(b" ", 2)[1]))
        return statuses
    finally:
        for sock in socks:
            sock.close()


def signed_request(body: bytes, timestamp: int | None = None) -> bytes:
    stamp = int(time.time()) if timestamp is None else timestamp
    return (
        head(length=len(body), signature=sign(body, SIGNING_SECRET, stamp), timestamp=stamp) + body
    )


def test_ten_identical_signed_copies_get_exactly_one_answer(door: Served) -> None:
    channel = fresh("C_REPLAY")
    body = slash_command_body(
        "/radar",
        "subscribe org:Qwen",
        user_id="U_ALICE",
        channel_id=channel,
        response_url=door.slack.response_url_for(channel),
    )

    statuses = simultaneous(door.events_url, signed_request(body), 10)

    assert sorted(statuses) == [200] + [401] * 9
    assert door.slack.wait_for(lambda: door.slack.responses(channel), timeout=30)
    time.sleep(1.0)  # any second answer would have arrived by now
    answers = door.slack.responses(channel)
    assert len(answers) == 1 and answers[0]["text"].startswith("Subscribed this channel")


def test_ten_digest_now_at_once_post_one_digest_and_the_limit_survives_a_restart(
    tmp_path: Path,
) -> None:
    with served(tmp_path) as door:
        channel = "C_DIGESTNOW"
        names = [fresh("digest-now") for _ in range(10)]
        requests = [
            signed_request(
                slash_command_body(
                    "/radar",
                    "digest now",
                    user_id=f"U_{i}",
                    channel_id=channel,
                    response_url=door.slack.response_url_for(name),
                )
            )
            for i, name in enumerate(names)
        ]
        statuses = in_parallel(
            [lambda r=r: simultaneous(door.events_url, r, 1)[0] for r in requests]
        )
        assert statuses == [200] * 10
        assert door.slack.wait_for(lambda: all(door.slack.responses(n) for n in names), timeout=60)
        texts = [door.slack.responses(n)[0]["text"] for n in names]
        digests = [m for m in door.slack.messages(channel) if "weekly digest" in m["text"]]

        assert len(digests) == 1
        assert texts.count("Posted this week's digest to the channel.") == 1
        refused = [t for t in texts if t.startswith("A digest was posted here on demand")]
        assert len(refused) == 9 and all("can run again in this channel in" in t for t in refused)

        assert door.bot.stop() == 0
        door.bot.start().wait_ready(timeout=60)
        name = fresh("digest-after-restart")
        body = slash_command_body(
            "/radar",
            "digest now",
            user_id="U_X",
            channel_id=channel,
            response_url=door.slack.response_url_for(name),
        )
        assert post_signed(door.events_url, body, SIGNING_SECRET, content_type=FORM)[0] == 200
        assert door.slack.wait_for(lambda: door.slack.responses(name), timeout=30)
        assert door.slack.responses(name)[0]["text"].startswith("A digest was posted here")
        assert len([m for m in door.slack.messages(channel) if "weekly digest" in m["text"]]) == 1
        assert_no_traceback(door.bot.log_text())


def test_the_replay_guard_remembers_until_the_timestamps_window_ends() -> None:
    now = [1_000_000.0]
    guard = ReplayGuard(REPLAY_WINDOW, clock=lambda: now[0])
    ahead = now[0] + 270  # stamped 4.5 minutes ahead: Slack accepts it until +570 s

    assert guard.claim("v0=ahead", ahead)
    now[0] += 310  # arrival + 300 s has passed, its window has not
    assert not guard.claim("v0=ahead", ahead)
    now[0] = ahead + 301
    assert guard.claim("v0=ahead", ahead)  # forgotten only once its window closed


def test_the_replay_guard_stays_bounded_under_a_flood() -> None:
    guard = ReplayGuard(REPLAY_WINDOW, max_entries=1_000)
    now = time.time()
    for index in range(20_000):
        assert guard.claim(f"v0={index:064x}", now)
    assert len(guard) == 1_000
    assert not guard.claim(f"v0={19_999:064x}", now)  # the latest are still remembered


# ------------------------------------------------------ 4. a hung Hub, and partial bodies


def test_a_hung_hub_holds_up_only_the_answers_that_need_it(tmp_path: Path) -> None:
    with served(tmp_path, HUB_TIMEOUT_SECONDS="30") as door:
        door.hub.hang()
        for index in range(20):
            body = slash_command_body(
                "/model",
                f"nolab/Never-Seen-{index}B",
                user_id="U_ALICE",
                channel_id="C_HUNG",
                response_url=door.slack.response_url_for(f"hung-{index}"),
            )
            assert post_signed(door.events_url, body, SIGNING_SECRET, content_type=FORM)[0] == 200
        time.sleep(0.5)  # every lookup is now waiting on the Hub

        timings = {}
        for text in ("subscribe org:Qwen", "mute deepseek-ai 7d", "subscriptions", "latest"):
            name = fresh("while-hung")
            body = slash_command_body(
                "/radar",
                text,
                user_id="U_ALICE",
                channel_id="C_HUNG",
                response_url=door.slack.response_url_for(name),
            )
            sent = time.monotonic()
            assert post_signed(door.events_url, body, SIGNING_SECRET, content_type=FORM)[0] == 200
            assert door.slack.wait_for(lambda n=name: door.slack.responses(n), timeout=10)
            timings[text] = time.monotonic() - sent
        assert not any(door.slack.responses(f"hung-{i}") for i in range(20))
        door.hub.release()
        assert door.slack.wait_for(
            lambda: all(door.slack.responses(f"hung-{i}") for i in range(20)), timeout=30
        )

    assert timings["subscribe org:Qwen"] < 1.0, timings
    assert timings["mute deepseek-ai 7d"] < 1.0, timings
    assert max(timings.values()) < 1.0, timings
    report(
        "security-hung-hub",
        lookups_waiting=20,
        **{k.split()[0]: f"{v * 1000:.0f} ms" for k, v in timings.items()},
    )


@pytest.fixture
def in_process(tmp_path: Path) -> Iterator[tuple[RadarHarness, SlackStandIn]]:
    db_path = tmp_path / "radar.json"
    keep_only_labs(db_path, [lab for lab, _ in LAB_ROTATION])
    with (
        HubStandIn() as hub,
        SlackStandIn() as slack,
        RadarHarness(hub.url, slack.url, db_path) as bot,
    ):
        hub.add_many(background(bot.clock.now, 10))
        yield bot, slack


def test_a_body_that_never_finishes_holds_no_answer_back(
    in_process: tuple[RadarHarness, SlackStandIn],
) -> None:
    """Answers wait for a quiet front door, at most `patience`; with a patience of 30 s,
    a request held open mid-body would keep every answer waiting if it counted."""
    bot, slack = in_process
    bot.radar.patience = 30.0
    host, port = bot.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as held:
        held.sendall(head(length=5_000, signature=plausible_signature()) + b"x" * 100)
        time.sleep(0.2)
        sent = time.monotonic()
        status, _, _ = bot.command("/radar", "help", response_url=slack.response_url_for("held"))
        assert status == 200
        assert slack.wait_for(lambda: slack.responses("held"), timeout=10)
        seconds = time.monotonic() - sent
    assert seconds < 3.0


def test_a_listener_that_raises_still_answers_200_with_an_apology(
    in_process: tuple[RadarHarness, SlackStandIn],
) -> None:
    bot, slack = in_process

    def broken(body: dict, next_: Any) -> None:
        if body.get("text") == "explode":
            raise RuntimeError("a bug in a listener")
        next_()

    bot.app.use(broken)
    status, text, _ = bot.command("/radar", "explode", response_url=slack.response_url_for("b"))
    click_status, click_text, _ = bot.click(
        "share_model", "Qwen/Qwen3-8B", response_url=slack.response_url_for("c")
    )

    assert status == 200
    assert json.loads(text) == {"response_type": "ephemeral", "text": APOLOGY}
    assert (click_status, click_text) == (200, "")


# ------------------------------------------------------------ 5. forged button values


@pytest.mark.parametrize("value", ["<!channel>", "Q" * 10_240])
def test_a_forged_button_value_is_refused_and_never_stored(door: Served, value: str) -> None:
    channel = fresh("C_FORGED_VALUE")
    name = fresh("forged-value")
    body = action_body(
        "mute_lab",
        value,
        user_id="U_MALLORY",
        channel_id=channel,
        response_url=door.slack.response_url_for(name),
    )

    assert post_signed(door.events_url, body, SIGNING_SECRET, content_type=FORM)[0] == 200
    assert door.slack.wait_for(lambda: door.slack.responses(name), timeout=30)
    reply = door.slack.responses(name)[0]
    listing_name = fresh("listing")
    listing = slash_command_body(
        "/radar",
        "subscriptions",
        user_id="U_MALLORY",
        channel_id=channel,
        response_url=door.slack.response_url_for(listing_name),
    )
    post_signed(door.events_url, listing, SIGNING_SECRET, content_type=FORM)
    assert door.slack.wait_for(lambda: door.slack.responses(listing_name), timeout=30)

    assert reply["text"].startswith("That button carried a value I cannot use")
    assert reply["response_type"] == "ephemeral"
    assert "*Muted labs*\nNone." in json.dumps(
        door.slack.responses(listing_name)[0], ensure_ascii=False
    ).replace("\\n", "\n")
    db = open_store(door.bot.db_path)
    try:
        assert [m for m in db.mutes.values() if m.channel_id == channel] == []
    finally:
        db.close()
