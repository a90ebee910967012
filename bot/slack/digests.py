"""Post weekly digests: the message, then the 12-week chart, once per channel and period.

A digest carries message metadata (`radar_digest` + its identity). A scheduled digest's
identity is its `period` (the scheduled local date); before posting one the poster looks for
that period in the channel's recent history, so a crash between posting and recording "sent"
never produces a second copy. A manual digest (`/radar digest now`) is identified apart
(`manual` + the moment it was asked for), so it never stands in for the scheduled one.

Each workspace's digests go out through its own client (`Workspaces.client_for`); one no
longer installed gets none (`NOT_INSTALLED`, recorded as done for the period).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.charts import region_chart_png
from bot.radar.channels import ChannelSettings
from bot.radar.digest import build_digest, schedule_due_period
from bot.radar.models import utcnow
from bot.radar.ports import Store
from bot.slack import errors, ids
from bot.slack.adoption_view import with_race
from bot.slack.history import find_posted
from bot.slack.render import digest_message
from bot.slack.workspace_clients import NOT_INSTALLED, as_workspaces
from bot.slack.workspaces import Workspaces

log = logging.getLogger(__name__)

METADATA_TYPE = ids.DIGEST_EVENT
# Recorded as done for the period, with a log line.
UNDELIVERABLE = frozenset(errors.UNDELIVERABLE) | {NOT_INSTALLED}


@dataclass
class DigestResult:
    channel_id: str
    ok: bool
    ts: str | None = None
    error: str | None = None
    already_posted: bool = False
    team_id: str = ""


class DigestPoster:
    def __init__(
        self,
        client: WebClient | Workspaces,
        store: Store,
        channels: ChannelSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
        hub_url: str = "https://huggingface.co",
        chart: bool = True,
    ) -> None:
        self.workspaces = as_workspaces(client)  # a plain client: one workspace
        self.store = store
        self.channels = channels
        self.clock = clock
        self.hub_url = hub_url
        self.chart = chart

    def post(
        self, channel_id: str, *, period: str | None = None, team_id: str = ""
    ) -> DigestResult:
        """Post this week's digest to a channel of workspace `team_id` (joining a public one
        if needed).

        With a `period` this is the scheduled digest of that period, posted once; without
        one it is a manual digest, which never counts as any period's scheduled digest.
        """
        now = self.clock()
        client = self.workspaces.client_for(team_id)
        if client is None:
            log.warning("no digest to %s: the app is no longer installed there", channel_id)
            return DigestResult(channel_id, ok=False, error=NOT_INSTALLED, team_id=team_id)
        if period is not None and self._already_posted(client, channel_id, period, now):
            return DigestResult(channel_id, ok=True, already_posted=True, team_id=team_id)
        digest = build_digest(self.store, now=now, days=7)
        payload = digest_message(digest, hub_url=self.hub_url)
        if digest.race is not None:
            payload = with_race(payload, digest.race)
        identity = (
            {"period": period}
            if period is not None
            else {"manual": now.isoformat(timespec="seconds")}
        )
        metadata = {"event_type": METADATA_TYPE, "event_payload": identity}
        try:
            response = self._post_joining(
                client,
                channel=channel_id,
                text=payload["text"],
                blocks=payload["blocks"],
                unfurl_links=False,
                unfurl_media=False,
                metadata=metadata,
            )
        except SlackApiError as exc:
            error = errors.error_code(exc) or "error"
            log.warning("digest to %s failed: %s", channel_id, error)
            return DigestResult(channel_id, ok=False, error=error, team_id=team_id)
        except OSError as exc:  # it may have arrived: the next run looks before posting
            log.warning("digest to %s failed: network: %s", channel_id, type(exc).__name__)
            return DigestResult(channel_id, ok=False, error="network", team_id=team_id)
        if self.chart:
            self._upload_chart(client, channel_id, digest.weekly, now, digest.race)
        return DigestResult(channel_id, ok=True, ts=response.get("ts"), team_id=team_id)

    def send_due(self) -> list[DigestResult]:
        """Send every scheduled digest that is due; a long outage sends only the latest once."""
        now = self.clock()
        results = []
        for schedule in self.channels.digest_schedules():
            period = schedule_due_period(schedule, now)
            if period is None:
                continue
            result = self.post(schedule.channel_id, period=period, team_id=schedule.team_id)
            if result.ok or result.error in UNDELIVERABLE:
                # Recorded even on a permanent failure, so a dead channel is not retried
                # every minute; the log line says what happened.
                self.channels.mark_digest_sent(
                    schedule.channel_id, period, team_id=schedule.team_id
                )
            results.append(result)
        return results

    @staticmethod
    def _post_joining(client: WebClient, **kwargs):
        try:
            return client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            if errors.error_code(exc) != "not_in_channel":
                raise
            client.conversations_join(channel=kwargs["channel"])
            return client.chat_postMessage(**kwargs)

    def _upload_chart(
        self, client: WebClient, channel_id: str, weekly, now: datetime, race=None
    ) -> None:
        try:
            png = region_chart_png(
                weekly,
                title="Notable open-weight releases by region",
                shares=race.weekly if race is not None else (),
            )
            client.files_upload_v2(
                channel=channel_id,
                content=png,
                filename=f"open-model-radar-{now.date().isoformat()}.png",
                title="Releases and downloads by region, last 12 weeks",
            )
        except SlackApiError as exc:  # the digest itself went out; the chart is a bonus
            log.warning("chart upload to %s failed: %s", channel_id, errors.error_code(exc))
        except Exception:  # a chart bug must not cost the digest
            log.exception("chart rendering failed")

    def _already_posted(
        self, client: WebClient, channel_id: str, period: str, now: datetime
    ) -> bool:
        found = find_posted(
            client,
            channel_id,
            event_type=METADATA_TYPE,
            key="period",
            value=period,
            since=now - timedelta(days=8),
        )
        return found is not None
