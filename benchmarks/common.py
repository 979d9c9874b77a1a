"""Shared by the benchmarks: a database of the run's own, a seeded world, servers, wrk, tables.

Each benchmark creates a PostgreSQL database named bench_<pid>, migrates it, seeds it through
the tracker's own services (demo ladder, users and tokens), and drops it at the end. The server
under test is a real gunicorn started with config/gunicorn.conf.py.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_URL = os.environ.get("TRACKER_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PYTHON = sys.executable
BIN = Path(PYTHON).parent


@contextlib.contextmanager
def database(tag: str):
    """Yield the URL of a new, migrated PostgreSQL database; drop it afterwards."""
    from tracker.migrate import upgrade

    name = f"bench_{tag}_{os.getpid()}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def tracker_app(url: str, **config):
    from tracker import create_app

    return create_app({"DATABASE_URL": url, "REGION_FILE": "config/region.geojson", **config})


def seed(app) -> dict[str, str]:
    """Load the demo ladder and users; return username -> API token."""
    from tracker import demo, dispatch
    from tracker.db import session_scope
    from tracker.services.incidents import filing
    from tracker.timeutil import utcnow

    limits = filing.FilingLimits(4000, 300, "INC", app.extensions["tracker.region"])
    with session_scope(app) as session:
        return demo.load(session, limits, utcnow(), app.extensions["tracker.transports"], dispatch.ack_links(app))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@contextlib.contextmanager
def gunicorn(app_spec: str, env: dict, workers: int = 2):
    """Run gunicorn with the project's config (sync workers, access log off, no worker recycling);
    yield its port and the master's pid."""
    port = free_port()
    full_env = {
        **os.environ,
        **env,
        "TRACKER_WEB_BIND": f"127.0.0.1:{port}",
        "TRACKER_WEB_WORKERS": str(workers),
        "TRACKER_WEB_ACCESS_LOG": "/dev/null",
        "TRACKER_WEB_LOG_LEVEL": "warning",
        # No worker is recycled during a run (max_requests 0, for every server alike): a worker that left
        # would take its PostgreSQL connections, and their CPU, out of the round's figures.
        "TRACKER_WEB_MAX_REQUESTS": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    }
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "config" / "gunicorn.conf.py"), app_spec],
        cwd=ROOT,
        env=full_env,
        start_new_session=True,
    )
    try:
        wait_for_port(port, process=process)
        yield port, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def wrk(url: str, connections: int, seconds: int, script: Path, env: dict) -> dict:
    """Run wrk with a Lua script; return requests/s, p50/p99 (ms), non-2xx count."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    ).stdout
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "errors": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)) else 0,
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "raw": out,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile (q in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table, printed as it is pasted into RESULTS.md."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return str(value)


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {cpu}, Python {sys.version.split()[0]}"


def dump(name: str, payload: dict) -> None:
    """Keep the raw figures of the last run beside the benchmark (git-ignored)."""
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str))


def file_template(app, sector: str = "North"):
    """File one real incident through the service layer; return its id (the row the bulk loads copy)."""
    from tracker import dispatch
    from tracker.db import session_scope
    from tracker.models import Domain, EscalationRisk, Precedence
    from tracker.services.accounts import people
    from tracker.services.incidents import checks, filing
    from tracker.timeutil import utcnow

    limits = filing.FilingLimits(4000, 300, "TPL", app.extensions["tracker.region"])
    with session_scope(app) as session:
        draft = filing.IncidentDraft(
            occurred_at=utcnow(),
            reporting_unit="Benchmark unit",
            domain=Domain.AIR,
            category="unsafe_intercept",
            precedence=Precedence.PRIORITY,
            escalation_risk=EscalationRisk.SERIOUS,
            latitude=54.412,
            longitude=22.871,
            sector=sector,
            narrative="Template incident for the benchmarks.",
        )
        duty, links = people.find_user(session, "duty"), dispatch.ack_links(app)
        filed = filing.file_incident(session, draft, duty, limits, utcnow(), links)
        # Checked as the sweep checks a new filing, so that its copies are old, checked incidents.
        checks.check(session, filed, utcnow(), dispatch.filing_checks(app))
        filed.checks_due_at = None
        session.flush()
        return filed.id


def clone_incidents(url: str, template_id: int, count: int, start: int, **values) -> None:
    """Copy the template incident count times in one INSERT ... SELECT (references BULK-<n>).

    values set columns by SQL expression, e.g. status="'resolved'", next_escalation_at="NULL".
    """
    from tracker.models import Incident

    skip = {"id", "reference", *values}
    columns = [c.name for c in Incident.__table__.columns if c.name not in skip]
    targets = ["reference", *columns, *values]
    sources = ["'BULK-' || n", *columns, *values.values()]
    sql = (
        f"INSERT INTO incidents ({', '.join(targets)}) SELECT {', '.join(sources)} "
        f"FROM incidents, generate_series({start}, {start + count - 1}) AS n WHERE incidents.id = {template_id}"
    )
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(sql)
    engine.dispose()


def analyze(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
        # Write back now what loading and vacuuming dirtied, rather than have the checkpointer write it
        # during the next measurement (after a million rows, while bench_history timed its sweeps).
        connection.exec_driver_sql("CHECKPOINT")
    engine.dispose()


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each process has used so far (from /proc; a process gone counts 0)."""
    ticks, used = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)
    return used


