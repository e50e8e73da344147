"""Subtitles uploads (.srt/.vtt): parsed strictly; every broken file is a 400 that names its line."""

from __future__ import annotations

import pytest

from projects.subtitles import Cue, SubtitlesInvalid, subtitles_parse, subtitles_to_srt, subtitles_to_vtt

GOOD_SRT = ("1\n00:00:00,500 --> 00:00:01,500\n<i>Hello</i> 안녕\n\n"
            "2\n00:00:02,000 --> 00:00:03,250\nمرحبا\nsecond line\n")
GOOD_VTT = ("WEBVTT - title\n\nNOTE a comment\nspanning lines\n\nintro\n00:00.500 --> 00:01.500 align:start\n"
            "<c.yellow>Hello</c>\n\n01:00:02.000 --> 01:00:03.000\nLater\n")

# (name, content, line the error names (0: the file as a whole), words in the message)
BROKEN = [
    ("empty.srt", b"   \n\n", 0, "empty"),
    ("nul.srt", b"1\n00:00:00,000 --> 00:00:01,000\nhi\x00there\n", 3, "binary"),
    ("latin1.srt", "1\n00:00:00,000 --> 00:00:01,000\ncaf\u00e9\n".encode("latin-1"), 3, "UTF-8"),
    ("control.srt", b"1\n00:00:00,000 --> 00:00:01,000\nbell\x07\n", 3, "U+0007"),
    ("no-arrow.srt", b"1\n00:00:00,000 00:00:01,000\nhi\n", 2, "expected a timing line"),
    ("bad-start.srt", b"1\n00:00:xx,000 --> 00:00:01,000\nhi\n", 2, "start time"),
    ("bad-end.srt", b"1\n00:00:00,000 --> 00:00:01\nhi\n", 2, "end time"),
    ("backwards.srt", b"1\n00:00:05,000 --> 00:00:01,000\nhi\n", 2, "before or when it starts"),
    ("no-text.srt", b"1\n00:00:00,000 --> 00:00:01,000\n<i></i>\n", 2, "no text"),
    ("only-number.srt", b"1\n\n", 2, "after the cue number"),
    ("second-cue.srt", b"1\n00:00:00,000 --> 00:00:01,000\nok\n\n2\n00:00:01,000 -> 00:00:02,000\nno\n", 6,
     "expected a timing line"),
    ("garbage.srt", b"hello there\nthis is prose\n", 1, "cue number or a timing line"),
    ("minutes.srt", b"1\n00:61:00,000 --> 00:62:00,000\nhi\n", 2, "start time"),
    ("long.srt", b"1\n00:00:00,000 --> 00:00:01,000\n" + b"x" * 600 + b"\n", 2, "at most 500"),
    ("no-header.vtt", b"00:00.000 --> 00:01.000\nhi\n", 1, "WEBVTT"),
    ("comma.vtt", b"WEBVTT\n\n00:00:00,000 --> 00:00:01,000\nhi\n", 3, "start time"),
    ("id-no-timing.vtt", b"WEBVTT\n\ncue-1\nhello\n", 4, "timing line"),
    ("no-cues.vtt", b"WEBVTT\n\nNOTE nothing here\n", 0, "no cues"),
    ("late.vtt", b"WEBVTT\n\n25:00:00.000 --> 25:00:01.000\nhi\n", 3, "after 24 hours"),
    ("binary.vtt", b"WEBVTT\n\n\xff\xd8\xff\xe0\x00\x10JFIF", 3, "binary"),
]


def upload(client, name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/api/assets/", {"file": SimpleUploadedFile(name, content)}, format="multipart")


def test_the_table_has_at_least_fifteen_broken_files():
    assert len(BROKEN) >= 15


@pytest.mark.parametrize(("name", "content", "line", "words"), BROKEN, ids=[row[0] for row in BROKEN])
def test_a_broken_file_names_its_line(name, content, line, words):
    with pytest.raises(SubtitlesInvalid) as caught:
        subtitles_parse(content, name.rsplit(".", 1)[1])
    assert caught.value.line == line
    assert words in caught.value.message


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content", "line", "words"), BROKEN, ids=[row[0] for row in BROKEN])
def test_a_broken_upload_is_a_400_with_the_line_number(owner_client, media_root, name, content, line, words):
    response = upload(owner_client, name, content)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "MEDIA_UNREADABLE"
    (error,) = body["errors"]
    assert error["attr"] == "file"
    assert words in error["detail"]
    if line:
        assert f"Line {line}:" in error["detail"]
    assert not list((media_root / "assets").rglob("*.srt")) + list((media_root / "assets").rglob("*.vtt"))


def test_srt_cues_are_plain_text_in_order():
    cues = subtitles_parse(GOOD_SRT.encode(), "srt")
    assert cues == [Cue(0.5, 1.5, "Hello 안녕"), Cue(2.0, 3.25, "مرحبا\nsecond line")]


def test_vtt_skips_notes_and_identifiers_and_ignores_cue_settings():
    cues = subtitles_parse(("\ufeff" + GOOD_VTT).encode(), "vtt")
    assert cues == [Cue(0.5, 1.5, "Hello"), Cue(3602.0, 3603.0, "Later")]


def test_written_files_parse_back_to_the_same_cues():
    cues = subtitles_parse(GOOD_SRT.encode(), "srt")
    assert subtitles_parse(subtitles_to_vtt(cues).encode(), "vtt") == cues
    assert subtitles_parse(subtitles_to_srt(cues).encode(), "srt") == cues
    assert subtitles_to_srt(cues).startswith("1\n00:00:00,500 --> 00:00:01,500\nHello 안녕\n")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content", "container", "duration"), [
    ("talk.srt", GOOD_SRT.encode(), "srt", 3.25),
    ("talk.vtt", GOOD_VTT.encode(), "vtt", 3603.0),
    ("no-extension", GOOD_VTT.encode(), "vtt", 3603.0),  # known by its WEBVTT header
])
def test_a_good_file_becomes_a_subtitles_asset(owner_client, name, content, container, duration):
    response = upload(owner_client, name, content)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["container"], body["duration"]) == ("subtitles", container, duration)
    assert body["thumbnail_url"] is None
    served = owner_client.get(f"/api/assets/{body['id']}/file")
    assert served.status_code == 200
    assert served["Content-Type"].startswith("text/vtt" if container == "vtt" else "application/x-subrip")
    assert b"".join(served.streaming_content) == content
    assert owner_client.get("/api/assets/?kind=subtitles").json()["count"] == 1


@pytest.mark.django_db
def test_a_text_file_that_is_not_subtitles_is_still_refused(owner_client):
    response = upload(owner_client, "notes.txt", b"just some notes\n")
    assert response.status_code == 400
    assert "text file" in response.json()["errors"][0]["detail"]
