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


@pytest.mark.parametrize(("header", "expected"), [
    ("bytes=0-" + "9" * 5000, (0, 999)),    # an end far past the file: up to the last byte
    ("bytes=-" + "9" * 5000, (0, 999)),     # a suffix longer than the file: all of it
    ("bytes=" + "0" * 5000 + "5-9", (5, 9)),  # leading zeros are still small numbers
])
def test_numbers_of_thousands_of_digits_are_read_as_huge(header, expected):
    assert parse_range(header, 1000) == expected


def test_a_start_of_thousands_of_digits_is_unsatisfiable():
    with pytest.raises(_Unsatisfiable):
        parse_range("bytes=" + "9" * 5000 + "-", 1000)


@pytest.mark.parametrize("header", ["bytes=" + "9" * 5000 + "-", "bytes=0-" + "9" * 5000])
def test_a_range_of_thousands_of_digits_never_answers_500(owner_client, image, header):
    response = owner_client.get(f"/api/assets/{image.id}/file", HTTP_RANGE=header)
    assert response.status_code in (206, 416)
