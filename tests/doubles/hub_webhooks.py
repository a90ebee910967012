"""The Hub stand-in's webhooks: the management API and the deliveries it sends.

`HubStandIn.webhooks` is one of these. Webhooks are created through the same API the bot
uses (`/api/settings/webhooks`, with a bearer token) or directly with `register()`. When a
stand-in repo is created, goes public, gets a push, moves or is deleted, every enabled
webhook watching its namespace (or the repo itself) gets a version-3 payload POSTed with
`X-Webhook-Secret`, from a sender thread, as the Hub does. Deliveries can be dropped or
repeated on purpose (`drop_next`, `repeat_next`), and each webhook stops after
`daily_limit` triggers, as the Hub's 1,000 a day.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

DOMAINS = frozenset({"repo", "discussion"})
WATCH_TYPES = frozenset({"model", "dataset", "space", "user", "org"})


@dataclass
class Delivery:
    webhook_id: str
    url: str
    payload: dict[str, Any]
    status: int | None = None  # None: dropped, over the limit, or the bot did not answer
    outcome: str = "pending"  # sent, dropped, over-limit, failed
    sent_at: float | None = None


@dataclass
class _Webhook:
    id: str
    url: str
    watched: list[dict[str, str]]
    domains: list[str]
    secret: str | None
    disabled: bool = False
    triggers: int = 0

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "watched": [dict(w) for w in self.watched],
            "domains": list(self.domains),
            "secret": self.secret,
            "disabled": self.disabled,
        }

    def watches(self, repo_id: str) -> bool:
        namespace = repo_id.split("/", 1)[0].lower()
        for item in self.watched:
            kind, name = item.get("type"), str(item.get("name", "")).lower()
            if kind in ("org", "user") and name == namespace:
                return True
            if kind == "model" and name == repo_id.lower():
                return True
        return False


@dataclass
class HubWebhooks:
    """State and behaviour of the stand-in's webhooks (see the module docstring)."""

    hub_url: str = "https://huggingface.co"
    latency: float = 0.0
    daily_limit: int = 1000
    tokens: dict[str, str] = field(default_factory=dict)  # token -> "read" | "write"
    hooks: dict[str, _Webhook] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    _drop: int = 0
    _repeat: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _queue: queue.Queue = field(default_factory=queue.Queue)
    _sender: threading.Thread | None = None
    _in_flight: int = 0

    # -- set-up by tests ----------------------------------------------------------------

    def register(
        self, url: str, namespaces: list[str], secret: str | None, *, disabled: bool = False
    ) -> str:
        """A webhook watching these namespaces, as if created in the Hub's settings page."""
        watched = [{"type": "org", "name": ns} for ns in namespaces]
        return self._create(url, watched, ["repo"], secret, disabled=disabled).id

    def drop_next(self, count: int = 1) -> None:
        """Lose the next `count` deliveries (downtime, a network fault)."""
        with self._lock:
            self._drop += count

    def repeat_next(self, count: int = 1) -> None:
        """Send the next `count` deliveries twice (a replay from the Activity tab)."""
        with self._lock:
            self._repeat += count

    def set_disabled(self, webhook_id: str, disabled: bool = True) -> None:
        with self._lock:
            self.hooks[webhook_id].disabled = disabled

    def sent(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.outcome == "sent"]

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until every queued delivery has been attempted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0:
                    return True
            time.sleep(0.01)
        return False

    # -- events from the stand-in -------------------------------------------------------

    def repo_event(self, record: dict[str, Any], scope: str, action: str, **extra: Any) -> None:
        """Queue a delivery to every enabled webhook watching this repo."""
        repo_id = record["id"]
        with self._lock:
            targets = [
                hook
                for hook in self.hooks.values()
                if not hook.disabled and "repo" in hook.domains and hook.watches(repo_id)
            ]
            for hook in targets:
                payload = self._payload(record, scope, action, hook.id, extra)
                delivery = Delivery(hook.id, hook.url, payload)
                self.deliveries.append(delivery)
                hook.triggers += 1
                if hook.triggers > self.daily_limit:
                    delivery.outcome = "over-limit"
                    continue
                if self._drop > 0:
                    self._drop -= 1
                    delivery.outcome = "dropped"
                    continue
                copies = 1
                if self._repeat > 0:
                    self._repeat -= 1
                    copies = 2
                for _ in range(copies):
                    self._in_flight += 1  # queued or being sent, until attempted
                    self._queue.put((delivery, hook.secret))
            if targets:
                self._ensure_sender()

    def _payload(
        self, record: dict[str, Any], scope: str, action: str, hook_id: str, extra: dict
    ) -> dict[str, Any]:
        repo_id = record["id"]
        owner = hashlib.sha1(repo_id.split("/", 1)[0].encode()).hexdigest()[:24]
        payload: dict[str, Any] = {
            "event": {"action": action, "scope": scope},
            "repo": {
                "type": "model",
                "name": repo_id,
                "id": record.get("_id"),
                "private": bool(record.get("private")),
                "url": {
                    "web": f"{self.hub_url}/{repo_id}",
                    "api": f"{self.hub_url}/api/models/{repo_id}",
                },
                "headSha": record.get("sha"),
                "owner": {"id": owner},
            },
            "webhook": {"id": hook_id, "version": 3},
        }
        payload.update(extra)
        return payload

    def _ensure_sender(self) -> None:
        if self._sender is None or not self._sender.is_alive():
            self._sender = threading.Thread(target=self._send_loop, daemon=True)
            self._sender.start()

    def _send_loop(self) -> None:
        while True:
            try:
                delivery, secret = self._queue.get(timeout=5)
            except queue.Empty:
                return
            try:
                self._post(delivery, secret)
            finally:
                with self._lock:
                    self._in_flight -= 1

    def _post(self, delivery: Delivery, secret: str | None) -> None:
        if self.latency:
            time.sleep(self.latency)
        headers = {"Content-Type": "application/json", "User-Agent": "HubStandIn-Webhooks"}
        if secret:
            headers["X-Webhook-Secret"] = secret
        request = urllib.request.Request(
            delivery.url, data=json.dumps(delivery.payload).encode(), headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                delivery.status = response.status
        except urllib.error.HTTPError as exc:
            delivery.status = exc.code
        except OSError:
            delivery.outcome = "failed"
            return
        delivery.outcome = "sent"
        delivery.sent_at = time.monotonic()

    # -- the management API -------------------------------------------------------------

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        """`/api/settings/webhooks[/{id}[/enable|/disable]]` for the stand-in's handler."""
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        if not token or (self.tokens and token not in self.tokens):
            return 401, {"error": "Invalid credentials in Authorization header"}
        can_write = not self.tokens or self.tokens[token] == "write"
        parts = [p for p in path.split("/") if p][3:]  # after api/settings/webhooks
        if method != "GET" and not can_write:
            return 403, {"error": "You don't have the rights to manage webhooks"}
        with self._lock:
            if not parts:
                if method == "GET":
                    return 200, [hook.json() for hook in self.hooks.values()]
                if method == "POST":
                    return self._create_from(body)
                return 405, {"error": "method not allowed"}
            hook = self.hooks.get(parts[0])
            if hook is None:
                return 404, {"error": "Webhook not found"}
            if len(parts) == 2 and method == "POST" and parts[1] in ("enable", "disable"):
                hook.disabled = parts[1] == "disable"
                return 200, {"webhook": hook.json()}
            if len(parts) > 1:
                return 404, {"error": "Sorry, we can't find the page you are looking for."}
            if method == "GET":
                return 200, {"webhook": hook.json()}
            if method == "DELETE":
                del self.hooks[hook.id]
                return 200, {}
            if method in ("POST", "PUT"):
                problem, fields = _validated(body)
                if problem:
                    return 400, {"error": problem}
                hook.url, hook.watched, hook.domains, hook.secret = fields
                return 200, {"webhook": hook.json()}
        return 405, {"error": "method not allowed"}

    def _create_from(self, body: bytes) -> tuple[int, Any]:
        problem, fields = _validated(body)
        if problem:
            return 400, {"error": problem}
        url, watched, domains, secret = fields
        return 200, {"webhook": self._create(url, watched, domains, secret).json()}

    def _create(
        self,
        url: str,
        watched: list[dict[str, str]],
        domains: list[str],
        secret: str | None,
        *,
        disabled: bool = False,
    ) -> _Webhook:
        with self._lock:
            hook_id = hashlib.sha1(f"webhook-{next(self._ids)}".encode()).hexdigest()[:24]
            hook = _Webhook(hook_id, url, watched, domains, secret, disabled)
            self.hooks[hook_id] = hook
            return hook


def _validated(body: bytes) -> tuple[str | None, Any]:
    """The Hub's checks on a webhook body (OpenAPI: url, watched, domains, secret)."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return "body is not JSON", None
    if not isinstance(data, dict):
        return "body must be an object", None
    url = data.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return '"url" must be a URL', None
    watched = data.get("watched")
    if not isinstance(watched, list) or not watched:
        return '"watched" must be a non-empty list', None
    for item in watched:
        if not isinstance(item, dict) or item.get("type") not in WATCH_TYPES:
            return f'"watched[].type" must be one of {sorted(WATCH_TYPES)}', None
        if not isinstance(item.get("name"), str) or not item["name"]:
            return '"watched[].name" must be a string', None
    domains = data.get("domains") or ["repo", "discussion"]
    if not isinstance(domains, list) or not set(domains) <= DOMAINS:
        return f'"domains" must be a subset of {sorted(DOMAINS)}', None
    secret = data.get("secret")
    if secret is not None and (
        not isinstance(secret, str) or any(not 0x20 <= ord(c) <= 0x7F for c in secret)
    ):
        return '"secret" must be printable ASCII', None
    watched = [{"type": w["type"], "name": w["name"]} for w in watched]
    return None, (url, watched, list(domains), secret)
