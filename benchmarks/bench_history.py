"""Cost against history: the idle sweep and the board query with 1k, 100k and 1M closed incidents.

The closed (resolved) incidents are bulk-loaded with INSERT ... SELECT copies of one incident filed
through the service layer; 200 open incidents wait on deadlines far away, so the sweep finds
nothing due. Prints the median time per sweep and per board query at each size and the ratio
largest / smallest (target: <= 1.5, i.e. due work and open work are found through indexes that
do not grow with history).

Each size has a database of its own, and the sizes are timed in turns (a few calls each, the order
reversed every other round) rather than one after the other: the host's slower moments then fall on
every size alike. Timed one size after the other, the same code gave 0.78x, 1.75x and 1.30x for the
board in three runs of one hour.

    .venv/bin/python benchmarks/bench_history.py [--sizes 1000 100000 1000000] [--repeat 50] [--rounds 10]
"""

import argparse
import contextlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def timed(fn, app, calls: int) -> list[float]:
    """Milliseconds of each of calls calls of fn(app)."""
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        fn(app)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def loaded(stack: contextlib.ExitStack, size: int):
    """A database of its own with 200 open incidents and size closed ones; return its app and the load's seconds."""
    url = stack.enter_context(common.database(f"history_{size}"))
    app = common.tracker_app(url)
    common.seed(app)
    template = common.file_template(app)
    started = time.perf_counter()
    common.clone_incidents(url, template, 200, 10_000_000, next_escalation_at="now() + interval '1 day'")
    common.clone_incidents(url, template, size, 1, status="'resolved'", next_escalation_at="NULL", resolved_at="now()")
    common.analyze(url)
    return app, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=50, help="calls timed at each size (default 50)")
    parser.add_argument("--rounds", type=int, default=10, help="turns the calls are spread over (default 10)")
    args = parser.parse_args()
    from tracker import jobs
    from tracker.db import session_scope
    from tracker.services.incidents import queries

    sizes = sorted(args.sizes)
    per_round = max(1, args.repeat // args.rounds)
    with contextlib.ExitStack() as stack:
        apps, load_s = {}, {}
        for size in sizes:
            apps[size], load_s[size] = loaded(stack, size)

        def sweep(app):
            assert jobs.sweep(app) == 0, "the idle sweep found work: the benchmark's open incidents must not be due"

        def board(app):
            with session_scope(app) as session:
                assert len(queries.board(session).rows) >= 200

        kinds = {"sweep": sweep, "board": board}
        samples: dict[tuple[int, str], list[float]] = {(size, kind): [] for size in sizes for kind in kinds}
        for size in sizes:  # warm-up: each database's caches and the app's first connections
            for fn in kinds.values():
                timed(fn, apps[size], 3)
        for turn in range(args.rounds):
            for size in sizes if turn % 2 == 0 else reversed(sizes):
                for kind, fn in kinds.items():
                    samples[(size, kind)] += timed(fn, apps[size], per_round)
    rows = []
    for size in sizes:
        sweep_ms, board_ms = common.median(samples[(size, "sweep")]), common.median(samples[(size, "board")])
        rows.append([f"{size:,}", sweep_ms, board_ms, f"{load_s[size]:.0f} s"])
        print(f"{size:,} closed: sweep {sweep_ms:.2f} ms, board {board_ms:.2f} ms", file=sys.stderr)
    first, last = rows[0], rows[-1]
    calls = per_round * args.rounds
    print(f"\nCost against history (median of {calls}, in {args.rounds} turns; 200 open incidents; {common.machine()})")
    print(common.table(["closed incidents", "idle sweep ms", "board query ms", "bulk load"], rows))
    print(f"\nratio {last[0]} / {first[0]}: sweep {last[1] / first[1]:.2f}, board {last[2] / first[2]:.2f}")
    common.dump("history", {"rows": rows})


if __name__ == "__main__":
    main()
