"""Repo renames on the Hub: the model keeps its history under its new id.

A rename, a transfer to another namespace or an organisation rename (new ids, the same Hub
`_id`, creation date and history) is the same model, never a new release: the stored record
is re-keyed, and the releases that list it and the alerts already posted follow it, so the
next poll sees a known repo under the new id and stays quiet. The poll finds moves by the
Hub `_id` (`Tracker`); a Hub webhook `move` event names both ids (`Tracker.apply_move`).
"""

from __future__ import annotations

import logging

from bot.radar.ports import Store
from bot.radar.releases import release_title

log = logging.getLogger(__name__)


def _renamed(ids: list[str], old_id: str, new_id: str) -> list[str]:
    """`ids` with `old_id` (or a stray `new_id` spelling) as `new_id`, each id once."""
    out: list[str] = []
    for member in ids:
        member = new_id if member.lower() in (old_id.lower(), new_id.lower()) else member
        if member not in out:
            out.append(member)
    return out


def follow_move(store: Store, old_id: str, new_id: str) -> bool:
    """Re-key the record of `old_id` (its release membership and posted alerts) to `new_id`.

    Returns False when there is nothing to follow (the old id is unknown, or both ids are
    the same repo). The caller commits. When both ids are known (a poll saw the new id
    first), the old record, which holds the older history, takes over: the new id leaves
    any other release it had opened (a release left empty goes).
    """
    if old_id.lower() == new_id.lower():
        return False
    with store.lock:
        record = store.models.get(old_id.lower())
        if record is None:
            return False
        existing = store.models.get(new_id.lower())
        moved = record.model_copy(
            update={"id": new_id, "author": new_id.split("/", 1)[0]}, deep=True
        )
        if existing is not None:
            moved.release_id = moved.release_id or existing.release_id
            moved.notable = moved.notable or existing.notable
            moved.hub_oid = moved.hub_oid or existing.hub_oid
        store.models.delete(old_id.lower())
        store.models.put(moved)
        for release in store.releases.values():
            members = release.members
            held_old = any(m.lower() == old_id.lower() for m in members)
            if existing is not None and not held_old and release.id != moved.release_id:
                # The duplicate launch the poll opened for the new id: the move is not news.
                members = [m for m in members if m.lower() != new_id.lower()]
            renamed = _renamed(members, old_id, new_id)
            if not renamed:
                store.releases.delete(release.id)
            elif renamed != release.members:
                title = release_title(release.lab_name, renamed)
                store.releases.put(
                    release.model_copy(update={"members": renamed, "title": title})
                )
        for delivery in store.deliveries.values():
            if any(m.lower() == old_id.lower() for m in delivery.posted_members):
                posted = _renamed(delivery.posted_members, old_id, new_id)
                store.deliveries.put(delivery.model_copy(update={"posted_members": posted}))
        log.info("followed the rename of %s to %s", old_id, new_id)
        return True
