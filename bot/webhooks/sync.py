"""Keep the Hub's webhooks watching exactly the tracked labs (`radar webhooks sync|status`).

Every webhook of ours points at `RADAR_PUBLIC_URL/hub/webhook`; the others on the account
are left alone. The Hub lets a webhook trigger 1,000 times a day, and a busy lab's commits
count too, so the labs are spread over several webhooks (`WEBHOOK_LABS_PER_HOOK` labs
each, busiest tiers dealt out first so no webhook holds all of them): a lab that exhausts
its webhook's budget silences only that webhook's labs, and the reconciliation poll still
covers them. A lab stays on the webhook it is on, so a sync changes only what must change.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.config import Settings
from bot.hub.webhooks import HubWebhook, HubWebhookAdmin, WebhookAdminError
from bot.radar.labs import LabRegistry
from bot.radar.models import Lab

log = logging.getLogger(__name__)

RECEIVER_PATH = "/hub/webhook"
_SYNC_LOCK = threading.Lock()  # two quick /radar track commands must not both create


@dataclass
class SyncResult:
    webhooks: list[HubWebhook] = field(default_factory=list)  # ours, after the sync
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    enabled: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def receiver_url(settings: Settings) -> str:
    """`RADAR_PUBLIC_URL` + `/hub/webhook`, or a `WebhookAdminError` saying what is wrong."""
    if not settings.webhooks_enabled:
        raise WebhookAdminError("HF_WEBHOOK_SECRET is not set: the bot would refuse every delivery")
    base = settings.radar_public_url
    if not base:
        raise WebhookAdminError(
            "RADAR_PUBLIC_URL is not set: the Hub needs the bot's public https address"
        )
    parts = urlsplit(base)
    if parts.scheme != "https" or not parts.netloc:
        raise WebhookAdminError(
            f"RADAR_PUBLIC_URL must be an https URL the Hub can reach, not {base!r}"
        )
    return base + RECEIVER_PATH


def admin_for(settings: Settings) -> HubWebhookAdmin:
    token = settings.hf_token.get_secret_value() if settings.hf_token else ""
    if not token:
        raise WebhookAdminError(
            "HF_TOKEN is not set: creating webhooks needs a token with write permission"
        )
    return HubWebhookAdmin(settings.hf_endpoint, token, timeout=settings.hub_timeout_seconds)


def lab_namespaces(lab: Lab) -> list[str]:
    """What a webhook watches for one lab: its namespace and its legacy aliases."""
    return [lab.namespace, *lab.aliases]


def _ours(webhooks: list[HubWebhook], url: str) -> list[HubWebhook]:
    return [hook for hook in webhooks if hook.url.rstrip("/") == url.rstrip("/")]


def plan(
    ours: list[HubWebhook], labs: list[Lab], per_hook: int
) -> list[tuple[HubWebhook | None, list[Lab]]]:
    """Which labs each webhook should watch: existing assignments kept, new labs dealt
    to the webhook with the fewest labs, new webhooks only when all are full."""
    per_hook = max(1, per_hook)
    by_namespace = {ns.lower(): lab for lab in labs for ns in lab_namespaces(lab)}
    slots: list[tuple[HubWebhook | None, list[Lab]]] = []
    placed: set[str] = set()
    for hook in ours:
        kept: list[Lab] = []
        for namespace in hook.namespaces:
            lab = by_namespace.get(namespace.lower())
            if lab is not None and lab.key not in placed and len(kept) < per_hook:
                kept.append(lab)
                placed.add(lab.key)
        slots.append((hook, kept))
    waiting = sorted(
        (lab for lab in labs if lab.key not in placed), key=lambda lab: (lab.tier, lab.key)
    )
    needed = math.ceil((len(placed) + len(waiting)) / per_hook)
    while len(slots) < needed:
        slots.append((None, []))
    for lab in waiting:
        slot = min(slots, key=lambda s: len(s[1]))
        if len(slot[1]) >= per_hook:
            slot = (None, [])
            slots.append(slot)
        slot[1].append(lab)
    return slots


def sync_webhooks(
    admin: HubWebhookAdmin, registry: LabRegistry, url: str, secret: str, per_hook: int
) -> SyncResult:
    """Create, update, enable or delete our webhooks so they watch every tracked lab."""
    result = SyncResult()
    ours = _ours(admin.list(), url)
    for hook, labs in plan(ours, registry.labs(), per_hook):
        namespaces = [ns for lab in labs for ns in lab_namespaces(lab)]
        if hook is None:
            made = admin.create(url, namespaces, secret)
            result.created.append(made.id)
            result.webhooks.append(made)
            continue
        if not labs:
            admin.delete(hook.id)
            result.deleted.append(hook.id)
            continue
        current = hook
        if (
            [n.lower() for n in hook.namespaces] != [n.lower() for n in namespaces]
            or hook.domains != ["repo"]
            or (hook.secret is not None and hook.secret != secret)
        ):
            current = admin.update(hook.id, url, namespaces, secret)
            result.updated.append(hook.id)
        if current.disabled:
            current = admin.enable(hook.id)
            result.enabled.append(hook.id)
        result.webhooks.append(current)
    return result


def uncovered(webhooks: list[HubWebhook], registry: LabRegistry) -> list[str]:
    """Tracked labs no enabled webhook of ours watches."""
    watched = {ns.lower() for hook in webhooks if not hook.disabled for ns in hook.namespaces}
    return [lab.namespace for lab in registry.labs() if lab.namespace.lower() not in watched]


def status(
    admin: HubWebhookAdmin, registry: LabRegistry, url: str
) -> tuple[list[HubWebhook], list[str]]:
    """Our webhooks as the Hub lists them, and the tracked labs none of them covers."""
    ours = _ours(admin.list(), url)
    return ours, uncovered(ours, registry)


def describe(webhooks: list[HubWebhook], registry: LabRegistry) -> list[str]:
    """One line per webhook: its id, its state, and which labs it watches."""
    lines = []
    for hook in webhooks:
        names = []
        for namespace in hook.namespaces:
            lab = registry.resolve(namespace)
            if lab is not None and lab.namespace.lower() != namespace.lower():
                names.append(f"{namespace} (alias of {lab.namespace})")
            else:
                names.append(namespace)
        state = "disabled" if hook.disabled else "enabled"
        lines.append(
            f"webhook {hook.id} ({state}) watches {len(names)}: {', '.join(names) or 'nothing'}"
        )
    return lines


def sync_quietly(settings: Settings, registry: LabRegistry) -> str | None:
    """`/radar track` and `untrack`: bring the webhooks in step; the problem, if any."""
    try:
        url = receiver_url(settings)
        with _SYNC_LOCK, admin_for(settings) as admin:
            secret = settings.hf_webhook_secret.get_secret_value()  # type: ignore[union-attr]
            result = sync_webhooks(admin, registry, url, secret, settings.webhook_labs_per_hook)
    except WebhookAdminError as exc:
        log.warning("could not bring the Hub webhooks in step: %s", exc)
        return str(exc)
    log.info(
        "Hub webhooks in step: %d created, %d updated, %d deleted",
        len(result.created),
        len(result.updated),
        len(result.deleted),
    )
    return None


def webhooks_managed(settings: Settings) -> bool:
    """True when the bot may keep webhooks in step itself (token, secret and public URL)."""
    return bool(settings.webhooks_enabled and settings.hf_token and settings.radar_public_url)
