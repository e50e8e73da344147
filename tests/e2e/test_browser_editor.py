"""A person in Chromium: projects, upload, timeline editing, saving, rendering, playing and downloading."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, screenshot
from tests.factories import (
    ProjectFactory,
    RenderJobFactory,
    audio_asset,
    image_asset,
    timeline_using,
    video_asset,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def open_editor(page, project_id) -> None:
    page.goto(f"/projects/{project_id}/")
    page.locator("body[data-editor-ready]").wait_for()


def saved(page):
    expect(page.locator("#save-status")).to_have_text("All changes saved", timeout=15_000)


def test_a_person_builds_renders_plays_and_downloads_a_video(page, owner, api_token, sample_clips, live_server_url):
    log_in(page)
    page.get_by_label("New project name").fill("Browser film")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(re.compile(r"/projects/[0-9a-f-]{36}/$"))
    page.locator("body[data-editor-ready]").wait_for()
    project_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    # Two uploads at once, each with its own progress bar, ending up in the bin with kind and duration.
    page.locator("#bin-upload").set_input_files([str(path) for path in sample_clips])
    items = page.locator(".bin-item")
    expect(items).to_have_count(2, timeout=30_000)
    for name in ("pattern.mp4", "bars.mp4"):
        item = items.filter(has_text=name)
        expect(item).to_contain_text("Video")
        expect(item).to_contain_text("2.0 s")
    expect(page.locator(".upload")).to_have_count(0)

    page.get_by_role("button", name="Add to timeline: pattern.mp4").click()
    page.get_by_role("button", name="Add to timeline: bars.mp4").click()
    clips = page.locator(".tl-lane.lane-video .tl-clip")
    expect(clips).to_have_count(2)

    # The second clip is selected: give it a crossfade; it moves to overlap the first by the fade's length.
    page.get_by_label("Transition in").select_option("crossfade")
    expect(page.get_by_label("Transition length (s)")).to_have_value("0.5")
    start = float(page.get_by_label("Start on the timeline (s)").input_value())
    first_end = float(page.evaluate("window.cutlineEditor.doc.tracks[0].clips[0].out"))
    assert start == pytest.approx(first_end - 0.5, abs=1e-6)
    expect(page.locator(".tl-clip .transition-crossfade")).to_have_count(1)

    page.get_by_role("button", name="Add text").click()
    page.get_by_label("Text", exact=True).fill("Hello Cutline")
    page.get_by_label("Text", exact=True).press("Tab")
    expect(page.locator(".clip-text")).to_contain_text("Hello Cutline")
    page.get_by_role("button", name="Fit").click()
    saved(page)
    page.locator(".tl-clip.clip-video").first.click()
    # Paused on a title once saved: the monitor shows the server's exact frame (with the selection above it).
    expect(page.locator("#monitor-note")).to_have_text("Exact frame (as the render will draw it).")
    screenshot(page, "editor.png")

    stored = httpx.get(f"{live_server_url}/api/projects/{project_id}/",
                       headers={"Authorization": f"Token {api_token}"}).json()
    tracks = {track["kind"]: track for track in stored["timeline"]["tracks"]}
    assert tracks["video"]["clips"][1]["transition"] == {"type": "crossfade", "duration": 0.5}
    assert tracks["text"]["clips"][0]["text"] == "Hello Cutline"

    # Render with the draft preset and watch the bar reach 100 %.
    page.evaluate("""() => {
        window.seenProgress = [];
        new MutationObserver(() => {
            const bar = document.querySelector('#job-drawer [role=progressbar]');
            if (bar) window.seenProgress.push(Number(bar.getAttribute('aria-valuenow')));
        }).observe(document.getElementById('job-drawer'), {subtree: true, childList: true, attributes: true});
    }""")
    page.get_by_label("Render preset").select_option("draft")
    page.get_by_role("button", name="Render", exact=True).click()
    drawer = page.locator("#job-drawer")
    expect(drawer).to_be_visible()
    bar = drawer.get_by_role("progressbar", name="Render progress")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=90_000)
    expect(drawer.locator(".job-percent")).to_have_text("100 %")
    expect(drawer.locator(".job-status .badge")).to_have_text("Done")
    seen = page.evaluate("window.seenProgress")
    assert seen == sorted(seen), f"the bar went backwards: {seen}"

    # Play a second of the result: the <video> streams it from the API (Range requests).
    video = drawer.locator("video.result-video")
    expect(video).to_have_attribute("poster", re.compile(r"/api/jobs/.+/thumbnail"))
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.currentTime >= 1.0", arg=video.element_handle(), timeout=20_000)
    video.evaluate("v => v.pause()")
    # Seeking back works because the server answers byte ranges.
    video.evaluate("v => new Promise(ok => { v.addEventListener('seeked', ok, {once: true}); v.currentTime = 0.25; })")
    assert video.evaluate("v => v.duration") == pytest.approx(3.5, abs=0.3)

    # Download it and check the checksum the page shows and the API reports.
    with page.expect_download() as download_info:
        drawer.get_by_role("link", name="Download MP4").click()
    data = open(download_info.value.path(), "rb").read()
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    expect(drawer.locator(".checksum")).to_have_text(digest)
    job_id = page.evaluate("window.cutlineEditor.renderPanel.job.id")
    job = httpx.get(f"{live_server_url}/api/jobs/{job_id}", headers={"Authorization": f"Token {api_token}"}).json()
    assert job["result"]["checksum"] == digest
    assert data[4:8] == b"ftyp"

    # Back on the project list the card shows the poster, the duration and the last render's status.
    ProjectFactory(owner=owner, name="Holiday cut")
    RenderJobFactory(project=ProjectFactory(owner=owner, name="Trailer"), status="FAILED", error_code="RENDER_FAILED")
    page.goto("/")
    expect(page.locator(".project-card")).to_have_count(3)
    card = page.locator(".project-card", has_text="Browser film")
    expect(card.locator(".card-status")).to_contain_text("Last render: Done")
    expect(card.locator(".card-duration")).to_have_text("3.5 s long")
    expect(card.locator(".card-poster img")).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=card.locator("img").element_handle())
    screenshot(page, "projects.png")


def test_rename_and_delete_a_project_from_the_list(page, owner):
    ProjectFactory(owner=owner, name="Old name")
    log_in(page)
    card = page.locator(".project-card", has_text="Old name")
    card.get_by_role("button", name="Rename Old name").click()
    page.get_by_label("New name").fill("New name")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator(".project-card .card-title")).to_have_text("New name")
    page.reload()
    expect(page.locator(".project-card .card-title")).to_have_text("New name")

    page.get_by_role("button", name="Delete New name").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete “New name”?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator(".project-card")).to_have_count(1)
    page.get_by_role("button", name="Delete New name").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete project").click()
    expect(page.locator(".project-card")).to_have_count(0)
    page.reload()
    expect(page.locator("#project-grid")).to_contain_text("No projects yet")


def test_refused_upload_shows_the_servers_reason(page, owner, tmp_path):
    project = ProjectFactory(owner=owner, name="Uploads")
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video at all\n" * 20)
    log_in(page)
    open_editor(page, project.id)
    page.locator("#bin-upload").set_input_files(str(fake))
    upload = page.locator(".upload.failed")
    expect(upload).to_contain_text("notes.mp4")
    message = upload.locator(".upload-message")
    expect(message).not_to_be_empty()
    text = message.inner_text()
    assert "{" not in text and "Traceback" not in text and "/" not in text, text
    expect(page.locator(".bin-item")).to_have_count(0)


def test_server_validation_errors_point_at_the_clip(page, owner, sample_clips):
    project = ProjectFactory(owner=owner, name="Checks")
    log_in(page)
    open_editor(page, project.id)
    page.locator("#bin-upload").set_input_files(str(sample_clips[0]))
    expect(page.locator(".bin-item")).to_have_count(1, timeout=30_000)
    page.get_by_role("button", name="Add to timeline: pattern.mp4").click()
    saved(page)

    out = page.get_by_label("Out: source end (s)")
    out.fill("12")
    out.press("Enter")
    expect(page.locator("#save-status")).to_have_text(re.compile(r"Not saved: 1 problem"))
    expect(page.locator(".tl-clip.has-error")).to_have_count(1)
    field_error = page.locator(".field.invalid .field-error")
    expect(field_error).to_contain_text("12")
    expect(page.locator("#problems")).to_contain_text("Clip c1")

    out = page.get_by_label("Out: source end (s)")
    out.fill("1.5")
    out.press("Enter")
    saved(page)
    expect(page.locator(".tl-clip.has-error")).to_have_count(0)
    expect(page.locator("#problems")).to_be_hidden()


def test_a_change_from_another_tab_is_a_conflict_offering_reload(page, browser_context, owner):
    project = ProjectFactory(owner=owner, name="Two tabs")
    log_in(page)
    open_editor(page, project.id)
    other = browser_context.new_page()
    open_editor(other, project.id)

    other.get_by_role("button", name="Add marker").click()
    expect(other.locator("#save-status")).to_have_text("All changes saved", timeout=15_000)

    page.get_by_role("button", name="Add text").click()
    expect(page.locator("#save-status")).to_have_text("Not saved: changed elsewhere", timeout=15_000)
    banner = page.locator("#conflict")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("changed in another tab")
    expect(banner).to_contain_text("Reloading drops what you did here since the last save: Add text")
    banner.get_by_role("button", name="Reload the latest version").click()
    saved(page)
    expect(page.locator(".tl-marker")).to_have_count(1)
    expect(page.locator(".clip-text")).to_have_count(0)
    other.close()


def test_clips_move_by_drag_and_keyboard_and_the_view_is_saved(page, owner):
    video, audio, image = video_asset(owner, name="clip.mp4"), audio_asset(owner, name="tone.wav"), \
        image_asset(owner, name="still.png")
    project = ProjectFactory(owner=owner, name="Arrange",
                             timeline=timeline_using(video=video, audio=audio, image=image, title="Hi"))
    log_in(page)
    open_editor(page, project.id)
    for name, kind in (("clip.mp4", "Video"), ("tone.wav", "Audio"), ("still.png", "Image")):
        expect(page.locator(".bin-item", has_text=name).locator(".badge")).to_have_text(kind)

    still = page.locator('.tl-clip[data-clip-id="c2"]')
    box = still.bounding_box()
    page.mouse.move(box["x"] + 10, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 50, box["y"] + 20, steps=5)
    page.mouse.move(box["x"] + 100, box["y"] + 20, steps=5)  # 90 px at 60 px/s: 1.5 s later
    page.mouse.up()
    expect(page.get_by_label("Start on the timeline (s)")).to_have_value("3.5")
    saved(page)

    still.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    expect(page.get_by_label("Start on the timeline (s)")).to_have_value("4.6")
    page.locator('.tl-clip[data-clip-id="c2"]').press("Delete")
    expect(page.locator('.tl-clip[data-clip-id="c2"]')).to_have_count(0)

    page.get_by_role("button", name="Zoom in").click()
    page.get_by_role("button", name="Zoom in").click()
    expect(page.locator("#zoom-level")).to_have_text("225 %")
    ruler = page.locator(".tl-ruler").bounding_box()
    page.mouse.click(ruler["x"] + 135 * 2, ruler["y"] + 10)  # 135 px per second at 225 %: 2 s
    expect(page.locator("#current-time")).to_have_text("0:02.00")
    page.get_by_role("button", name="Add marker").click()
    page.get_by_label("Label").fill("Chorus")
    page.get_by_label("Label").press("Enter")
    saved(page)

    page.reload()
    page.locator("body[data-editor-ready]").wait_for()
    expect(page.locator("#zoom-level")).to_have_text("225 %")
    expect(page.locator("#current-time")).to_have_text("0:02.00")
    expect(page.get_by_role("button", name="Marker Chorus at 0:02.00")).to_be_visible()
    expect(page.locator('.tl-clip[data-clip-id="c2"]')).to_have_count(0)
    expect(page.locator(".tl-clip")).to_have_count(3)
