"""Shared fixtures: per worker, one database and one app per engine; each test starts from a template.

Databases (tests/databases.py). Each worker has a SQLite database and, when TRACKER_TEST_DATABASE_URL
is set, a PostgreSQL database of its own, and two templates of each made once: the migrated schema,
and the same holding the world (tests/support.py build_world: users of every role with tokens,
channels L1-L3 and "Other desk", a two-step policy, the default rule). Before each test the database
is reset to the second if the test asks for `world`, else to the first: on SQLite the file is
replaced by a copy, on PostgreSQL the tables are emptied and refilled. Commits are real, so threads,
scheduler processes and a live server see them.

Engines. Every test that touches the database runs on SQLite. A test whose outcome can depend on the
engine is marked `both_databases` and runs again on PostgreSQL when TRACKER_TEST_DATABASE_URL is set:
claims and SKIP LOCKED, concurrency and faults, constraints and triggers, migrations, transactions of
their own, JSON columns, time windows and arithmetic in SQL, NUL characters. The mark is a module's
`pytestmark` when the whole module is about that, else it sits on the test; either way with the
reason beside it. HTTP contracts, pages, validation, OpenAPI, the fuzzer, the browser and unit tests
run on SQLite only. Ids end in [sqlite] or [postgresql].

Apps. `app` is the worker's app for the test's engine, built once and bound to that database for the
whole run (so SQLAlchemy compiles each statement once, not in every test); its config is put back
and its outbox emptied around each test. A test that needs a configuration of its own builds an app
with `make_app(**config)`, on the same database.

Workers (pytest-xdist; options in pyproject.toml). Each has its own SQLite files under its tmp_path
and its own PostgreSQL database, tracker_test_<worker>_<pid>, created by the run and dropped at its
end with those made for its tests (named after it: tests/databases.py). The long tests are handed out first.
"""

import copy
import gc
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.databases import MIGRATED, PostgresDatabase, SqliteDatabase
from tests.peers import SmtpServer, WebhookReceiver
from tests.support import World
from tracker import create_app
from tracker.db import engine_of
from tracker.scheduler import build_scheduler


