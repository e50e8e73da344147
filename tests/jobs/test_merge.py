"""Templates with merge fields and batches, through `POST /api/projects/{id}/renders`."""

from __future__ import annotations

import pytest

from jobs.models import RenderJob, WebhookEndpoint
from tests.factories import ProjectFactory
from tests.jobs.conftest import asset_from_video

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("redis_conn")]


def template(asset_ref: str, text: str = "Hello {{name}}") -> dict:
    return {
        "schema": 1,
        "output": {"width": 320, "height": 180, "fps": 10, "background": "#000000"},
        "tracks": [
            {"id": "v1", "kind": "video", "muted": False, "clips": [
                {"id": "c1", "asset_id": asset_ref, "start": 0.0, "in": 0.0, "out": 1.0, "volume": 1.0,
                 "fit": "contain", "transition": None}]},
            {"id": "t1", "kind": "text", "clips": [
                {"id": "x1", "text": text, "start": 0.0, "duration": 1.0,
                 "style": {"size": 32, "color": "#ffffff", "position": "center"}}]},
        ],
        "markers": [],
        "view": {"current_time": 0.0, "zoom": 1.0},
    }


@pytest.fixture
def clip_asset(owner, clip_path):
    return asset_from_video(owner, clip_path)  # named "clip"


def render(client, project, **body):
    headers = {k: body.pop(k) for k in list(body) if k.startswith("HTTP_")}
    return client.post(f"/api/projects/{project.id}/renders", {"preset": "draft", **body}, format="json", **headers)


def test_template_with_a_merge_field_asset_saves(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner)
    response = owner_client.patch(f"/api/projects/{project.id}/", {"timeline": template("{{footage}}")},
                                  format="json")
    assert response.status_code == 200, response.content


def test_merge_replaces_text_and_resolves_an_asset_by_name(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template("{{footage}}"))
    response = render(owner_client, project, merge={"name": "Ada", "footage": "clip"})
    assert response.status_code == 202, response.content
    job = RenderJob.objects.get(pk=response.json()["job"]["id"])
    assert job.timeline["tracks"][0]["clips"][0]["asset_id"] == str(clip_asset.id)
    assert job.timeline["tracks"][1]["clips"][0]["text"] == "Hello Ada"
    assert response.json()["job"]["merge"] == {"name": "Ada", "footage": "clip"}
    assert project.timeline["tracks"][1]["clips"][0]["text"] == "Hello {{name}}"  # the template is unchanged


def test_an_asset_id_is_a_valid_merge_value(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template("{{footage}}"))
    response = render(owner_client, project, merge={"name": "Ada", "footage": str(clip_asset.id)})
    assert response.status_code == 202, response.content


def test_missing_merge_value_names_the_path_and_the_key(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template(str(clip_asset.id)))
    response = render(owner_client, project, merge={"nom": "Ada"})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["attr"] == "timeline.tracks.1.clips.0.text" and error["code"] == "missing_merge_field"
    assert "'name'" in error["detail"]


def test_unknown_asset_name_is_blamed_on_its_merge_key(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template("{{footage}}"))
    response = render(owner_client, project, merge={"name": "Ada", "footage": "nope"})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["attr"] == "merge.footage" and error["code"] == "unknown_asset"
    assert "timeline.tracks.0.clips.0.asset_id" in error["detail"] and "'nope'" in error["detail"]


def test_invalid_merged_value_is_validated_after_the_merge(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template(str(clip_asset.id)))
    response = render(owner_client, project, merge={"name": "x" * 600})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["attr"] == "merge.name"
    assert error["detail"].startswith("timeline.tracks.1.clips.0.text (from {{name}}):")


def test_asset_too_short_for_the_clip_is_blamed_on_the_asset_key(owner, owner_client, clip_asset, tmp_path):
    from projects.sample_media import make_video

    short = asset_from_video(owner, make_video(tmp_path / "short.mp4", seconds=0.5, tone_hz=None))
    project = ProjectFactory(owner=owner, timeline=template("{{footage}}"))
    response = render(owner_client, project, merge={"name": "Ada", "footage": short.name})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["attr"] == "merge.footage" and "tracks.0.clips.0.out" in error["detail"]


def test_a_template_asset_cannot_render_without_merge(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template("{{footage}}"))
    response = render(owner_client, project)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "timeline.tracks.0.clips.0.asset_id"


def test_text_placeholders_render_as_written_without_merge(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template(str(clip_asset.id)))
    response = render(owner_client, project)
    assert response.status_code == 202
    job = RenderJob.objects.get(pk=response.json()["job"]["id"])
    assert job.timeline["tracks"][1]["clips"][0]["text"] == "Hello {{name}}"


