"""The editor as an editor, in Chromium: split/undo/redo, edge trim, collision-free drops, typing, tracks,
duplicate, two tabs scrubbing, the preview monitor against the server's exact still, portrait renders."""

from __future__ import annotations

import base64
import io
import re
import time

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from projects.models import Project
from tests.e2e.conftest import log_in, screenshot
from tests.factories import ProjectFactory, timeline_using, video_asset

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PX_PER_SECOND = 60  # at 100 % zoom


def open_editor(page, project_id) -> None:
    page.goto(f"/projects/{project_id}/")
    page.locator("body[data-editor-ready]").wait_for()


def saved(page):
    expect(page.locator("#save-status")).to_have_text("All changes saved", timeout=15_000)


def stored(project_id) -> dict:
    return Project.objects.get(pk=project_id).timeline


def clips_of(project_id, track_id) -> list[dict]:
    return next(t for t in stored(project_id)["tracks"] if t["id"] == track_id)["clips"]


def seek(page, seconds: float) -> None:
    ruler = page.locator(".tl-ruler").bounding_box()
    page.mouse.click(ruler["x"] + seconds * PX_PER_SECOND, ruler["y"] + 8)


def canvas_size(page) -> tuple[int, int]:
    """The preview canvas's size in its own pixels (the frame's), not on the screen."""
    return tuple(page.evaluate("(c => [c.width, c.height])(document.getElementById('monitor-canvas'))"))


def drag_from_the_middle(page, size, *, via: tuple[float, float], to: tuple[float, float]) -> None:
    """Press in the middle of the preview and drag by `via`, then by `to` (canvas pixels from the middle)."""
    box = page.locator("#monitor-canvas").bounding_box()
    per_px = box["width"] / size[0]
    start = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + via[0] * per_px, start[1] + via[1] * per_px, steps=4)
    page.mouse.move(start[0] + to[0] * per_px, start[1] + to[1] * per_px, steps=6)
    page.mouse.up()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def canvas_pixels(page) -> np.ndarray:
    url = page.evaluate("document.getElementById('monitor-canvas').toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


@pytest.fixture
def clip_project(owner):
    video = video_asset(owner, seconds=2.0, name="pattern.mp4")
    return ProjectFactory(owner=owner, name="Cut", timeline=timeline_using(video=video, width=320, height=180))


def test_split_at_the_playhead_then_undo_then_redo(page, clip_project):
    log_in(page)
    open_editor(page, clip_project.id)
    seek(page, 1.0)
    expect(page.locator("#current-time")).to_have_text("0:01.00")
    page.get_by_role("button", name="Split").click()
    expect(page.locator(".lane-video .tl-clip")).to_have_count(2)
    saved(page)
    assert [(c["in"], c["out"]) for c in clips_of(clip_project.id, "v1")] == [(0.0, 1.0), (1.0, 2.0)]

    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".lane-video .tl-clip")).to_have_count(1)
    expect(page.locator("#history-status")).to_have_text("Undid: Split")
    saved(page)
    assert len(clips_of(clip_project.id, "v1")) == 1

    page.locator("body").press("Control+Shift+Z")
    expect(page.locator(".lane-video .tl-clip")).to_have_count(2)
    saved(page)
    assert len(clips_of(clip_project.id, "v1")) == 2

    # The shortcut sheet.
    page.locator("body").press("?")
    sheet = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(sheet).to_be_visible()
    expect(sheet).to_contain_text("Split the selected clips")
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()

    # Delete is undoable too, with the keyboard.
    page.locator('.tl-clip[data-clip-id="c1"]').click()
    page.keyboard.press("Delete")
    expect(page.locator(".lane-video .tl-clip")).to_have_count(1)
    page.keyboard.press("Control+z")
    expect(page.locator(".lane-video .tl-clip")).to_have_count(2)
    saved(page)
    assert len(clips_of(clip_project.id, "v1")) == 2


