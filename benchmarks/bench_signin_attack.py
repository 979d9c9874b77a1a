"""Sign-in attack: does guessing passwords slow everybody else down? (issue 12, item 1)

gunicorn with the project's config (config/gunicorn.conf.py, 2 sync workers, real argon2) on
PostgreSQL. A desk's client calls the API once a second (GET /api/v1/incidents with a bearer
token) for --seconds without an attack, then for --seconds while --attackers clients each keep one
wrong sign-in for the supervisor in flight (each from an address of its own, through a trusted
proxy header, as a spread-out attacker would), pausing --pause seconds between tries. It prints the
client's p50 and max in both phases, and their ratio: the fix holds when the attack changes the
client's p50 by less than 2x.

    .venv/bin/python benchmarks/bench_signin_attack.py [--seconds 30] [--attackers 8] [--pause 0.5]
"""

import argparse
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def client_latencies(base: str, token: str, seconds: float) -> list[float]:
    """Call the API once a second for `seconds`; return each call's latency in seconds."""
    http, latencies = requests.Session(), []
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        answer = http.get(f"{base}/api/v1/incidents?limit=20", headers=headers, timeout=60)
        answer.raise_for_status()
        latencies.append(time.monotonic() - started)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    return latencies


def attacker(base: str, number: int, pause: float, stop: threading.Event, outcomes: Counter) -> None:
    """Keep one wrong sign-in in flight until stopped; count the answers by status."""
    http = requests.Session()
    http.headers["X-Forwarded-For"] = f"203.0.113.{number + 1}"
    attempt = 0
    while not stop.is_set():
        attempt += 1
        form = http.get(f"{base}/signin", timeout=60).text
        token = CSRF.search(form)
        data = {"csrf_token": token.group(1) if token else "", "username": "supervisor", "password": f"guess{attempt}"}
        outcomes[http.post(f"{base}/signin", data=data, timeout=60, allow_redirects=False).status_code] += 1
        stop.wait(pause)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30, help="length of each phase (default 30)")
    parser.add_argument("--attackers", type=int, default=8, help="wrong sign-ins kept in flight (default 8)")
    parser.add_argument("--pause", type=float, default=0.5, help="each attacker's pause between tries, s")
    args = parser.parse_args()

    with common.database("signin") as url:
        tokens = common.seed(common.tracker_app(url))
        env = {
            "TRACKER_DATABASE_URL": url,
            "TRACKER_REGION_FILE": "config/region.geojson",
            "TRACKER_PROXY_FIX_X_FOR": "1",
        }
        with common.gunicorn("wsgi:app", env) as (port, _pid):
            base = f"http://127.0.0.1:{port}"
            client_latencies(base, tokens["supervisor"], 3)  # warm up both workers
            quiet = client_latencies(base, tokens["supervisor"], args.seconds)
            stop, outcomes = threading.Event(), Counter()
            threads = [
                threading.Thread(target=attacker, args=(base, n, args.pause, stop, outcomes), daemon=True)
                for n in range(args.attackers)
            ]
            for thread in threads:
                thread.start()
            attacked = client_latencies(base, tokens["supervisor"], args.seconds)
            stop.set()
            for thread in threads:
                thread.join(70)

    ms = lambda values: [1000 * v for v in values]  # noqa: E731
    rows = [
        ["without attack", len(quiet), common.median(ms(quiet)), max(ms(quiet))],
        [f"{args.attackers} wrong sign-ins in flight", len(attacked), common.median(ms(attacked)), max(ms(attacked))],
    ]
    print(common.machine())
    print(common.table(["client calls", "n", "p50 ms", "max ms"], rows))
    ratio = common.median(attacked) / common.median(quiet)
    print(f"attack answers by status: {dict(sorted(outcomes.items()))} ({sum(outcomes.values())} sign-in posts)")
    print(f"p50 under attack / p50 without: {ratio:.2f} ({'met' if ratio < 2 else 'MISSED'}: < 2)")
    common.dump("signin_attack", {"quiet": quiet, "attacked": attacked, "outcomes": dict(outcomes), "ratio": ratio})


if __name__ == "__main__":
    main()
