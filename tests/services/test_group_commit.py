"""The group commit both the registration writer and batch intake stand on (services/group_commit.py)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from provenance.errors import InvalidInput
from provenance.services.group_commit import GroupCommit


class Recorder:
    def __init__(self, fail: set[int] | None = None, fail_group_with: BaseException | None = None) -> None:
        self.groups: list[list[int]] = []
        self.fail = fail or set()
        self.fail_group_with = fail_group_with
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, items: list[int]) -> Sequence[int | BaseException]:
        self.entered.set()
        self.gate.wait(10)
        self.groups.append(items)
        if self.fail_group_with is not None and 99 in items:
            raise self.fail_group_with
        return [InvalidInput(f"item {i} refused") if i in self.fail else i * 10 for i in items]


def test_drain_takes_groups_within_the_count_and_size_limits() -> None:
    rec = Recorder()
    gc: GroupCommit[int, int] = GroupCommit(rec, name="t", max_items=3, max_delay=60, max_size=10, size=lambda i: i)
    futures = [gc.put(i) for i in (1, 2, 3, 4, 9, 20, 1)]
    assert gc.pending() == 7
    assert gc.drain() == 7
    # At most 3 items; a group closes before the item that would take it past size 10 (4 + 9); an item larger than
    # the limit still goes, alone (20).
    assert rec.groups == [[1, 2, 3], [4], [9], [20], [1]]
    assert [f.result(0) for f in futures] == [10, 20, 30, 40, 90, 200, 10]
    assert gc.pending() == 0 and gc.groups == 5


def test_each_item_gets_its_own_error_and_a_failed_group_reaches_every_waiter() -> None:
    rec = Recorder(fail={2}, fail_group_with=RuntimeError("the chain went away"))
    gc: GroupCommit[int, int] = GroupCommit(rec, name="t", max_items=2, max_delay=60)
    one, two, bad, other = gc.put(1), gc.put(2), gc.put(99), gc.put(5)
    with pytest.raises(RuntimeError):
        gc.drain()
    assert one.result(0) == 10
    with pytest.raises(InvalidInput, match="item 2 refused"):
        two.result(0)
    for fut in (bad, other):  # the group [99, 5] failed as a whole
        with pytest.raises(RuntimeError, match="went away"):
            fut.result(0)
    assert gc.groups == 1


def test_the_committer_thread_groups_what_arrives_while_it_commits_and_lives_on_after_a_failure() -> None:
    rec = Recorder(fail_group_with=RuntimeError("boom"))
    gc: GroupCommit[int, int] = GroupCommit(rec, name="t", max_items=100)  # no delay: commit at once
    gc.start()
    rec.gate.clear()  # the first group is held in commit while more arrive
    first = gc.put(1)
    assert rec.entered.wait(10)  # the committer took [1] and is held in its commit
    later = [gc.put(i) for i in (2, 3, 99)]
    rec.gate.set()
    assert first.result(10) == 10
    with pytest.raises(RuntimeError):
        later[0].result(10)
    after = gc.put(7)  # the committer survived the failed group
    assert after.result(10) == 70
    gc.close(timeout=10)
    assert [2, 3, 99] in rec.groups and rec.groups[-1] == [7]


def test_close_commits_what_is_queued_and_then_refuses_nothing_silently() -> None:
    rec = Recorder()
    gc: GroupCommit[int, int] = GroupCommit(rec, name="t", max_items=10, max_delay=3600)
    gc.start()
    futures = [gc.put(i) for i in range(4)]  # due only in an hour: close must not wait for it
    gc.close(timeout=10)
    assert [f.result(0) for f in futures] == [0, 10, 20, 30] and gc.closed
