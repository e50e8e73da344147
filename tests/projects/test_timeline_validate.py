"""timeline_validate: every broken timeline is refused with each problem's path and a sentence; valid ones
come back canonical."""

from __future__ import annotations

import copy
import uuid

import pytest
from django.test import override_settings

from projects.timeline import TimelineInvalid, timeline_asset_ids, timeline_duration, timeline_validate
from tests.factories import UserFactory, audio_asset, image_asset, video_asset


@pytest.fixture(scope="module")
def library(django_db_setup, django_db_blocker, tmp_path_factory):
    """Real probed assets (2 s video, 2 s tone, a still, and a stranger's video), made once for the module."""
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("library")):
        owner = UserFactory(username="timeline-owner")
        other = UserFactory(username="timeline-other")
        assets = {
            "owner": owner,
            "video": video_asset(owner, seconds=2.0, name="pattern.mp4"),
            "audio": audio_asset(owner, seconds=2.0, name="tone.wav"),
            "image": image_asset(owner, name="bars.png"),
            "foreign": video_asset(other, seconds=2.0, name="theirs.mp4"),
        }
        yield assets
        owner.delete()
        other.delete()


def valid_document(lib) -> dict:
    video, audio, image = (str(lib[key].id) for key in ("video", "audio", "image"))
    return {
        "schema": 1,
        "output": {"width": 640, "height": 360, "fps": 30, "background": "#000000"},
        "tracks": [
            {"id": "v1", "kind": "video", "clips": [
                {"id": "c1", "asset_id": video, "start": 0, "in": 0, "out": 2},
                {"id": "c2", "asset_id": video, "start": 1.5, "in": 0, "out": 2,
                 "transition": {"type": "crossfade", "duration": 0.5}},
                {"id": "c3", "asset_id": image, "start": 3.5, "duration": 1},
            ]},
            {"id": "t1", "kind": "text", "clips": [{"id": "x1", "text": "Hello", "start": 0, "duration": 2}]},
            {"id": "a1", "kind": "audio", "clips": [
                {"id": "m1", "asset_id": audio, "start": 0, "in": 0, "out": 2, "volume": 0.4}]},
        ],
        "markers": [{"time": 1.0, "label": "Intro"}],
    }


def _set(path: str, value):
    def mutate(doc, lib):
        *parents, last = path.split(".")
        target = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list) and int(last) == len(target):
            target.append(value)
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return mutate


def _del(path: str):
    def mutate(doc, lib):
        *parents, last = path.split(".")
        target = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        del target[last]
    return mutate


def _asset(path: str, key: str):
    def mutate(doc, lib):
        _set(path, str(lib[key].id) if key in lib else key)(doc, lib)
    return mutate


def _replace(document):
    def mutate(doc, lib):
        doc.clear()
        doc["replaced"] = document
    return mutate


def _both(*mutations):
    def mutate(doc, lib):
        for mutation in mutations:
            mutation(doc, lib)
    return mutate


V0 = "tracks.0.clips.0"
V1 = "tracks.0.clips.1"
V2 = "tracks.0.clips.2"
T0 = "tracks.1.clips.0"
A0 = "tracks.2.clips.0"

