"""The real `HubClient` against the running Hub stand-in: requests, retries, errors."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.hub import (
    DETAIL_EXPANDS,
    LIST_EXPANDS,
    BadResponse,
    HubClient,
    HubError,
    HubUnavailable,
    RateLimited,
    RepoNotFound,
    ServerError,
    repos_from_list,
)
from bot.radar.ports import SourceError, SourceNotFound
from tests.doubles.hub_fixtures import background, family_launch, model_json
from tests.doubles.hub_server import HubStandIn

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
TOKEN = "hf_SeCrEtTokenValue1234567890"


@pytest.fixture
def hub() -> Iterator[HubStandIn]:
    with HubStandIn(timeout_sleep=0.6) as server:
        server.add_many(family_launch(NOW))
        server.add_many(background(NOW, 30))
        yield server


class RecordedSleep:
    """Collects the waits the client asks for instead of sleeping through them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleep() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
def make_client(hub: HubStandIn, sleep: RecordedSleep) -> Iterator[Callable[..., HubClient]]:
    clients: list[HubClient] = []

    def build(**overrides: object) -> HubClient:
        options: dict = {"timeout": 2.0, "sleep": sleep, "rng": random.Random(7)}
        options.update(overrides)
        client = HubClient(hub.url, **options)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def test_a_body_larger_than_the_cap_is_refused_not_read_into_memory(hub, make_client):
    client = make_client(max_body_bytes=1_000, max_retries=0)

    with pytest.raises(BadResponse, match="larger than 1000 B"):
        client.list_lab_repos("Qwen", limit=20)  # fifteen repos: far more than 1,000 bytes
    assert len(make_client(max_body_bytes=1_000_000).list_lab_repos("Qwen", limit=20)) == 15


# -- requests and parameters ------------------------------------------------------------


def test_list_lab_repos_is_one_request_with_only_needed_expands(hub, make_client):
    client = make_client()
    repos = client.list_lab_repos("Qwen", limit=5)

    assert hub.request_count == 1 and client.requests_made == 1
    request = hub.requests[0]
    assert request.path == "/api/models"
    assert request.query["author"] == ["Qwen"]
    assert request.query["sort"] == ["createdAt"]
    assert request.query["limit"] == ["5"]
    assert request.query["expand"] == list(LIST_EXPANDS)
    assert not {"baseModels", "childrenModelCount", "usedStorage"} & set(LIST_EXPANDS)

    assert len(repos) == 5
    newest = repos[0]
    assert newest.id == "Qwen/Qwen3.7-8B-Instruct-GGUF"  # the family's last upload
    assert newest.author == "Qwen"
    assert newest.created_at is not None and newest.created_at.tzinfo is not None
    assert newest.safetensors_total == 8_000_000_000
    assert "base_model:quantized:Qwen/Qwen3.7-8B-Instruct" in newest.tags
    assert newest.card_data["base_model"] == "Qwen/Qwen3.7-8B-Instruct"
    assert newest.detailed is False
    created = [repo.created_at for repo in repos]
    assert created == sorted(created, reverse=True)


def test_list_trending_and_search_each_cost_one_request(hub, make_client):
    client = make_client()
    trending = client.list_trending(limit=3)
    found = client.search("qwen3.7-35b", limit=10)

    assert client.requests_made == 2
    assert hub.requests[0].query["sort"] == ["trendingScore"]
    assert hub.requests[1].query["search"] == ["qwen3.7-35b"]
    assert trending[0].trending_score is not None
    scores = [repo.trending_score for repo in trending]
    assert scores == sorted(scores, reverse=True)
    assert sorted(repo.id for repo in found) == [
        "Qwen/Qwen3.7-35B-A3B",
        "Qwen/Qwen3.7-35B-A3B-Base",
        "Qwen/Qwen3.7-35B-A3B-FP8",
        "Qwen/Qwen3.7-35B-A3B-GGUF",
    ]


def test_blank_search_sends_nothing(hub, make_client):
    client = make_client()
    assert client.search("   ", limit=5) == []
    assert hub.request_count == 0


def test_list_all_follows_link_pagination(hub, make_client):
    client = make_client()
    repos = client.list_all("Qwen", sort="createdAt", max_pages=10, page_size=4)

    qwen_total = sum(1 for repo_id in hub.models if repo_id.startswith("Qwen/"))
    assert len(repos) == qwen_total == 15
    assert len({repo.id for repo in repos}) == qwen_total
    assert client.requests_made == 4  # 4 + 4 + 4 + 3
    assert "cursor" not in hub.requests[0].query
    assert all("cursor" in request.query for request in hub.requests[1:])
    assert all(request.query["expand"] == list(LIST_EXPANDS) for request in hub.requests)


