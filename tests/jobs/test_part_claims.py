"""The Redis claim that decides who encodes a segment part (jobs.services.parts), against the real Redis.

A claim lapses when its encoder stops refreshing it, and another encoder may take it then: the first one,
when it comes back, must neither delete nor extend the claim it no longer holds.
"""

from __future__ import annotations

import threading
import time

import pytest

from jobs.render.segments.render import parent_owner
from jobs.services import parts

pytestmark = pytest.mark.usefixtures("redis_conn")

KEY = "0123abcd"


def lapse(redis_conn) -> None:
    """The claim's TTL runs out, as when its encoder stalls for longer than CLAIM_TTL."""
    redis_conn.pexpire(parts._claim_key(KEY), 1)
    deadline = time.monotonic() + 5
    while redis_conn.exists(parts._claim_key(KEY)):
        assert time.monotonic() < deadline, "the claim never lapsed"
        time.sleep(0.005)


def test_a_release_by_a_worker_whose_claim_was_re_taken_leaves_the_new_owners_claim(redis_conn):
    assert parts.claim(KEY, "first")
    lapse(redis_conn)
    assert parts.claim(KEY, "second")

    assert parts.claim_release(KEY, "first") is False
    assert redis_conn.get(parts._claim_key(KEY)) == b"second"
    assert parts.claim_held(KEY)
    assert not parts.claim(KEY, "third")


def test_the_owners_release_deletes_its_claim(redis_conn):
    assert parts.claim(KEY, "first")

    assert parts.claim_release(KEY, "first") is True
    assert not parts.claim_held(KEY)
    assert parts.claim(KEY, "second")


def test_a_refresh_by_a_worker_whose_claim_was_re_taken_leaves_the_new_owners_ttl(redis_conn):
    assert parts.claim(KEY, "first")
    lapse(redis_conn)
    assert parts.claim(KEY, "second")
    redis_conn.expire(parts._claim_key(KEY), 2)  # the new owner's claim, close to lapsing in its turn

    assert parts.claim_refresh(KEY, "first") is False
    assert redis_conn.ttl(parts._claim_key(KEY)) <= 2
    assert redis_conn.get(parts._claim_key(KEY)) == b"second"


def test_the_owners_refresh_gives_its_claim_a_full_ttl_again(redis_conn):
    assert parts.claim(KEY, "first")
    redis_conn.expire(parts._claim_key(KEY), 2)

    assert parts.claim_refresh(KEY, "first") is True
    assert redis_conn.ttl(parts._claim_key(KEY)) > 2


def test_a_stale_release_racing_the_claims_change_of_owner_never_deletes_the_new_owners_claim(redis_conn):
    """A worker keeps releasing a claim it held once while the claim keeps changing hands from it to another
    owner: a check then a delete in two steps sometimes sees the old owner and deletes the new one's."""
    name = parts._claim_key(KEY)
    stop = threading.Event()

    def stale_owner() -> None:
        while not stop.is_set():
            parts.claim_release(KEY, "stale")

    thread = threading.Thread(target=stale_owner, daemon=True)
    thread.start()
    lost = rounds = 0
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            redis_conn.set(name, "stale", ex=parts.CLAIM_TTL)
            redis_conn.set(name, "new", ex=parts.CLAIM_TTL)  # lapsed and re-taken by another encoder
            if redis_conn.get(name) != b"new":
                lost += 1
            rounds += 1
    finally:
        stop.set()
        thread.join()
    assert rounds > 100
    assert lost == 0, f"the new owner's claim was deleted in {lost} of {rounds} rounds"


def test_two_renders_in_one_process_claim_under_different_owners(redis_conn):
    """Work horses in separate containers can share a pid: a render's owner must still be its own, or one
    render would release the claim another took on the same segment."""
    first, second = parent_owner(), parent_owner()
    assert first != second
    assert parts.claim(KEY, first)

    assert not parts.claim(KEY, second)
    assert parts.claim_refresh(KEY, second) is False
    assert parts.claim_release(KEY, second) is False
    assert redis_conn.get(parts._claim_key(KEY)) == first.encode()
    assert parts.claim_release(KEY, first) is True
