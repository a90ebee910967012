"""Commits to a store forever, so `test_store.py` can `kill -9` it at random moments.

Run as `python -m tests.store_writer PATH`. Every cycle adds a batch of models (with
lists that grow from cycle to cycle), drops the oldest once the table is large enough
to make each write take a while, and records in the `writer` state document which
models must exist. Everything changes in one commit, so any database a crash leaves
behind must agree with its own `writer` document.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.radar.models import ModelRecord, StateEntry
from bot.store import open_store

BATCH = 40
KEEP_AT_MOST = 2_000
STATE_NAME = "writer"


def model_id(sequence: int) -> str:
    return f"writer-lab/model-{sequence}"


def main(path: Path) -> None:
    store = open_store(path)
    progress = store.state.get(STATE_NAME)
    value = progress.value if progress else {"cycle": 0, "first": 0, "next": 0}
    cycle, first, next_sequence = value["cycle"], value["first"], value["next"]
    print("ready", flush=True)
    now = datetime.now(UTC)
    while True:
        cycle += 1
        for sequence in range(next_sequence, next_sequence + BATCH):
            store.models.put(
                ModelRecord(
                    id=model_id(sequence),
                    author="writer-lab",
                    first_seen=now,
                    likes=cycle,
                    tags=[f"tag-{cycle}-{n}" for n in range(cycle % 25)],
                )
            )
        next_sequence += BATCH
        while next_sequence - first > KEEP_AT_MOST:
            store.models.delete(model_id(first))
            first += 1
        store.state.put(
            StateEntry(
                name=STATE_NAME, value={"cycle": cycle, "first": first, "next": next_sequence}
            )
        )
        store.commit()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
