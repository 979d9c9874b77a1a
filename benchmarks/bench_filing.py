"""Filing throughput: POST /api/v1/incidents on the tracker against a bare Flask + SQLAlchemy insert.

Both run under gunicorn with config/gunicorn.conf.py and 2 sync workers on the same PostgreSQL;
wrk drives each with the same ~500-byte JSON body; rounds rotate the servers so
machine noise falls on both. Prints requests/s, p50 and p99 per concurrency and the ratio
tracker / baseline (target: >= 0.6 at c=8 and c=32).

A third server in the same rounds, benchmarks/floor_app.py, writes a filing's rows with the tracker's
own statements and does nothing else (no validation, routing, message text, framework or unit of work):
its ratio to the baseline is the ceiling of any filing on this stack and data model, printed with it.

    .venv/bin/python benchmarks/bench_filing.py [--seconds 10] [--rounds 3]
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

BODY = {
    "occurred_at": "2026-11-27T09:15:00Z",
    "reporting_unit": "2nd Air Defence Squadron",
    "domain": "air",
    "category": "unsafe_intercept",
    "precedence": "O",
    "escalation_risk": "serious",
    "safety_risk": "B",
    "latitude": 54.412,
    "longitude": 22.871,
    "position_text": "54 24 43N 022 52 16E",
    "narrative": "Fighter closed to 30 m of our maritime patrol aircraft in international airspace; "
    "no radio contact, transponder off, two passes from the left at the same level.",
    "platforms": [{"kind": "fighter aircraft", "nationality": "Eastland", "transponder_on": False}],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per concurrency (default 3)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--profile", action="store_true", help="sample one tracker worker with py-spy at c=8")
    args = parser.parse_args()
    body = json.dumps(BODY)
    script = Path(__file__).with_name("filing.lua")
    results: dict = {}
    with common.database("filing") as url:
        app = common.tracker_app(url)
        token = common.seed(app)["duty"]
        env = {
            "TRACKER_DATABASE_URL": common.with_application(url, "tracker"),
            "TRACKER_REGION_FILE": "config/region.geojson",
            "BASELINE_DATABASE_URL": common.with_application(url, "baseline"),
        }
        with (
            common.gunicorn("wsgi:app", env) as (tracker_port, tracker_pid),
            common.gunicorn(
                "baseline_app:app",
                {
                    **env,
                    "PYTHONPATH": str(common.ROOT / "benchmarks"),
                },
            ) as (baseline_port, baseline_pid),
            common.gunicorn(
                "floor_app:app",
                {
                    **env,
                    "TRACKER_DATABASE_URL": common.with_application(url, "floor"),
                    "BENCH_BODY": body,
                    "BENCH_TOKEN": token,
                    "PYTHONPATH": str(common.ROOT / "benchmarks"),
                },
            ) as (floor_port, floor_pid),
        ):
            masters = {"tracker": tracker_pid, "baseline": baseline_pid, "floor": floor_pid}
            targets = {
                "tracker": (f"http://127.0.0.1:{tracker_port}/api/v1/incidents", token),
                "baseline": (f"http://127.0.0.1:{baseline_port}/incidents", ""),
                "floor": (f"http://127.0.0.1:{floor_port}/incidents", token),
            }
            for target, bearer in targets.values():  # warm up each
                common.wrk(target, 4, 2, script, {"BENCH_BODY": body, "BENCH_TOKEN": bearer})
            for c in args.concurrency:
                for n in range(args.rounds):
                    names = list(targets)
                    order = names[n % 3 :] + names[: n % 3]  # each server in each place once in three rounds
                    for name in order:
                        target, bearer = targets[name]
                        before_app = common.server_cpu_seconds(masters[name])
                        before_db = common.cpu_seconds(common.backends(url, name))
                        run = common.wrk(target, c, args.seconds, script, {"BENCH_BODY": body, "BENCH_TOKEN": bearer})
                        after_db = common.cpu_seconds(common.backends(url, name))
                        app_cpu = common.server_cpu_seconds(masters[name]) - before_app
                        db_cpu = sum(after_db[p] - before_db.get(p, 0.0) for p in after_db)
                        run["app_ms"] = app_cpu * 1000 / max(run["requests"], 1)
                        run["db_ms"] = db_cpu * 1000 / max(run["requests"], 1)
                        if run["errors"]:
                            print(run["raw"], file=sys.stderr)
                            raise SystemExit(f"{name} answered {run['errors']} non-2xx responses at c={c}")
                        results.setdefault((c, name), []).append(run)
                        print(
                            f"c={c} round {n + 1} {name}: {run['rps']:.0f} req/s p50 {run['p50']:.1f} ms "
                            f"p99 {run['p99']:.1f} ms; CPU per request: app {run['app_ms']:.1f} ms, "
                            f"PostgreSQL {run['db_ms']:.1f} ms",
                            file=sys.stderr,
                        )
            if args.profile:
                hot = _profile(targets["tracker"], tracker_pid, body, script)
    rows, floor_rows = [], []
    for c in args.concurrency:
        t, b, f = (_medians(results[(c, name)]) for name in ("tracker", "baseline", "floor"))
        rows.append([c, t["rps"], t["p50"], t["p99"], b["rps"], b["p50"], b["p99"], f"{t['rps'] / b['rps']:.2f}"])
        rows[-1] += [t["app_ms"], t["db_ms"], b["app_ms"], b["db_ms"]]
        floor_rows.append([c, f["rps"], f["p50"], f["p99"], f"{f['rps'] / b['rps']:.2f}", f"{t['rps'] / f['rps']:.2f}"])
        floor_rows[-1] += [f["app_ms"], f["db_ms"]]
    headers = ["c", "tracker req/s", "p50 ms", "p99 ms", "baseline req/s", "p50 ms", "p99 ms", "ratio"]
    headers += ["tracker CPU ms: app", "PostgreSQL", "baseline CPU ms: app", "PostgreSQL"]
    floor_headers = ["c", "floor req/s", "p50 ms", "p99 ms", "floor / baseline", "tracker / floor"]
    floor_headers += ["CPU ms: app", "PostgreSQL"]
    print(f"\nFiling throughput ({args.rounds} alternating rounds of {args.seconds} s, medians; {common.machine()})")
    print(common.table(headers, rows))
    print("\nThe floor in the same rounds: a filing's rows written with the tracker's statements, nothing else")
    print(common.table(floor_headers, floor_rows))
    common.dump("filing", {"rows": rows, "headers": headers, "floor_rows": floor_rows, "floor_headers": floor_headers})
    if args.profile:
        print(f"\nWhere a tracker worker spends its time filing at c=8 (py-spy, inclusive):\n{hot}")


def _medians(runs: list[dict]) -> dict[str, float]:
    """The median of each figure over a server's rounds at one concurrency."""
    return {key: common.median([run[key] for run in runs]) for key in ("rps", "p50", "p99", "app_ms", "db_ms")}


def _profile(target, master_pid: int, body: str, script: Path) -> str:
    import threading

    url, bearer = target
    worker = common.children(master_pid)[0]
    load = threading.Thread(
        target=common.wrk, args=(url, 8, 14, script, {"BENCH_BODY": body, "BENCH_TOKEN": bearer}), daemon=True
    )
    load.start()
    time.sleep(2)
    collapsed = common.profile(worker, 10, "filing-profile")
    load.join()
    return common.hot_spots(collapsed) if collapsed else "no profile"


if __name__ == "__main__":
    main()
