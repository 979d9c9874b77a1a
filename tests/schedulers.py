"""Helpers for the tests that run real scheduler processes: make much due work, start and stop
`flask --app wsgi scheduler` (and gunicorn), wait for the database to show an outcome."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import String, cast, insert, literal, select, true

from tests.peers import free_port
from tests.support import incident_payload
from tracker import dispatch
from tracker.db import session_scope
from tracker.http.wiring import filing_limits
from tracker.models import Domain, EscalationRisk, Incident, Precedence, Runner, User
from tracker.services.incidents import filing
from tracker.timeutil import utcnow

ROOT = Path(__file__).resolve().parents[1]


def at_once(job, times: int = 2) -> list:
    """Run job in that many threads at once (schedulers racing); what each returned, in finishing order."""
    results: list = []
    racing = [threading.Thread(target=lambda: results.append(job())) for _ in range(times)]
    for thread in racing:
        thread.start()
    for thread in racing:
        thread.join(30)
    assert len(results) == times, f"a racing job failed or hung: {results}"
    return results


def file_many(app, count: int) -> list[int]:
    """File count incidents through the filing service in one transaction; return their ids."""
    payload = incident_payload()
    draft = filing.IncidentDraft(
        occurred_at=utcnow(),
        reporting_unit=payload["reporting_unit"],
        domain=Domain.AIR,
        category="unsafe_intercept",
        precedence=Precedence.IMMEDIATE,
        escalation_risk=EscalationRisk.SERIOUS,
        narrative=payload["narrative"],
    )
    with session_scope(app) as session:
        duty = session.scalar(select(User).where(User.username == "duty"))
        filing_limits, links = limits_of(app), dispatch.ack_links(app)
        return [filing.file_incident(session, draft, duty, filing_limits, utcnow(), links).id for _ in range(count)]


def copy_incidents(app, template_id: int, count: int) -> list[int]:
    """Copy a filed incident count times in one INSERT ... SELECT (references COPY-<n>); return the ids.

    The copies share the template's ladder, step and deadline, but have no outbox rows or timeline
    of their own: filing 2,000 incidents through the service would take most of a test's time.
    """
    table = Incident.__table__
    numbers = select(literal(1).label("n")).cte("numbers", recursive=True)
    numbers = numbers.union_all(select(numbers.c.n + 1).where(numbers.c.n < count))
    columns = [c for c in table.columns if c.name not in ("id", "reference")]
    source = (
        select((literal("COPY-") + cast(numbers.c.n, String)).label("reference"), *columns)
        .select_from(table.join(numbers, true()))
        .where(table.c.id == template_id)
    )
    with session_scope(app) as session:
        session.execute(insert(table).from_select(["reference", *(c.name for c in columns)], source))
        return list(session.scalars(select(Incident.id).where(Incident.reference.like("COPY-%"))))


def limits_of(app):
    with app.app_context():
        return filing_limits()


SCHEDULER = ("-m", "flask", "--app", "wsgi", "scheduler")


def start_scheduler(app, log: Path, command: tuple[str, ...] = SCHEDULER, **env) -> subprocess.Popen:
    """Start `flask --app wsgi scheduler` (or Python with command) on the app's database, fast intervals;
    env adds TRACKER_* values.

    The watchdog is given a long reach (2 minutes) so it stays silent unless a test asks for it:
    a backlog of due work legitimately takes more than six 0.2 s intervals to clear.
    """
    variables = dict(os.environ)
    variables.pop("TRACKER_CONFIG", None)
    variables.update(
        TRACKER_DATABASE_URL=app.config["DATABASE_URL"],
        TRACKER_OUTBOX_DIR=app.config["OUTBOX_DIR"],
        TRACKER_SECRET_KEY="test-secret-of-the-scheduler-processes",
        TRACKER_SWEEP_INTERVAL_SECONDS="0.2",
        TRACKER_DELIVERY_INTERVAL_SECONDS="0.2",
        TRACKER_SWEEP_BATCH_SIZE="50",
        TRACKER_DELIVERY_BATCH_SIZE="50",
        TRACKER_WATCHDOG_INTERVALS="600",
        # Dead after 10 s of silence (as in production: 2 x 5 s), not 0.4 s: two busy schedulers on two
        # busy cores, queueing on SQLite's write lock, must not take each other for dead (the claims they
        # would take over are sent twice; seen in CI at 2 s).
        TRACKER_RUNNER_DEAD_INTERVALS="50",
        TRACKER_LOG_FORMAT="text",
        # SIGABRT then prints every thread's stack into the log (stopped_or_stacks): a scheduler that does
        # not stop in time shows what it waits on, without a re-run.
        PYTHONFAULTHANDLER="1",
    )
    variables.update({f"TRACKER_{name}": str(value) for name, value in env.items()})
    with log.open("a") as handle:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=variables,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    _LOGS[process.pid] = log
    return process


def start_gunicorn(app, log: Path, port: int, database_url: str, **more: str) -> subprocess.Popen:
    """gunicorn with the tracker's settings (and more variables), one worker, JSON logs into log."""
    variables = {name: value for name, value in os.environ.items() if name != "TRACKER_CONFIG"}
    variables.update(
        TRACKER_DATABASE_URL=database_url,
        TRACKER_OUTBOX_DIR=app.config["OUTBOX_DIR"],
        TRACKER_SECRET_KEY="test-secret-of-the-gunicorn-process-0123",
        TRACKER_LOG_FORMAT="json",
        TRACKER_WEB_BIND=f"127.0.0.1:{port}",
        TRACKER_WEB_WORKERS="1",
    )
    variables.update(more)
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "wsgi:app"]
    with log.open("w") as handle:
        return subprocess.Popen(command, cwd=ROOT, env=variables, stdout=handle, stderr=subprocess.STDOUT)