def test_light_list_all_asks_only_for_ids_and_dates_and_keeps_the_hub_id(hub, make_client):
    client = make_client()
    repos = client.list_all("Qwen", max_pages=10, page_size=500, light=True)

    assert len(repos) == 15
    assert hub.requests[0].query["expand"] == ["createdAt", "lastModified"]
    by_id = {repo.id: repo for repo in repos}
    stored = hub.get("Qwen/Qwen3.7-122B-A10B")
    assert stored is not None
    light = by_id["Qwen/Qwen3.7-122B-A10B"]
    assert light.hub_oid == stored["_id"] and light.created_at is not None
    assert light.tags == [] and light.pipeline_tag is None  # facts come from a detail call


def test_list_all_stops_at_max_pages(hub, make_client):
    client = make_client()
    repos = client.list_all("Qwen", sort="createdAt", max_pages=2, page_size=4)
    assert len(repos) == 8
    assert hub.request_count == 2


def test_get_repo_requests_detail_expands_and_reads_lineage(hub, make_client):
    client = make_client()
    repo = client.get_repo("Qwen/Qwen3.7-122B-A10B")

    request = hub.requests[0]
    assert request.path == "/api/models/Qwen/Qwen3.7-122B-A10B"
    assert request.query["expand"] == list(DETAIL_EXPANDS)
    assert repo.detailed is True
    assert repo.base_models == ["Qwen/Qwen3.7-122B-A10B-Base"]
    assert repo.base_model_relation == "finetune"
    assert repo.children == {"quantized": 1}  # the official FP8
    assert repo.downloads_all_time == 63_000
    assert repo.likes == 600


def test_token_header_only_when_token_set(hub, make_client):
    make_client().list_trending(limit=1)
    make_client(token=TOKEN).list_trending(limit=1)

    anonymous, authenticated = hub.request_headers
    assert "Authorization" not in anonymous
    assert authenticated["Authorization"] == f"Bearer {TOKEN}"


def test_user_agent_names_the_bot(hub, make_client):
    make_client().list_trending(limit=1)
    make_client(user_agent="radar-bench/1").list_trending(limit=1)
    assert hub.request_headers[0]["User-Agent"].startswith("open-model-radar/")
    assert hub.request_headers[1]["User-Agent"] == "radar-bench/1"


def test_rate_limit_remaining_is_tracked(hub, make_client):
    client = make_client()
    client.list_trending(limit=1)
    client.list_trending(limit=1)
    assert client.rate_limit_remaining == 498


def test_one_client_shared_across_threads_counts_every_request(hub, make_client):
    client = make_client()
    labs = ["Qwen", "deepseek-ai", "google", "openai", "nvidia", "allenai", "mistralai", "zai-org"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda lab: client.list_lab_repos(lab, limit=50), labs * 5))
    assert client.requests_made == hub.request_count == 40
    assert all(
        repo.author == lab for lab, repos in zip(labs * 5, results, strict=True) for repo in repos
    )
    assert len(results[0]) == 15  # every Qwen repo in the stand-in


# -- not found and bad ids --------------------------------------------------------------


def test_missing_repo_is_repo_not_found(hub, make_client):
    client = make_client()
    with pytest.raises(RepoNotFound) as caught:
        client.get_repo("Qwen/Does-Not-Exist")
    assert isinstance(caught.value, SourceNotFound)
    assert caught.value.repo_id == "Qwen/Does-Not-Exist"
    assert "Qwen/Does-Not-Exist" in str(caught.value)
    assert client.requests_made == 1  # a 401 is an answer, not a retry


def test_private_repo_is_repo_not_found(hub, make_client):
    hub.add(model_json("moonshotai/Kimi-K3", created_at=NOW))
    hub.set_private("moonshotai/Kimi-K3", True)
    client = make_client()
    with pytest.raises(RepoNotFound):
        client.get_repo("moonshotai/Kimi-K3")
    hub.set_private("moonshotai/Kimi-K3", False)
    assert client.get_repo("moonshotai/Kimi-K3").id == "moonshotai/Kimi-K3"


@pytest.mark.parametrize(
    "repo_id",
    [
        "../../etc/passwd",
        "Qwen/../admin",
        "Qwen/Qwen3.7-8B/../../x",
        "Qwen",
        "Qwen/",
        "/Qwen3",
        "Qwen/name with space",
        "Qwen/name%2F..",
        "Qwen/name?expand=usedStorage",
        "Qwen/" + "x" * 300,
        "Qwen/ok\nInjected: header",
    ],
)
def test_unsafe_repo_id_rejected_without_a_request(hub, make_client, repo_id):
    client = make_client()
    with pytest.raises(RepoNotFound, match="not a valid Hub repo id"):
        client.get_repo(repo_id)
    assert hub.request_count == 0
    assert client.requests_made == 0


