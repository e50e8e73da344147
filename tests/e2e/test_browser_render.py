"""Following renders live in Chromium: cancel, losing the socket, and the renders page."""

from __future__ import annotations

import itertools
import re
import threading
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, screenshot
from tests.factories import ProjectFactory, timeline_using, video_asset

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def titles_timeline(seconds: float) -> dict:
    """A timeline of titles only: no media needed, and as long a render as a test wants."""
    clips, start, n = [], 0.0, 0
    while start < seconds:
        n += 1
        length = min(5.0, seconds - start)
        clips.append({"id": f"x{n}", "text": f"Part {n}", "start": start, "duration": length,
                      "style": {"size": 48, "color": "#ffffff", "position": "center"}})
        start += length
    return {"schema": 1, "output": {"width": 1280, "height": 720, "fps": 30, "background": "#203040"},
            "tracks": [{"id": "t1", "kind": "text", "clips": clips}], "markers": [],
            "view": {"current_time": 0.0, "zoom": 0.5}}


def open_editor(page, project) -> None:
    page.goto(f"/projects/{project.id}/")
    page.locator("body[data-editor-ready]").wait_for()


def start_render(page, preset: str = "draft"):
    page.get_by_label("Render preset").select_option(preset)
    page.get_by_role("button", name="Render", exact=True).click()
    drawer = page.locator("#job-drawer")
    expect(drawer).to_be_visible()
    return drawer


def test_canceling_a_running_render_shows_it_canceled(page, owner):
    project = ProjectFactory(owner=owner, name="Long titles", timeline=titles_timeline(120))
    log_in(page)
    open_editor(page, project)
    drawer = start_render(page, "hd")
    expect(drawer.locator(".job-status .badge")).to_have_text("Rendering", timeout=30_000)
    expect(drawer.locator(".job-phase")).to_have_text(re.compile("Preparing|Encoding"))
    page.wait_for_function(
        "() => Number(document.querySelector('#job-drawer [role=progressbar]').getAttribute('aria-valuenow')) >= 8",
        timeout=60_000)
    expect(drawer.locator(".job-elapsed")).to_have_text(re.compile(r"\d+(\.\d)? s"))
    expect(drawer.locator(".job-eta")).to_have_text(re.compile(r"about \d+"), timeout=5_000)
    screenshot(page, "render-progress.png")

    drawer.get_by_role("button", name="Cancel render").click()
    expect(drawer.locator(".job-status .badge")).to_have_text("Canceled", timeout=15_000)
    expect(drawer).to_contain_text("This render was canceled.")
    expect(drawer.get_by_role("button", name="Retry")).to_be_visible()
    expect(drawer.get_by_role("button", name="Cancel render")).to_have_count(0)
    # Still canceled after a reload: the page shows the server's state, not its own hope.
    page.reload()
    page.locator("body[data-editor-ready]").wait_for()
    page.get_by_role("button", name=re.compile("Render: Canceled")).click()
    expect(page.locator("#job-drawer .job-status .badge")).to_have_text("Canceled")


def test_when_the_socket_drops_the_page_finishes_by_polling(page, owner):
    project = ProjectFactory(owner=owner, name="Flaky network", timeline=titles_timeline(40))
    connects: list[float] = []
    drops: list[float] = []
    dropped = threading.Event()

    def route(ws):
        connects.append(time.monotonic())
        if dropped.is_set():
            ws.close(code=4000, reason="test: network down")
            return
        server = ws.connect_to_server()

        def forward(message):
            ws.send(message)
            if '"job.progress"' in message and not dropped.is_set():
                # The first live progress event arrived: now the network "breaks" for good.
                drops.append(time.monotonic())
                dropped.set()
                ws.close(code=4000, reason="test: network down")
                server.close()

        server.on_message(forward)

    page.route_web_socket(re.compile(r"/ws/jobs/[0-9a-f-]{36}$"), route)
    polls: list[float] = []
    page.on("request", lambda request: polls.append(time.monotonic())
            if re.search(r"/api/jobs/[0-9a-f-]{36}$", request.url) and dropped.is_set() else None)

    log_in(page)
    open_editor(page, project)
    drawer = start_render(page, "draft")
    expect(drawer.locator(".connection")).to_have_text(re.compile("Connection lost"), timeout=30_000)
    status = drawer.locator(".job-status .badge")
    expect(status).to_have_text("Done", timeout=120_000)
    expect(drawer.get_by_role("progressbar", name="Render progress")).to_have_attribute("aria-valuenow", "100")
    expect(drawer.locator("video.result-video")).to_be_visible()

    assert dropped.is_set()
    assert len(polls) >= 2, "the page did not poll while the socket was down"
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert all(gap > 1.5 for gap in gaps), f"polls should be about 2 s apart: {gaps}"
    # Reconnects back off: the first retry waits about a second (1 s + up to 20 % jitter), the next longer.
    retries = [t for t in connects if t > drops[0]]
    waits = [b - a for a, b in itertools.pairwise([drops[0], *retries])]
    assert waits and 0.9 <= waits[0] <= 1.6, waits
    if len(waits) >= 2:
        assert waits[1] > waits[0], waits


