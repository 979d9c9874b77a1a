"""Cost against history: the idle sweep and the board query with 1k, 100k and 1M closed incidents.

The closed (resolved) incidents are bulk-loaded with INSERT ... SELECT copies of one incident filed
through the service layer; 200 open incidents wait on deadlines far away, so the sweep finds
nothing due. Prints the median time per sweep and per board query at each size and the ratio
largest / smallest (target: <= 1.5, i.e. due work and open work are found through indexes that
do not grow with history).

    .venv/bin/python benchmarks/bench_history.py [--sizes 1000 100000 1000000] [--repeat 50]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def timed(fn, repeat: int) -> float:
    """Median milliseconds of repeat calls, after 3 warm-up calls."""
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return common.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    from tracker import jobs
    from tracker.db import session_scope
    from tracker.services.incidents import queries

    rows = []
    with common.database("history") as url:
        app = common.tracker_app(url)
        common.seed(app)
        template = common.file_template(app)
        common.clone_incidents(url, template, 200, 10_000_000, next_escalation_at="now() + interval '1 day'")
        loaded = 0
        for size in sorted(args.sizes):
            started = time.perf_counter()
            common.clone_incidents(
                url,
                template,
                size - loaded,
                loaded + 1,
                status="'resolved'",
                next_escalation_at="NULL",
                resolved_at="now()",
            )
            loaded = size
            common.analyze(url)
            load_s = time.perf_counter() - started

            def sweep():
                assert jobs.sweep(app) == 0, "the idle sweep found work: the benchmark's open incidents must not be due"

            def board():
                with session_scope(app) as session:
                    assert len(queries.board(session).rows) >= 200

            rows.append([f"{size:,}", timed(sweep, args.repeat), timed(board, args.repeat), f"{load_s:.0f} s"])
            print(f"{size:,} closed: sweep {rows[-1][1]:.2f} ms, board {rows[-1][2]:.2f} ms", file=sys.stderr)
    first, last = rows[0], rows[-1]
    print(f"\nCost against history (median of {args.repeat}; 200 open incidents; {common.machine()})")
    print(common.table(["closed incidents", "idle sweep ms", "board query ms", "bulk load"], rows))
    print(f"\nratio {last[0]} / {first[0]}: sweep {last[1] / first[1]:.2f}, board {last[2] / first[2]:.2f}")
    common.dump("history", {"rows": rows})


if __name__ == "__main__":
    main()
