"""The report page in a real browser: headless Chromium draws every chart, logs no error, fetches nothing.

Debian's `chromium` (.ci/run installs it), driven by Playwright with its `executable_path`, a fresh
profile and the flags that keep Chromium from calling home. Every request the page makes is routed
through the test and counted: only the report file itself may load. The screenshot is kept as a
test artefact in `.artifacts/` (its path is printed).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.support.experiments import rules_with_experiment
from tests.support.outcome_stream import generate_stream

from touchpoints.catalog import load_catalog
from touchpoints.cli.main import cli

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    """The report of the sample journeys plus 600 generated delayed orders with a 20% holdout."""
    root = tmp_path_factory.mktemp("browser")
    rules = rules_with_experiment(root / "rules", holdout="20%")
    experiment = load_catalog(rules).rules["delivery-delay-apology"].rule.experiment
    assert experiment is not None
    import json

    stream = root / "orders.jsonl"
    stream.write_text(
        "".join(json.dumps(e) + "\n" for e in generate_stream(600, experiment).events), encoding="utf-8"
    )
    out = root / "report.html"
    result = CliRunner().invoke(
        cli,
        [
            "report",
            str(repo_root / "events"),
            str(stream),
            "--rules",
            str(rules),
            "--order",
            "A9001",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium (apt-get install -y chromium), as .ci/run does"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def _open(browser: Any, page_file: Path, viewport: dict[str, int]) -> tuple[Any, list[str], list[str]]:
    """Open the page with every request routed: the file itself loads, anything else is counted, refused."""
    page = browser.new_page()
    page.set_viewport_size(viewport)
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    own = page_file.resolve().as_uri()

    def route(handle: Any) -> None:
        if handle.request.url == own:
            handle.continue_()
        else:
            outside.append(handle.request.url)
            handle.abort()

    page.route("**/*", route)
    page.goto(own, wait_until="load")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    return page, errors, outside


def test_every_chart_renders_with_no_error_and_no_request(browser: Any, report_page: Path) -> None:
    # GIVEN the report page, opened on a laptop-sized window
    page, errors, outside = _open(browser, report_page, {"width": 1280, "height": 900})
    # WHEN its charts are drawn
    charts = page.locator(".js-plotly-plot")
    drawn = page.locator(".js-plotly-plot .main-svg")
    bars = page.locator(".js-plotly-plot .bars path")
    # THEN every chart has its SVG and bars, nothing was logged as an error, nothing was fetched
    assert charts.count() >= 6
    assert drawn.count() >= charts.count()
    assert bars.count() > 20
    assert errors == []
    assert outside == []
    # and the experiment's interval and the timelines are on the page
    text = page.inner_text("body")
    assert "delay-apology-holdout" in text
    assert "95% interval" in text
    assert "Order A9001" in text
    # a screenshot is kept as the test's artefact
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"report screenshot: {shot}")
    assert shot.stat().st_size > 50_000
    page.close()


def test_the_page_fits_a_phone(browser: Any, report_page: Path) -> None:
    # GIVEN / WHEN the page on a 390-pixel-wide phone
    page, errors, outside = _open(browser, report_page, {"width": 390, "height": 844})
    # THEN nothing is wider than the screen (tables scroll inside their box), with no error either
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert errors == []
    assert outside == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-phone.png"), full_page=False)
    page.close()


def test_it_prints_with_every_timeline_open(browser: Any, report_page: Path, tmp_path: Path) -> None:
    # GIVEN the page
    page, errors, _ = _open(browser, report_page, {"width": 1280, "height": 900})
    # WHEN it is printed to PDF (page.pdf fires no beforeprint: the test does what printing does)
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf))
    # THEN every timeline is open and the PDF is written
    assert page.evaluate("[...document.querySelectorAll('details')].every(d => d.open)")
    assert pdf.stat().st_size > 10_000
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(pdf, ARTIFACTS / "report.pdf")
    page.close()