# (case id, mutation, {path: words the message must contain}, settings overrides)
BROKEN = [
    ("not_an_object", _replace([]), {"": "the timeline must be an object (got a list)"}, {}),
    ("wrong_schema", _set("schema", 3), {"schema": "schema must be 1 or 2"}, {}),
    ("unknown_top_level_field", _set("trax", []), {"trax": "the timeline has no field 'trax'"}, {}),
    ("width_is_text", _set("output.width", "1280"), {"output.width": "width must be a number (got text)"}, {}),
    ("odd_height", _set("output.height", 361), {"output.height": "height (361) must be an even number"}, {}),
    ("output_too_wide", _set("output.width", 7680), {"output.width": "width (7680) must be at most 3840"}, {}),
    ("fps_zero", _set("output.fps", 0), {"output.fps": "fps (0.0) must be at least 1.0"}, {}),
    ("fps_too_high", _set("output.fps", 120), {"output.fps": "fps (120.0) must be at most 60.0"}, {}),
    ("background_by_name", _set("output.background", "red"),
     {"output.background": "background must be a colour written #rrggbb (got 'red')"}, {}),
    ("tracks_not_a_list", _set("tracks", {"v1": {}}), {"tracks": "tracks must be a list (got an object)"}, {}),
    ("too_many_tracks", _set("tracks", [{"id": f"v{i}", "kind": "video", "clips": []} for i in range(17)]),
     {"tracks": "too many tracks: 17 (at most 16 are allowed)"}, {}),
    ("unknown_track_kind", _set("tracks.1.kind", "subtitles"),
     {"tracks.1.kind": "kind must be one of video, audio, text (got 'subtitles')"}, {}),
    ("duplicate_track_id", _set("tracks.1.id", "v1"), {"tracks.1.id": "track id 'v1' is used twice"}, {}),
    ("muted_on_a_text_track", _set("tracks.1.muted", False),
     {"tracks.1.muted": "a text track has no field 'muted'"}, {}),
    ("muted_not_boolean", _set("tracks.0.muted", "yes"),
     {"tracks.0.muted": "muted must be true or false (got text)"}, {}),
    ("hidden_on_an_audio_track", _set("tracks.2.hidden", True),
     {"tracks.2.hidden": "an audio track has no field 'hidden' (allowed: id, kind, muted, solo, locked, clips)"}, {}),
    ("solo_on_a_text_track", _set("tracks.1.solo", True),
     {"tracks.1.solo": "a text track has no field 'solo' (allowed: id, kind, hidden, locked, clips)"}, {}),
    ("hidden_not_boolean", _set("tracks.0.hidden", 1),
     {"tracks.0.hidden": "hidden must be true or false (got a number)"}, {}),
    ("solo_not_boolean", _set("tracks.2.solo", "on"), {"tracks.2.solo": "solo must be true or false (got text)"}, {}),
    ("locked_is_null", _set("tracks.1.locked", None), {"tracks.1.locked": "locked must be true or false (got null)"},
     {}),
    ("clip_without_id", _del(f"{V0}.id"), {f"{V0}.id": "id is required"}, {}),
    ("duplicate_clip_id", _set(f"{T0}.id", "c1"), {f"{T0}.id": "clip id 'c1' is used twice"}, {}),
    ("negative_start", _set(f"{V0}.start", -1), {f"{V0}.start": "start (-1.0) must not be negative"}, {}),
    ("start_is_text", _set(f"{A0}.start", "0"), {f"{A0}.start": "start must be a number (got text)"}, {}),
    ("out_past_the_asset", _set(f"{V0}.out", 12.0),
     {f"{V0}.out": "out (12.0) is past the end of the asset (2.0 s)"}, {}),
    ("in_past_the_asset", _both(_set(f"{A0}.in", 2.5), _set(f"{A0}.out", 3)),
     {f"{A0}.in": "in (2.5) is past the end of the asset (2.0 s)"}, {}),
    ("overlap_without_transition", _set(f"{V2}.start", 3.0),
     {f"{V2}.start": "clip c3 overlaps clip c2 on track v1 by 0.5 s; clips of one track may overlap only by a "
                     "crossfade"}, {}),
    ("crossfade_overlap_mismatch", _set(f"{V1}.transition.duration", 0.25),
     {f"{V1}.transition.duration": "a crossfade of 0.25 s needs clip c2 to overlap the previous clip c1 by exactly "
                                   "0.25 s, but it overlaps it by 0.5 s"}, {}),
    ("crossfade_on_first_clip", _set(f"{V0}.transition", {"type": "crossfade", "duration": 0.5}),
     {f"{V0}.transition": "clip c1 has a crossfade but no earlier clip on track v1"}, {}),
    ("unknown_transition", _set(f"{V1}.transition.type", "wipe"),
     {f"{V1}.transition.type": "type must be one of fade, crossfade, dissolve, wipe_left"}, {}),
    ("transition_longer_than_clip", _set(f"{V2}.transition", {"type": "fade", "duration": 3}),
     {f"{V2}.transition.duration": "the transition (3.0 s) is longer than its clip (1.0 s)"}, {}),
    ("unknown_asset", _asset(f"{V0}.asset_id", str(uuid.UUID(int=7))),
     {f"{V0}.asset_id": f"asset {uuid.UUID(int=7)} is not in your media library"}, {}),
    ("another_users_asset", _asset(f"{V0}.asset_id", "foreign"), {f"{V0}.asset_id": "is not in your media library"},
     {}),
    ("asset_id_not_a_uuid", _set(f"{V0}.asset_id", "pattern.mp4"),
     {f"{V0}.asset_id": "asset_id must be a media asset id (a UUID), got 'pattern.mp4'"}, {}),
    ("audio_on_a_video_track", _asset(f"{V0}.asset_id", "audio"),
     {f"{V0}.asset_id": "asset 'tone.wav' is audio; a video track takes video or image assets"}, {}),
    ("video_on_an_audio_track", _asset(f"{A0}.asset_id", "video"),
     {f"{A0}.asset_id": "asset 'pattern.mp4' is video; an audio track takes audio assets"}, {}),
    ("image_clip_with_in", _set(f"{V2}.in", 0),
     {f"{V2}.in": "an image clip (it uses duration, not in/out) has no field 'in'"}, {}),
    ("empty_title", _set(f"{T0}.text", "  "), {f"{T0}.text": "text must not be empty"}, {}),
    ("title_without_duration", _del(f"{T0}.duration"), {f"{T0}.duration": "duration is required"}, {}),
    ("title_position_left", _set(f"{T0}.style", {"position": "left"}),
     {f"{T0}.style.position": "position must be one of center, top, bottom or {\"x\": 0..1, \"y\": 0..1} (got "
                              "'left')"}, {}),
    ("title_position_off_screen", _set(f"{T0}.style", {"position": {"x": 1.5, "y": 0.5}}),
     {f"{T0}.style.position.x": "x (1.5) must be at most 1"}, {}),
    ("short_colour", _set(f"{T0}.style", {"color": "#fff"}),
     {f"{T0}.style.color": "color must be a colour written #rrggbb (got '#fff')"}, {}),
    ("overlapping_titles", _set("tracks.1.clips", [{"id": "x1", "text": "a", "start": 0, "duration": 2},
                                                   {"id": "x2", "text": "b", "start": 1, "duration": 2}]),
     {"tracks.1.clips.1.start": "clip x2 overlaps clip x1 on track t1 by 1.0 s"}, {}),
    ("volume_too_loud", _set(f"{A0}.volume", 3), {f"{A0}.volume": "volume (3.0) must be at most 2.0"}, {}),
    ("unknown_fit", _set(f"{V0}.fit", "fill"), {f"{V0}.fit": "fit must be one of contain, cover, stretch (got 'fill')"},
     {}),
    ("too_many_clips", lambda doc, lib: None, {"tracks": "too many clips: 5 (at most 3 are allowed)"},
     {"TIMELINE_MAX_CLIPS": 3}),
    ("timeline_too_long", lambda doc, lib: None,
     {V2: "this clip ends at 4.5 s, past the longest allowed timeline (3.0 s)"}, {"TIMELINE_MAX_DURATION": 3.0}),
    ("negative_marker", _set("markers.0.time", -2), {"markers.0.time": "time (-2.0) must not be negative"}, {}),
    ("zero_zoom", _set("view", {"zoom": 0}), {"view.zoom": "zoom (0.0) must be greater than 0"}, {}),
]


