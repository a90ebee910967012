"""The Hub stand-in itself behaves like the Hub where the radar depends on it.

Plain httpx calls, so a stand-in bug cannot hide behind the client's tolerance.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.doubles.hub_fixtures import (
    background,
    breakout,
    derivative_flood,
    family_launch,
    private_turning_public,
    renamed_namespace,
    tracked_lab_noise,
)
from tests.doubles.hub_server import HubStandIn

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def hub() -> Iterator[HubStandIn]:
    family = family_launch(NOW)
    with HubStandIn() as server:
        server.add_many(family)
        server.add_many(derivative_flood(NOW, [m["id"] for m in family][:3]))
        server.add_many(tracked_lab_noise(NOW))
        server.add_many(private_turning_public(NOW))
        server.add_many(breakout(NOW))
        server.add_many(renamed_namespace(NOW))
        server.add_many(background(NOW, 25))
        yield server


@pytest.fixture
def http(hub: HubStandIn) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.url, timeout=5) as client:
        yield client


def test_scenarios_have_the_promised_sizes():
    family = family_launch(NOW)
    assert 12 <= len(family) <= 14
    assert any("122B-A10B" in m["id"] for m in family)
    assert {m["id"].rsplit("-", 1)[-1] for m in family} >= {"Base", "FP8", "GGUF", "Thinking"}
    flood = derivative_flood(NOW, [family[1]["id"]])
    assert len(flood) >= 40
    assert all(not m["id"].startswith("Qwen/") for m in flood)
    assert all(any(t.startswith("base_model:") for t in m["tags"]) for m in flood)
    assert all(m["createdAt"].endswith("Z") for m in flood + family)
    assert len(background(NOW, 50)) == 50
    assert len({m["id"] for m in background(NOW, 50)}) == 50


def test_list_without_expand_returns_default_fields(http):
    items = http.get("/api/models", params={"author": "Qwen", "limit": 2}).json()
    assert len(items) == 2
    assert set(items[0]) == {
        "_id", "id", "modelId", "likes", "trendingScore", "private", "downloads", "tags",
        "pipeline_tag", "library_name", "createdAt",
    }  # fmt: skip


def test_list_expand_returns_only_id_and_requested_fields(http):
    params = [("author", "Qwen"), ("limit", "1"), ("expand", "likes"), ("expand[]", "sha")]
    (item,) = http.get("/api/models", params=params).json()
    assert set(item) == {"_id", "id", "likes", "sha"}


@pytest.mark.parametrize("field", ["baseModels", "childrenModelCount", "usedStorage", "bogus"])
def test_list_rejects_detail_only_or_unknown_expand(http, field):
    response = http.get("/api/models", params={"expand": field})
    assert response.status_code == 400
    assert '"expand" must be one of' in response.json()["error"]


def test_private_models_are_never_listed_and_answer_401(hub, http):
    listed = http.get("/api/models", params={"author": "moonshotai"}).json()
    assert "moonshotai/Kimi-K3-Instruct" not in {item["id"] for item in listed}
    detail = http.get("/api/models/moonshotai/Kimi-K3-Instruct")
    assert detail.status_code == 401
    assert detail.headers["X-Error-Code"] == "RepoNotFound"
    assert detail.json() == {"error": "Repository Not Found"}

    hub.set_private("moonshotai/Kimi-K3-Instruct", False)
    listed = http.get("/api/models", params={"author": "moonshotai"}).json()
    assert "moonshotai/Kimi-K3-Instruct" in {item["id"] for item in listed}


def test_sorting_is_descending_and_filters_combine(http):
    items = http.get("/api/models", params={"sort": "likes", "limit": 5}).json()
    likes = [item["likes"] for item in items]
    assert likes == sorted(likes, reverse=True)
    assert items[0]["id"] == "lumen-research/Lumen-R1-32B"

    params = [("filter", "gguf"), ("filter", "base_model:quantized:Qwen/Qwen3.7-122B-A10B-Base")]
    both = http.get("/api/models", params=params).json()
    assert {item["id"] for item in both} == {
        "unsloth/Qwen3.7-122B-A10B-Base-GGUF",
        "bartowski/Qwen_Qwen3.7-122B-A10B-Base-GGUF",
        "lmstudio-community/Qwen3.7-122B-A10B-Base-GGUF",
    }
    found = http.get("/api/models", params={"search": "GLM-5.3", "limit": 10}).json()
    assert [item["id"] for item in found] == ["zai-org/GLM-5.3-Air"]


def test_pagination_link_is_absolute_with_an_opaque_cursor(hub, http):
    first = http.get("/api/models", params={"author": "Qwen", "sort": "createdAt", "limit": 5})
    link = first.links["next"]["url"]
    assert link.startswith(f"{hub.url}/api/models?")
    cursor = httpx.URL(link).params["cursor"]
    assert base64.urlsafe_b64decode(cursor)  # base64, not a page number
    seen = [item["id"] for item in first.json()]
    url: str | None = link
    while url:
        page = http.get(url)
        seen += [item["id"] for item in page.json()]
        url = page.links.get("next", {}).get("url")
    public_qwen = [m for m in hub.models.values() if m["author"] == "Qwen" and not m["private"]]
    assert len(seen) == len(set(seen)) == len(public_qwen)
    assert http.get("/api/models", params={"cursor": "!!"}).status_code == 400


def test_detail_expands_lineage_and_counts_children(http):
    repo = "Qwen/Qwen3.7-122B-A10B-Base"
    params = [("expand", "baseModels"), ("expand", "childrenModelCount")]
    base = http.get(f"/api/models/{repo}", params=params).json()
    assert "baseModels" not in base  # an original has no parent
    # 7 quantizers; 2 named fine-tuners + 3 filler users + the lab's own chat model;
    # 1 adapter; 1 merge.
    assert base["childrenModelCount"] == {"quantized": 7, "finetune": 6, "adapter": 1, "merge": 1}
    fp8 = http.get("/api/models/Qwen/Qwen3.7-122B-A10B-FP8", params=params).json()
    assert fp8["baseModels"]["relation"] == "quantized"
    assert fp8["baseModels"]["models"][0]["id"] == "Qwen/Qwen3.7-122B-A10B"


def test_every_response_carries_rate_limit_headers(http):
    ok = http.get("/api/models", params={"limit": 1})
    missing = http.get("/api/models/nobody/nothing")
    for response in (ok, missing):
        assert response.headers["RateLimit"].startswith('"api";r=')
        assert response.headers["RateLimit-Policy"] == '"fixed window";"api";q=500;w=300'
    assert ok.headers["RateLimit"].startswith('"api";r=499;')


def test_enforced_quota_answers_429():
    server = HubStandIn(rate_limit_quota=2, enforce_rate_limit=True)
    with server, httpx.Client(base_url=server.url) as http:
        statuses = [http.get("/api/models").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_injected_faults_are_queued_and_targeted(hub, http):
    hub.inject("503", times=2, path_contains="author=Qwen")
    hub.inject("429", retry_after=7)
    assert http.get("/api/models", params={"author": "google"}).status_code == 429
    assert http.get("/api/models", params={"author": "Qwen"}).status_code == 503
    assert http.get("/api/models", params={"author": "Qwen"}).status_code == 503
    assert http.get("/api/models", params={"author": "Qwen"}).status_code == 200
    assert hub.request_count == 4
    assert [r.query["author"] for r in hub.requests] == [["google"], ["Qwen"], ["Qwen"], ["Qwen"]]
    hub.reset_log()
    assert hub.request_count == 0


def test_failure_rate_is_reproducible_with_a_seed(hub, http):
    def run() -> list[int]:
        hub.set_failure_rate(0.5, kinds=["500", "503"], seed=42)
        return [http.get("/api/models", params={"limit": 1}).status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert 3 <= first.count(200) <= 17
    assert set(first) <= {200, 500, 503}


def test_wrong_type_fault_spoils_items(hub, http):
    hub.inject("wrong-type")
    items = http.get("/api/models", params={"author": "Qwen", "limit": 2}).json()
    assert items[0]["downloads"] == "lots" and items[0]["tags"] == 5
    assert "not-an-object" in items


def test_a_hung_hub_holds_matching_requests_until_released(hub, http):
    hub.hang("author=Qwen")
    with pytest.raises(httpx.ReadTimeout):
        http.get("/api/models", params={"author": "Qwen"}, timeout=0.3)
    assert http.get("/api/models", params={"author": "google"}).status_code == 200
    hub.release()
    assert http.get("/api/models", params={"author": "Qwen"}).status_code == 200


def test_a_repo_created_privately_turns_public_at_its_time(hub, http):
    moments = [NOW]
    hub.visibility_clock = lambda: moments[-1]
    hub.add_private_until(
        {"id": "Qwen/Staged-72B", "createdAt": "2026-08-20T00:00:00.000Z"},
        NOW.replace(hour=13),
    )
    listed = lambda: [m["id"] for m in http.get("/api/models", params={"author": "Qwen"}).json()]  # noqa: E731

    assert "Qwen/Staged-72B" not in listed()
    assert http.get("/api/models/Qwen/Staged-72B").status_code == 401
    moments.append(NOW.replace(hour=13))
    assert "Qwen/Staged-72B" in listed()
    detail = http.get("/api/models/Qwen/Staged-72B").json()
    assert detail["createdAt"] == "2026-08-20T00:00:00.000Z"  # creation date kept


def test_a_moved_repo_keeps_its_id_and_history_and_the_old_url_redirects(hub, http):
    before = http.get("/api/models/THUDM/glm-4-9b-chat").json()

    hub.move("THUDM/glm-4-9b-chat", "zai-org/glm-4-9b-chat")

    assert http.get("/api/models", params={"author": "THUDM"}).json() == []
    moved = http.get("/api/models/zai-org/glm-4-9b-chat").json()
    assert moved["id"] == "zai-org/glm-4-9b-chat"
    assert (moved["_id"], moved["createdAt"], moved["sha"]) == (
        before["_id"], before["createdAt"], before["sha"]
    )
    redirect = http.get("/api/models/THUDM/glm-4-9b-chat")
    assert redirect.status_code == 307
    assert http.get("/api/models/THUDM/glm-4-9b-chat", follow_redirects=True).json()["id"] == (
        "zai-org/glm-4-9b-chat"
    )
