"""The web interface in a real browser: Debian's headless Chromium driven by Playwright.

One journey on generated media against a real ``vpo serve``: dashboard → search →
file → write a policy (the validation error appears at its line, then is fixed) →
dry-run on a folder → approve → the job reaches 100 % live → the file page shows
the change, and ``mkvmerge -J`` confirms it. Then every page is shot in light and
dark, at 1280 and 390 px, into test-artifacts/web/ (gitignored), checking on each
that every control has a label and that nothing overflows the narrow width.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from helpers.daemon import WAIT, daemon_env, running, wait_job
from helpers.tracks import audio_languages
from vpo.testmedia.policies import FOREIGN_FIRST, ORDER_POLICY
from vpo.testmedia.spec import MediaSpec

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

MediaFactory = Callable[..., Path]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "web"
GATE_STUB = REPO / "tests" / "stubs" / "gate" / "mkvmerge"
CHROMIUM = os.environ.get("VPO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GOOD_POLICY = "# audio in English first\n" + ORDER_POLICY
BAD_POLICY = GOOD_POLICY.replace("[eng]", "[jap]")  # the error is on line 4


@dataclass
class Served:
    address: str
    root: Path
    policies: Path
    gate: Path


@contextlib.contextmanager
def serve(tmp_path: Path, **extra_env: str) -> Iterator[Served]:
    """A real ``vpo serve`` on a free loopback port (mkvmerge writes wait on a gate file)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: ./quickstart.sh installs Debian's chromium")
    root = tmp_path / "library"
    gate = tmp_path / "gate"
    env = daemon_env(
        tmp_path,
        roots=root,
        policies={},
        VPO_TOOLS_MKVMERGE=str(GATE_STUB),
        VPO_STUB_GATE=str(gate),
        **extra_env,
    )
    with running(env, tmp_path / "serve.log") as daemon:
        try:
            yield Served(daemon.address, root, tmp_path / "policies", gate)
        finally:
            gate.touch()  # never leave a tool waiting


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path) as server:
        yield server


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


def scan(served: Served) -> None:
    with httpx.Client(base_url=f"{served.address}/api/v1", timeout=WAIT) as client:
        job = client.post("/jobs", json={"type": "scan", "paths": [str(served.root)]}).json()
        assert wait_job(client, job["id"])["status"] == "completed", "the scan did not finish"


def test_full_journey_then_every_page_light_dark_wide_narrow(
    served: Served, browser: Browser, media_factory: MediaFactory
) -> None:
    film = media_factory(FOREIGN_FIRST, "library/films/film.mkv")
    media_factory(MediaSpec(), "library/films/<script>alert(1)</script>.mkv")
    assert audio_languages(film) == [("fre", True), ("eng", False)]
    scan(served)
    context = browser.new_context(base_url=served.address, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT * 1000)
    expect.set_options(timeout=WAIT * 1000)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # dashboard → library search → file
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator(".cards")).to_contain_text("2")
    page.get_by_role("link", name="Library", exact=True).click()
    page.get_by_label("Path contains").fill("film.mkv")
    page.get_by_label("Path contains").press("Enter")
    expect(page.locator("table.files caption")).to_have_text("1 files")
    page.get_by_role("link", name=str(film)).click()
    expect(page.locator("h1")).to_contain_text("film.mkv")
    file_url = page.url
    expect(page.locator("table.tracks tbody tr").nth(1)).to_contain_text("fre")

    # a new policy: the error appears at its line with the suggestion, then is fixed
    page.get_by_role("link", name="Policies", exact=True).click()
    page.get_by_label("New policy name").fill("english")
    page.get_by_label("New policy name").press("Enter")
    editor = page.get_by_label("Policy YAML (checked as you type)")
    editor.fill(BAD_POLICY)
    problem = page.locator('[data-problems] li[data-line="4"]')
    expect(problem).to_contain_text("did you mean 'jpn'")
    expect(page.locator("[data-gutter]")).to_contain_text("4 ●")
    expect(page.get_by_role("button", name="Save")).to_be_disabled()
    editor.fill(GOOD_POLICY)
    expect(page.locator("[data-problems]")).to_contain_text("Valid")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#status")).to_have_text("Saved english.")
    assert (served.policies / "english.yaml").read_text(encoding="utf-8") == GOOD_POLICY

    # dry-run on the folder → the plan page (it reloads itself when the plan is done)
    expect(
        page.get_by_label("Folders or files (one per line, inside the library roots)")
    ).to_have_value(str(served.root.resolve()))
    page.get_by_role("button", name="Dry-run").click()
    page.wait_for_url(re.compile(r"/plans/\d+$"))
    approve = page.get_by_role("button", name=re.compile(r"^Approve all \d+$"))
    expect(approve).to_be_visible()
    planned_film = page.locator("article.planned", has_text=str(film))
    expect(planned_film.locator("table.plan")).to_contain_text("moved from #2")

    # approve → the job page; the remux waits on the gate, so the page sees it unfinished
    approve.click()
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    job_url = page.url
    text = page.locator("[data-job-progress] [data-part=text]")
    expect(text).not_to_contain_text("100 %")
    served.gate.touch()
    expect(text).to_have_text("2 / 2 files (100 %)")  # live: no reload by the test
    expect(page.locator("dd [data-job-status]")).to_have_text("completed")
    expect(page.locator("tbody[data-results]")).to_contain_text("changed")

    # the file page shows the change; mkvmerge -J confirms it
    page.goto(file_url)
    expect(page.locator("table.history")).to_contain_text("changed")
    expect(page.locator("table.tracks tbody tr").nth(1)).to_contain_text("eng")
    assert audio_languages(film) == [("eng", True), ("fre", False)]
    assert dialogs == []  # the hostile name never ran as script

    # keyboard: the first Tab reaches the skip link, which leads into the content
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    context.close()

    shoot_every_page(browser, served, file_url, job_url)