BROKEN += [
    ("crossfade_with_a_gap", _both(_set(f"{V2}.start", 4.0), _set(f"{V2}.transition", {"type": "crossfade",
                                                                                       "duration": 0.5})),
     {f"{V2}.transition.duration": "needs clip c3 to overlap the previous clip c2 by exactly 0.5 s, but it starts "
                                   "0.5 s after it ends"}, {}),
    ("in_after_out", _both(_set(f"{A0}.in", 1.5), _set(f"{A0}.out", 1.0)),
     {f"{A0}.out": "out (1.0) must be after in (1.5)"}, {}),
    ("fades_longer_than_clip", _both(_set(f"{A0}.fade_in", 1.5), _set(f"{A0}.fade_out", 1.5)),
     {f"{A0}.fade_out": "fade_in + fade_out (3.0 s) are longer than the clip (2.0 s)"}, {}),
]


# Schema 2 (docs/timeline.md): every new field bounded, one problem per row, each with its path.
V0T, V2T, T0T = f"{V0}.transform", f"{V2}.transform", f"{T0}.transform"
COLOUR = {"id": "k1", "color": "#202020", "start": 0, "duration": 2}
SCHEMA2_BROKEN = [
    ("transform_not_an_object", _set(f"{V0}.transform", "top-right"),
     {V0T: "transform must be an object (got text)"}, {}),
    ("transform_unknown_field", _set(f"{V0}.transform", {"left": 0.1}),
     {f"{V0T}.left": "transform has no field 'left'"}, {}),
    ("scale_zero", _set(f"{V0}.transform", {"scale": 0}), {f"{V0T}.scale": "scale (0.0) must be at least 0.01"}, {}),
    ("scale_huge", _set(f"{V0}.transform", {"scale": 1000}), {f"{V0T}.scale": "scale (1000.0) must be at most 10.0"},
     {}),
    ("opacity_above_one", _set(f"{V2}.transform", {"opacity": 1.5}),
     {f"{V2T}.opacity": "opacity (1.5) must be at most 1"}, {}),
    ("x_far_off_frame", _set(f"{T0}.transform", {"x": 40}), {f"{T0T}.x": "x (40.0) must be at most 2.0"}, {}),
    ("rotation_is_text", _set(f"{V0}.transform", {"rotation": "90deg"}),
     {f"{V0T}.rotation": "rotation must be a number (got text)"}, {}),
    ("rotation_endless", _set(f"{V0}.transform", {"rotation": 1e9}),
     {f"{V0T}.rotation": "rotation (1000000000.0) must be at most 3600.0"}, {}),
    ("crop_negative", _set(f"{V0}.transform", {"crop": {"left": -0.1}}),
     {f"{V0T}.crop.left": "left (-0.1) must not be negative"}, {}),
    ("crop_everything", _set(f"{V0}.transform", {"crop": {"left": 0.5, "right": 0.5}}),
     {f"{V0T}.crop.right": "left + right (1) crop away more than 90% of the picture"}, {}),
    ("keyframes_unknown_property", _set(f"{V0}.keyframes", {"blur": [{"t": 0, "v": 1}]}),
     {f"{V0}.keyframes.blur": "keyframes has no field 'blur'"}, {}),
    ("keyframes_not_a_list", _set(f"{V0}.keyframes", {"x": {"t": 0, "v": 1}}),
     {f"{V0}.keyframes.x": "x keyframes must be a non-empty list"}, {}),
    ("keyframe_past_the_clip", _set(f"{V0}.keyframes", {"scale": [{"t": 0, "v": 1}, {"t": 5, "v": 1.2}]}),
     {f"{V0}.keyframes.scale.1.t": "t (5) is past the end of the clip (2 s)"}, {}),
    ("keyframes_out_of_order", _set(f"{V0}.keyframes", {"x": [{"t": 1, "v": 0.2}, {"t": 0.5, "v": 0.8}]}),
     {f"{V0}.keyframes.x.1.t": "t (0.5) must be after the previous keyframe's (1)"}, {}),
    ("keyframe_unknown_ease", _set(f"{V0}.keyframes", {"y": [{"t": 0, "v": 0.5, "ease": "bounce"}]}),
     {f"{V0}.keyframes.y.0.ease": "ease must be one of linear, ease_in, ease_out, ease_in_out, hold (got 'bounce')"},
     {}),
    ("keyframe_opacity_out_of_range", _set(f"{V2}.keyframes", {"opacity": [{"t": 0, "v": 2}]}),
     {f"{V2}.keyframes.opacity.0.v": "v (2.0) must be at most 1.0"}, {}),
    ("volume_keyframes_on_an_image", _set(f"{V2}.keyframes", {"volume": [{"t": 0, "v": 1}]}),
     {f"{V2}.keyframes.volume": "keyframes has no field 'volume'"}, {}),
    ("too_many_keyframes", _set(f"{V0}.keyframes", {"x": [{"t": i / 200, "v": 0.5} for i in range(201)]}),
     {f"{V0}.keyframes.x": "too many x keyframes: 201 (at most 200 are allowed)"}, {}),
    ("keyframe_without_value", _set(f"{V0}.keyframes", {"x": [{"t": 0}]}),
     {f"{V0}.keyframes.x.0.v": "v is required"}, {}),
    ("unknown_transition_out", _set(f"{V2}.transition_out", {"type": "spin", "duration": 0.5}),
     {f"{V2}.transition_out.type": "type must be one of fade, crossfade"}, {}),
    ("crossfade_as_transition_out", _set(f"{V2}.transition_out", {"type": "crossfade", "duration": 0.5}),
     {f"{V2}.transition_out.type": "a crossfade belongs to the later clip's transition (in)"}, {}),
    ("transitions_longer_than_clip", _both(_set(f"{V2}.transition", {"type": "wipe_left", "duration": 0.6}),
                                           _set(f"{V2}.transition_out", {"type": "circle_open", "duration": 0.6})),
     {f"{V2}.transition_out.duration": "transition and transition_out (1.2 s together) are longer than the clip"}, {}),
    ("wipe_overlapping_by_the_wrong_amount", _set(f"{V1}.transition", {"type": "wipe_left", "duration": 0.25}),
     {f"{V1}.transition.duration": "a wipe_left of 0.25 s needs clip c2 to overlap the previous clip c1 by exactly "
                                   "0.25 s, but it overlaps it by 0.5 s"}, {}),
    ("speed_too_slow", _set(f"{V0}.speed", 0.1), {f"{V0}.speed": "speed (0.1) must be at least 0.25"}, {}),
    ("speed_too_fast", _set(f"{V0}.speed", 10), {f"{V0}.speed": "speed (10.0) must be at most 4.0"}, {}),
    ("speed_on_an_image", _set(f"{V2}.speed", 2),
     {f"{V2}.speed": "an image clip (it uses duration, not in/out) has no field 'speed'"}, {}),
    ("reverse_not_boolean", _set(f"{V0}.reverse", "yes"), {f"{V0}.reverse": "reverse must be true or false"}, {}),
    ("freeze_past_the_asset", _both(_set(f"{V0}", {"id": "c1", "asset_id": None, "start": 0,
                                                   "freeze": {"at": 9, "duration": 1}}),
                                    _asset(f"{V0}.asset_id", "video")),
     {f"{V0}.freeze.at": "at (9) is past the end of the asset (2 s)"}, {}),
    ("freeze_with_in_out", _set(f"{V0}.freeze", {"at": 1, "duration": 2}),
     {f"{V0}.in": "a freeze-frame clip (it uses freeze, not in/out) has no field 'in'",
      f"{V0}.out": "a freeze-frame clip (it uses freeze, not in/out) has no field 'out'"}, {}),
    ("colour_by_name", _set("tracks.3", {"id": "v2", "kind": "video", "clips": [{**COLOUR, "color": "blue"}]}),
     {"tracks.3.clips.0.color": "color must be a colour written #rrggbb (got 'blue')"}, {}),
    ("colour_clip_with_in", _set("tracks.3", {"id": "v2", "kind": "video", "clips": [{**COLOUR, "in": 0}]}),
     {"tracks.3.clips.0.in": "a colour clip has no field 'in'"}, {}),
    ("gradient_without_end", _set("tracks.3", {"id": "v2", "kind": "video", "clips": [{**COLOUR, "gradient": {}}]}),
     {"tracks.3.clips.0.gradient.to": "to is required"}, {}),
    ("gradient_angle", _set("tracks.3", {"id": "v2", "kind": "video", "clips": [
        {**COLOUR, "gradient": {"to": "#ffffff", "angle": 720}}]}),
     {"tracks.3.clips.0.gradient.angle": "angle (720.0) must be at most 360.0"}, {}),
    ("adjust_unknown_field", _set(f"{V0}.adjust", {"hue": 10}), {f"{V0}.adjust.hue": "adjust has no field 'hue'"}, {}),
    ("adjust_blur_huge", _set(f"{V0}.adjust", {"blur": 500}),
     {f"{V0}.adjust.blur": "blur (500.0) must be at most 50.0"}, {}),
    ("adjust_brightness_range", _set(f"{T0}.adjust", {"brightness": -3}),
     {f"{T0}.adjust.brightness": "brightness (-3.0) must be at least -1.0"}, {}),
    ("video_sound_fades_too_long", _both(_set(f"{V0}.fade_in", 1.5), _set(f"{V0}.fade_out", 1)),
     {f"{V0}.fade_out": "fade_in + fade_out (2.5 s) are longer than the clip (2.0 s)"}, {}),
]
BROKEN += SCHEMA2_BROKEN


