"""In JSON mode (LOG_FORMAT json, the default) every line a process writes is one JSON object, so a log
shipper never meets a plain line: the scheduler's start and stop as its jobs' lines, and gunicorn's error
log (its start, its workers, a request that failed) as its access log."""

import json
import signal
import socket

import pytest

from tests.databases import migrate_to
from tests.peers import free_port
from tests.schedulers import (
    runner_of,
    serving,
    start_gunicorn,
    start_scheduler,
    stop_once_beating,
    stopped_or_stacks,
)
from tracker import migrate

pytestmark = pytest.mark.slow


def records(text: str) -> list[dict]:
    """Each line as the JSON object it must be; fail naming the first line that is not one."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            found.append(json.loads(line))
        except ValueError:
            pytest.fail(f"line {number} is not JSON: {line!r}\n--- the whole log ---\n{text[-3000:]}")
    return found


def test_a_scheduler_in_json_mode_writes_only_json_lines(app, tmp_path):
    log = tmp_path / "scheduler.log"
    process = start_scheduler(app, log, LOG_FORMAT="json")
    stop_once_beating(app, process, log, signal.SIGTERM)
    messages = [record["message"] for record in records(log.read_text())]
    assert any(message.startswith(f"scheduler {runner_of(process)}: sweep every") for message in messages), messages
    assert messages[-2:] == ["scheduler stopping on SIGTERM: letting the running jobs finish", "scheduler stopped"], (
        messages
    )


@pytest.mark.parametrize("stop", [signal.SIGHUP, signal.SIGQUIT])
def test_a_scheduler_whose_terminal_closed_stops_cleanly_and_says_why(app, tmp_path, stop):
    """SIGHUP (its terminal closed) and SIGQUIT (Ctrl-\\) killed it at once, saying nothing, with its heartbeat
    left behind: its claims were held until the heartbeat went stale."""
    log = tmp_path / "scheduler.log"
    process = start_scheduler(app, log, LOG_FORMAT="json")
    stop_once_beating(app, process, log, stop)
    messages = [record["message"] for record in records(log.read_text())]
    assert messages[-2:] == [f"scheduler stopping on {stop.name}: letting the running jobs finish", "scheduler stopped"]
    assert process.returncode == 0, process.returncode


def test_gunicorn_in_json_mode_writes_only_json_lines(app, tmp_path):
    """And no error at a clean start: gunicorn's control socket, made by default in ~/.gunicorn (one per user, so
    another gunicorn of the user took it over; not makeable under the systemd unit, an error at every start), is
    off."""
    log, home = tmp_path / "gunicorn.log", tmp_path / "home"
    home.mkdir()
    with serving(app, log, app.config["DATABASE_URL"], HOME=str(home)) as get:
        assert get("/api/v1/health") == 200, log.read_text()[-3000:]
        refused_before_the_app_in_json(get.port)
    lines = records(log.read_text())
    said = {(line["logger"], line.get("message", "")) for line in lines}
    assert any(logger == "gunicorn.error" and text.startswith("Starting gunicorn") for logger, text in said), said
    assert any(logger == "gunicorn.error" and text.startswith("Shutting down") for logger, text in said), said
    assert any(line["logger"] == "gunicorn.access" and line["path"] == "/api/v1/health" for line in lines), lines
    assert not [line for line in lines if line["level"] == "error"], lines
    assert not (home / ".gunicorn").exists()


def test_gunicorn_refuses_a_database_whose_schema_is_behind_the_code_in_one_json_line(app, tmp_path):
    """The code upgraded and init-db forgotten: gunicorn served, and every request answered 500 on a missing
    column. It now stops before its workers start, saying what to do."""
    older = tmp_path / "older.db"
    migrate_to(f"sqlite:///{older}", "0015")
    log = tmp_path / "gunicorn.log"
    process = start_gunicorn(app, log, free_port(), f"sqlite:///{older}")
    code = stopped_or_stacks(process, 60, log)
    lines = records(log.read_text())
    assert code == 1, lines
    said = [(line["level"], line.get("message", "")) for line in lines if line["logger"] == "gunicorn.error"]
    refusal = (
        f"tracker: the database is at schema revision 0015, this tracker needs {migrate.head()}: back it up "
        "(`flask --app wsgi backup PATH`), then run `flask --app wsgi init-db` to upgrade it"
    )
    assert ("error", refusal) in said, said
    assert not any(text.startswith("Booting worker") for _level, text in said), said


@pytest.mark.parametrize(
    "name, least", [("TRACKER_WEB_WORKERS", 1), ("TRACKER_WEB_TIMEOUT", 0), ("TRACKER_WEB_MAX_REQUESTS", 0)]
)
def test_gunicorn_refuses_a_count_that_is_no_number_in_one_line(app, tmp_path, name, least):
    """TRACKER_WEB_WORKERS=four: gunicorn printed "Failed to read config file" and a ValueError traceback."""
    log = tmp_path / "gunicorn.log"
    process = start_gunicorn(app, log, free_port(), app.config["DATABASE_URL"], **{name: "four"})
    code = stopped_or_stacks(process, 60, log)
    assert code == 1
    assert log.read_text() == f"tracker: {name} must be a whole number of {least} or more, not 'four'\n"


def refused_before_the_app_in_json(port: int) -> None:
    """What gunicorn refuses before the app sees it (a request line over its limit, a header too large, a header it
    cannot read) was its own HTML page, where every other refusal is the API's JSON."""
    long_line = b"GET /api/v1/incidents?q=" + b"x" * 5000 + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    big_header = b"GET /api/v1/health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"y" * 9000 + b"\r\n\r\n"
    control = b"GET /api/v1/health HTTP/1.1\r\nHost: t\r\nX-Bad: a\x01b\r\n\r\n"
    for request, status, code in (
        (long_line, 414, "uri_too_long"),
        (big_header, 431, "headers_too_large"),
        (control, 400, "bad_request"),
    ):
        said = raw(port, request)
        assert said[:2] == (status, "application/json"), said
        assert said[2]["error"]["code"] == code and said[2]["error"]["details"] == {}, said


def raw(port: int, request: bytes) -> tuple[int, str, dict]:
    """Send request as it is; the status, the Content-Type and the JSON body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), fields.get("Content-Type", ""), json.loads(body)