# -- rate limits --------------------------------------------------------------------------


def test_429_waits_retry_after_then_succeeds(hub, make_client, sleep):
    hub.inject("429", times=2, retry_after=3)
    repos = make_client().list_lab_repos("Qwen", limit=2)
    assert len(repos) == 2
    assert sleep.waits == [3.0, 3.0]
    assert hub.request_count == 3


def test_429_uses_ratelimit_reset_when_no_retry_after(hub, make_client, sleep):
    hub.inject("429-ratelimit-header", retry_after=55)
    repos = make_client().list_trending(limit=1)
    assert len(repos) == 1
    assert sleep.waits == [55.0]


def test_429_wait_longer_than_max_wait_raises_at_once(hub, make_client, sleep):
    hub.inject("429", retry_after=300)
    client = make_client(max_wait=60)
    with pytest.raises(RateLimited) as caught:
        client.list_trending(limit=1)
    assert caught.value.retry_after == 300
    assert sleep.waits == []
    assert hub.request_count == 1


def test_429_every_time_ends_rate_limited(hub, make_client, sleep):
    hub.inject("429", times=10, retry_after=2)
    with pytest.raises(RateLimited) as caught:
        make_client(max_retries=2).list_trending(limit=1)
    assert caught.value.status == 429 and caught.value.retry_after == 2.0
    assert sleep.waits == [2.0, 2.0]
    assert hub.request_count == 3


# -- server errors and network trouble ---------------------------------------------------


def test_5xx_retried_with_jittered_backoff_then_success(hub, make_client, sleep, caplog):
    hub.inject("503", times=2)
    hub.inject("500")
    with caplog.at_level(logging.DEBUG, logger="bot.hub.client"):
        repo = make_client().get_repo("Qwen/Qwen3.7-8B-Instruct")
    assert repo.id == "Qwen/Qwen3.7-8B-Instruct"
    assert hub.request_count == 4
    assert len(sleep.waits) == 3
    for attempt, wait in enumerate(sleep.waits, start=1):
        assert 0 <= wait <= min(8.0, 0.5 * 2 ** (attempt - 1))
    retries = [r for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 3
    assert "GET /api/models/Qwen/Qwen3.7-8B-Instruct" in retries[0].getMessage()
    assert "HTTP 503" in retries[0].getMessage()


def test_5xx_exhausted_is_server_error(hub, make_client, sleep):
    hub.inject("500", times=10)
    with pytest.raises(ServerError) as caught:
        make_client(max_retries=3).list_trending(limit=1)
    assert caught.value.status == 500
    assert hub.request_count == 4
    assert len(sleep.waits) == 3


def test_timeout_is_hub_unavailable_after_retries(hub, make_client, sleep):
    hub.inject("timeout", times=5)
    with pytest.raises(HubUnavailable, match="timeout") as caught:
        make_client(timeout=0.2, max_retries=1).list_trending(limit=1)
    assert caught.value.status is None  # no answer came, so no HTTP status to report
    assert hub.request_count == 2
    assert len(sleep.waits) == 1


def test_one_timeout_then_success(hub, make_client):
    hub.inject("timeout")
    repos = make_client(timeout=0.2).list_trending(limit=2)
    assert len(repos) == 2


def test_connection_reset_is_retried(hub, make_client, sleep):
    hub.inject("reset")
    repos = make_client().list_lab_repos("deepseek-ai", limit=10)
    assert {repo.author for repo in repos} == {"deepseek-ai"}
    assert len(sleep.waits) == 1


def test_connection_reset_every_time_is_hub_unavailable(hub, make_client):
    hub.inject("reset", times=3)
    with pytest.raises(HubUnavailable, match="connection error"):
        make_client(max_retries=2).list_trending(limit=1)


def test_nothing_listening_is_hub_unavailable(sleep):
    with HubStandIn() as stopped:
        dead_url = stopped.url
    client = HubClient(dead_url, timeout=0.5, max_retries=1, sleep=sleep)
    with client, pytest.raises(HubUnavailable):
        client.list_trending(limit=1)


# -- bad responses ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
def test_unparseable_body_is_bad_response(hub, make_client, kind):
    hub.inject(kind)
    client = make_client()
    with pytest.raises(BadResponse, match="not valid JSON"):
        client.list_lab_repos("Qwen", limit=10)
    assert isinstance(BadResponse("x"), SourceError)


def test_truncated_detail_is_bad_response(hub, make_client):
    hub.inject("truncated", path_contains="/api/models/Qwen")
    with pytest.raises(BadResponse):
        make_client().get_repo("Qwen/Qwen3.7-8B-Base")


def test_400_from_the_hub_is_bad_response_with_its_message(hub, make_client):
    client = make_client()
    with pytest.raises(BadResponse, match="expand") as caught:
        client._get_json("/api/models", [("expand", "usedStorage")])
    assert caught.value.status == 400


def test_wrong_top_level_type_is_bad_response(hub, make_client):
    client = make_client()
    # A detail object where a list was expected, as a misrouted proxy might answer.
    with pytest.raises(BadResponse, match="expected a JSON list"):
        repos_from_list(client._get_json("/api/models/Qwen/Qwen3.7-8B-Base", []))


def test_wrong_field_types_are_tolerated(hub, make_client, caplog):
    hub.inject("wrong-type")
    with caplog.at_level(logging.WARNING, logger="bot.hub.parse"):
        repos = make_client().list_lab_repos("Qwen", limit=3)

    assert len(repos) == 3  # the 3 good-id items kept; a string, no-id and int-id item skipped
    spoiled = repos[0]
    assert spoiled.downloads is None
    assert spoiled.likes is None
    assert spoiled.tags == []
    assert spoiled.created_at is None
    assert spoiled.card_data == {}
    assert spoiled.safetensors_total is None
    assert spoiled.trending_score is None
    assert spoiled.gated is False
    assert repos[1].downloads == 4_000
    assert "skipped 3 of 6 Hub list items" in caplog.text


def test_wrong_field_types_in_detail_are_tolerated(hub, make_client):
    hub.inject("wrong-type")
    repo = make_client().get_repo("Qwen/Qwen3.7-8B-Instruct")
    assert repo.id == "Qwen/Qwen3.7-8B-Instruct"
    assert repo.downloads is None and repo.tags == []
    assert repo.base_models == ["Qwen/Qwen3.7-8B-Base"]


def test_pagination_link_to_another_host_is_refused(sleep):
    """A next link must never carry our token elsewhere."""

    class ForeignLinkHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"[]"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Link", '<https://evil.example/api/models?x=1>; rel="next"')
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), ForeignLinkHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        host, port = server.server_address[:2]
        client = HubClient(f"http://{host}:{port}", token=TOKEN, sleep=sleep)
        with client, pytest.raises(BadResponse, match=r"evil\.example"):
            client.list_all("Qwen", max_pages=3)
        assert client.requests_made == 1
    finally:
        server.shutdown()
        server.server_close()