def test_the_table_has_at_least_25_broken_timelines():
    assert len(BROKEN) >= 25
    assert len(SCHEMA2_BROKEN) >= 25


@pytest.mark.django_db
def test_the_valid_base_document_passes(library):
    timeline_validate(valid_document(library), owner=library["owner"])


@pytest.mark.django_db
@pytest.mark.parametrize(("mutate", "expected", "overrides"), [case[1:] for case in BROKEN],
                         ids=[case[0] for case in BROKEN])
def test_broken_timeline_is_refused_with_path_and_sentence(library, settings, mutate, expected, overrides):
    for name, value in overrides.items():
        setattr(settings, name, value)
    document = valid_document(library)
    mutate(document, library)
    if "replaced" in document:
        document = document["replaced"]

    with pytest.raises(TimelineInvalid) as caught:
        timeline_validate(document, owner=library["owner"])

    problems = {item.attr: item.detail for item in caught.value.errors}
    wanted = {(f"timeline.{path}" if path else "timeline"): words for path, words in expected.items()}
    assert set(problems) == set(wanted), problems
    for attr, words in wanted.items():
        assert words in problems[attr]
    assert caught.value.error_code == "INVALID_TIMELINE"


@pytest.mark.django_db
def test_every_problem_is_reported_not_just_the_first(library):
    document = valid_document(library)
    document["output"]["fps"] = 500
    document["tracks"][0]["clips"][0]["out"] = 12.0
    document["tracks"][1]["clips"][0]["text"] = ""
    document["tracks"][2]["clips"][0]["volume"] = -1

    with pytest.raises(TimelineInvalid) as caught:
        timeline_validate(document, owner=library["owner"])

    assert [item.attr for item in caught.value.errors] == [
        "timeline.output.fps",
        "timeline.tracks.0.clips.0.out",
        "timeline.tracks.1.clips.0.text",
        "timeline.tracks.2.clips.0.volume",
    ]
    assert "(and 3 more problems)" in caught.value.message


