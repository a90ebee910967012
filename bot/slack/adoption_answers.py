"""`/radar adoption [...]` and the race under `/radar stats`: find what was asked, render it.

Reads only local data (the store's snapshots), so answers run on the local-answer pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.radar.adoption import book_and_releases, race
from bot.radar.adoption_series import epoch_day, lab_series_id, release_series_id
from bot.radar.models import Release
from bot.slack.adoption_view import (
    lab_adoption,
    regions_adoption,
    release_adoption,
    with_race,
)
from bot.slack.mrkdwn import escape
from bot.slack.render import error_message

if TYPE_CHECKING:
    from bot.runtime import Core

Payload = dict[str, Any]


def find_release(core: Core, text: str) -> Release | None:
    """A release by id, by one of its members (any model query), or by its title."""
    store = core.store
    wanted = text.strip()
    exact = store.releases.get(wanted)
    if exact is not None:
        return exact
    lowered = wanted.lower()
    record = store.models.get(lowered)
    if record is None:
        lookup = core.service.lookup_local(wanted, use_hub=False)
        record = lookup.record
    if record is not None and record.release_id:
        found = store.releases.get(record.release_id)
        if found is not None:
            return found
    titled = [r for r in store.releases.values() if r.title.lower() == lowered]
    titled = titled or [r for r in store.releases.values() if lowered in r.title.lower()]
    return max(titled, key=lambda r: r.first_seen) if titled else None


def answer_adoption(target: str | None, core: Core, *, radar_command: str = "/radar") -> Payload:
    store = core.store
    now = core.clock()
    book, releases = book_and_releases(store)
    if target is None:
        return regions_adoption(race(book, releases, now))
    today = epoch_day(now)
    lab = core.registry.resolve(target) if "/" not in target else None
    if lab is not None:
        own = [r for r in releases if r.lab.lower() == lab.namespace.lower()]
        ranked = [(r, book.latest_standing(r.id, today)) for r in own]
        ranked.sort(
            key=lambda item: (
                item[1] is not None and item[1].score is not None,
                item[1].score if item[1] is not None and item[1].score is not None else 0.0,
                item[0].first_seen,
            ),
            reverse=True,
        )
        return lab_adoption(lab, ranked, store.adoption.get(lab_series_id(lab.namespace)))
    release = find_release(core, target)
    if release is None:
        return error_message(
            f"I know no release, model or lab called “{target}”.",
            hint=f"Try a repo id (`{escape(radar_command)} adoption Qwen/Qwen3-32B`), a lab "
            f"(`{escape(radar_command)} adoption deepseek-ai`) or "
            f"`{escape(radar_command)} adoption region`.",
        )
    members = core.service.members(release)
    return release_adoption(
        release,
        members,
        store.adoption.get(release_series_id(release.id)),
        book.curve(release.id),
        book.latest_standing(release.id, today),
    )


def stats_with_race(payload: Payload, core: Core) -> Payload:
    """`/radar stats` with the downloads race (from the first poll on) appended."""
    book, releases = book_and_releases(core.store)
    return with_race(payload, race(book, releases, core.clock()))
