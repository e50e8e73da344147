"""axe-core (tests/js/node_modules, from npm) on the four pages: no serious or critical violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import log_in
from tests.factories import ProjectFactory, RenderJobFactory, timeline_using, video_asset

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

AXE = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page) -> list[str]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make js-deps` (npm ci in tests/js).")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
            .map(v => `${v.impact} ${v.id}: ${v.help} -> `
                + v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | '));
    }""")
    return result


def test_the_login_page_has_no_serious_violation(page):
    page.goto("/")
    page.get_by_label("Username").wait_for()
    assert serious_violations(page) == []


def test_the_projects_page_has_no_serious_violation(page, owner):
    ProjectFactory(owner=owner, name="Holiday cut")
    RenderJobFactory(project=ProjectFactory(owner=owner, name="Trailer"), status="FAILED", error_code="RENDER_FAILED")
    log_in(page)
    page.locator(".project-card").first.wait_for()
    assert serious_violations(page) == []


def test_the_editor_has_no_serious_violation(page, owner):
    video = video_asset(owner, seconds=1.0, name="clip.mp4")
    project = ProjectFactory(owner=owner, name="Edit", timeline=timeline_using(video=video, title="Hi"))
    log_in(page)
    page.goto(f"/projects/{project.id}/")
    page.locator("body[data-editor-ready]").wait_for()
    assert serious_violations(page) == []
    page.locator('.tl-clip[data-clip-id="c1"]').click()
    assert serious_violations(page) == []


def test_the_renders_page_has_no_serious_violation(page, owner):
    RenderJobFactory(project=ProjectFactory(owner=owner, name="Trailer"), status="FAILED", error_code="RENDER_FAILED")
    log_in(page)
    page.goto("/jobs/")
    page.locator("table, .empty").first.wait_for()
    assert serious_violations(page) == []
