"""Board page: p95 of GET /board, signed in, with 500 open incidents (target <= 150 ms).

gunicorn (config/gunicorn.conf.py, 2 sync workers) on PostgreSQL; 500 open incidents are bulk
copies of one filed through the service layer. One client requests the page one at a time
(a duty officer's browser), after warm-up; also the rows fragment the page polls.

    .venv/bin/python benchmarks/bench_board.py [--open 500] [--requests 300]
"""

import argparse
import re
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def sign_in(base: str) -> requests.Session:
    from tracker.demo import PASSWORD

    http = requests.Session()
    form = http.get(f"{base}/signin", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form) or re.search(
        r'name="csrf_token" value="([^"]+)"', form
    )
    answer = http.post(
        f"{base}/signin",
        data={"csrf_token": token.group(1), "username": "supervisor", "password": PASSWORD.format("supervisor")},
        timeout=10,
    )
    answer.raise_for_status()
    return http


def sample(http: requests.Session, url: str, count: int, headers=None) -> list[float]:
    for _ in range(10):
        http.get(url, timeout=10, headers=headers).raise_for_status()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = http.get(url, timeout=10, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open", type=int, default=500)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with common.database("board") as url:
        app = common.tracker_app(url)
        common.seed(app)
        template = common.file_template(app)
        common.clone_incidents(url, template, args.open - 4, 1, next_escalation_at="now() + interval '1 day'")
        common.analyze(url)
        with common.gunicorn("wsgi:app", {"TRACKER_DATABASE_URL": url}) as (port, _pid):
            base = f"http://127.0.0.1:{port}"
            http = sign_in(base)
            page = http.get(f"{base}/board", timeout=10).text
            shown = page.count("<tr") - 1
            board = sample(http, f"{base}/board", args.requests)
            rows = sample(http, f"{base}/board/rows", args.requests, {"X-Requested-With": "fetch"})
    table = [
        ["/board", shown, common.quantile(board, 0.5), common.quantile(board, 0.95), max(board)],
        ["/board/rows", shown, common.quantile(rows, 0.5), common.quantile(rows, 0.95), max(rows)],
    ]
    print(f"\nBoard page ({args.requests} sequential requests after warm-up; {common.machine()})")
    print(common.table(["path", "rows shown", "p50 ms", "p95 ms", "max ms"], table))
    common.dump("board", {"rows": table})


if __name__ == "__main__":
    main()
