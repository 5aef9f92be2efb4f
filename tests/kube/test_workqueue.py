"""The work queue's contract: dedupe, no concurrent processing of one key, delayed
adds, per-key exponential backoff with jitter and a cap, shutdown."""

from __future__ import annotations

import threading

import pytest

from cloud_lb.kube.workqueue import TokenBucket, WorkQueue


def test_a_key_added_twice_is_queued_once() -> None:
    q = WorkQueue()
    q.add("a")
    q.add("a")
    q.add("b")
    assert q.depth() == 2
    assert q.get(timeout=1) == "a"
    assert q.get(timeout=1) == "b"
    assert q.get(timeout=0.05) is None


def test_a_key_added_while_processing_comes_back_once_after_done() -> None:
    q = WorkQueue()
    q.add("a")
    assert q.get(timeout=1) == "a"
    q.add("a")
    q.add("a")
    # not handed to a second worker while the first still holds it
    assert q.get(timeout=0.05) is None
    q.done("a")
    assert q.get(timeout=1) == "a"
    q.done("a")
    assert q.idle()


def test_add_after_delays_the_key() -> None:
    q = WorkQueue()
    q.add_after("late", 0.2)
    q.add("now")
    assert q.get(timeout=1) == "now"
    assert q.waiting() == 1
    assert q.get(timeout=2) == "late"


def test_backoff_doubles_per_failure_up_to_the_cap_and_forget_resets_it() -> None:
    q = WorkQueue(backoff_base=5, backoff_max=300, qps=1000, burst=1000)
    seen = []
    for _ in range(8):
        seen.append(q.backoff_for("k"))
        q.add_rate_limited("k")
    assert seen == [5, 10, 20, 40, 80, 160, 300, 300]
    q.forget("k")
    assert q.backoff_for("k") == 5
    assert q.failures("k") == 0


def test_jitter_keeps_each_delay_within_ten_percent_of_the_backoff() -> None:
    q = WorkQueue(backoff_base=5, backoff_max=300, qps=1000, burst=1000)
    delays = []
    for i in range(50):
        key = f"k{i}"
        delays.append(q.add_rate_limited(key))
    assert all(4.5 <= d <= 5.5 for d in delays)
    assert len(set(delays)) > 1  # not in lockstep


def test_token_bucket_charges_a_wait_once_the_burst_is_spent() -> None:
    bucket = TokenBucket(qps=10, burst=3)
    waits = [bucket.reserve() for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.1, abs=0.02)
    assert waits[4] == pytest.approx(0.2, abs=0.02)


def test_shutdown_releases_blocked_getters() -> None:
    q = WorkQueue()
    got = []
    t = threading.Thread(target=lambda: got.append(q.get()))
    t.start()
    q.shut_down()
    t.join(2)
    assert not t.is_alive()
    assert got == [None]
    q.add("x")
    assert q.depth() == 0


def test_many_threads_never_process_one_key_concurrently() -> None:
    q = WorkQueue()
    active: set[str] = set()
    violations = []
    lock = threading.Lock()
    processed = []

    def worker() -> None:
        while (key := q.get(timeout=0.5)) is not None:
            with lock:
                if key in active:
                    violations.append(key)
                active.add(key)
            with lock:
                active.discard(key)
                processed.append(key)
            q.done(key)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(2000):
        q.add(f"k{i % 20}")
    for t in threads:
        t.join(5)
    assert not violations
    assert set(processed) == {f"k{i}" for i in range(20)}


def test_a_key_whose_delay_ran_out_goes_ahead_of_fresh_work() -> None:
    import time
    q = WorkQueue()
    q.add_after("retry", 0.05)
    for i in range(3):
        q.add(f"fresh-{i}")
    time.sleep(0.1)
    assert q.get(timeout=1) == "retry"
    assert [q.get(timeout=1) for _ in range(3)] == ["fresh-0", "fresh-1", "fresh-2"]