def test_dragging_an_edge_trims_with_a_badge_and_never_past_the_source(page, clip_project):
    log_in(page)
    open_editor(page, clip_project.id)
    clip = page.locator('.tl-clip[data-clip-id="c1"]')
    box = clip.bounding_box()
    right = box["x"] + box["width"] - 3
    page.mouse.move(right, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(right - 15, box["y"] + 20, steps=3)
    page.mouse.move(right - 30, box["y"] + 20, steps=3)  # 30 px = 0.5 s earlier
    expect(clip.locator(".tl-trim-badge")).to_contain_text("Out 0:01.50")
    page.mouse.up()
    saved(page)
    assert clips_of(clip_project.id, "v1")[0]["out"] == pytest.approx(1.5)
    assert clips_of(clip_project.id, "v1")[0]["start"] == 0.0  # an edge drag does not move the clip

    box = clip.bounding_box()
    right = box["x"] + box["width"] - 3
    page.mouse.move(right, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(right + 300, box["y"] + 20, steps=6)  # far past the 2 s source
    page.mouse.up()
    saved(page)
    assert clips_of(clip_project.id, "v1")[0]["out"] == pytest.approx(2.0)

    # The start edge moves `in` and `start` together.
    box = clip.bounding_box()
    page.mouse.move(box["x"] + 3, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 33, box["y"] + 20, steps=4)
    page.mouse.up()
    saved(page)
    first = clips_of(clip_project.id, "v1")[0]
    assert (first["start"], first["in"], first["out"]) == (pytest.approx(0.5), pytest.approx(0.5), pytest.approx(2.0))


def test_dropping_on_an_occupied_spot_never_makes_a_refused_save(page, owner, clip_project):
    log_in(page)
    open_editor(page, clip_project.id)
    lane = page.locator('.tl-lane[data-track-id="v1"]')
    page.locator(".bin-item", has_text="pattern.mp4").drag_to(lane, target_position={"x": 30, "y": 20})
    saved(page)
    expect(page.locator("#problems")).to_be_hidden()
    tracks = stored(clip_project.id)["tracks"]
    assert [t["kind"] for t in tracks].count("video") == 2
    assert len(next(t for t in tracks if t["id"] == "v1")["clips"]) == 1

    # Dragging a clip onto another one moves it to a free track rather than overlapping.
    moved = page.locator(".tl-clip:not([data-clip-id='c1'])").first
    target = page.locator('.tl-clip[data-clip-id="c1"]').bounding_box()
    box = moved.bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 45, target["y"] + 20, steps=3)
    page.mouse.move(box["x"] + 50, target["y"] + 20, steps=3)
    page.mouse.up()
    saved(page)
    expect(page.locator("#problems")).to_be_hidden()

    # "Add text" twice at the same playhead: the second title goes to its own track.
    page.get_by_role("button", name="Add text").click()
    seek(page, 0.0)
    page.get_by_role("button", name="Add text").click()
    saved(page)
    texts = [t for t in stored(clip_project.id)["tracks"] if t["kind"] == "text"]
    assert sorted(len(t["clips"]) for t in texts) == [1, 1]


def test_a_title_typed_at_human_speed_is_saved_whole(page, clip_project):
    log_in(page)
    open_editor(page, clip_project.id)
    page.get_by_role("button", name="Add text").click()
    field = page.get_by_label("Text", exact=True)
    field.fill("")
    field.press_sequentially("Caption", delay=120)
    # Long enough for autosave to save and redraw the panel in the middle of the typing.
    page.wait_for_timeout(1500)
    expect(field).to_be_focused()
    page.keyboard.type(" here", delay=120)
    saved(page)
    expect(field).to_have_value("Caption here")
    expect(field).to_be_focused()
    title = next(t for t in stored(clip_project.id)["tracks"] if t["kind"] == "text")["clips"][0]
    assert title["text"] == "Caption here"
    # Typing is one undo step, not one per key.
    page.get_by_role("button", name="Undo").click()
    saved(page)
    assert next(t for t in stored(clip_project.id)["tracks"] if t["kind"] == "text")["clips"][0]["text"] == "Title"


def test_tracks_reorder_rename_and_lock(page, owner):
    video = video_asset(owner, seconds=1.0, name="clip.mp4")
    project = ProjectFactory(owner=owner, timeline=timeline_using(video=video, title="Hi"))
    log_in(page)
    open_editor(page, project.id)
    # Listed top to bottom as they stack: the title track (drawn last) is on top.
    heads = page.locator(".tl-track .tl-head")
    expect(heads.first).to_have_attribute("data-track-id", "t1")

    page.get_by_role("button", name="Move Video v1 up").click()
    saved(page)
    assert [t["id"] for t in stored(project.id)["tracks"]] == ["t1", "v1"]
    page.locator('.tl-head[data-track-id="t1"]').drag_to(page.locator('.tl-head[data-track-id="v1"]'))
    saved(page)
    assert [t["id"] for t in stored(project.id)["tracks"]] == ["v1", "t1"]

    version = Project.objects.get(pk=project.id).version
    name = page.get_by_label("Name of track v1")
    name.fill("B-roll")
    name.press("Enter")
    page.evaluate("window.cutlineEditor.flushSave()")
    assert Project.objects.get(pk=project.id).timeline["view"]["tracks"]["v1"] == {"name": "B-roll"}
    assert Project.objects.get(pk=project.id).version == version  # a name is editor state, not a new version

    # The lock is the document's (another tab or an API client sees it), and undoable.
    page.get_by_role("button", name="Lock B-roll").click()
    expect(page.get_by_role("button", name="Lock B-roll")).to_have_attribute("aria-pressed", "true")
    saved(page)
    assert stored(project.id)["tracks"][0]["locked"] is True

    # A locked track's clips do not move.
    page.locator('.tl-clip[data-clip-id="c1"]').focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator(".notice")).to_contain_text("locked")
    assert stored(project.id)["tracks"][0]["clips"][0]["start"] == 0.0


