"""The text-style and output-format fields in the timeline validator, and the font/preset catalogues."""

from __future__ import annotations

import pytest

from projects.timeline import TimelineInvalid, timeline_validate


def text_doc(style: dict, *, output: dict | None = None, duration: float = 2.0) -> dict:
    return {"schema": 1, "output": {"width": 640, "height": 360, "fps": 30, **(output or {})},
            "tracks": [{"id": "t1", "kind": "text", "clips": [
                {"id": "x1", "text": "Hi", "start": 0.0, "duration": duration, "style": style}]}]}


def problems(document: dict) -> dict[str, str]:
    with pytest.raises(TimelineInvalid) as caught:
        timeline_validate(document, owner=None)
    return {item.attr: item.detail for item in caught.value.errors}


def test_a_fully_styled_title_comes_back_canonical():
    style = {"size": 40, "color": "#FFCC00", "font": "noto_sans_kr", "weight": 700, "italic": True, "align": "left",
             "max_width": 400, "line_height": 1.4, "background": {"color": "#000000", "opacity": 0.5},
             "stroke": {"color": "#102030", "width": 3}, "shadow": {"x": 1, "y": 2, "blur": 3},
             "animation": {"in": "typewriter", "out": "fade", "duration": 0.4}}
    got = timeline_validate(text_doc(style), owner=None)["tracks"][0]["clips"][0]["style"]
    assert got["color"] == "#ffcc00" and got["font"] == "noto_sans_kr" and got["weight"] == 700
    assert got["background"] == {"color": "#000000", "opacity": 0.5, "padding": 0, "radius": 0}
    assert got["shadow"] == {"color": "#000000", "x": 1, "y": 2, "blur": 3.0}
    assert got["animation"] == {"in": "typewriter", "out": "fade", "duration": 0.4}


def test_a_schema_1_style_is_unchanged():
    got = timeline_validate(text_doc({"size": 40}), owner=None)["tracks"][0]["clips"][0]["style"]
    assert got == {"size": 40, "color": "#ffffff", "position": "center"}


@pytest.mark.parametrize(("style", "attr", "words"), [
    ({"font": "Comic Sans"}, "style.font", "font must be one of"),
    ({"weight": 50}, "style.weight", "at least 100"),
    ({"italic": "yes"}, "style.italic", "true or false"),
    ({"align": "justify"}, "style.align", "align must be one of left, center, right"),
    ({"max_width": 5}, "style.max_width", "at least 16"),
    ({"line_height": 9}, "style.line_height", "at most 4"),
    ({"background": {"opacity": 2}}, "style.background.opacity", "at most 1"),
    ({"background": {"colour": "#fff"}}, "style.background.colour", "no field 'colour'"),
    ({"stroke": {"width": -1}}, "style.stroke.width", "must not be negative"),
    ({"shadow": {"color": "red"}}, "style.shadow.color", "#rrggbb"),
    ({"animation": {"in": "spin"}}, "style.animation.in", "fade, slide_up, pop, typewriter"),
    ({"animation": {"duration": 0}}, "style.animation.duration", "greater than 0"),
])
def test_a_bad_style_field_is_named_by_its_path(style, attr, words):
    found = problems(text_doc(style))
    assert words in found[f"timeline.tracks.0.clips.0.{attr}"]


def test_output_format_and_still_at_are_checked():
    assert problems(text_doc({}, output={"format": "avi"}))["timeline.output.format"].startswith("format must be")
    assert "at most 30 s" in problems(text_doc({}, output={"format": "gif"}, duration=31))["timeline.output.format"]
    assert "past the end" in problems(text_doc({}, output={"format": "png", "still_at": 5.0}))[
        "timeline.output.still_at"]
    ok = timeline_validate(text_doc({}, output={"format": "webm"}), owner=None)
    assert ok["output"]["format"] == "webm"


@pytest.mark.django_db
def test_the_font_catalogue_lists_installed_families(owner_client):
    body = owner_client.get("/api/fonts").json()
    ids = {item["id"] for item in body["fonts"]}
    assert len(ids) >= 8 and {"noto_sans", "noto_sans_kr", "noto_sans_arabic", "noto_sans_hebrew"} <= ids
    assert body["rtl_shaping"] is True and body["color_emoji"] is True
    assert next(i for i in body["fonts"] if i["id"] == "noto_sans")["weights"] == [400, 700]


