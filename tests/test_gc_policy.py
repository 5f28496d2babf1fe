"""Services collect garbage rarely enough that a batch's short-lived objects never reach a full
collection, and still collect reference cycles.

The policy is process-wide, so each case runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from streamforge import gc_policy

_BATCHES = """
import gc, json, sys, weakref
from dataclasses import dataclass
from streamforge import gc_policy

@dataclass
class Record:  # like a consumer record: a tracked object with a __dict__
    offset: int
    value: bytes

if sys.argv[1] == "tuned":
    gc_policy.tune_for_throughput()
full = []
gc.callbacks.append(lambda phase, info: phase == "stop" and info["generation"] == 2
                    and full.append(1))
for _ in range(100):
    batch = [Record(i, b"x") for i in range(10_000)]  # held while handled, then dropped
    del batch

class Node:
    pass

first = Node()
first.other = Node()
first.other.other = first  # a cycle, unreachable once dropped
alive = weakref.ref(first)
del first
held = [[] for _ in range(gc_policy.YOUNG_THRESHOLD + 1_000)]  # enough to start a collection
print(json.dumps({"full": len(full), "cycle_freed": alive() is None,
                  "frozen": gc.get_freeze_count(), "threshold": gc.get_threshold()}))
"""


def _run(mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_BATCHES), mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_batches_of_short_lived_records_trigger_no_full_collection_once_tuned() -> None:
    default, tuned = _run("default"), _run("tuned")

    assert default["full"] != 0  # what the policy is for
    assert tuned["full"] == 0


def test_tuning_freezes_start_up_and_raises_only_the_young_threshold() -> None:
    default, tuned = _run("default"), _run("tuned")

    assert tuned["frozen"] != 0
    default_threshold = default["threshold"]
    assert isinstance(default_threshold, list)
    assert tuned["threshold"] == [gc_policy.YOUNG_THRESHOLD, *default_threshold[1:]]


def test_reference_cycles_are_still_collected_once_tuned() -> None:
    assert _run("tuned")["cycle_freed"] is True