def test_duplicate_a_project(page, owner, clip_project):
    log_in(page)
    open_editor(page, clip_project.id)
    page.get_by_role("button", name="Duplicate project").click()
    page.wait_for_url(re.compile(r"/projects/[0-9a-f-]{36}/$"))
    page.locator("body[data-editor-ready]").wait_for()
    expect(page.locator(".editor-bar h1")).to_have_text("Cut (copy)")
    assert page.url.rstrip("/").rsplit("/", 1)[-1] != str(clip_project.id)
    expect(page.locator(".lane-video .tl-clip")).to_have_count(1)
    assert Project.objects.filter(owner=owner).count() == 2

    page.goto("/")
    page.get_by_role("button", name="Duplicate Cut (copy)").click()
    page.wait_for_url(re.compile(r"/projects/[0-9a-f-]{36}/$"))
    page.locator("body[data-editor-ready]").wait_for()
    expect(page.locator(".editor-bar h1")).to_have_text("Cut (copy) (copy)")


def test_two_tabs_scrubbing_do_not_conflict(page, browser_context, clip_project):
    log_in(page)
    open_editor(page, clip_project.id)
    other = browser_context.new_page()
    open_editor(other, clip_project.id)
    version = Project.objects.get(pk=clip_project.id).version
    for seconds in (0.5, 1.5, 1.0):
        seek(page, seconds)
        seek(other, 2.0 - seconds)
    page.evaluate("window.cutlineEditor.flushSave()")
    other.evaluate("window.cutlineEditor.flushSave()")
    assert Project.objects.get(pk=clip_project.id).version == version

    page.get_by_role("button", name="Add marker").click()
    saved(page)
    seek(other, 0.25)
    other.evaluate("window.cutlineEditor.flushSave()")
    expect(other.locator("#save-status")).to_have_text("All changes saved")
    expect(other.locator("#conflict")).to_be_hidden()
    other.close()