PAGES = ("/", "/library", "/policies?edit=english", "/jobs", "/settings")


def shoot_every_page(browser: Browser, served: Served, file_url: str, job_url: str) -> None:
    with httpx.Client(base_url=f"{served.address}/api/v1", timeout=WAIT) as client:
        plan_id = client.get("/jobs", params={"type": "plan"}).json()["items"][0]["id"]
    paths = [*PAGES, file_url.split(served.address, 1)[1], f"/plans/{plan_id}"]
    paths.append(job_url.split(served.address, 1)[1])
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    for scheme in ("light", "dark"):
        for width in (1280, 390):
            context = browser.new_context(
                base_url=served.address,
                viewport={"width": width, "height": 900},
                color_scheme=scheme,
                timezone_id="Asia/Tokyo",
                locale="en-US",
            )
            page = context.new_page()
            for path in paths:
                page.goto(path)
                unlabelled = page.evaluate(UNLABELLED)
                assert unlabelled == [], (path, unlabelled)
                overflow = page.evaluate("document.documentElement.scrollWidth")
                assert overflow <= width + 1, (path, width, overflow)
                background = page.evaluate("getComputedStyle(document.body).backgroundColor")
                assert (background == "rgb(13, 17, 23)") == (scheme == "dark"), background
                times = page.locator("time[data-epoch]")
                if times.count():  # shown in the browser's time zone (Tokyo here)
                    epoch = float(times.first.get_attribute("data-epoch") or 0)
                    local = datetime.fromtimestamp(epoch, ZoneInfo("Asia/Tokyo"))
                    clock = f"{local.hour % 12 or 12}:{local.minute:02d}:{local.second:02d}"
                    assert clock in times.first.inner_text(), (path, clock)
                name = path.strip("/").split("?")[0].replace("/", "-") or "dashboard"
                shot = ARTIFACTS / f"{name}-{scheme}-{width}"
                page.screenshot(path=f"{shot}.png", full_page=True)
                page.screenshot(path=f"{shot}.jpg", quality=80)  # the first screen, for docs
            context.close()
    assert len(list(ARTIFACTS.glob("*.png"))) == len(paths) * 4
    assert len(list(ARTIFACTS.glob("*.jpg"))) == len(paths) * 4


UNLABELLED = """
() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea, button'))
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map((el) => el.outerHTML.slice(0, 80))
"""


def test_the_token_is_asked_once_and_kept_in_an_httponly_cookie(
    tmp_path: Path, browser: Browser
) -> None:
    token = "browser-test-token"
    with serve(tmp_path, VPO_SERVER_TOKEN=token) as server:
        context = browser.new_context(base_url=server.address)
        context.set_default_timeout(WAIT * 1000)
        expect.set_options(timeout=WAIT * 1000)
        page = context.new_page()
        page.goto("/jobs")
        page.wait_for_url(re.compile(r"/login$"))
        page.get_by_label("Access token").fill("wrong")
        page.get_by_label("Access token").press("Enter")
        expect(page.locator("#status")).to_have_text("wrong access token")
        page.get_by_label("Access token").fill(token)
        page.get_by_label("Access token").press("Enter")
        expect(page.locator("h1")).to_have_text("Dashboard")
        (cookie,) = context.cookies()
        assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == (
            "vpo_session",
            True,
            "Strict",
        )
        assert token not in cookie["value"]
        assert page.evaluate("document.cookie") == ""  # script cannot read it
        # the page's own API calls and event stream go through with the cookie alone
        status = page.evaluate("fetch('/api/v1/health').then((answer) => answer.status)")
        assert status == 200
        opened = page.evaluate(
            """() => new Promise((done) => {
                 const source = new EventSource('/api/v1/events');
                 source.onopen = () => { source.close(); done('open'); };
                 source.onerror = () => { source.close(); done('error'); };
               })"""
        )
        assert opened == "open"
        page.goto("/settings")  # not asked again
        expect(page.locator("h1")).to_have_text("Settings")
        expect(page.locator("main")).not_to_contain_text(token)  # the token is not shown
        versions = page.locator("[data-tools] [data-part=version]")  # from GET /api/v1/tools
        expect(versions.nth(0)).to_contain_text("version")  # ffprobe, as vpo doctor says
        expect(versions.nth(2)).to_contain_text("version")  # mkvmerge (the gate stub)
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(re.compile(r"/login$"))
        assert context.cookies() == []
        context.close()
