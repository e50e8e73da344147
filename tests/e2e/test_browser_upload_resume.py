"""The editor's uploader speaks tus (projects/static/cutline/js/tus-upload.js): a dropped chunk is resumed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from projects.models import MediaAsset
from projects.tus.models import ResumableUpload
from tests.e2e.conftest import log_in
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_an_upload_whose_connection_drops_resumes_and_lands_in_the_bin(page, owner, sample_clips):
    project = ProjectFactory(owner=owner)
    dropped: list[str] = []

    def drop_first_patch(route):
        if route.request.method == "PATCH" and not dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/uploads/**", drop_first_patch)
    log_in(page)
    page.goto(f"/projects/{project.id}/")
    page.locator("body[data-editor-ready]").wait_for()
    page.locator("#bin-upload").set_input_files(str(sample_clips[0]))
    expect(page.locator(".bin-item").filter(has_text="pattern.mp4")).to_have_count(1, timeout=30_000)
    assert dropped, "the test's route never saw a chunk"
    upload = ResumableUpload.objects.get()
    assert upload.offset == upload.length == sample_clips[0].stat().st_size
    assert MediaAsset.objects.get(id=upload.asset_id).sha256
