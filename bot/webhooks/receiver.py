"""`POST /hub/webhook`: the Hub tells us a model repo changed; the radar looks at it now.

The request is only checked and queued (an answer within milliseconds; the Hub does not
wait for our work and re-sends nothing). A worker thread then asks the tracker to judge the
named repos exactly as a poll would (`Tracker.check_repos`), and delivers what that queued.

- The Hub sends the secret verbatim in `X-Webhook-Secret` (no signature): it is compared
  in constant time; missing → 401, wrong → 403. The body is read only after that, capped.
- The Hub documents no delivery id, and its Activity tab replays payloads by hand: a payload
  seen in the last `dedupe_seconds` is acknowledged and dropped.
- Hints arriving close together are checked together (`batch_window`): a storm of 100
  repo events costs one detail call per new repo, and the acks never wait for it.
- A repo created empty is looked at again after each delay of `recheck_delays`, then left
  to the poll; a content update on it triggers a look at once.
- Nothing here is a fact: a lost hint is caught by the reconciliation poll
  (`bot.webhooks.health.PushHealth` sets its pace).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.radar.models import StateEntry
from bot.radar.tracker import CheckReport, Tracker
from bot.replay_guard import ReplayGuard
from bot.request_body import BodyRefused, read_capped
from bot.webhooks.health import PushHealth
from bot.webhooks.payload import HubEvent, PayloadError, parse_event

if TYPE_CHECKING:
    from bot.radar.ports import Store
    from bot.runtime import Core

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # a version-3 payload is about 1 KB
SECRET_HEADER = "x-webhook-secret"
RECHECK_DELAYS = (30.0, 60.0, 120.0, 300.0, 600.0, 1200.0)  # about 40 minutes in all
HANDOFF_PREFIX = "webhook-hint:"  # state entries a follower leaves for the leader
HANDOFF_SECONDS = 1  # how often the leader looks for them
MAX_REMEMBERED = 50_000  # payload fingerprints kept for deduplication at most


class HubWebhookReceiver:
    """Checks, deduplicates and queues Hub deliveries; a worker thread acts on them."""

    def __init__(
        self,
        secret: str,
        tracker: Tracker,
        *,
        health: PushHealth,
        after_check: Callable[[], object] | None = None,
        batch_window: float = 0.25,
        max_batch_wait: float = 1.0,
        recheck_delays: Sequence[float] = RECHECK_DELAYS,
        dedupe_seconds: float = 600.0,
        max_body: int = MAX_BODY,
        monotonic: Callable[[], float] = time.monotonic,
        leader: Callable[[], bool] | None = None,
        store: Store | None = None,
    ) -> None:
        if not secret:
            raise ValueError("a webhook receiver needs a secret")
        self._secret = secret.encode()
        self.tracker = tracker
        self.health = health
        self.after_check = after_check
        self.batch_window = batch_window
        self.max_batch_wait = max_batch_wait
        self.recheck_delays = tuple(recheck_delays)
        self.dedupe_seconds = dedupe_seconds
        self.max_body = max_body
        self._monotonic = monotonic
        # Several replicas (PostgreSQL): only the leader may write releases, so a follower
        # that receives a delivery hands its hints to the leader through the database.
        self._leader = leader
        self._store = store
        self._cond = threading.Condition()
        self._hints: dict[str, str] = {}  # lower id -> id, waiting for the worker
        self._first_hint_at: float | None = None
        self._last_hint_at = 0.0
        self._moves: list[tuple[str, str]] = []
        self._rechecks: dict[str, tuple[float, int, str]] = {}  # lower id -> (due, tries, id)
        self._seen = ReplayGuard(dedupe_seconds, clock=monotonic, max_entries=MAX_REMEMBERED)
        self._stopping = False
        self._busy = False
        self._thread: threading.Thread | None = None
        self.checks: list[CheckReport] = []  # the last few, for logs and tests

    # ----------------------------------------------------------------- HTTP

    async def endpoint(self, request: Request) -> Response:
        """Starlette endpoint for `POST /hub/webhook`."""
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return JSONResponse({"error": "missing X-Webhook-Secret"}, status_code=401)
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self._secret):
            log.warning("refused a Hub webhook delivery: wrong X-Webhook-Secret")
            return JSONResponse({"error": "wrong X-Webhook-Secret"}, status_code=403)
        try:
            body = await read_capped(request, limit=self.max_body)
        except BodyRefused as refused:
            log.warning("refused a Hub webhook delivery (%d): %s", refused.status, refused.reason)
            return refused.response()
        status, answer = self.accept(body)
        return JSONResponse(answer, status_code=status)

    def accept(self, body: bytes) -> tuple[int, dict[str, str]]:
        """Decode, deduplicate and queue one authenticated delivery; never raises."""
        try:
            data = json.loads(body)
            event = parse_event(data)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and PayloadError
            reason = str(exc) if isinstance(exc, PayloadError) else "body is not JSON"
            log.warning("rejected a Hub webhook delivery (400): %s", reason)
            return 400, {"error": reason}
        self.health.event_seen()
        fingerprint = hashlib.sha256(
            json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        if not self._seen.claim(fingerprint, self._monotonic()):
            return 200, {"status": "duplicate"}
        if event is None:
            return 200, {"status": "ignored"}
        self._queue(event)
        return 200, {"status": "accepted"}

    def _queue(self, event: HubEvent) -> None:
        now = self._monotonic()
        with self._cond:
            key = event.repo_id.lower()
            if event.kind == "deleted":
                self._hints.pop(key, None)
                self._rechecks.pop(key, None)
                log.info("Hub webhook: %s was deleted", event.repo_id)
                return
            if event.kind == "moved" and event.new_id is not None:
                self._rechecks.pop(key, None)
                self._hints.pop(key, None)
                self._moves.append((event.repo_id, event.new_id))
            else:
                self._hints.setdefault(key, event.repo_id)
                if event.kind == "content":
                    self._rechecks.pop(key, None)  # weights arrived: look now, not later
            if self._first_hint_at is None:
                self._first_hint_at = now
            self._last_hint_at = now
            self._cond.notify()

    # --------------------------------------------------------------- worker

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="hub-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def idle(self) -> bool:
        """True when nothing is queued or being checked (re-checks may still be scheduled)."""
        with self._cond:
            return not self._hints and not self._moves and not self._busy

    def waiting_rechecks(self) -> list[str]:
        with self._cond:
            return sorted(entry[2] for entry in self._rechecks.values())

    def _run(self) -> None:
        while True:
            with self._cond:
                batch, moves, tries = self._next_batch()
                if batch is None:
                    return
                self._busy = True
            try:
                self._work(batch, moves, tries)
            except Exception:
                log.exception("handling Hub webhook hints failed; the next poll catches up")
            finally:
                with self._cond:
                    self._busy = False

    def _next_batch(self) -> tuple[dict[str, str] | None, list[tuple[str, str]], dict[str, int]]:
        """Wait (holding the condition) until hints settled or re-checks are due."""
        while not self._stopping:
            now = self._monotonic()
            if self._hints or self._moves:
                quiet_at = self._last_hint_at + self.batch_window
                cap_at = (self._first_hint_at or now) + self.max_batch_wait
                ready_at = min(quiet_at, cap_at)
                if now >= ready_at:
                    return self._take(now)
                self._cond.wait(ready_at - now)
                continue
            due = [entry[0] for entry in self._rechecks.values()]
            if due and min(due) <= now:
                return self._take(now)
            self._cond.wait(min(due) - now if due else None)
        return None, [], {}

    def _take(self, now: float) -> tuple[dict[str, str], list[tuple[str, str]], dict[str, int]]:
        batch, self._hints = dict(self._hints), {}
        moves, self._moves = self._moves, []
        tries: dict[str, int] = {}
        for key, (due, attempt, repo_id) in list(self._rechecks.items()):
            if key in batch:
                tries[key] = attempt  # an event came first: this look counts as the retry
                del self._rechecks[key]
            elif due <= now:
                batch[key] = repo_id
                tries[key] = attempt
                del self._rechecks[key]
        self._first_hint_at = None
        return batch, moves, tries

    def _work(
        self, batch: dict[str, str], moves: list[tuple[str, str]], tries: dict[str, int]
    ) -> None:
        if self._leader is not None and self._store is not None and not self._leader():
            self._hand_to_leader(batch, moves)
            return
        for old_id, new_id in moves:
            if not self.tracker.apply_move(old_id, new_id):
                batch.setdefault(new_id.lower(), new_id)  # never seen: judge it as new
        report = self.tracker.check_repos(list(batch.values()))
        self.checks = [*self.checks[-19:], report]
        again = {repo_id.lower(): repo_id for repo_id in [*report.waiting, *report.errors]}
        now = self._monotonic()
        with self._cond:
            for key, repo_id in again.items():
                attempt = tries.get(key, 0)
                if attempt >= len(self.recheck_delays):
                    log.info(
                        "%s still has no weights after %d looks; the poll takes over",
                        repo_id,
                        attempt,
                    )
                    continue
                self._rechecks[key] = (now + self.recheck_delays[attempt], attempt + 1, repo_id)
        if report.events and self.after_check is not None:
            self.after_check()

    # ------------------------------------------------- several replicas

    def _hand_to_leader(self, batch: dict[str, str], moves: list[tuple[str, str]]) -> None:
        """Follower: record the hints in the shared database for the leader to act on.

        One state entry a repo, so hints from several followers never overwrite each other;
        a hint already waiting is simply written again.
        """
        store = self._store
        assert store is not None
        with store.lock:
            for key, repo_id in batch.items():
                store.state.put(StateEntry(name=f"{HANDOFF_PREFIX}{key}", value={"id": repo_id}))
            for old_id, new_id in moves:
                store.state.put(
                    StateEntry(
                        name=f"{HANDOFF_PREFIX}move:{old_id.lower()}",
                        value={"old": old_id, "new": new_id},
                    )
                )
            store.commit()
        log.info(
            "not the leader: handed %d Hub hint(s) and %d move(s) to the leader",
            len(batch),
            len(moves),
        )

    def adopt_handoffs(self) -> int:
        """Leader: take the hints followers recorded, queue them here; returns how many."""
        store = self._store
        if store is None:
            return 0
        with store.lock:
            names = store.state.keys()  # names only: iterating a collection yields records
            keys = [name for name in names if name.startswith(HANDOFF_PREFIX)]
            if not keys:
                return 0
            entries = store.state.get_many(keys)
            for key in keys:
                store.state.delete(key)
            store.commit()
        now = self._monotonic()
        with self._cond:
            for entry in entries.values():
                value = entry.value
                if isinstance(value.get("old"), str) and isinstance(value.get("new"), str):
                    self._moves.append((value["old"], value["new"]))
                elif isinstance(value.get("id"), str):
                    self._hints.setdefault(value["id"].lower(), value["id"])
            if self._first_hint_at is None:
                self._first_hint_at = now
            self._last_hint_at = now
            self._cond.notify()
        self.health.event_seen()
        return len(entries)


def build_receiver(
    core: Core,
    after_check: Callable[[], object] | None,
    leader: Callable[[], bool] | None = None,
) -> HubWebhookReceiver | None:
    """The receiver `serve` mounts at `/hub/webhook`; None when HF_WEBHOOK_SECRET is unset."""
    if core.push is None or not core.push.enabled:
        return None
    secret = core.settings.hf_webhook_secret.get_secret_value()  # type: ignore[union-attr]
    return HubWebhookReceiver(
        secret,
        core.tracker,
        health=core.push,
        after_check=after_check,
        leader=leader,
        store=core.store,
    )
