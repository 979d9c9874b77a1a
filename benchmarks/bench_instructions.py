"""Instructions per escalation, per delivered message and per filing, counted by callgrind.

Timings on these virtual machines move by a third from one minute to the next, so a change of a
few per cent is invisible to bench_filing or bench_escalation_lag. The number of instructions the
process runs is the same from run to run (within 0.2 %), so two commits can be told apart: run
this at each and compare. Only the work itself is counted, in the tracker's own process (not
PostgreSQL's): the database is made and seeded by a process of its own, and the measuring one
starts valgrind's instrumentation just before the work and stops it just after
(`callgrind_control -i on|off`). Start-up objects are frozen first (gc.freeze), as the scheduler
and the web workers do. Needs valgrind (`apt-get install -y valgrind`).

    .venv/bin/python benchmarks/bench_instructions.py [--count 1000] [--filings 200]

sweep: --count incidents due at once, escalated in batches of 500 (escalation.sweep_batch);
deliver: their escalation messages through the file drop (jobs.deliver); filing: --filings POSTs
of bench_filing's report through Flask's test client (its own cost included: compare like with like).
"""

import argparse
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from bench_filing import BODY  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="incidents due at once (sweep, deliver)")
    parser.add_argument("--filings", type=int, default=200, help="filings counted")
    parser.add_argument("--measure", nargs=5, metavar=("WHAT", "URL", "N", "TOKEN", "OUTBOX"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        what, url, n, token, outbox = args.measure
        _measure(what, url, int(n), token, outbox)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("needs valgrind: apt-get install -y valgrind")
    rows = []
    with common.database("instructions") as url, tempfile.TemporaryDirectory() as tmp:
        app = common.tracker_app(url, OUTBOX_DIR=str(Path(tmp) / "outbox"))
        token = common.seed(app)["duty"]
        template = common.file_template(app)
        due = f"'{(_now() - timedelta(seconds=1)).isoformat()}'::timestamptz"
        common.clone_incidents(url, template, args.count, 1, next_escalation_at=due)
        common.analyze(url)
        for what, n in (("sweep", args.count), ("deliver", args.count), ("filing", args.filings)):
            counted, total = _callgrind(what, url, n, token, Path(tmp))
            rows.append([what, f"{counted:,}", f"{total / counted / 1e6:.3f}"])
    print(f"\nInstructions counted by callgrind ({common.machine()})")
    print(common.table(["work", "items", "million instructions per item"], rows))
    common.dump("instructions", {"rows": rows})


def _now():
    from tracker.timeutil import utcnow

    return utcnow()


def _callgrind(what: str, url: str, n: int, token: str, tmp: Path) -> tuple[int, int]:
    """Run the measuring process under callgrind; return how many items it did and the instructions."""
    out = tmp / f"callgrind.{what}"
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    command += [common.PYTHON, __file__, "--measure", what, url, str(n), token, str(tmp / "outbox")]
    done = subprocess.run(command, cwd=common.ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{what} failed under valgrind:\n{done.stdout}\n{done.stderr[-3000:]}")
    counted = int(done.stdout.split()[-1])
    totals = [line for line in out.read_text().splitlines() if line.startswith("totals:")]
    return counted, int(totals[0].split()[1])


def _measure(what: str, url: str, n: int, token: str, outbox: str) -> None:
    """In the process valgrind runs: do the work between instrumentation on and off; print the count."""
    from tracker import dispatch, jobs
    from tracker.db import session_scope
    from tracker.services.engine import escalation
    from tracker.timeutil import utcnow

    app = common.tracker_app(url, OUTBOX_DIR=outbox)
    links, reask = dispatch.ack_links(app), dispatch.decision_reask(app)
    client, rng = app.test_client(), random.Random(7)

    def file_one() -> None:
        body = {
            **BODY,
            "latitude": 53.6 + rng.random() * 2.2,
            "longitude": 21.0 + rng.random() * 2.5,
            "position_text": None,
        }
        answer = client.post(
            "/api/v1/incidents",
            data=json.dumps(body),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        if answer.status_code != 201:
            raise SystemExit(f"filing answered {answer.status_code}: {answer.get_data(as_text=True)[:500]}")

    def sweep() -> int:
        swept = 0
        while True:
            with session_scope(app) as session:
                advanced = escalation.sweep_batch(session, utcnow(), 500, "instructions", links, reask)
            swept += advanced
            if advanced < 500:
                return swept

    with session_scope(app):
        pass  # the pool's first connection, outside the count
    if what == "filing":
        for _ in range(20):  # first requests import and compile what every later one uses
            file_one()
    gc.freeze()
    _instrument("on")
    if what == "sweep":
        counted = sweep()
    elif what == "deliver":
        counted = jobs.deliver(app)
    else:
        for _ in range(n):
            file_one()
        counted = n
    _instrument("off")
    print(counted)


def _instrument(state: str) -> None:
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True, capture_output=True)


if __name__ == "__main__":
    main()