def test_bad_merge_values_are_refused(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template(str(clip_asset.id)))
    response = render(owner_client, project, merge={"name": {"nested": 1}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "merge.name"


def test_same_merge_is_idempotent_and_another_merge_is_a_new_job(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template(str(clip_asset.id)))
    first = render(owner_client, project, merge={"name": "Ada"})
    same = render(owner_client, project, merge={"name": "Ada"})
    other = render(owner_client, project, merge={"name": "Grace"})
    assert first.status_code == 202 and same.status_code == 200 and other.status_code == 202
    assert same.json()["job"]["id"] == first.json()["job"]["id"] != other.json()["job"]["id"]


def test_batch_answers_one_job_per_item(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template("{{footage}}"))
    items = [{"merge": {"name": f"Person {n}", "footage": "clip"}} for n in range(3)]
    response = render(owner_client, project, items=items)
    assert response.status_code == 202, response.content
    body = response.json()
    jobs = body["jobs"]
    assert [j["batch_index"] for j in jobs] == [0, 1, 2] and {j["batch_id"] for j in jobs} == {body["batch_id"]}
    texts = [RenderJob.objects.get(pk=j["id"]).timeline["tracks"][1]["clips"][0]["text"] for j in jobs]
    assert texts == ["Hello Person 0", "Hello Person 1", "Hello Person 2"]
    # The batch does not block a single render of the same project.
    assert render(owner_client, project, merge={"name": "Solo", "footage": "clip"}).status_code == 202


def test_batch_with_one_bad_item_creates_nothing_and_names_the_item(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template("{{footage}}"))
    items = [{"merge": {"name": "Ok", "footage": "clip"}}, {"merge": {"name": "Bad", "footage": "missing"}}]
    response = render(owner_client, project, items=items)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["attr"] == "items.1.merge.footage"
    assert not RenderJob.objects.exists()


def test_batch_of_more_than_100_items_is_refused(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template(str(clip_asset.id)))
    response = render(owner_client, project, items=[{"merge": {"name": str(n)}} for n in range(101)])
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "items"


def test_merge_and_items_together_are_refused(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template(str(clip_asset.id)))
    response = render(owner_client, project, merge={"name": "a"}, items=[{"merge": {"name": "b"}}])
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "items"


def test_batch_quota(owner, owner_client, clip_asset, settings):
    settings.RENDER_MAX_ACTIVE_BATCH_JOBS_PER_USER = 4
    project = ProjectFactory(owner=owner, timeline=template(str(clip_asset.id)))
    assert render(owner_client, project, items=[{"merge": {"name": "a"}}] * 3).status_code == 202
    response = render(owner_client, project, items=[{"merge": {"name": "b"}}] * 2)
    assert response.status_code == 429 and response.json()["code"] == "QUOTA_EXCEEDED"


def test_replayed_idempotency_key_returns_the_same_job(owner_client, make_project):
    project = make_project()
    url = f"/api/projects/{project.id}/renders"
    first = owner_client.post(url, {"preset": "draft"}, format="json", HTTP_IDEMPOTENCY_KEY="render-1")
    assert first.status_code == 202, first.content
    owner_client.post(f"/api/jobs/{first.json()['job']['id']}/cancel")
    again = owner_client.post(url, {"preset": "draft"}, format="json", HTTP_IDEMPOTENCY_KEY="render-1")
    assert again.status_code == 202 and again.json()["job"]["id"] == first.json()["job"]["id"]
    fresh = owner_client.post(url, {"preset": "draft"}, format="json", HTTP_IDEMPOTENCY_KEY="render-2")
    assert fresh.json()["job"]["id"] != first.json()["job"]["id"]


def test_replayed_batch_returns_the_same_jobs(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template(str(clip_asset.id)))
    items = [{"merge": {"name": "a"}}, {"merge": {"name": "b"}}]
    first = render(owner_client, project, items=items, HTTP_IDEMPOTENCY_KEY="batch-1")
    again = render(owner_client, project, items=items, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert again.json()["batch_id"] == first.json()["batch_id"]
    assert RenderJob.objects.count() == 2


def test_webhook_url_on_a_render_shows_its_secret_once(owner, owner_client, clip_asset, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    project = ProjectFactory(owner=owner, timeline=template(str(clip_asset.id)))
    first = render(owner_client, project, merge={"name": "a"}, webhook_url="http://127.0.0.1:9/done")
    second = render(owner_client, project, merge={"name": "b"}, webhook_url="http://127.0.0.1:9/done")
    assert first.json()["webhook"]["secret"].startswith("whsec_") and second.json()["webhook"]["secret"] is None
    endpoint = WebhookEndpoint.objects.get(per_render=True)
    assert first.json()["webhook"]["endpoint_id"] == second.json()["webhook"]["endpoint_id"] == str(endpoint.id)
    assert RenderJob.objects.get(pk=first.json()["job"]["id"]).webhook_endpoint == endpoint


def test_webhook_url_to_a_private_address_is_refused(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template(str(clip_asset.id)))
    response = render(owner_client, project, webhook_url="http://10.0.0.5/hook")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "webhook_url"


def test_the_seeded_demo_template_renders_with_merge_values(owner_client, owner):
    import io

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from projects.management.commands.seed_demo import BARS, DEMO_TEMPLATE_NAME
    from projects.models import Project
    from tests.conftest import token_client

    call_command("seed_demo", stdout=io.StringIO())
    demo = get_user_model().objects.get(username="demo")
    template = Project.objects.get(owner=demo, name=DEMO_TEMPLATE_NAME)
    response = render(token_client(demo), template, merge={"name": "Ada", "tagline": "Welcome", "background": BARS})
    assert response.status_code == 202, response.content
    job = RenderJob.objects.get(pk=response.json()["job"]["id"])
    assert [t["clips"][0]["text"] for t in job.timeline["tracks"][1:]] == ["Hello Ada!", "Welcome"]


def test_a_merge_value_is_not_merged_again(owner, owner_client, clip_asset):
    project = ProjectFactory(owner=owner, timeline=template(str(clip_asset.id), text="{{a}} and {{b}}"))
    response = render(owner_client, project, merge={"a": "{{b}}", "b": "B"})
    assert response.status_code == 202, response.content
    job = RenderJob.objects.get(pk=response.json()["job"]["id"])
    assert job.timeline["tracks"][1]["clips"][0]["text"] == "{{b}} and B"