# -- secrets --------------------------------------------------------------------------------


def test_token_never_appears_in_errors_or_logs(hub, make_client, caplog):
    client = make_client(token=TOKEN, timeout=0.2, max_retries=1)
    failures: list[HubError] = []
    scenarios: list[tuple[str, Callable[[], object]]] = [
        ("500", lambda: client.list_trending(limit=1)),
        ("timeout", lambda: client.list_trending(limit=1)),
        ("reset", lambda: client.list_trending(limit=1)),
        ("malformed", lambda: client.get_repo("Qwen/Qwen3.7-8B-Base")),
        ("429", lambda: client.search("qwen", limit=1)),
    ]
    with caplog.at_level(logging.DEBUG):
        for kind, call in scenarios:
            hub.clear_faults()
            hub.inject(kind, times=2, retry_after=999)
            with pytest.raises(HubError) as caught:
                call()
            failures.append(caught.value)
        hub.clear_faults()
        with pytest.raises(RepoNotFound) as caught:
            client.get_repo("nobody/nothing")
        failures.append(caught.value)

    assert len(failures) == 6
    assert {type(f) for f in failures} == {
        ServerError,
        HubUnavailable,
        BadResponse,
        RateLimited,
        RepoNotFound,
    }
    for failure in failures:
        assert TOKEN not in str(failure)
        assert TOKEN not in repr(failure.args)
    assert caplog.records  # retries were logged…
    assert TOKEN not in caplog.text  # …without the secret
    assert TOKEN not in repr(client)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)
_hub_keys = st.sampled_from(
    ["id", "author", "createdAt", "tags", "downloads", "gated", "cardData", "safetensors",
     "baseModels", "childrenModelCount", "trendingScore", "likes", "private"]
)  # fmt: skip


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.dictionaries(_hub_keys, _json_values, max_size=8) | _json_values, max_size=6))
def test_parser_never_crashes_on_arbitrary_json(items):
    repos = repos_from_list(items)
    assert len(repos) <= len(items)
    for repo in repos:
        assert 0 < len(repo.id) <= 200
        assert len(repo.tags) <= 300
