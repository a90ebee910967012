"""The storage contract, run against every backend: the TinyDB file and PostgreSQL.

What the rest of the bot relies on: a put is seen at once, made durable by `commit()` and
by nothing else; a delete stays deleted; a reopened store holds what was committed; the
collections' `values`, `len`, `keys` and `find` agree; threads writing at once lose nothing.
The PostgreSQL cases skip, saying why, where no server is available (tests/pg.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.radar.installs import OAuthState, SlackInstall
from bot.radar.models import (
    AdoptionSeries,
    Delivery,
    DigestSchedule,
    Filters,
    Lab,
    ModelRecord,
    Mute,
    Record,
    Region,
    Release,
    StateEntry,
    Subscription,
)
from bot.radar.ports import COLLECTIONS, Store
from bot.store import open_database

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)

Opener = Callable[[], Store]


@pytest.fixture(params=["tinydb", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """A function that opens (again) one database of the backend under test."""
    if request.param == "tinydb":
        path = tmp_path / "radar.json"
        yield lambda: open_database(path)
        return
    from tests.pg import fresh_schema

    with fresh_schema() as url:
        yield lambda: open_database(tmp_path / "unused.json", url)


def a_model(number: int, **changes: object) -> ModelRecord:
    values: dict[str, object] = {
        "id": f"Lab{number % 7}/Model-{number}",
        "author": f"Lab{number % 7}",
        "first_seen": NOW + timedelta(minutes=number),
        "downloads": number,
        "release_id": f"lab{number % 7}/model" if number % 3 == 0 else None,
    }
    values.update(changes)
    return ModelRecord.model_validate(values)


def one_of_each() -> dict[str, Record]:
    return {
        "labs": Lab(namespace="acme-ai", name="Acme", country="FR", region=Region.EU),
        "models": a_model(1),
        "releases": Release(
            id="acme-ai/acme-7",
            lab="acme-ai",
            lab_name="Acme",
            title="Acme 7",
            stem="acme-7",
            members=["acme-ai/Acme-7B", "acme-ai/Acme-7B-FP8"],
            first_seen=NOW,
            updated_at=NOW,
        ),
        "subscriptions": Subscription(
            id="s1", channel_id="C1", filters=Filters(countries=["CN"]), created_at=NOW
        ),
        "mutes": Mute(channel_id="C1", lab="meta-llama", until=NOW + timedelta(days=7)),
        "digests": DigestSchedule(channel_id="C1", weekday=0, time="09:00"),
        "deliveries": Delivery(
            channel_id="C1", release_id="acme-ai/acme-7", status="sent", ts="1.000001"
        ),
        "state": StateEntry(name="poll", value={"last_poll_at": NOW.isoformat(), "n": 3}),
        "adoption": AdoptionSeries(
            id="release:acme-ai/acme-7",
            kind="release",
            region=Region.EU,
            start_day=20_697,
            from_launch=True,
            offset=12,
            members=["acme-ai/acme-7b"],
            days=[20_697, 20_704],
            totals=[12, 9_012],
        ),
        "slack_installs": SlackInstall(
            workspace="T1",
            team_id="T1",
            team_name="Acme",
            installed_at=NOW,
            installation={"team_id": "T1", "bot_token": "xoxe.xoxb-1-T1-1", "installed_at": 1.5},
        ),
        "oauth_states": OAuthState(nonce="n1", expires_at=NOW + timedelta(minutes=10)),
    }


def test_take_hands_a_record_out_once_and_the_removal_is_kept(backend: Opener) -> None:
    store = backend()
    state = OAuthState(nonce="n1", expires_at=NOW)
    store.oauth_states.put(state)
    store.commit()
    other = backend() if _shared(store) else store  # a replica, where there can be one
    assert other.oauth_states.take("n1") == state
    assert store.oauth_states.take("n1") is None
    assert other.oauth_states.take("n1") is None
    store.commit()
    if other is not store:
        other.close()
    store.close()
    again = backend()
    assert again.oauth_states.get("n1") is None and len(again.oauth_states) == 0
    again.close()


def test_every_collection_survives_a_reopen(backend: Opener) -> None:
    records = one_of_each()
    assert set(records) == set(COLLECTIONS)
    store = backend()
    for name, record in records.items():
        getattr(store, name).put(record)
    store.commit()
    store.close()
    again = backend()
    for name, record in records.items():
        assert getattr(again, name).get(record.key) == record, name
        assert getattr(again, name).values() == [record], name
    again.close()


def test_a_put_is_seen_at_once_and_kept_only_by_commit(backend: Opener) -> None:
    store = backend()
    store.models.put(a_model(1))
    assert store.models.get(a_model(1).key) == a_model(1)
    assert len(store.models) == 1
    other = backend() if _shared(store) else None
    if other is not None:  # another process (replica) sees only what was committed
        assert other.models.get(a_model(1).key) is None
    store.commit()
    if other is not None:
        assert other.models.get(a_model(1).key) == a_model(1)
        other.close()
    store.models.put(a_model(2))
    _abandon(store)  # a crash: the uncommitted put is gone, the committed one stays
    again = backend()
    assert [m.id for m in again.models.values()] == [a_model(1).id]
    again.close()


def test_a_deleted_record_stays_deleted_and_others_remain(backend: Opener) -> None:
    store = backend()
    for number in range(5):
        store.models.put(a_model(number))
    store.commit()
    assert store.models.delete(a_model(2).key) is True
    assert store.models.delete(a_model(2).key) is False
    assert store.models.delete("nobody/nothing") is False
    assert store.models.get(a_model(2).key) is None
    assert len(store.models) == 4
    store.commit()
    store.close()
    again = backend()
    assert sorted(m.downloads for m in again.models.values()) == [0, 1, 3, 4]
    assert len(again.models) == 4
    again.close()


def test_a_put_after_a_delete_and_a_delete_after_a_put_win(backend: Opener) -> None:
    store = backend()
    store.models.put(a_model(1))
    store.models.put(a_model(2))
    store.commit()
    store.models.delete(a_model(1).key)
    store.models.put(a_model(1, downloads=99))
    store.models.put(a_model(3))
    store.models.delete(a_model(3).key)
    store.commit()
    store.close()
    again = backend()
    assert again.models.get(a_model(1).key).downloads == 99
    assert again.models.get(a_model(3).key) is None
    assert len(again.models) == 2
    again.close()


def test_len_values_keys_and_find_agree_with_pending_changes(backend: Opener) -> None:
    store = backend()
    for number in range(12):
        store.models.put(a_model(number))
    store.commit()
    store.models.put(a_model(12))  # pending insert
    store.models.put(a_model(3, downloads=333))  # pending update
    store.models.delete(a_model(6).key)  # pending delete
    values = store.models.values()
    assert len(values) == len(store.models) == 12
    assert sorted(m.key for m in values) == sorted(_keys(store.models))
    assert {m.key: m.downloads for m in values}[a_model(3).key] == 333
    in_release = _find(store.models, release_id="lab3/model")
    assert sorted(m.downloads for m in in_release) == [333]
    assert sorted(m.downloads for m in _find(store.models, release_id="lab0/model")) == [0]
    store.commit()
    assert sorted(m.downloads for m in _find(store.models, release_id="lab3/model")) == [333]
    store.close()


def test_threads_putting_and_committing_at_once_lose_nothing(backend: Opener) -> None:
    store = backend()
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for number in range(offset, offset + 40):
                with store.lock:
                    store.models.put(a_model(number))
                if number % 10 == 0:
                    store.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i * 1000,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.commit()
    store.close()
    assert errors == []
    again = backend()
    assert len(again.models) == 160
    again.close()


def test_state_values_round_trip_unchanged(backend: Opener) -> None:
    value = {"nested": {"list": [1, 2.5, "three", None, True]}, "unicode": "Zürich — 北京"}
    store = backend()
    store.state.put(StateEntry(name="labs", value=value))
    store.commit()
    store.close()
    again = backend()
    assert again.state.get("labs").value == value
    again.close()


def test_a_closed_store_refuses_to_commit(backend: Opener) -> None:
    from bot.store import StoreError

    store = backend()
    store.models.put(a_model(1))
    store.close()  # close commits what is pending
    with pytest.raises(StoreError, match="closed"):
        store.commit()
    again = backend()
    assert again.models.get(a_model(1).key) is not None
    again.close()


# ------------------------------------------------------------------ helpers


def _shared(store: Store) -> bool:
    return type(store).__name__ == "PostgresStore"


def _abandon(store: Store) -> None:
    """Drop a store without committing, as a killed process would."""
    if _shared(store):
        store._pool.close()  # type: ignore[attr-defined]
        store._closed = True  # type: ignore[attr-defined]
    else:
        store._closed = True  # type: ignore[attr-defined]


def _keys(collection: object) -> list[str]:
    keys = getattr(collection, "keys", None)
    return keys() if keys is not None else [item.key for item in collection.values()]


def _find(collection: object, **equals: str) -> list:
    return collection.find(**equals)  # type: ignore[attr-defined]


def test_find_and_get_many_answer_like_a_scan(backend: Opener) -> None:
    store = backend()
    for number in range(10):
        store.models.put(a_model(number, notable=number % 2 == 0))
    store.deliveries.put(Delivery(channel_id="C1", release_id="r1", status="posting"))
    store.deliveries.put(Delivery(channel_id="C2", release_id="r1", status="sent", ts="1.1"))
    store.commit()
    store.models.put(a_model(10, notable=True))  # pending: found too
    notable = sorted(m.downloads for m in store.models.find(notable=True))
    assert notable == [0, 2, 4, 6, 8, 10]
    assert sorted(m.downloads for m in store.models.find(release_id=None)) == [
        1, 2, 4, 5, 7, 8, 10
    ]
    assert [d.channel_id for d in store.deliveries.find(status="posting")] == ["C1"]
    wanted = [a_model(1).key, a_model(10).key, "nobody/none", a_model(1).key]
    assert sorted(store.models.get_many(wanted)) == sorted({a_model(1).key, a_model(10).key})
    store.close()