def server_cpu_seconds(master: int) -> float:
    """CPU seconds used so far by a gunicorn server: its master (with the workers it has reaped, so a
    worker that left during a round still counts) and its live workers."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{master}/stat").read_text().rsplit(")", 1)[1].split()
    own = sum(int(v) for v in fields[11:15]) / ticks  # utime, stime, cutime, cstime (stat fields 14-17)
    return own + sum(cpu_seconds(children(master)).values())


def backends(url: str, application: str) -> list[int]:
    """The PostgreSQL server processes serving connections named application (application_name)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        pids = connection.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %(name)s", {"name": application}
        ).scalars()
        found = list(pids)
    engine.dispose()
    return found


def with_application(url: str, application: str) -> str:
    """The database URL with the connections' application_name set (to find their server processes)."""
    return make_url(url).update_query_dict({"application_name": application}).render_as_string(hide_password=False)


def children(pid: int) -> list[int]:
    """The child processes of pid (gunicorn's workers)."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def profile(pid: int, seconds: int, name: str) -> Path | None:
    """Sample a process with py-spy for seconds; keep its collapsed stacks in benchmarks/out/<name>.txt."""
    spy = BIN / "py-spy"
    if not spy.exists():
        print("py-spy is not installed (.venv/bin/pip install py-spy): no profile", file=sys.stderr)
        return None
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    target = out / f"{name}.txt"
    subprocess.run(
        [str(spy), "record", "--format", "raw", "--rate", "200", "--duration", str(seconds), "--pid", str(pid),
         "--output", str(target), "--nonblocking"],
        check=True, capture_output=True,
    )  # fmt: skip
    return target


def hot_spots(collapsed: Path, top: int = 15) -> str:
    """From py-spy's collapsed stacks: the share of samples in which each function was on the stack
    (inclusive), for the project's own functions and the libraries it calls first."""
    total, inclusive = 0, {}
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        seen = set()
        for frame in stack.split(";"):
            name = re.sub(r"\s*\(/.*?/(site-packages|work/main|lib/python3\.\d+)/", " (", frame)
            if name not in seen:
                seen.add(name)
                inclusive[name] = inclusive.get(name, 0) + int(count)
    rows = sorted(inclusive.items(), key=lambda item: -item[1])
    ours = [(n, c) for n, c in rows if "tracker/" in n or "sqlalchemy/orm/session" in n or "psycopg" in n]
    lines = [f"{100 * c / total:5.1f}%  {n}" for n, c in ours[:top]]
    return f"{total} samples\n" + "\n".join(lines)
