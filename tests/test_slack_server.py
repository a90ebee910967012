"""The Slack stand-in behaves like Slack for the real `slack_sdk.WebClient`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from tests.doubles.signing import (
    action_body,
    event_body,
    post_signed,
    sign,
    slash_command_body,
)
from tests.doubles.slack_server import SlackStandIn, Violation, validate_message

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(retry_after=0) as stand_in:
        yield stand_in


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    # No retry handlers: each test sees exactly what the stand-in answered.
    return WebClient(token=slack.token, base_url=slack.url, retry_handlers=[], timeout=5)


def error_of(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


# -- posting, updating, reading back ----------------------------------------------------------


def test_post_message_records_it_and_returns_increasing_ts(
    slack: SlackStandIn, client: WebClient
) -> None:
    first = client.chat_postMessage(channel="C1", text="one", blocks=[SECTION])
    second = client.chat_postMessage(channel="C1", text="two")
    assert first["ok"] and first["channel"] == "C1"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["text"] == "one"
    shown = slack.messages("C1")
    assert [(m["text"], m["blocks"]) for m in shown] == [("one", [SECTION]), ("two", None)]
    assert slack.messages("C2") == []
    assert slack.violations == []


def test_thread_replies_and_updates(slack: SlackStandIn, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="alert")
    client.chat_postMessage(channel="C1", text="new sizes", thread_ts=parent["ts"])
    updated = client.chat_update(channel="C1", ts=parent["ts"], text="alert, 3 models")
    assert updated["ts"] == parent["ts"]
    messages = slack.messages("C1")
    assert messages[0]["text"] == "alert, 3 models" and messages[0]["edited"]
    assert messages[1]["thread_ts"] == parent["ts"]
    replies = client.conversations_replies(channel="C1", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["alert, 3 models", "new sizes"]


def test_update_or_reply_to_an_unknown_message_fails(
    slack: SlackStandIn, client: WebClient
) -> None:
    error = error_of(lambda: client.chat_update(channel="C1", ts="1.000001", text="x"))
    assert error.response["error"] == "message_not_found"
    reply = error_of(lambda: client.chat_postMessage(channel="C1", thread_ts="1.000001", text="x"))
    assert reply.response["error"] == "thread_not_found"
    assert [v.error for v in slack.violations] == ["message_not_found", "thread_not_found"]
    assert slack.messages() == []


def test_history_is_newest_first_with_metadata_only_when_asked(
    slack: SlackStandIn, client: WebClient
) -> None:
    for index in range(3):
        client.chat_postMessage(
            channel="C1",
            text=f"release {index}",
            metadata={"event_type": "radar_release", "event_payload": {"release_id": f"r{index}"}},
        )
    parent_ts = slack.messages("C1")[0]["ts"]
    client.chat_postMessage(channel="C1", text="in thread", thread_ts=parent_ts)

    history = client.conversations_history(channel="C1", include_all_metadata=True, limit=2)
    assert [m["text"] for m in history["messages"]] == ["release 2", "release 1"]
    assert history["messages"][0]["metadata"] == {
        "event_type": "radar_release",
        "event_payload": {"release_id": "r2"},
    }
    assert history["has_more"] is True
    rest = client.conversations_history(
        channel="C1", cursor=history["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["release 0"]
    assert "metadata" not in rest["messages"][0]
    assert rest["messages"][0]["reply_count"] == 1

    newer = client.conversations_history(channel="C1", oldest=slack.messages("C1")[1]["ts"])
    assert [m["text"] for m in newer["messages"]] == ["release 2"]


def test_form_encoded_calls_with_token_in_the_body_work(slack: SlackStandIn) -> None:
    response = httpx.post(
        slack.url + "chat.postMessage",
        data={
            "token": slack.token,
            "channel": "C9",
            "text": "form",
            "blocks": json.dumps([SECTION]),
        },
    )
    assert response.json()["ok"] is True
    assert slack.messages("C9")[0]["blocks"] == [SECTION]


def test_ephemeral_messages_and_home_views_are_recorded(
    slack: SlackStandIn, client: WebClient
) -> None:
    client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert slack.ephemerals("C1")[0]["user"] == "U1"
    assert slack.messages() == []
    client.views_publish(user_id="U1", view={"type": "home", "blocks": [SECTION]})
    assert slack.home_views("U1") == [{"type": "home", "blocks": [SECTION]}]
    too_big = {"type": "home", "blocks": [SECTION] * 101}
    error = error_of(lambda: client.views_publish(user_id="U1", view=too_big))
    assert error.response["error"] == "invalid_arguments"


def test_users_info_reports_the_configured_timezone(slack: SlackStandIn, client: WebClient) -> None:
    slack.user_timezones["U1"] = "Asia/Tokyo"
    user = client.users_info(user="U1")["user"]
    assert (user["tz"], user["tz_offset"]) == ("Asia/Tokyo", 9 * 3600)
    assert client.users_info(user="U2")["user"]["tz"] == "UTC"


def test_auth_and_channel_info(slack: SlackStandIn, client: WebClient) -> None:
    auth = client.auth_test()
    assert (auth["team_id"], auth["user_id"]) == ("T1", "UBOTRADAR")
    slack.private_channels.add("G1")
    info = client.conversations_info(channel="G1")["channel"]
    assert info["is_private"] is True and info["is_member"] is True


# -- errors Slack would return ----------------------------------------------------------------


def test_wrong_or_missing_token_is_refused(slack: SlackStandIn) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=slack.url, retry_handlers=[])
    assert (
        error_of(lambda: wrong.chat_postMessage(channel="C1", text="x")).response["error"]
        == "invalid_auth"
    )
    anonymous = httpx.post(slack.url + "auth.test").json()
    assert anonymous == {"ok": False, "error": "not_authed"}
    assert [v.error for v in slack.violations] == ["invalid_auth", "not_authed"]
    assert slack.messages() == []


def test_channel_errors(slack: SlackStandIn, client: WebClient) -> None:
    slack.missing_channels.add("CGONE")
    slack.archived_channels.add("COLD")
    slack.not_member.update({"COUT", "GPRIV"})
    slack.private_channels.add("GPRIV")

    def post(channel: str) -> str:
        return error_of(lambda: client.chat_postMessage(channel=channel, text="x")).response[
            "error"
        ]

    assert post("CGONE") == "channel_not_found"
    assert post("COLD") == "is_archived"
    assert post("COUT") == "not_in_channel"
    client.conversations_join(channel="COUT")
    assert client.chat_postMessage(channel="COUT", text="now a member")["ok"]
    join = error_of(lambda: client.conversations_join(channel="GPRIV"))
    assert join.response["error"] == "method_not_supported_for_channel_type"
    assert [v.error for v in slack.violations] == [
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "method_not_supported_for_channel_type",
    ]


def test_blocks_over_the_limits_are_rejected_as_invalid_blocks(
    slack: SlackStandIn, client: WebClient
) -> None:
    error = error_of(lambda: client.chat_postMessage(channel="C1", text="x", blocks=[SECTION] * 51))
    assert error.response["error"] == "invalid_blocks"
    assert "at most 50 (got 51)" in error.response["response_metadata"]["messages"][0]

    long_header = {"type": "header", "text": {"type": "plain_text", "text": "H" * 151}}
    error = error_of(lambda: client.chat_postMessage(channel="C1", text="x", blocks=[long_header]))
    assert error.response["error"] == "invalid_blocks"

    with pytest.warns(UserWarning, match="text"):
        no_text = error_of(lambda: client.chat_postMessage(channel="C1", blocks=[SECTION]))
    assert no_text.response["error"] == "no_text"
    assert slack.messages() == []
    assert [v.error for v in slack.violations] == ["invalid_blocks", "invalid_blocks", "no_text"]


def test_validator_lists_every_broken_limit() -> None:
    button = {
        "type": "button",
        "action_id": "a",
        "text": {"type": "plain_text", "text": "B" * 76},
        "value": "v" * 2001,
    }
    payload = {
        "text": "t",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}] * 11},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11},
            {"type": "actions", "block_id": "b" * 256, "elements": [button] * 26},
            {"type": "header", "text": {"type": "mrkdwn", "text": "not plain"}},
        ],
    }
    problems = validate_message(payload)
    assert any("blocks[0].text.text: must be <= 3000" in p for p in problems)
    assert any("blocks[1].fields: at most 10 (got 11)" in p for p in problems)
    assert any("blocks[2].elements: 1..10 (got 11)" in p for p in problems)
    assert any("blocks[3].block_id: must be <= 255" in p for p in problems)
    assert any("blocks[3].elements: 1..25 (got 26)" in p for p in problems)
    assert any("blocks[4].text.type" in p for p in problems)
    assert validate_message({"text": "x" * 40_001})[0].startswith("msg_too_long")
    assert validate_message({"text": "fine", "blocks": [SECTION]}) == []


def test_broadcast_mentions_are_delivered_but_flagged(
    slack: SlackStandIn, client: WebClient
) -> None:
    client.chat_postMessage(channel="C1", text="hey <!channel>")
    assert slack.violations == [Violation("chat.postMessage", "broadcast_mention", ("<!channel>",))]


# -- injected faults --------------------------------------------------------------------------


def test_injected_slack_errors_fail_the_next_calls_only(
    slack: SlackStandIn, client: WebClient
) -> None:
    slack.inject("channel_not_found", method="chat.postMessage", times=2)
    client.auth_test()  # other methods are unaffected
    for _ in range(2):
        error = error_of(lambda: client.chat_postMessage(channel="C1", text="x"))
        assert error.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert slack.violations == []  # injected failures are not the bot's fault
    assert [outcome for _, outcome in slack.outcomes] == [
        None,
        "injected:channel_not_found",
        "injected:channel_not_found",
        None,
    ]


def test_429_surfaces_retry_after(slack: SlackStandIn, client: WebClient) -> None:
    slack.retry_after = 7
    slack.inject("429")
    error = error_of(lambda: client.chat_postMessage(channel="C1", text="x"))
    assert error.response.status_code == 429
    assert error.response["error"] == "ratelimited"
    assert error.response.headers["Retry-After"] == "7"


def test_rate_limit_retry_handler_gets_through(slack: SlackStandIn) -> None:
    patient = WebClient(
        token=slack.token,
        base_url=slack.url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    slack.inject("429", method="chat.postMessage")
    assert patient.chat_postMessage(channel="C1", text="after a wait")["ok"]
    assert len(slack.calls_to("chat.postMessage")) == 2
    assert [m["text"] for m in slack.messages("C1")] == ["after a wait"]


def test_server_errors_and_soft_rate_limits(slack: SlackStandIn, client: WebClient) -> None:
    slack.inject("500")
    slack.inject("503")
    slack.inject("ratelimited")
    first = error_of(lambda: client.chat_postMessage(channel="C1", text="x"))
    second = error_of(lambda: client.chat_postMessage(channel="C1", text="x"))
    third = error_of(lambda: client.chat_postMessage(channel="C1", text="x"))
    assert (first.response.status_code, second.response.status_code) == (500, 503)
    assert (third.response.status_code, third.response["error"]) == (200, "ratelimited")


def test_dropped_connection_is_retried_by_the_connection_handler(slack: SlackStandIn) -> None:
    retrying = WebClient(
        token=slack.token,
        base_url=slack.url,
        retry_handlers=[
            ConnectionErrorRetryHandler(
                max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
            )
        ],
    )
    slack.inject("disconnect")
    assert retrying.chat_postMessage(channel="C1", text="second try")["ok"]
    assert [outcome for _, outcome in slack.outcomes] == ["injected:disconnect", None]


def test_failure_rate_is_seeded_and_repeatable() -> None:
    def failures(seed: int) -> list[int]:
        with SlackStandIn() as stand_in:
            client = WebClient(token=stand_in.token, base_url=stand_in.url, retry_handlers=[])
            stand_in.set_failure_rate(0.3, kinds=("ratelimited", "500"), seed=seed)
            failed = []
            for index in range(40):
                try:
                    client.chat_postMessage(channel="C1", text=str(index))
                except SlackApiError:
                    failed.append(index)
            assert len(stand_in.messages("C1")) == 40 - len(failed)
            return failed

    first = failures(seed=3)
    assert 4 <= len(first) <= 24
    assert failures(seed=3) == first


def test_latency_slows_every_request(slack: SlackStandIn, client: WebClient) -> None:
    slack.latency = 0.05
    started = time.perf_counter()
    client.auth_test()
    assert time.perf_counter() - started >= 0.05


def test_post_times_use_the_injected_clock() -> None:
    ticks = iter([10.0, 10.4, 11.5])
    with SlackStandIn(clock=lambda: next(ticks)) as stand_in:
        client = WebClient(token=stand_in.token, base_url=stand_in.url, retry_handlers=[])
        for channel in ("C1", "C1", "C2"):
            client.chat_postMessage(channel=channel, text="x")
        assert stand_in.post_times("C1") == [10.0, 10.4]
        assert stand_in.post_times("C2") == [11.5]


# -- files, response_url, waiting ---------------------------------------------------------------


def test_files_upload_v2_end_to_end(slack: SlackStandIn, client: WebClient) -> None:
    chart = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    response = client.files_upload_v2(
        channel="C1",
        file=chart,
        filename="releases.png",
        title="Releases by region",
        initial_comment="Weekly digest",
    )
    assert response["ok"] and response["file"]["title"] == "Releases by region"
    assert slack.uploads == [
        {
            "file_id": response["file"]["id"],
            "filename": "releases.png",
            "title": "Releases by region",
            "channel": "C1",
            "channels": ["C1"],
            "data": chart,
            "initial_comment": "Weekly digest",
            "thread_ts": None,
        }
    ]


def test_upload_to_a_channel_the_bot_is_not_in_fails(
    slack: SlackStandIn, client: WebClient
) -> None:
    slack.not_member.add("C5")
    error = error_of(lambda: client.files_upload_v2(channel="C5", content="x", filename="a.txt"))
    assert error.response["error"] == "not_in_channel"
    assert slack.uploads == []


def test_response_url_records_posts_and_allows_five_uses(slack: SlackStandIn) -> None:
    webhook = WebhookClient(slack.response_url_for("cmd-1"))
    first = webhook.send(text="Working on it…", response_type="ephemeral")
    assert (first.status_code, first.body) == (200, "ok")
    for index in range(4):
        webhook.send(text=f"update {index}", blocks=[SECTION], replace_original=True)
    sixth = webhook.send(text="too many")
    assert sixth.status_code == 404
    assert [r["text"] for r in slack.responses("cmd-1")] == [
        "Working on it…",
        "update 0",
        "update 1",
        "update 2",
        "update 3",
    ]
    assert slack.responses("other") == []
    assert slack.violations == [Violation("response_url:cmd-1", "used_url")]


def test_response_url_rejects_bad_blocks(slack: SlackStandIn) -> None:
    webhook = WebhookClient(slack.response_url_for("cmd-2"))
    response = webhook.send(text="x", blocks=[SECTION] * 51)
    assert (response.status_code, response.body) == (400, "invalid_blocks")
    assert slack.responses("cmd-2") == []


def test_wait_for_wakes_up_when_a_message_arrives(slack: SlackStandIn, client: WebClient) -> None:
    timer = threading.Timer(0.05, lambda: client.chat_postMessage(channel="C1", text="late"))
    timer.start()
    try:
        assert slack.wait_for(lambda: slack.messages("C1"), timeout=20)[0]["text"] == "late"
    finally:
        timer.join()
    assert not slack.wait_for(lambda: slack.messages("C2"), timeout=0.05)


# -- signing helpers ------------------------------------------------------------------------------


def test_signature_matches_slack_sdk_verifier() -> None:
    from slack_sdk.signature import SignatureVerifier

    body = slash_command_body(
        "/radar", "latest 5", user_id="U1", channel_id="C1", response_url="http://x/response/1"
    )
    timestamp = int(time.time())
    verifier = SignatureVerifier("secret")
    assert verifier.is_valid(body.decode(), str(timestamp), sign(body, "secret", timestamp))
    assert not verifier.is_valid(body.decode(), str(timestamp), sign(body, "other", timestamp))


def test_request_bodies_carry_slack_fields(slack: SlackStandIn) -> None:
    from urllib.parse import parse_qs

    command = parse_qs(
        slash_command_body(
            "/model", "qwen3", user_id="U1", channel_id="C1", response_url="r"
        ).decode()
    )
    assert command["command"] == ["/model"] and command["text"] == ["qwen3"]
    assert {"trigger_id", "api_app_id", "team_id", "response_url"} <= set(command)
    action = json.loads(
        parse_qs(
            action_body(
                "share_model", "Qwen/Qwen3-8B", user_id="U1", channel_id="C1", response_url="r"
            ).decode()
        )["payload"][0]
    )
    assert action["type"] == "block_actions"
    assert action["actions"][0]["action_id"] == "share_model"
    assert action["actions"][0]["value"] == "Qwen/Qwen3-8B"
    event = json.loads(event_body({"type": "app_home_opened", "user": "U1"}))
    assert event["type"] == "event_callback" and event["event"]["user"] == "U1"

    # post_signed sends the headers Slack sends; the stand-in's response_url records the body.
    status, text, elapsed = post_signed(
        slack.response_url_for("signed"),
        b'{"text": "hi"}',
        "secret",
        content_type="application/json",
    )
    assert (status, text) == (200, "ok") and elapsed >= 0
    assert slack.responses("signed") == [{"text": "hi"}]


def test_a_bolt_app_answers_a_signed_command_through_the_response_url(
    slack: SlackStandIn, client: WebClient
) -> None:
    from slack_bolt import App, BoltRequest

    app = App(client=client, signing_secret="secret")

    @app.command("/radar")
    def radar(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        ack()
        respond(text=f"you asked for {command['text']}")

    body = slash_command_body(
        "/radar",
        "latest 3",
        user_id="U1",
        channel_id="C1",
        response_url=slack.response_url_for("bolt"),
    ).decode()
    timestamp = str(int(time.time()))
    headers = {
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-request-timestamp": [timestamp],
        "x-slack-signature": [sign(body.encode(), "secret", int(timestamp))],
    }
    assert app.dispatch(BoltRequest(body=body, headers=headers)).status == 200
    assert slack.wait_for(lambda: slack.responses("bolt"), timeout=20) == [
        {"text": "you asked for latest 3"}
    ]
    forged = {**headers, "x-slack-signature": [sign(body.encode(), "wrong", int(timestamp))]}
    assert app.dispatch(BoltRequest(body=body, headers=forged)).status == 401
