"""The digest's chart: notable releases and downloads per week, by region, as a PNG.

matplotlib is imported inside the function (it costs a noticeable fraction of a second) and
used through its object API with an explicit Agg canvas, so no pyplot state, no display and
no global backend switch are involved. Fonts come with matplotlib, so it works offline.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.radar.adoption import SharePoint
from bot.radar.digest import WeekPoint
from bot.radar.models import Region
from bot.radar.vocabulary import REGION_ORDER, REGION_SHORT_NAMES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Okabe-Ito colours: distinguishable with the common forms of colour blindness.
REGION_COLOURS: dict[Region, str] = {
    Region.US: "#0072B2",
    Region.CHINA: "#D55E00",
    Region.EU: "#E69F00",
    Region.OTHER: "#8C8C8C",
}
CHART_SIZE_INCHES = (12.0, 7.0)
CHART_DPI = 100  # 12 x 7 inches at 100 dpi: 1200 x 700 px, a comfortable Slack preview
NO_DATA_TEXT = "No data yet: no notable releases recorded in these weeks"


def region_chart_png(
    weekly: Sequence[WeekPoint], *, title: str, shares: Sequence[SharePoint] = ()
) -> bytes:
    """A 1200x700 PNG: stacked release bars (top) and download lines (bottom) per region;
    with `shares` (the adoption snapshots' weekly points), a third panel: each region's
    share of the tracked labs' 30-day downloads over the same weeks.

    A series that is empty or has no release at all still yields a chart, one that says there
    is no data, so callers never have to special-case a fresh install.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    figure = Figure(figsize=CHART_SIZE_INCHES, dpi=CHART_DPI)
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=16, fontweight="bold")

    if not any(any(point.releases.values()) for point in weekly) and not shares:
        figure.text(0.5, 0.5, NO_DATA_TEXT, ha="center", va="center", fontsize=14, color="#555555")
        return _png_bytes(figure)

    positions = list(range(len(weekly)))
    week_labels = [point.week_start.strftime("%b %d").replace(" 0", " ") for point in weekly]
    if shares:
        releases_axes, downloads_axes, share_axes = figure.subplots(3, 1)
        releases_axes.sharex(downloads_axes)
        releases_axes.tick_params(labelbottom=False)
        _share_panel(share_axes, shares)
    else:
        releases_axes, downloads_axes = figure.subplots(2, 1, sharex=True)

    stacked = [0] * len(weekly)
    for region in REGION_ORDER:
        counts = [point.releases.get(region, 0) for point in weekly]
        releases_axes.bar(
            positions,
            counts,
            bottom=stacked,
            width=0.7,
            color=REGION_COLOURS[region],
            label=REGION_SHORT_NAMES[region],
        )
        stacked = [below + count for below, count in zip(stacked, counts, strict=True)]
    releases_axes.set_title("Notable releases per week", loc="left", fontsize=12)
    releases_axes.set_ylabel("Releases")
    releases_axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    releases_axes.set_ylim(0, max(max(stacked, default=0), 1) * 1.1)
    releases_axes.legend(
        loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=len(REGION_ORDER), frameon=False
    )

    _region_lines(downloads_axes, positions, [point.downloads for point in weekly])
    downloads_axes.set_title(
        "Downloads (last 30 days) of each week's releases", loc="left", fontsize=12
    )
    downloads_axes.set_ylabel("Downloads")
    downloads_axes.set_ylim(bottom=0)
    downloads_axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _compact(value)))
    downloads_axes.set_xticks(positions, week_labels)
    downloads_axes.set_xlabel("Week starting (Monday, UTC)")

    for axes in (releases_axes, downloads_axes):
        _light_frame(axes)
    figure.tight_layout(rect=(0, 0, 1, 0.95))
    return _png_bytes(figure)


def _share_panel(axes, shares: Sequence[SharePoint]) -> None:
    """Each region's share of downloads, one point a week (the race's chart)."""
    from matplotlib.ticker import PercentFormatter

    positions = list(range(len(shares)))
    _region_lines(axes, positions, [point.shares for point in shares])
    axes.set_title(
        "Share of tracked labs' downloads (last 30 days), by region", loc="left", fontsize=12
    )
    axes.set_ylim(0, 1)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_xticks(positions, [f"{p.day:%b} {p.day.day}" for p in shares])
    _light_frame(axes)


def _region_lines(axes, positions: list[int], values: Sequence[dict[str, float]]) -> None:
    """One line a region over the weeks, in the region's colour (missing weeks count 0)."""
    for region in REGION_ORDER:
        axes.plot(
            positions,
            [week.get(region, 0) for week in values],
            marker="o",
            linewidth=2,
            color=REGION_COLOURS[region],
            label=REGION_SHORT_NAMES[region],
        )


def _light_frame(axes) -> None:
    """Horizontal grid lines only, no top or right border."""
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)


def _png_bytes(figure: Figure) -> bytes:
    """Render without the 'Software' stamp so identical data gives identical bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=CHART_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _compact(value: float) -> str:
    """1500 -> '1.5K', 2_000_000 -> '2M': axis labels a reader takes in at a glance."""
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= threshold:
            return f"{value / threshold:.3g}{suffix}"
    return f"{value:.0f}"