def test_the_preview_plays_and_matches_the_servers_exact_frames(page, owner, live_server_url):
    # A 720p source: the worker makes its 480-line proxy, which is what the preview plays.
    video = video_asset(owner, seconds=2.0, name="pattern.mp4", width=1280, height=720)
    clip_project = ProjectFactory(owner=owner, name="Cut", timeline=timeline_using(video=video, width=1280, height=720))
    for _ in range(300):
        video.refresh_from_db()
        if video.proxy_status != "preparing":
            break
        time.sleep(0.1)
    assert video.proxy_status == "ready"
    log_in(page)
    open_editor(page, clip_project.id)
    canvas = page.locator("#monitor-canvas")
    sources = page.evaluate("[...document.querySelectorAll('#monitor-media video')].map(v => v.src)")
    assert sources and all(src.endswith(f"/api/assets/{video.id}/proxy") for src in sources), sources
    expect(canvas).to_have_attribute("data-frame-time", "0")
    first = canvas_pixels(page)

    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => window.cutlineEditor.doc.view.current_time > 0.6", timeout=15_000)
    screenshot(page, "editor-preview.png")
    middle = canvas_pixels(page)
    assert psnr(first, middle) < 30, "the picture did not change while playing"
    page.keyboard.press("k")
    expect(page.get_by_role("button", name="Play")).to_be_visible()

    # Paused on three moments (mid-frame, so there is no doubt which frame it is): the browser's
    # composite matches the server's exact still at proxy resolution.
    width = page.evaluate("document.getElementById('monitor-canvas').width")
    for at in (0.25 + 1 / 60, 0.9 + 1 / 60, 1.6 + 1 / 60):
        page.evaluate(f"window.cutlineEditor.setTime({at})")
        expect(canvas).to_have_attribute("data-frame-time", str(round(at, 6)).rstrip("0"))
        mine = canvas_pixels(page)
        response = page.request.get(f"/api/projects/{clip_project.id}/still?t={at}&width={width}")
        assert response.status == 200
        exact = np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB"))
        assert exact.shape == mine.shape
        score = psnr(mine, exact)
        print(f"PSNR at {at:.3f} s: {score:.1f} dB")
        assert score >= 22, f"preview differs from the exact frame at {at:.3f} s: {score:.1f} dB"


def test_a_nine_by_sixteen_project_renders_upright_at_full_hd(page, owner, api_token, live_server_url):
    video = video_asset(owner, seconds=1.0, name="clip.mp4")
    project = ProjectFactory(owner=owner, name="Story", timeline=timeline_using(video=video))
    log_in(page)
    open_editor(page, project.id)
    page.locator('.tl-clip[data-clip-id="c1"]').click()  # the output panel stays reachable with a selection
    page.locator(".output-panel summary").click()
    page.get_by_role("button", name="9:16").click()
    expect(page.locator("#output-title")).to_have_text("Output · 720×1280")
    ratio = page.evaluate("(c => c.width / c.height)(document.getElementById('monitor-canvas'))")
    assert ratio == pytest.approx(9 / 16, abs=0.01)
    saved(page)

    page.get_by_label("Render preset").select_option("full_hd")
    page.get_by_role("button", name="Render", exact=True).click()
    drawer = page.locator("#job-drawer")
    expect(drawer.locator(".job-status .badge")).to_have_text("Done", timeout=120_000)
    job_id = page.evaluate("window.cutlineEditor.renderPanel.job.id")
    job = httpx.get(f"{live_server_url}/api/jobs/{job_id}", headers={"Authorization": f"Token {api_token}"}).json()
    assert (job["output"]["width"], job["output"]["height"]) == (1080, 1920)
    assert (job["result"]["width"], job["result"]["height"]) == (1080, 1920)