@pytest.mark.django_db
def test_another_users_asset_reads_exactly_like_a_missing_one(library):
    document = valid_document(library)
    document["tracks"][0]["clips"][0]["asset_id"] = str(library["foreign"].id)
    with pytest.raises(TimelineInvalid) as caught:
        timeline_validate(document, owner=library["owner"])
    detail = caught.value.errors[0].detail
    assert detail == f"asset {library['foreign'].id} is not in your media library"
    assert "theirs.mp4" not in detail


@pytest.mark.django_db
def test_defaults_are_filled_so_stored_documents_are_canonical(library):
    canonical = timeline_validate({"tracks": valid_document(library)["tracks"]}, owner=library["owner"])

    assert canonical["schema"] == 2
    assert canonical["output"] == {"width": 1280, "height": 720, "fps": 30, "background": "#000000"}
    assert canonical["markers"] == []
    assert canonical["view"] == {"current_time": 0.0, "zoom": 1.0}
    video_track, text_track, audio_track = canonical["tracks"]
    assert video_track["muted"] is False and "muted" not in text_track
    assert video_track["clips"][0] == {
        "id": "c1", "asset_id": str(library["video"].id), "start": 0.0, "in": 0.0, "out": 2.0,
        "volume": 1.0, "fit": "contain", "transition": None,
    }
    assert video_track["clips"][2] == {
        "id": "c3", "asset_id": str(library["image"].id), "start": 3.5, "duration": 1.0, "fit": "contain",
        "transition": None,
    }
    assert text_track["clips"][0]["style"] == {"size": 64, "color": "#ffffff", "position": "center"}
    assert audio_track["clips"][0] == {
        "id": "m1", "asset_id": str(library["audio"].id), "start": 0.0, "in": 0.0, "out": 2.0, "volume": 0.4,
        "fade_in": 0.0, "fade_out": 0.0,
    }


