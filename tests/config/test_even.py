"""The three even roundings every size and offset goes through (config/even.py)."""

from __future__ import annotations

import pytest

from config.even import even_ceil, even_floor, even_round


@pytest.mark.parametrize(("value", "expected"), [(7, 6), (6, 6), (5.9, 4), (0.5, 2), (1281.7, 1280)])
def test_even_floor_goes_down_to_even_and_never_below_two(value, expected):
    assert even_floor(value) == expected


@pytest.mark.parametrize(("value", "expected"), [(-3, -4), (-2.5, -4), (-1, -2), (0, 0), (3.5, 2)])
def test_even_floor_without_a_minimum_keeps_offsets_negative(value, expected):
    assert even_floor(value, None) == expected


@pytest.mark.parametrize(("value", "expected"), [(5, 6), (4.9, 4), (7, 8), (3, 4), (1, 2), (0.4, 2), (1081, 1082)])
def test_even_round_takes_the_nearest_even_with_halves_up_as_ffmpeg_does(value, expected):
    # ffmpeg's expressions round halves up (2*floor(v/2+0.5)); Python's round() would give 4 for 5 and 1080 for 1081.
    assert even_round(value) == expected


@pytest.mark.parametrize(("value", "expected"), [(5, 6), (6, 6), (0, 2), (6.1, 8), (1079, 1080)])
def test_even_ceil_pads_up_to_even(value, expected):
    assert even_ceil(value) == expected


def test_even_round_agrees_with_the_ffmpeg_expression_for_every_size():
    for tenths in range(0, 40000):
        value = tenths / 10
        assert even_round(value) == max(2, 2 * int((value / 2 + 0.5) // 1)), value
