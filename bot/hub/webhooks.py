"""The Hub's webhook management API (`/api/settings/webhooks`), with a token.

Shapes as `huggingface_hub`'s `list_webhooks` / `create_webhook` / `update_webhook` /
`enable_webhook` use them: a webhook is `{id, url, watched: [{type, name}], domains,
secret, disabled}`; the list answers a JSON list, create and update answer
`{"webhook": {...}}`. Errors become one sentence an operator can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

API = "/api/settings/webhooks"


class WebhookAdminError(Exception):
    """The Hub refused or could not be asked; the message says what to do."""


@dataclass
class HubWebhook:
    id: str
    url: str
    watched: list[dict[str, str]] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)
    disabled: bool = False
    secret: str | None = None

    @property
    def namespaces(self) -> list[str]:
        return [w["name"] for w in self.watched if w.get("type") in ("org", "user")]

    @classmethod
    def from_json(cls, raw: Any) -> HubWebhook:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise WebhookAdminError("the Hub answered a webhook without an id")
        watched = [
            {"type": str(w.get("type")), "name": str(w.get("name"))}
            for w in raw.get("watched") or []
            if isinstance(w, dict)
        ]
        return cls(
            id=raw["id"],
            url=str(raw.get("url") or ""),
            watched=watched,
            domains=[str(d) for d in raw.get("domains") or []],
            disabled=bool(raw.get("disabled")),
            secret=raw.get("secret") if isinstance(raw.get("secret"), str) else None,
        )


class HubWebhookAdmin:
    """List, create, update and enable the token owner's webhooks."""

    def __init__(
        self,
        endpoint: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not token:
            raise WebhookAdminError("HF_TOKEN is not set: managing webhooks needs a token")
        self._http = httpx.Client(
            base_url=endpoint.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HubWebhookAdmin:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def list(self) -> list[HubWebhook]:
        raw = self._call("GET", API)
        if not isinstance(raw, list):
            raise WebhookAdminError("the Hub's webhook list was not a list")
        return [HubWebhook.from_json(item) for item in raw]

    def create(self, url: str, namespaces: list[str], secret: str) -> HubWebhook:
        body = _body(url, namespaces, secret)
        return HubWebhook.from_json(_unwrap(self._call("POST", API, body)))

    def update(self, webhook_id: str, url: str, namespaces: list[str], secret: str) -> HubWebhook:
        body = _body(url, namespaces, secret)
        path = f"{API}/{quote(webhook_id, safe='')}"
        return HubWebhook.from_json(_unwrap(self._call("POST", path, body)))

    def enable(self, webhook_id: str) -> HubWebhook:
        path = f"{API}/{quote(webhook_id, safe='')}/enable"
        return HubWebhook.from_json(_unwrap(self._call("POST", path, {})))

    def delete(self, webhook_id: str) -> None:
        self._call("DELETE", f"{API}/{quote(webhook_id, safe='')}")

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise WebhookAdminError(
                f"cannot reach the Hub at {self._http.base_url} ({type(exc).__name__})"
            ) from None
        if response.status_code == 401:
            raise WebhookAdminError(
                "the Hub refused HF_TOKEN (401): check that it is a valid token"
            )
        if response.status_code == 403:
            raise WebhookAdminError(
                "HF_TOKEN cannot manage webhooks (403): it needs write permission "
                "(a fine-grained token needs access to webhooks)"
            )
        if response.status_code >= 400:
            raise WebhookAdminError(
                f"the Hub answered {method} {path} with HTTP {response.status_code}: "
                f"{response.text[:200]}"
            )
        if method == "DELETE":
            return None
        try:
            return response.json()
        except ValueError:
            raise WebhookAdminError(f"the Hub answered {method} {path} with no JSON") from None


def _body(url: str, namespaces: list[str], secret: str) -> dict[str, Any]:
    return {
        "url": url,
        "watched": [{"type": "org", "name": ns} for ns in namespaces],
        "domains": ["repo"],
        "secret": secret,
    }


def _unwrap(raw: Any) -> Any:
    return raw.get("webhook", raw) if isinstance(raw, dict) else raw
