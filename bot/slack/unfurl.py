"""Link unfurls: a pasted `huggingface.co/<org>/<name>` link gets the radar's compact card.

Slack sends `link_shared` for links of the app's unfurl domain (manifest:
`unfurl_domains: [huggingface.co]`, scopes `links:read` and `links:write`); the listener acks
at once and the card is built off Bolt's thread. A model the radar does not know is looked
up on the Hub; a link that is not a model page, a model nobody can find and any failure
unfurl nothing (Slack then shows its own preview, if any). Only the exact repo is unfurled,
never a fuzzy match: a link names one repo.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.radar.adoption import book_and_releases
from bot.radar.adoption_series import Reading, epoch_day
from bot.radar.countries import country_name, flag
from bot.radar.service import ModelLookup
from bot.slack.adoption_view import reading_text, score_text
from bot.slack.context import SlackRadar
from bot.slack.errors import error_code
from bot.slack.mrkdwn import escape, escape_inline, hub_link
from bot.slack.render import enforce_limits, format_count, format_size

log = logging.getLogger(__name__)

UNFURL_DOMAIN = "huggingface.co"
MAX_LINKS = 5  # a message with a list of links gets its first few cards, not a wall
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
# First path segments of huggingface.co pages that are not model repos.
_NOT_MODELS = frozenset(
    {
        "datasets", "spaces", "docs", "blog", "papers", "collections", "models", "api",
        "organizations", "settings", "login", "join", "pricing", "chat", "tasks", "learn",
        "posts", "enterprise", "new", "new-space", "new-dataset", "search", "inference",
        "welcome", "terms-of-service", "privacy", "changelog", "buckets", "kernels",
    }
)  # fmt: skip


def repo_id_of(url: str) -> str | None:
    """`org/name` of a Hub model page URL (`/tree/main`, `?x` and `#y` ignored), else None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host not in (UNFURL_DOMAIN, f"www.{UNFURL_DOMAIN}"):
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) < 2 or segments[0].lower() in _NOT_MODELS:
        return None
    org, name = segments[0], segments[1]
    if not (_PART.match(org) and _PART.match(name)) or ".." in f"{org}/{name}":
        return None
    return f"{org}/{name}"


def register(app: Any) -> None:
    app.event("link_shared")(links_shared)


def links_shared(event: dict, client: WebClient, radar: SlackRadar) -> None:
    """Ack at once; lookups (maybe on the Hub) and `chat.unfurl` run after."""
    radar.in_background(lambda: unfurl_links(event, client, radar))


def unfurl_links(event: dict, client: WebClient, radar: SlackRadar) -> dict[str, Any]:
    """Build a card for each model link and send them in one `chat.unfurl`; returns them."""
    links = event.get("links") or []
    unfurls: dict[str, Any] = {}
    for link in links:
        if len(unfurls) >= MAX_LINKS:
            break
        url = link.get("url") if isinstance(link, dict) else None
        if not isinstance(url, str) or url in unfurls:
            continue
        repo_id = repo_id_of(url)
        if repo_id is None:
            continue
        try:
            lookup = radar.core.service.lookup_model(repo_id)
        except Exception:  # a lookup bug must not cost the other links
            log.exception("unfurl lookup of %s failed", repo_id)
            continue
        if lookup.record is None or lookup.record.id.lower() != repo_id.lower():
            continue
        unfurls[url] = {"blocks": unfurl_card(lookup, radar)}
    if not unfurls:
        return {}
    target: dict[str, Any]
    if event.get("unfurl_id") and event.get("source"):
        target = {"unfurl_id": event["unfurl_id"], "source": event["source"]}
    else:
        target = {"channel": event.get("channel"), "ts": event.get("message_ts")}
    try:
        client.chat_unfurl(**target, unfurls=unfurls)
    except SlackApiError as exc:
        log.warning("chat.unfurl failed: %s", error_code(exc) or exc)
    except OSError as exc:
        log.warning("chat.unfurl failed: network: %s", type(exc).__name__)
    return unfurls


def unfurl_card(lookup: ModelLookup, radar: SlackRadar) -> list[dict[str, Any]]:
    """Lab and country, size, license class, notable or not and why, adoption if known."""
    record = lookup.record
    assert record is not None
    lab = lookup.lab
    who = (
        f"{flag(lab.country)} {escape_inline(lab.name)} · "
        f"{escape(country_name(lab.country)) if lab.country else 'country unknown'}"
        if lab is not None
        else f"{escape_inline(record.author)} (not a tracked lab)"
    )
    license_text = record.license_class.value + (
        f" ({escape_inline(record.license)})" if record.license else ""
    )
    verdict = (
        ":large_green_circle: *Notable*" if record.notable else ":white_circle: Not notable"
    )
    reasons = "; ".join(escape_inline(reason) for reason in record.reasons[:3])
    lines = [
        f"*{hub_link(record.id, base=radar.hub_url)}* · {who}",
        f"{format_size(record.params_total, record.params_active)} · {license_text} · "
        f"{format_count(record.downloads)} downloads (30 d)",
        f"{verdict}{': ' + reasons if reasons else ''}",
    ]
    adoption = _adoption_line(lookup, radar)
    if adoption:
        lines.append(adoption)
    return enforce_limits(
        [
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "Open Model Radar"}],
            },
        ]
    )


def _adoption_line(lookup: ModelLookup, radar: SlackRadar) -> str | None:
    release = lookup.release
    if release is None:
        return None
    book, _ = book_and_releases(radar.core.store)
    standing = book.latest_standing(release.id, epoch_day(radar.core.clock()))
    if standing is None or standing.downloads is None:
        return None
    downloads = reading_text(Reading(standing.downloads, standing.interpolated))
    return (
        f":chart_with_upwards_trend: Adoption: {downloads} downloads since first seen by "
        f"day {standing.age} · score {score_text(standing.score)}"
        + (f" ({standing.size_class})" if standing.size_class else "")
    )