@contextmanager
def serving(app, log: Path, database_url: str, **more: str) -> Iterator[Callable[..., int]]:
    """gunicorn as start_gunicorn starts it, on a free port, once it answers /api/v1/health (or has died): yields
    get(path, headers=None), the status it answers (0: no answer, -1: gunicorn gone). Stopped with SIGTERM at the
    end, as an operator stops it, and killed should it outlive the test."""
    port = free_port()
    process = start_gunicorn(app, log, port, database_url, **more)

    def get(path: str, headers: dict | None = None) -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status
        except urllib.error.HTTPError as refused:
            return refused.code
        except OSError:
            return 0 if process.poll() is None else -1

    get.port = port  # type: ignore[attr-defined]  # for a test that speaks HTTP itself
    try:
        wait_until(lambda: get("/api/v1/health") != 0, 60, "gunicorn's health answer", [log])
        yield get
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


_LOGS: dict[int, Path] = {}  # a started scheduler's log, by pid
# Its first line: plain (LOG_FORMAT text), or the message of a JSON line (json).
_STARTED = re.compile(r'(?:^|"message": ")scheduler (\S+): ', re.MULTILINE)


def runner_of(process: subprocess.Popen) -> str:
    """The runner id a scheduler process writes into timeline events and its heartbeat (tracker.jobs.runner_id,
    new at each start), as its first line in its log says; "" before it has said it."""
    said = _STARTED.search(_LOGS[process.pid].read_text(errors="replace"))
    if said is None:
        return ""
    assert said[1].startswith(f"{socket.gethostname()[:100]}:{process.pid}:"), said[1]
    return said[1]


def all_beating(app, processes: list[subprocess.Popen]) -> bool:
    """Every scheduler process has said its runner id and has its heartbeat on record: each has started
    running its jobs (its sweep and its heartbeat are first run at its start, together)."""
    names = [runner_of(process) for process in processes]
    with session_scope(app) as session:
        return all(names) and set(names) <= set(session.scalars(select(Runner.name)))


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)  # a job under way is let finish: on a loaded machine that takes a while
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stopped_or_stacks(process: subprocess.Popen, timeout: float, log: Path) -> int:
    """The process's exit code once it ends within timeout; else abort it, which prints each of its
    threads' stacks into log (PYTHONFAULTHANDLER, start_scheduler), and fail with them."""
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        process.wait(30)
        raise AssertionError(
            f"still running {timeout} s after the signal; its log ends:\n{log.read_text()[-6000:]}"
        ) from None


def wait_until(condition, timeout: float, what: str, logs: list[Path] = (), every: float = 0.2):
    """Poll condition() until it returns something true; return that, or fail naming what and the logs' tails."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            tails = " | ".join(f"{log.name}: {log.read_text()[-1500:]}" for log in logs if log.exists())
            raise AssertionError(f"not {what} within {timeout} s; logs: {tails}")
        time.sleep(every)


def stop_once_beating(app, process: subprocess.Popen, log: Path, signum: int) -> None:
    """Wait until the scheduler's heartbeat is on record, send it signum, and check it stopped by itself
    (its stacks in the failure when it did not); a scheduler left running is stopped all the same."""
    try:

        def beating():
            with session_scope(app) as session:
                return runner_of(process) in session.scalars(select(Runner.name)).all()

        wait_until(beating, 30, "the scheduler's heartbeat", [log])
        process.send_signal(signum)
        assert stopped_or_stacks(process, 30, log) == 0, log.read_text()[-1500:]
    finally:
        stop(process)
