"""T1: kill -9 of a writer process at random moments and at every named persistence step.

After every kill the table must open, pass a deep verify, and hold every acknowledged
version exactly (the worker's model digest), unless a cleanup started after that version
was acknowledged. ``OXVEC_CRASH_KILLS`` sets the number of random kills (default 200).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import oxvec
import pytest
from crash_worker import digest, read_model

WORKER = str(Path(__file__).with_name("crash_worker.py"))
KILLS = int(os.environ.get("OXVEC_CRASH_KILLS", "200"))
# The points the engine defines (read from its source, so a new point is tested at once).
CRASH_RS = Path(__file__).parents[1] / "crates" / "oxvec-storage" / "src" / "crash.rs"
POINTS = re.findall(r'^\s+"(\w+)",$', CRASH_RS.read_text().split("POINTS")[1].split("];")[0], re.M)


@dataclass
class History:
    """Every acknowledged (version, digest, cleanups started before it) so far."""

    acks: list[tuple[int, str, int]] = field(default_factory=list)
    cleanups: int = 0
    log: str = ""

    def take(self, output: str) -> list[tuple[int, str, int]]:
        new = []
        self.log += "--- child ---\n" + output
        for line in output.splitlines():
            if line.startswith("ACK "):
                _, v, d = line.split()
                new.append((int(v), d, self.cleanups))
            elif line == "CLEANUP_START":
                self.cleanups += 1
        self.acks.extend(new)
        return new


def check(path: Path, hist: History, acks: list[tuple[int, str, int]]) -> None:
    db = oxvec.connect(path, read_consistency_interval=None)
    if "t" not in db:
        assert not hist.acks, "the table vanished after its creation was acknowledged"
        return
    t = db.open_table("t")
    report = t.verify(deep=True)
    assert report.ok, report.problems
    versions = {v["version"] for v in t.list_versions()}
    for v, d, cleanups_before in acks:
        if v in versions:
            t.checkout(v)
            assert digest(read_model(t)) == d, f"version {v} does not hold what was acknowledged"
        else:
            assert cleanups_before < hist.cleanups, (
                f"acknowledged version {v} is gone; versions {sorted(versions)}, "
                f"tags {t.tags.list()}, log:\n{hist.log[-4000:]}"
            )
    if hist.acks:
        assert max(versions) >= max(v for v, _, _ in hist.acks)
    t.checkout_latest()
    if any(i["index_type"] == "FTS" for i in t.list_indices()):
        # The full-text index answers after the crash: exactly the live rows with the word.
        ids = set(read_model(t))
        want = sorted(i for i in ids if i % 13 == 5)
        got = t.search("w5", query_type="fts").select(["id"]).limit(len(ids) + 1).to_arrow()
        assert sorted(got["id"].to_pylist()) == want


def spawn(path: Path, seed: int, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKER, str(path), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_random_kill_9(tmp_path: Path) -> None:
    rng = random.Random(1234)
    hist = History()
    path = tmp_path / "db"
    kills = 0
    started = time.monotonic()
    while kills < KILLS:
        p = spawn(path, rng.randrange(1 << 30))
        assert p.stdout is not None and p.stderr is not None
        ready = ""
        if rng.random() < 0.85:
            ready = p.stdout.readline()  # past import and open: kill mid-write
            assert ready.startswith(("READY", "ACK")), ready + p.stderr.read()
            time.sleep(rng.uniform(0.0, 0.25))
        else:
            time.sleep(rng.uniform(0.0, 0.4))
        p.send_signal(signal.SIGKILL)
        # Read through the same buffered stream readline used: lines it already buffered
        # (communicate() would read the raw pipe and lose them) may include a cleanup's start.
        out = ready + p.stdout.read()
        err = p.stderr.read()
        p.wait()
        assert p.returncode == -signal.SIGKILL, err  # it was still writing: no error exit
        kills += 1
        new = hist.take(out)
        # Everything is checked every 25 kills; in between, the versions just acknowledged.
        check(path, hist, hist.acks if kills % 25 == 0 else new)
    print(
        f"\n{kills} kills, {len(hist.acks)} acknowledged versions checked, "
        f"{hist.cleanups} cleanups, {time.monotonic() - started:.0f} s"
    )


@pytest.mark.parametrize("nth", [1, 2])
@pytest.mark.parametrize("point", POINTS)
def test_named_crash_points(tmp_path: Path, point: str, nth: int) -> None:
    hist = History()
    path = tmp_path / "db"
    first = spawn(path, -1)  # create the table and run the script once
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    hist.take(out)
    env = dict(os.environ, OXVEC_CRASH_AT=f"{point}:{nth}")
    # Only a deletion vector written as a file passes `deletion_written`.
    env["OXVEC_TEST_INLINE_DELETIONS"] = "0" if point == "deletion_written" else "1"
    p = spawn(path, -1, env)
    out, err = p.communicate(timeout=120)
    assert p.returncode == -signal.SIGABRT, f"crash point {point} was never reached: {err}"
    check(path, hist, hist.take(out) + hist.acks)
    # The table stays writable after the crash.
    again = spawn(path, -1)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    check(path, hist, hist.take(out))
