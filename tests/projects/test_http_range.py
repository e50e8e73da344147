"""config.http_range: the Range header rules, and HEAD."""

from __future__ import annotations

import pytest

from config.http_range import _Unsatisfiable, parse_range


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("bytes=0-99", (0, 99)),
    ("bytes=100-", (100, 999)),
    ("bytes=-100", (900, 999)),
    ("bytes=990-5000", (990, 999)),
    ("bytes=-5000", (0, 999)),
    ("bytes = 0 - 9", (0, 9)),
    ("bytes=9-0", None),          # invalid: ignored, whole file
    ("bytes=0-9,20-29", None),    # multiple ranges: whole file
    ("items=0-9", None),
    ("bytes=-", None),
])
def test_ranges_of_a_1000_byte_file(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_ranges(header):
    with pytest.raises(_Unsatisfiable):
        parse_range(header, 1000)


def test_any_range_of_an_empty_file_is_unsatisfiable():
    with pytest.raises(_Unsatisfiable):
        parse_range("bytes=-10", 0)


def test_head_gets_the_headers_without_the_body(owner_client, image):
    response = owner_client.head(f"/api/assets/{image.id}/file", HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206
    assert response["Content-Length"] == "10"
    assert response.content == b""