@pytest.mark.django_db
def test_track_switches_are_stored_as_given_and_never_added(library):
    document = valid_document(library)
    document["tracks"][0].update(hidden=True, solo=False, locked=True)
    document["tracks"][1]["hidden"] = False
    document["tracks"][2].update(muted=True, solo=True)
    document["tracks"].append({"id": "cc", "kind": "captions", "hidden": True, "locked": False,
                               "cues": [{"start": 0, "end": 1, "text": "Hi"}]})
    video, text, audio, captions = timeline_validate(document, owner=library["owner"])["tracks"]
    assert {k: video[k] for k in ("muted", "solo", "hidden", "locked")} == {
        "muted": False, "solo": False, "hidden": True, "locked": True}
    assert text["hidden"] is False and "locked" not in text and "solo" not in text
    assert audio["muted"] is True and audio["solo"] is True and "hidden" not in audio
    assert captions["hidden"] is True and captions["locked"] is False

    plain = timeline_validate(valid_document(library), owner=library["owner"])["tracks"]
    assert not any(key in track for track in plain for key in ("solo", "hidden", "locked"))


@pytest.mark.django_db
def test_canonical_form_is_stable(library):
    once = timeline_validate(valid_document(library), owner=library["owner"])
    assert timeline_validate(copy.deepcopy(once), owner=library["owner"]) == once


