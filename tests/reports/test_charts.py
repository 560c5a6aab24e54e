"""The charts are drawn, show the calls, and write Chinese as Chinese."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import numpy as np
import pytest
from flask import Flask
from matplotlib.colors import to_rgb
from matplotlib.image import imread
from sqlalchemy.orm import Session

from reports import charts, compose
from reports.figures import Report
from reports.period import Period
from tests.reports.dataset import FIRST, LAST, ZONE, generate, save

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# matplotlib's ten colours, those of the bars (tab10).
BARS = np.array([to_rgb(f"C{n}") for n in range(10)]) * 255


def pixels(png: bytes) -> np.ndarray:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return imread(io.BytesIO(png), format="png")


def bar_pixels(png: bytes) -> int:
    rgb = (pixels(png)[:, :, :3] * 255).round()
    return sum(int(np.all(np.abs(rgb - colour) < 1, axis=2).sum()) for colour in BARS)


def reports(app: Flask) -> tuple[Report, Report]:
    with app.app_context():
        busy = compose.report(Period(FIRST, LAST, str(ZONE)))
        quiet = compose.report(Period(LAST.replace(year=2027), LAST.replace(year=2027), str(ZONE)))
    return busy, quiet


@pytest.fixture
def labels(app: Flask) -> dict[str, str]:
    return charts.branch_labels(app.extensions["flow"], "zh")


def test_charts_show_the_calls(app: Flask, db: Session, labels: dict[str, str]) -> None:
    save(db, generate(app.extensions["flow"], seed=11, per_kind=6))
    busy, quiet = reports(app)

    for draw in (
        lambda report: charts.calls_per_hour(report, labels),
        charts.wait_distribution,
        lambda report: charts.rating_distribution(report, labels),
    ):
        drawn, empty = draw(busy), draw(quiet)
        assert pixels(drawn).shape == pixels(empty).shape == (450, 900, 4)
        assert bar_pixels(drawn) > 10 * bar_pixels(empty) + 500  # bars, not just a legend


def test_chinese_labels_render_as_chinese(app: Flask, db: Session) -> None:
    save(db, generate(app.extensions["flow"], seed=11, per_kind=2))
    busy, _ = reports(app)
    every = [*busy.hourly]

    # Two different characters: as glyphs they differ; as the empty boxes of a font
    # without them they would be the same (and matplotlib would warn, an error here).
    one = charts.calls_per_hour(busy, {name: "账" for name in every})
    other = charts.calls_per_hour(busy, {name: "户" for name in every})

    assert charts.cjk_font() is not None, "install fonts-wqy-microhei (apt-get)"
    assert not np.array_equal(pixels(one), pixels(other))


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(charts, "CJK_FONTS", ("No Such Font SC",))
    charts.cjk_font.cache_clear()
    yield
    charts.cjk_font.cache_clear()


def test_without_a_cjk_font_it_says_what_to_install_and_still_draws(
    app: Flask, db: Session, no_cjk_font: None, caplog: pytest.LogCaptureFixture
) -> None:
    busy, _ = reports(app)

    with caplog.at_level(logging.WARNING, logger="reports.charts"):
        drawn = [charts.calls_per_hour(busy, {"general": "综合咨询"}) for _ in range(2)]

    assert all(pixels(png).size for png in drawn)
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 1 and "apt-get install fonts-wqy-microhei" in said[0]
