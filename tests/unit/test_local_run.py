"""`make run`'s two helpers (tools/local_run.py): the port check that names the PORT setting, and the
start line printed only once the server answers its health check."""

import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "local_run.py"


def local_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=60)


def test_a_taken_port_is_refused_naming_the_setting_and_a_free_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = local_run("check-port", str(port))
    assert result.returncode == 1, result
    assert f"PORT={port} is taken" in result.stderr, result.stderr
    assert "make run PORT=" in result.stderr, result.stderr


def test_a_free_port_passes_and_a_word_is_no_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert local_run("check-port", str(port)).returncode == 0
    word = local_run("check-port", "http")
    assert word.returncode == 1 and "PORT='http' is not a port number" in word.stderr, word


def test_the_start_line_waits_until_the_health_check_answers():
    asked: list[str] = []

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(200 if len(asked) > 2 else 503)  # starting: not yet
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        result = local_run("announce", f"http://127.0.0.1:{server.server_port}", "Tracker on ...")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert result.returncode == 0, result
    assert result.stdout == "Tracker on ...\n"
    assert asked == ["/api/v1/health"] * 3, "printed before the server answered 200"
