"""config.wire.is_uuid: the one check of an id from a query string or a job key."""

from __future__ import annotations

import uuid

import pytest

from config.wire import is_uuid


def test_ids_in_the_forms_the_api_takes_are_ids():
    value = uuid.uuid4()
    assert is_uuid(str(value)) and is_uuid(value.hex) and is_uuid(str(value).upper())


@pytest.mark.parametrize("value", ["", "not-a-uuid", "123", "0" * 33, None, 42, ["x"]])
def test_anything_else_is_not(value):
    assert not is_uuid(value)