def _compile_route_builders_once() -> None:
    """Each app the tests build (about 400 a run, with make_app) compiled a URL builder for each of its
    ~200 routes, two Python functions a route made from an AST: nine tenths of create_app's time and
    one of the suite's largest costs. A builder's code depends only on the rule's text, its parts, the
    names of its defaults and whether it appends unknown arguments (converters are looked up on the
    rule it is bound to, at each call), so one compiled for an equal rule of an earlier app is the
    same function. A rule with a default for one of its own variables gets the value folded into the
    code, so it is compiled afresh, as werkzeug does; so is every rule if werkzeug changes its ways."""
    from werkzeug.routing.rules import Rule

    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:
        return
    compiled: dict[tuple, object] = {}

    def once(self, append_unknown=True):
        defaults = self.defaults or {}
        trace = tuple(getattr(self, "_trace", ()))
        if not trace or any(dynamic and part in defaults for dynamic, part in trace):
            return compile_builder(self, append_unknown)
        key = (self.rule, trace, tuple(defaults), append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    Rule._compile_builder = once


_compile_route_builders_once()


class _CompiledTemplates(BytecodeCache):
    """Every app's templates compiled once in a test process, not again by each app the tests build
    (Jinja checks each template's source against the code it keeps, so an edited one is compiled anew)."""

    def __init__(self):
        self.kept: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.kept:
            bucket.bytecode_from_string(self.kept[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.kept[bucket.key] = bucket.bytecode_to_string()


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": _CompiledTemplates()}


@event.listens_for(Engine, "connect")
def _commit_without_waiting_on_the_disk(dbapi_connection, record) -> None:
    """On SQLite, as on PostgreSQL (synchronous_commit off, tests/databases.py): a commit does not wait for the
    WAL to reach the disk. It did (synchronous FULL): test_watches, test_summaries_api and test_ladder_api, 201
    tests, waited 5.6 s in 2,229 fdatasync calls (strace -c -w), 2.5 ms each with the other workers writing too,
    and the sqlite3 commits were a tenth of the authorization matrix's time under cProfile. Other connections and
    processes see the same (the OS has the pages); only a crash of the machine could lose a commit, and no test
    crashes it. Every engine of the test processes; the processes tests start (CLI, scheduler, gunicorn) keep
    the production setting."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()


PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def app_config(outbox: Path, **config) -> dict:
    """The configuration every test app starts from; keyword arguments add to it."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-of-the-suite-at-least-32-chars",
        "OUTBOX_DIR": str(outbox),
        "SWEEP_INTERVAL_SECONDS": 0.2,
        "DELIVERY_INTERVAL_SECONDS": 0.2,
        "PUBLIC_URL": "http://tracker.test",
        **config,
    }


def pytest_generate_tests(metafunc):
    """A test that touches the database runs on SQLite, and on PostgreSQL too when marked both_databases."""
    if "backend" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        metafunc.parametrize("backend", BACKENDS if both else BACKENDS[:1], indirect=True)


def pytest_collection(session):
    """On a fresh clone every worker rewrote the asserts of every test module itself (pytest keeps a module
    once rewritten in __pycache__, but the workers import them in the same order at the same time): 15 s of
    a worker's 22 s of collecting, against 7 s once the cache is there. Each worker first imports its share
    of the modules, the others' shares come from the cache they write, and collection goes on as ever
    (a module already imported is taken as it is; one that fails to import is reported by the collection)."""
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if count < 2 or not worker.removeprefix("gw").isdigit():
        return
    from _pytest.pathlib import import_path

    config = session.config
    named = [config.invocation_params.dir / arg.split("::")[0] for arg in config.args]  # what the run collects
    modules = sorted({module for path in named for module in ([path] if path.is_file() else path.rglob("test_*.py"))})
    for path in modules[int(worker.removeprefix("gw")) :: count]:
        try:
            import_path(
                path,
                mode=config.getoption("importmode"),
                root=config.rootpath,
                consider_namespace_packages=config.getini("consider_namespace_packages"),
            )
        except (Exception, pytest.skip.Exception):  # the collection imports it again and reports it
            continue


def pytest_collection_modifyitems(items):
    """Hand out the longest tests first, so that the workers finish together rather than one starting
    a 30 s test when the other has nothing left: the scheduler-process and thread-race tests of
    tests/integration, then the other slow ones and Chromium's, then the rest."""

    def length(item) -> int:
        slow, browser = item.get_closest_marker("slow"), item.get_closest_marker("browser")
        if slow and item.path.parent.name == "integration":
            return 0
        return 1 if slow or browser else 2

    items.sort(key=length)


def pytest_collection_finish(session):
    """Python's cycle collector took a tenth of a worker's CPU (measured with gc.callbacks): each full
    collection walked every module, class and collected test of the process, some 250 ms, a dozen times a
    worker. What is there once the tests are collected stays for the run (gc.freeze), and the collector runs
    less often (20,000 allocations, not 700): about half the time spent collecting, the same memory."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """argon2's CHEAPEST profile: the tests create many users; production keeps the default."""
    from argon2 import PasswordHasher, profiles

    from tracker.services.accounts import people

    production = people._hasher
    people._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield
    people._hasher = production


@pytest.fixture(scope="session", autouse=True)
def migrated_files_of_the_run(tmp_path_factory):
    """SQLite files migrated from nothing, kept for the run: in the folder all its workers share under
    pytest-xdist, else in this run's own (tests/databases.py migrate_to)."""
    base = tmp_path_factory.getbasetemp()
    MIGRATED["folder"] = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "migrated"
    yield
    MIGRATED.pop("folder", None)


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory) -> SqliteDatabase:
    directory = tmp_path_factory.mktemp("sqlite")
    return SqliteDatabase(directory, app_config(directory / "outbox"))


@pytest.fixture(scope="session")
def postgresql_database(tmp_path_factory) -> Iterator[PostgresDatabase]:
    name = f"tracker_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    database = PostgresDatabase(PG_URL, name, app_config(tmp_path_factory.mktemp("postgresql") / "outbox"))
    yield database
    database.close()


@pytest.fixture
def backend(request) -> str:
    """sqlite or postgresql (pytest_generate_tests above gives the values)."""
    return request.param


@pytest.fixture
def database(request, backend) -> SqliteDatabase | PostgresDatabase:
    """The worker's database of the test's engine, holding the world if the test asks for `world`."""
    database = request.getfixturevalue(f"{backend}_database")
    database.reset("world" if "world" in request.fixturenames else "empty")
    return database


@pytest.fixture
def database_url(database) -> str:
    return database.url


@pytest.fixture
def world(database) -> World:
    """Users of every role with tokens, channels L1-L3, a two-step policy and a default rule: already
    in the test's database."""
    return copy.deepcopy(database.world)


@pytest.fixture
def app(database):
    """The worker's app on the test's database, with an empty outbox; its config is put back after."""
    app, config = database.app, dict(database.app.config)
    shutil.rmtree(app.config["OUTBOX_DIR"], ignore_errors=True)
    yield app
    engine_of(app).dispose()
    app.config.clear()
    app.config.update(config)
    app.extensions.pop("tracker.set_aside", None)  # what the test's sweeps set aside (tracker/stages.py)


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app of the test's own on its database; keyword arguments add to the test configuration."""
    apps = []

    def build(**config):
        app = create_app(app_config(tmp_path / "outbox", DATABASE_URL=database_url, **config))
        apps.append(app)
        return app

    yield build
    for app in apps:
        engine_of(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def webhook_receiver():
    """A real local HTTP server receiving webhooks."""
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def mail_app(make_app, smtp_server):
    """The app with its e-mail transport pointed at the test SMTP server (no TLS on loopback)."""
    return make_app(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.port,
        SMTP_SECURITY="none",
        # The default's: no test waits on a silent relay, and a loaded host (a full run beside others) kept the
        # local server from answering within 3 s once, failing a delivery the test meant to succeed.
        SMTP_TIMEOUT_SECONDS=10,
        SMTP_FROM="Incident tracker <tracker@tracker.test>",
        SUPERVISOR_TRANSPORT="email",
        DELIVERY_RETRY_BASE_SECONDS=0.05,
        WEBHOOK_CONNECT_TIMEOUT_SECONDS=1,
        WEBHOOK_READ_TIMEOUT_SECONDS=2,
    )


@pytest.fixture
def scheduler(app):
    """The real scheduler (sweep, delivery, line checks) running in this process."""
    running = build_scheduler(app)
    running.start()
    yield running
    running.shutdown(wait=True)
