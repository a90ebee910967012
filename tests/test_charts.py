"""The digest chart is a real PNG of the promised size, with data and without."""

from __future__ import annotations

import subprocess
import sys
import zlib
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.charts import region_chart_png
from bot.radar.adoption import SharePoint
from bot.radar.digest import REGION_ORDER, WeekPoint
from bot.radar.models import Region

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REPO_ROOT = Path(__file__).resolve().parents[1]


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, checking the signature and the chunk's CRC."""
    assert png[:8] == PNG_SIGNATURE
    length = int.from_bytes(png[8:12], "big")
    assert png[12:16] == b"IHDR" and length == 13
    header = png[16 : 16 + length]
    crc = int.from_bytes(png[16 + length : 20 + length], "big")
    assert crc == zlib.crc32(b"IHDR" + header)
    return int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")


def weeks_of_data(count: int = 12) -> list[WeekPoint]:
    first = date(2025, 3, 31)
    return [
        WeekPoint(
            week_start=first + timedelta(weeks=week),
            releases={region: (week + rank) % 4 for rank, region in enumerate(REGION_ORDER)},
            downloads={
                region: (week + 1) * (rank + 1) * 125_000
                for rank, region in enumerate(REGION_ORDER)
            },
        )
        for week in range(count)
    ]


@pytest.fixture(scope="module")
def data_chart() -> bytes:
    return region_chart_png(weeks_of_data(), title="Open model releases: last 12 weeks")


def test_chart_with_data_is_a_1200_by_700_png(data_chart: bytes) -> None:
    assert png_size(data_chart) == (1200, 700)
    assert data_chart.endswith(b"IEND\xaeB`\x82")
    assert len(data_chart) > 20_000  # bars, lines, labels: far more than a blank canvas


def test_same_data_gives_identical_bytes(data_chart: bytes) -> None:
    again = region_chart_png(weeks_of_data(), title="Open model releases: last 12 weeks")
    assert again == data_chart


def test_empty_series_renders_a_no_data_chart(data_chart: bytes) -> None:
    empty = region_chart_png([], title="Open model releases: last 12 weeks")
    assert png_size(empty) == (1200, 700)
    assert empty != data_chart
    assert len(empty) < len(data_chart)


def test_weeks_without_any_release_render_like_no_data() -> None:
    zeros = [
        WeekPoint(
            week_start=date(2025, 6, 9) + timedelta(weeks=week),
            releases=dict.fromkeys(REGION_ORDER, 0),
            downloads=dict.fromkeys(REGION_ORDER, 0),
        )
        for week in range(12)
    ]
    title = "Quiet quarter"
    assert region_chart_png(zeros, title=title) == region_chart_png([], title=title)


def test_single_week_with_one_region_only_renders() -> None:
    one = [
        WeekPoint(
            week_start=date(2025, 6, 16),
            releases={Region.CHINA: 3},
            downloads={Region.CHINA: 2_500_000},
        )
    ]
    png = region_chart_png(one, title="This week")
    assert png_size(png) == (1200, 700)


def test_importing_the_module_does_not_load_matplotlib() -> None:
    probe = "import sys, bot.charts; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "False"


def test_with_region_shares_a_third_panel_is_drawn(data_chart: bytes) -> None:
    shares = [
        SharePoint(
            date(2025, 3, 31) + timedelta(weeks=week),
            {Region.US: 0.3, Region.CHINA: 0.5 + week / 100, Region.EU: 0.1, Region.OTHER: 0.1},
        )
        for week in range(12)
    ]
    title = "Open model releases: last 12 weeks"
    with_shares = region_chart_png(weeks_of_data(), title=title, shares=shares)
    assert png_size(with_shares) == (1200, 700)
    assert with_shares != data_chart and len(with_shares) > len(data_chart)
    # a fresh install has shares from its first snapshot but no releases yet: still drawn
    only_shares = region_chart_png([], title=title, shares=shares[:1])
    assert only_shares != region_chart_png([], title=title)
