"""Hub webhook payloads (version 3) turned into the few hints the radar acts on.

The shape follows the Hub's documentation and `huggingface_hub`'s `WebhookPayload`:
`event{action, scope}`, `repo{type, name, private, …}`, `webhook{id, version}`, and per
event `updatedRefs`, `updatedConfig` or `movedTo{name}`. Only model repos matter; datasets,
spaces and discussions are ignored. A narrower scope the Hub may add later
(`repo.something`) counts as an update of its broader scope, which the radar ignores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["created", "public", "content", "moved", "deleted"]
SUPPORTED_VERSION = 3


class PayloadError(ValueError):
    """The body is not a webhook payload we understand; the sender gets a 400."""


@dataclass(frozen=True)
class HubEvent:
    """One thing that happened to a model repo, as far as the radar is concerned."""

    kind: Kind
    repo_id: str
    new_id: str | None = None  # the destination of a move


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"{where} is missing or not a string")
    return value.strip()


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} is missing or not an object")
    return value


def parse_event(data: Any) -> HubEvent | None:
    """The hint in a decoded payload; None for events the radar ignores.

    Raises `PayloadError` for anything that is not a version-3 webhook payload.
    """
    payload = _object(data, "the payload")
    event = _object(payload.get("event"), "event")
    repo = _object(payload.get("repo"), "repo")
    action = _text(event.get("action"), "event.action")
    scope = _text(event.get("scope"), "event.scope")
    repo_type = _text(repo.get("type"), "repo.type")
    name = _text(repo.get("name"), "repo.name")
    webhook = payload.get("webhook")
    if webhook is not None:
        version = _object(webhook, "webhook").get("version")
        if version is not None and version != SUPPORTED_VERSION:
            raise PayloadError(f"webhook.version {version!r} is not {SUPPORTED_VERSION}")
    if repo_type != "model" or not (scope == "repo" or scope.startswith("repo.")):
        return None
    if "/" not in name:
        return None  # a legacy repo without a namespace is no tracked lab's
    private = repo.get("private") is True
    if scope == "repo":
        if action == "create":
            return None if private else HubEvent("created", name)
        if action == "delete":
            return HubEvent("deleted", name)
        if action == "move":
            moved = _object(payload.get("movedTo"), "movedTo")
            return HubEvent("moved", name, _text(moved.get("name"), "movedTo.name"))
        return None
    if scope == "repo.config" and action == "update":
        config = payload.get("updatedConfig")
        if isinstance(config, dict) and config.get("private") is False:
            return HubEvent("public", name)
        return None
    if scope == "repo.content" and action == "update" and not private:
        return HubEvent("content", name)
    return None