def test_place_a_logo_top_right_by_dragging_and_the_render_has_it_there(page, owner, api_token, live_server_url,
                                                                       tmp_path):
    from projects.services import asset_create_from_path

    logo_path = tmp_path / "logo.png"
    Image.new("RGB", (100, 100), (230, 20, 20)).save(logo_path)
    logo = asset_create_from_path(owner=owner, path=logo_path, name="logo.png")
    video = video_asset(owner, seconds=1.0, name="clip.mp4", source="smptebars")
    document = timeline_using(video=video)
    document["tracks"].append({"id": "v2", "kind": "video", "clips": [
        {"id": "c2", "asset_id": str(logo.id), "start": 0.0, "duration": 1.0}]})
    project = ProjectFactory(owner=owner, name="Logo", timeline=document)
    log_in(page)
    open_editor(page, project.id)

    page.locator('.tl-clip[data-clip-id="c2"]').click()
    scale = page.get_by_role("spinbutton", name="Scale")
    scale.fill("0.25")
    scale.press("Enter")
    saved(page)

    # Drag the logo from the middle of the preview to its top-right corner.
    seek(page, 0.5)
    size = canvas_size(page)
    drag_from_the_middle(page, size, via=(100, -60), to=(240, -135))
    saved(page)
    transform = stored(project.id)["tracks"][1]["clips"][0]["transform"]
    assert transform["x"] == pytest.approx(0.875, abs=0.02) and transform["y"] == pytest.approx(0.125, abs=0.03)
    assert transform["scale"] == pytest.approx(0.25)
    # The preview shows it there too.
    corner = canvas_pixels(page)[int(size[1] * 0.125), int(size[0] * 0.875)]
    assert corner[0] > 180 and corner[1] < 90 and corner[2] < 90, corner

    page.get_by_label("Render preset").select_option("draft")
    page.get_by_role("button", name="Render", exact=True).click()
    expect(page.locator("#job-drawer .job-status .badge")).to_have_text("Done", timeout=120_000)
    job_id = page.evaluate("window.cutlineEditor.renderPanel.job.id")
    data = httpx.get(f"{live_server_url}/api/jobs/{job_id}/result",
                     headers={"Authorization": f"Token {api_token}"}).content
    result = tmp_path / "result.mp4"
    result.write_bytes(data)
    frame = first_frame(result)
    height, width = frame.shape[:2]
    red = frame[int(height * 0.125), int(width * 0.875)]
    assert red[0] > 180 and red[1] < 90 and red[2] < 90, red
    middle = frame[height // 2, width // 2]
    assert not (middle[0] > 180 and middle[1] < 90 and middle[2] < 90), middle


def first_frame(path) -> np.ndarray:
    import subprocess

    from config.tools import ffmpeg_exe

    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", "0.5", "-i", str(path), "-frames:v", "1",
                          "-f", "image2pipe", "-vcodec", "png", "-"], check=True, capture_output=True).stdout
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))


def test_playing_makes_sound_through_web_audio_and_a_muted_track_is_silent(page, clip_project):
    log_in(page)
    open_editor(page, clip_project.id)
    play = page.get_by_role("button", name="Play")

    def loudest_while_playing() -> float:
        page.evaluate("window.cutlineEditor.setTime(0)")
        play.click()
        # The mix's analyser, read every frame while it plays (what the level meter shows).
        page.evaluate("""() => { window.peak = 0; const preview = window.cutlineEditor.preview;
            const read = () => { window.peak = Math.max(window.peak, preview.outputPeak());
              if (preview.playing) requestAnimationFrame(read); };
            requestAnimationFrame(read); }""")
        page.wait_for_function("() => window.cutlineEditor.doc.view.current_time > 1.2", timeout=15_000)
        page.keyboard.press("k")
        expect(page.get_by_role("button", name="Play")).to_be_visible()
        return page.evaluate("window.peak")

    heard = loudest_while_playing()
    assert heard > 0.05, f"the clip's 440 Hz tone was not heard (peak {heard})"

    page.get_by_role("button", name="Mute Video v1").click()
    saved(page)
    assert stored(clip_project.id)["tracks"][0]["muted"] is True
    assert loudest_while_playing() == 0.0