@pytest.mark.django_db
def test_editor_state_in_view_is_kept(library):
    document = valid_document(library)
    document["view"] = {"current_time": 2.5, "zoom": 3, "selected_clip": "c2"}
    canonical = timeline_validate(document, owner=library["owner"])
    assert canonical["view"] == {"current_time": 2.5, "zoom": 3.0, "selected_clip": "c2"}


@pytest.mark.django_db
def test_uppercase_colours_are_stored_lower_case(library):
    document = valid_document(library)
    document["output"]["background"] = "#FFAA00"
    assert timeline_validate(document, owner=library["owner"])["output"]["background"] == "#ffaa00"


@pytest.mark.django_db
def test_a_chain_of_crossfades_is_valid(library):
    video = str(library["video"].id)
    document = {"tracks": [{"id": "v1", "kind": "video", "clips": [
        {"id": f"c{i}", "asset_id": video, "start": i * 1.5, "in": 0, "out": 2,
         "transition": {"type": "crossfade", "duration": 0.5} if i else None}
        for i in range(4)
    ]}]}
    assert timeline_duration(timeline_validate(document, owner=library["owner"])) == pytest.approx(6.5)


def test_duration_is_where_the_last_clip_ends(library):
    assert timeline_duration(valid_document(library)) == pytest.approx(4.5)
    assert timeline_duration({"tracks": []}) == 0.0