def test_renders_page_follows_renders_live_and_filters_by_status(page, owner, api_token, live_server_url):
    project = ProjectFactory(owner=owner, name="Listed", timeline=titles_timeline(4))
    log_in(page)
    page.get_by_role("link", name="Renders").click()
    expect(page.locator("#connection")).to_have_text("Live")
    expect(page.locator("#jobs-empty")).to_be_visible()

    # A render started elsewhere (a script) appears and finishes without a reload.
    response = httpx.post(f"{live_server_url}/api/projects/{project.id}/renders", json={"preset": "draft"},
                          headers={"Authorization": f"Token {api_token}"})
    assert response.status_code == 202
    job_id = response.json()["job"]["id"]
    row = page.locator(f'tr[data-job-id="{job_id}"]')
    expect(row).to_contain_text("Listed")
    expect(row.locator(".badge")).to_have_text("Done", timeout=60_000)
    expect(row.get_by_role("link", name="Download")).to_be_visible()
    screenshot(page, "renders.png")

    page.get_by_label("Show").select_option("FAILED")
    expect(row).to_have_count(0)
    expect(page.locator("#jobs-empty")).to_be_visible()
    page.get_by_label("Show").select_option("SUCCEEDED")
    expect(row).to_have_count(1)


def test_a_failed_render_is_explained_in_words_and_offers_no_retry_that_cannot_help(page, owner):
    asset = video_asset(owner, name="gone.mp4")
    project = ProjectFactory(owner=owner, name="Missing media", timeline=timeline_using(video=asset))
    asset.file.storage.delete(asset.file.name)  # the media vanishes from storage after it was placed
    log_in(page)
    open_editor(page, project)
    drawer = start_render(page, "draft")
    expect(drawer.locator(".job-status .badge")).to_have_text("Failed", timeout=60_000)
    error = drawer.locator(".job-error")
    expect(error).to_contain_text("The render failed.")
    text = error.inner_text()
    assert "c1" in text, text  # the message names the clip
    assert "{" not in text and "Traceback" not in text and "/" not in text, text
    # MEDIA_MISSING: the same media would be missing again, so Retry is not offered (the API answers 409).
    expect(drawer.get_by_role("button", name="Retry")).to_have_count(0)


@pytest.mark.parametrize(("fmt", "player"), [("mp3", "audio.result-audio"), ("png", "img.result-video")])
def test_the_result_player_follows_the_output_format(page, owner, fmt, player):
    document = titles_timeline(1)
    document["schema"] = 2
    document["output"]["format"] = fmt
    project = ProjectFactory(owner=owner, name=f"A {fmt} render", timeline=document)
    log_in(page)
    open_editor(page, project)
    drawer = start_render(page, "draft")
    expect(drawer.locator(".job-status .badge")).to_have_text("Done", timeout=120_000)
    shown = drawer.locator(player)
    expect(shown).to_be_visible()
    expect(shown).to_have_attribute("src", re.compile(r"/api/jobs/[0-9a-f-]{36}/result$"))
    expect(drawer.locator("video.result-video")).to_have_count(0)  # not a video player for a sound or a picture
    if fmt == "png":
        # The browser really decoded the picture at the render's size (draft: 640×360).
        page.wait_for_function("() => document.querySelector('#job-drawer img.result-video').naturalWidth > 0")
        assert shown.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [640, 360]
    else:
        page.wait_for_function("() => document.querySelector('#job-drawer audio.result-audio').readyState >= 1",
                               timeout=20_000)
        assert shown.evaluate("audio => audio.duration") == pytest.approx(1.0, abs=0.1)
    screenshot(page, f"render-result-{fmt}.png")