def test_hiding_a_track_hides_it_in_the_preview_and_the_server_still(page, owner, tmp_path):
    from projects.services import asset_create_from_path

    logo_path = tmp_path / "logo.png"
    Image.new("RGB", (100, 100), (230, 20, 20)).save(logo_path)
    logo = asset_create_from_path(owner=owner, path=logo_path, name="logo.png")
    video = video_asset(owner, seconds=1.0, name="clip.mp4", source="smptebars")
    document = timeline_using(video=video, width=320, height=180)
    document["tracks"].append({"id": "v2", "kind": "video", "clips": [
        {"id": "c2", "asset_id": str(logo.id), "start": 0.0, "duration": 1.0,
         "transform": {"x": 0.875, "y": 0.125, "scale": 0.2}}]})
    project = ProjectFactory(owner=owner, name="Hide", timeline=document)
    log_in(page)
    open_editor(page, project.id)
    seek(page, 0.5)
    canvas = page.locator("#monitor-canvas")
    expect(canvas).to_have_attribute("data-frame-time", "0.5")
    size = canvas_size(page)
    corner = (int(size[1] * 0.125), int(size[0] * 0.875))

    def logo_in_preview() -> bool:
        pixel = canvas_pixels(page)[corner]
        return pixel[0] > 180 and pixel[1] < 90 and pixel[2] < 90

    def logo_in_still() -> bool:
        response = page.request.get(f"/api/projects/{project.id}/still?t=0.5&width={size[0]}")
        assert response.status == 200
        pixel = np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB"))[corner]
        return pixel[0] > 180 and pixel[1] < 90 and pixel[2] < 90

    assert logo_in_preview() and logo_in_still()
    # What is on screen (the canvas under the selection-handle layer) shows it too.
    shot = np.asarray(Image.open(io.BytesIO(page.locator(".monitor-stage").screenshot())).convert("RGB"))
    seen = shot[int(shot.shape[0] * 0.125), int(shot.shape[1] * 0.875)]
    assert seen[0] > 180 and seen[1] < 90 and seen[2] < 90, seen

    page.get_by_role("button", name="Hide Video v2").click()
    expect(page.get_by_role("button", name="Hide Video v2")).to_have_attribute("aria-pressed", "true")
    saved(page)
    assert stored(project.id)["tracks"][1]["hidden"] is True
    assert not logo_in_preview()
    assert not logo_in_still()  # what the render will draw

    page.get_by_role("button", name="Undo").click()
    saved(page)
    assert "hidden" not in stored(project.id)["tracks"][1]
    assert logo_in_preview() and logo_in_still()


def test_drag_a_title_to_the_top_left_and_the_server_draws_it_there(page, owner):
    document = timeline_using(title="HELLO", width=640, height=360)
    document["tracks"][0]["clips"][0]["style"] = {"size": 48, "color": "#ffffff", "position": "center"}
    project = ProjectFactory(owner=owner, name="Title", timeline=document)
    log_in(page)
    open_editor(page, project.id)
    seek(page, 0.5)
    expect(page.locator("#monitor-canvas")).to_have_attribute("data-frame-time", "0.5")
    size = canvas_size(page)

    # Pick the title in the middle of the preview and drag it up and to the left.
    drag_from_the_middle(page, size, via=(-0.1 * size[0], -0.1 * size[1]), to=(-0.3 * size[0], -0.3 * size[1]))
    expect(page.locator(".tl-clip[data-clip-id='x1']")).to_have_class(re.compile(r"\bselected\b"))
    saved(page)
    transform = stored(project.id)["tracks"][0]["clips"][0]["transform"]
    assert transform["x"] == pytest.approx(0.2, abs=0.02) and transform["y"] == pytest.approx(0.2, abs=0.02)
    # The inspector shows where it went.
    expect(page.get_by_role("spinbutton", name="X (0 left – 1 right)")).to_have_value(str(transform["x"]))

    # The monitor fetches the exact frame once saved; the server draws the title's ink at the top-left.
    expect(page.locator(".monitor-still")).to_be_visible()
    response = page.request.get(f"/api/projects/{project.id}/still?t=0.5&width={size[0]}")
    ink = np.asarray(Image.open(io.BytesIO(response.body())).convert("L")) > 128
    rows, cols = np.nonzero(ink)
    assert rows.size > 50, "no title ink in the still"
    height, width = ink.shape
    assert rows.mean() == pytest.approx(0.2 * height, abs=0.06 * height)
    assert cols.mean() == pytest.approx(0.2 * width, abs=0.06 * width)
    assert not ink[int(height * 0.4):int(height * 0.6), int(width * 0.4):int(width * 0.6)].any()