@pytest.mark.django_db
def test_the_preset_catalogue_follows_orientation(owner_client):
    body = owner_client.get("/api/presets/").json()
    full_hd = next(p for p in body["presets"] if p["id"] == "full_hd")
    assert full_hd["sizes"]["9:16"] == {"width": 1080, "height": 1920}
    assert full_hd["sizes"]["16:9"] == {"width": 1920, "height": 1080}
    assert [a["id"] for a in body["aspects"]] == ["16:9", "9:16", "1:1", "4:5"]
    assert {f["id"] for f in body["formats"]} >= {"mp4", "webm", "gif", "png", "mp3", "wav", "mov_prores"}


@pytest.mark.django_db
def test_the_catalogues_need_a_login(client):
    assert client.get("/api/fonts").status_code in (401, 403)


def test_the_schema_and_the_renderer_agree_on_fonts_and_formats():
    from jobs.render import formats
    from jobs.render.fonts import FAMILIES
    from jobs.render.formats import FORMATS
    from projects.timeline import output_format
    from projects.timeline.output_format import OUTPUT_FORMATS
    from projects.timeline.text_style import FONT_FAMILIES

    assert tuple(FAMILIES) == FONT_FAMILIES
    assert tuple(FORMATS) == OUTPUT_FORMATS
    assert formats.GIF_MAX_SECONDS == output_format.GIF_MAX_SECONDS


@pytest.mark.django_db
def test_the_openapi_schema_documents_styles_captions_formats_and_catalogues(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/api/fonts", "/api/presets"} <= {p.rstrip("/") for p in schema["paths"]} | set(schema["paths"])
    text = str(schema)
    for field in ("line_height", "typewriter", "noto_sans_kr", "captions", "mp4_hevc", "still_at", "captions_url",
                  "captions_srt_url", "content_type"):
        assert field in text, field


def _objects_with(node, key: str):
    """Every object in an OpenAPI document whose properties include `key`."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict) and key in node["properties"]:
            yield node
        for value in node.values():
            yield from _objects_with(value, key)
    elif isinstance(node, list):
        for value in node:
            yield from _objects_with(value, key)


@pytest.mark.django_db
def test_every_text_caption_and_output_field_is_in_the_openapi_schema_and_the_docs(client):
    from django.conf import settings

    from projects.timeline.captions import CAPTION_FIELDS
    from projects.timeline.output_format import OUTPUT_FIELDS
    from projects.timeline.text_style import STYLE_FIELDS

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    nested = {"background": {"color", "opacity", "padding", "radius"}, "stroke": {"color", "width"},
              "shadow": {"color", "x", "y", "blur"}, "animation": {"in", "out", "duration"}}
    styles = list(_objects_with(schema, "line_height"))
    assert styles, "no text style in the schema"
    for style in styles:
        properties = style["properties"]
        assert {"size", "color", "position", *STYLE_FIELDS} <= set(properties)
        for field, inner in nested.items():
            assert inner <= set(properties[field]["properties"]), field
        assert set(properties["animation"]["properties"]["in"]["enum"]) == {"none", "fade", "slide_up", "pop",
                                                                            "typewriter"}
    assert any(set(CAPTION_FIELDS) - {"id", "kind"} <= set(o["properties"]) for o in _objects_with(schema, "cues"))
    assert any(set(OUTPUT_FIELDS) <= set(o["properties"]) for o in _objects_with(schema, "still_at"))
    docs = (settings.BASE_DIR / "docs" / "text-and-captions.md").read_text()
    fields = {*STYLE_FIELDS, *CAPTION_FIELDS, *OUTPUT_FIELDS, "size", "color", "position", "padding", "radius", "blur",
              "opacity", "width", "in", "out", "duration", "slide_up", "pop", "typewriter"} - {"id", "kind"}
    for field in fields:
        assert f"`{field}`" in docs or f"{field} " in docs, field