def test_asset_ids_lists_every_referenced_asset(library):
    assert timeline_asset_ids(valid_document(library)) == {
        str(library[key].id) for key in ("video", "audio", "image")
    }


@pytest.mark.django_db
def test_a_schema_2_document_using_every_feature_is_valid_and_canonical(library):
    document = valid_document(library)
    document["schema"] = 2
    v1 = document["tracks"][0]["clips"]
    v1[0].update({"speed": 2, "in": 0, "out": 2, "fade_in": 0.2, "adjust": {"saturation": 0},
                  "keyframes": {"volume": [{"t": 0, "v": 1}, {"t": 0.5, "v": 0.2, "ease": "ease_out"}]}})
    v1[1].update({"start": 0.5, "transition": {"type": "wipe_left", "duration": 0.5}, "transition_out": None})
    v1[2].update({"start": 2.5, "transform": {"x": 0.8, "y": 0.2, "scale": 0.3, "rotation": 15, "opacity": 0.5,
                                              "crop": {"left": 0.1}},
                  "transition_out": {"type": "circle_open", "duration": 0.3}})
    document["tracks"].append({"id": "v2", "kind": "video", "clips": [
        {"id": "k1", "color": "#FF0000", "gradient": {"to": "#0000ff"}, "start": 0, "duration": 1,
         "transform": {"crop": {"top": 0.8}}, "transition": {"type": "slide_up", "duration": 0.2}},
        {"id": "f1", "asset_id": str(library["video"].id), "start": 1, "freeze": {"at": 1.0, "duration": 1.5},
         "keyframes": {"scale": [{"t": 0, "v": 1}, {"t": 1.5, "v": 1.3, "ease": "ease_in_out"}]}},
        {"id": "r1", "asset_id": str(library["video"].id), "start": 2.5, "in": 0, "out": 1, "reverse": True,
         "speed": 0.5},
    ]})

    canonical = timeline_validate(document, owner=library["owner"])

    assert canonical["schema"] == 2
    clips = {clip["id"]: clip for track in canonical["tracks"] for clip in track["clips"]}
    assert clips["k1"]["color"] == "#ff0000"
    assert clips["k1"]["transform"]["crop"] == {"left": 0.0, "top": 0.8, "right": 0.0, "bottom": 0.0}
    assert clips["c3"]["transform"]["scale"] == 0.3 and clips["c3"]["transform"]["x"] == 0.8
    assert clips["c1"]["keyframes"]["volume"][0] == {"t": 0.0, "v": 1.0, "ease": "linear"}
    assert timeline_duration(canonical) == pytest.approx(4.5)
    assert timeline_validate(canonical, owner=library["owner"]) == canonical


@pytest.mark.django_db
def test_a_schema_1_document_is_answered_as_schema_2_unchanged_otherwise(library):
    document = valid_document(library)
    canonical = timeline_validate(document, owner=library["owner"])
    assert canonical["schema"] == 2
    assert "transform" not in canonical["tracks"][0]["clips"][0]
    assert set(canonical["tracks"][0]["clips"][0]) == {"id", "asset_id", "start", "in", "out", "volume", "fit",
                                                       "transition"}
