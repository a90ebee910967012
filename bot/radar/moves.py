"""Repo renames on the Hub: the model keeps its history under its new id.

A rename (or a transfer to another namespace) is the same model, never a new release: the
stored record is re-keyed and the releases that list it follow, so the next poll sees a
known repo under the new id and stays quiet.
"""

from __future__ import annotations

import logging

from bot.radar.releases import release_title
from bot.store.base import Store

log = logging.getLogger(__name__)


def follow_move(store: Store, old_id: str, new_id: str) -> bool:
    """Re-key the record of `old_id` (and its release membership) to `new_id`.

    Returns False when there is nothing to follow (the old id is unknown, or both ids are
    the same repo). The caller commits. When both ids are known (a poll saw the new id
    first), the old record goes and the new one takes over its release.
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
        store.models.delete(old_id.lower())
        store.models.put(moved)
        for release in store.releases.values():
            renamed: list[str] = []
            for member in release.members:
                member = new_id if member.lower() in (old_id.lower(), new_id.lower()) else member
                if member not in renamed:
                    renamed.append(member)
            if renamed != release.members:
                title = release_title(release.lab_name, renamed)
                store.releases.put(
                    release.model_copy(update={"members": renamed, "title": title})
                )
        log.info("followed the rename of %s to %s", old_id, new_id)
        return True
