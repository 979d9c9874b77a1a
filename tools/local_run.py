"""The two steps of `make run` around the server (standard library only, so they start in milliseconds):

    python tools/local_run.py check-port PORT     exit 1 naming PORT when 127.0.0.1:PORT is taken
    python tools/local_run.py announce URL TEXT    print TEXT once URL/api/v1/health answers

Not part of the application.
"""

import socket
import sys
import time
import urllib.error
import urllib.request

HOST = "127.0.0.1"
WAIT_SECONDS = 90  # a first start on a busy machine takes a while; the server's own lines tell why if longer


def _taken(port: int) -> bool:
    """Whether a server could not listen on HOST:port (as the development server binds it)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return True
    return False


def check_port(text: str) -> int:
    """Refuse a PORT that is no port number, or taken, saying which free one to give instead."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        print(f"PORT={text!r} is not a port number: make run PORT=5000", file=sys.stderr)
        return 1
    port = int(text)
    if not _taken(port):
        return 0
    free = next((other for other in range(port + 1, min(port + 100, 65536)) if not _taken(other)), None)
    advice = f": start on a free one with make run PORT={free}" if free else ": set PORT to a free one"
    print(f"PORT={port} is taken (another program listens on {HOST}:{port}){advice}", file=sys.stderr)
    return 1


def announce(url: str, text: str) -> int:
    """Print text once url's health check answers 200; say so on stderr if it never does."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # a local server, never a proxy
    deadline, problem = time.monotonic() + WAIT_SECONDS, "no answer"
    while time.monotonic() < deadline:
        try:
            with opener.open(f"{url}/api/v1/health", timeout=2) as response:
                if response.status == 200:
                    print(text, flush=True)
                    return 0
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code}"
        except OSError:
            pass
        time.sleep(0.2)
    print(f"{url}/api/v1/health: {problem} after {WAIT_SECONDS} s (see the server's lines above)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["check-port", port]:
            sys.exit(check_port(port))
        case ["announce", url, text]:
            sys.exit(announce(url, text))
    sys.exit(__doc__)
