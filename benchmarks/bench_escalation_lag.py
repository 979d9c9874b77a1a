"""Escalation lag: 10,000 incidents become due at the same moment; two schedulers take them.

Two `flask --app wsgi scheduler --jobs sweep` processes (sweep every SWEEP_INTERVAL_SECONDS,
default 1 s here) and one `--jobs deliver` process (the file-drop transport) run on the same
PostgreSQL. The incidents are bulk-copies of one incident filed through the service layer, all
due at T. Prints the time from T until every incident is escalated and until every escalation
message is delivered, the p50/p99 lag between each deadline and its escalation, and checks that
no escalation or message was doubled or missing. Targets: all escalated in <= 10 s, delivered in
<= 20 s; p99 lag <= 2 s beyond the interval.

With --metrics, a gunicorn serves the same database, and /metrics is read during the run to
show the counters moving.

    .venv/bin/python benchmarks/bench_escalation_lag.py [--count 10000] [--interval 1]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402


def start_scheduler(env: dict, log: Path, jobs: str) -> subprocess.Popen:
    with log.open("w") as handle:
        return subprocess.Popen(
            [common.PYTHON, "-m", "flask", "--app", "wsgi", "scheduler", "--jobs", jobs],
            cwd=common.ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


SCRAPE_SECRET = "bench-scrape-secret"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=1.0, help="sweep and delivery interval, seconds")
    parser.add_argument("--lead", type=float, default=12.0, help="seconds from load to the common deadline")
    parser.add_argument("--metrics", action="store_true", help="read /metrics from a web worker during the run")
    args = parser.parse_args()
    from tracker.timeutil import utcnow

    with common.database("lag") as url, tempfile.TemporaryDirectory() as tmp:
        app = common.tracker_app(url)
        common.seed(app)
        template = common.file_template(app)
        engine = create_engine(url)
        deadline = utcnow() + timedelta(seconds=args.lead)
        common.clone_incidents(
            url, template, args.count, 1, next_escalation_at=f"'{deadline.isoformat()}'::timestamptz"
        )
        common.analyze(url)
        env = {
            **os.environ,
            "TRACKER_DATABASE_URL": url,
            "TRACKER_SWEEP_INTERVAL_SECONDS": str(args.interval),
            "TRACKER_DELIVERY_INTERVAL_SECONDS": str(args.interval),
            "TRACKER_SWEEP_BATCH_SIZE": "500",
            "TRACKER_DELIVERY_BATCH_SIZE": "500",
            "TRACKER_OUTBOX_DIR": tmp,
            "PYTHONPATH": str(common.ROOT),
            # Schedulers and the web worker add up their counters in one directory (README, "Metrics").
            "PROMETHEUS_MULTIPROC_DIR": str(Path(tmp) / "metrics"),
        }
        (Path(tmp) / "metrics").mkdir()
        env.pop("TRACKER_CONFIG", None)
        # Two sweeping schedulers and a delivering one, each its own process (`scheduler --jobs ...`).
        schedulers = [start_scheduler(env, Path(tmp) / f"scheduler-{n}.log", "sweep") for n in (1, 2)]
        schedulers.append(start_scheduler(env, Path(tmp) / "deliverer.log", "deliver"))
        metrics = []
        web_env = {key: env[key] for key in ("TRACKER_DATABASE_URL", "TRACKER_OUTBOX_DIR", "PROMETHEUS_MULTIPROC_DIR")}
        web_env["TRACKER_METRICS_SCRAPE_SECRET"] = SCRAPE_SECRET  # GET /metrics wants a bearer token
        web = common.gunicorn("wsgi:app", web_env) if args.metrics else None
        port, master = web.__enter__() if web else (None, None)
        web_workers = common.children(master) if master else []
        try:
            escalated_all = delivered_all = None
            # CPU seconds of each process (two sweepers, the deliverer, the database's server processes)
            # at the deadline and when all are escalated: where the escalating time went.
            cpu: dict[str, dict[str, float]] = {}
            limit = time.monotonic() + args.lead + 120
            while time.monotonic() < limit and delivered_all is None:
                time.sleep(0.25)
                with engine.connect() as connection:
                    escalated = connection.execute(
                        text("SELECT count(*) FROM incidents WHERE reference LIKE 'BULK-%' AND current_step > 1")
                    ).scalar_one()
                    delivered = connection.execute(
                        text(
                            "SELECT count(*) FROM notifications n JOIN incidents i ON i.id = n.incident_id "
                            "WHERE i.reference LIKE 'BULK-%' AND n.kind = 'escalated' AND n.status = 'sent'"
                        )
                    ).scalar_one()
                    if "deadline" not in cpu and utcnow() >= deadline:
                        cpu["deadline"] = _cpu(connection, schedulers, web_workers)
                    if "escalated" not in cpu and escalated == args.count:
                        cpu["escalated"] = _cpu(connection, schedulers, web_workers)
                now = utcnow()
                if port and now >= deadline:
                    metrics.append(_scrape(port))
                if escalated_all is None and escalated == args.count:
                    escalated_all = now
                if escalated_all is not None and delivered >= args.count:
                    delivered_all = now
            with engine.connect() as connection:
                lags = (
                    connection.execute(
                        text(
                            "SELECT extract(epoch FROM e.at - :deadline) FROM timeline_events e "
                            "JOIN incidents i ON i.id = e.incident_id "
                            "WHERE i.reference LIKE 'BULK-%' AND e.kind = 'escalated'"
                        ),
                        {"deadline": deadline},
                    )
                    .scalars()
                    .all()
                )
                runners = connection.execute(
                    text(
                        "SELECT e.details ->> 'runner', count(*) FROM timeline_events e WHERE e.kind = 'escalated' "
                        "GROUP BY 1"
                    )
                ).all()
                last_sent = connection.execute(
                    text("SELECT max(sent_at) FROM notifications WHERE kind = 'escalated'")
                ).scalar_one()
                # Exactly one escalation and one sent escalation message per incident: none doubled or missing.
                per_incident = connection.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE n_events <> 1), count(*) FILTER (WHERE n_sent <> 1) FROM ("
                        " SELECT i.id,"
                        "  (SELECT count(*) FROM timeline_events e WHERE e.incident_id = i.id AND e.kind = 'escalated')"
                        "   AS n_events,"
                        "  (SELECT count(*) FROM notifications n WHERE n.incident_id = i.id AND n.kind = 'escalated'"
                        "   AND n.status = 'sent') AS n_sent"
                        " FROM incidents i WHERE i.reference LIKE 'BULK-%') counts"
                    )
                ).one()
                files = len(list(Path(tmp).glob("BULK-*.eml")))
        finally:
            for process in schedulers:
                process.terminate()
            for process in schedulers:
                process.wait(30)
            if web:
                web.__exit__(None, None, None)
            engine.dispose()
    if escalated_all is None or delivered_all is None:
        raise SystemExit(f"not done within the time limit: escalated at {escalated_all}, delivered at {delivered_all}")
    lags = [float(v) for v in lags]
    rows = [
        [
            f"{args.count:,}",
            f"{args.interval:g} s",
            (escalated_all - deadline).total_seconds(),
            (last_sent - deadline).total_seconds(),
            common.quantile(lags, 0.5),
            common.quantile(lags, 0.99),
            ", ".join(f"{n}" for _r, n in runners),
        ]
    ]
    print(f"\nEscalation lag (two schedulers, one PostgreSQL; {common.machine()})")
    print(
        common.table(
            [
                "due at once",
                "sweep interval",
                "all escalated s",
                "all delivered s",
                "lag p50 s",
                "lag p99 s",
                "escalations per scheduler",
            ],
            rows,
        )
    )
    print('("all escalated" is when the poller, every 0.25 s, first saw the last one; lags are exact.)')
    wrong_events, wrong_sent = per_incident
    print(
        f"Checked: incidents with other than one escalation: {wrong_events}; with other than one escalation message "
        f"sent: {wrong_sent}; escalation .eml files in the file drop: {files}."
    )
    if "escalated" in cpu:
        used = {name: cpu["escalated"][name] - cpu["deadline"].get(name, 0.0) for name in cpu["escalated"]}
        per = 1000 * (used["sweeper 1"] + used["sweeper 2"] + used["PostgreSQL"]) / args.count
        print(
            "CPU from the deadline until all were escalated: "
            + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in used.items())
            + f"; sweepers and PostgreSQL {per:.2f} ms per escalation."
        )
    if wrong_events or wrong_sent:
        raise SystemExit("an escalation or a message was doubled or missing")
    if metrics:
        print("\n/metrics during the run (escalations and deliveries counted by the web worker's view):")
        for line in metrics[:: max(1, len(metrics) // 6)]:
            print("  " + line)
    common.dump("escalation_lag", {"rows": rows, "metrics": metrics})


def _cpu(connection, schedulers: list[subprocess.Popen], web_workers: list[int]) -> dict[str, float]:
    """CPU seconds used so far by the two sweepers, the deliverer, this database's server processes and,
    with --metrics, the web workers answering the scrapes (they share the machine's two cores)."""
    server = connection.execute(
        text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
    ).scalars()
    used = common.cpu_seconds([p.pid for p in schedulers])
    return {
        "sweeper 1": used.get(schedulers[0].pid, 0.0),
        "sweeper 2": used.get(schedulers[1].pid, 0.0),
        "deliverer": used.get(schedulers[2].pid, 0.0),
        "PostgreSQL": sum(common.cpu_seconds(list(server)).values()),
        **({"web (/metrics)": sum(common.cpu_seconds(web_workers).values())} if web_workers else {}),
    }


def _scrape(port: int) -> str:
    scrape = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {SCRAPE_SECRET}"}
    )
    with urllib.request.urlopen(scrape, timeout=5) as response:
        body = response.read().decode()
    wanted = ("tracker_escalations_total", "tracker_notifications_total", "tracker_last_job_finished")
    picked = [line for line in body.splitlines() if line.startswith(wanted)]
    return f"{time.strftime('%H:%M:%S')} " + "; ".join(picked)


if __name__ == "__main__":
    main()
