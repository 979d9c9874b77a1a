"""create_app's configuration layers: committed defaults < TRACKER_CONFIG file < TRACKER_*
environment variables < the mapping given to create_app; contradictions fail at start-up."""

import errno
import json
import os
import re
import secrets
import threading
from pathlib import Path

import pytest
from apiflask import APIFlask

from tracker import create_app
from tracker.config import ConfigError
from tracker.db import engine_of


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No TRACKER_* variable from the caller's shell, and an instance folder under tmp_path."""
    for name in list(os.environ):
        if name.startswith("TRACKER_"):
            monkeypatch.delenv(name)
    instance = tmp_path / "instance"
    monkeypatch.setattr(APIFlask, "auto_find_instance_path", lambda self: str(instance))


@pytest.fixture
def build(tmp_path):
    """Build an app on a SQLite file in tmp_path (unless the test says otherwise); dispose of it after."""
    apps = []

    def build(config: dict | None = None):
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'tracker.db'}", **(config or {})})
        apps.append(app)
        return app

    yield build
    for app in apps:
        engine_of(app).dispose()


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    """Write a TOML file and name it in TRACKER_CONFIG."""

    def write(text: str) -> Path:
        path = tmp_path / "deployment.toml"
        path.write_text(text)
        monkeypatch.setenv("TRACKER_CONFIG", str(path))
        return path

    return write


def test_committed_defaults_apply_without_other_layers(build):
    config = build().config
    assert config["SWEEP_INTERVAL_SECONDS"] == 5
    assert config["PAGE_SIZE_DEFAULT"] == 50
    assert config["REFERENCE_PREFIX"] == "INC"


def test_file_named_by_tracker_config_overrides_defaults(build, config_file):
    config_file('SWEEP_INTERVAL_SECONDS = 3\nREFERENCE_PREFIX = "NMK"\n')
    config = build().config
    assert config["SWEEP_INTERVAL_SECONDS"] == 3
    assert config["REFERENCE_PREFIX"] == "NMK"
    assert config["SWEEP_BATCH_SIZE"] == 200


def test_environment_variables_override_the_file(build, config_file, monkeypatch):
    config_file("SWEEP_INTERVAL_SECONDS = 3\nSWEEP_BATCH_SIZE = 50\n")
    monkeypatch.setenv("TRACKER_SWEEP_INTERVAL_SECONDS", "7")
    config = build().config
    assert config["SWEEP_INTERVAL_SECONDS"] == 7
    assert type(config["SWEEP_INTERVAL_SECONDS"]) is int
    assert config["SWEEP_BATCH_SIZE"] == 50


def test_mapping_given_to_create_app_overrides_every_layer(build, config_file, monkeypatch):
    config_file("SWEEP_INTERVAL_SECONDS = 3\n")
    monkeypatch.setenv("TRACKER_SWEEP_INTERVAL_SECONDS", "7")
    assert build({"SWEEP_INTERVAL_SECONDS": 9}).config["SWEEP_INTERVAL_SECONDS"] == 9


def test_database_url_from_the_environment_is_used(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    monkeypatch.setenv("TRACKER_DATABASE_URL", url)
    app = create_app()
    try:
        assert app.config["DATABASE_URL"] == url
        assert str(engine_of(app).url) == url
    finally:
        engine_of(app).dispose()


def test_missing_config_file_fails_fast(build, tmp_path, monkeypatch):
    missing = tmp_path / "nowhere.toml"
    monkeypatch.setenv("TRACKER_CONFIG", str(missing))
    with pytest.raises(ConfigError, match="nowhere.toml"):
        build()


def test_config_naming_a_directory_fails_fast(build, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match="not a file"):
        build()


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("x", "at least 32 random characters"),
        (123, "must be a string"),  # TRACKER_SECRET_KEY=123 reads as a number
        ("change-me: at least 32 random characters (python -c ...)", "placeholder"),
        (" " * 40, "40 characters but only 1 different ones"),
        ("a" * 40, "40 characters but only 1 different ones"),
        ("secret" * 8, "48 characters but only 5 different ones"),
    ],
)
def test_a_secret_key_anyone_could_guess_or_read_fails_fast(build, key, says):
    """The key signs one-click acknowledge links: a guessable one lets anyone acknowledge without signing in."""
    with pytest.raises(ConfigError, match=re.escape(says)):
        build({"SECRET_KEY": key})


@pytest.mark.parametrize(
    ("fallbacks", "says"),
    [
        (["x" * 31], "SECRET_KEY_FALLBACKS' key 1 must be at least 32 random characters (it is 31)"),
        (
            ["an-earlier-key-0123456789abcdefghijkl", "change-me: the key SECRET_KEY had before"],
            "key 2 is the sample's placeholder",
        ),  # its line
        ([12345678901234567890123456789012345], "SECRET_KEY_FALLBACKS' key 1 must be a string"),
        ("y" * 40, "SECRET_KEY_FALLBACKS must be a list of earlier keys"),  # one key, not in a list
    ],
    ids=["short", "placeholder", "number", "not_a_list"],
)
def test_a_fallback_key_anyone_could_guess_or_read_fails_fast_in_one_line_without_it(build, fallbacks, says):
    """A key of SECRET_KEY_FALLBACKS verifies links and sessions as SECRET_KEY does: a guessable one lets anyone
    sign a link the tracker takes. The refusal never says the key."""
    with pytest.raises(ConfigError, match=re.escape(says)) as refused:
        build({"SECRET_KEY_FALLBACKS": fallbacks})
    message = str(refused.value)
    assert "\n" not in message
    assert all(str(key) not in message for key in ([fallbacks] if isinstance(fallbacks, str) else fallbacks))


def test_fallback_keys_from_the_environment_verify_and_never_sign(build, monkeypatch):
    old, new = "the-old-key-0123456789-abcdefghijkl", "the-new-key-9876543210-mnopqrstuvwx"
    monkeypatch.setenv("TRACKER_SECRET_KEY", new)
    monkeypatch.setenv("TRACKER_SECRET_KEY_FALLBACKS", json.dumps([old]))
    app = build()
    assert app.config["SECRET_KEY_FALLBACKS"] == [old]
    assert app.config["WTF_CSRF_SECRET_KEY"] == [old, new], "a form's CSRF token: the new key signs, both verify"
    assert build({"SECRET_KEY_FALLBACKS": []}).config.get("WTF_CSRF_SECRET_KEY") is None, "none: Flask-WTF's own"
    assert build({"SECRET_KEY_FALLBACKS": None}).config["SECRET_KEY_FALLBACKS"] == []


def test_a_classification_longer_than_its_column_fails_fast(build):
    """An incident keeps its classification in 32 characters, and a subject keeps it whole (a marking too long
    for a subject is cut to its classification and "REL TO (SEE TEXT)"): a longer one cannot be either."""
    with pytest.raises(ConfigError, match=re.escape("CLASSIFICATIONS must be at most 32 characters each")):
        build({"CLASSIFICATIONS": ["UNCLASSIFIED", "RESTRICTED RELEASABLE ONLY BY THE DIRECTOR OF OPERATIONS"]})


def test_an_empty_key_file_under_instance_fails_fast_not_an_empty_key(build, tmp_path):
    """Naming the file: "leave SECRET_KEY empty to have one made" was the advice, to someone who had."""
    kept = tmp_path / "instance" / "secret_key"
    kept.parent.mkdir(parents=True)
    kept.write_text("\n")
    with pytest.raises(ConfigError, match=re.escape(f"{str(kept)!r} holds no key (0 characters): remove the file")):
        build()


def test_a_process_starting_while_another_makes_the_key_reads_a_whole_key_and_both_agree(build, tmp_path, monkeypatch):
    """make run starts the web server and the scheduler at once: the key file was made empty, then written,
    so the process starting in between read no key and stopped. Here the other process starts exactly
    then, while the first draws its key."""
    draw, inner = secrets.token_urlsafe, {}

    def drawn_while_another_starts(nbytes=None):
        if not inner:
            inner["app"] = None
            inner["app"] = build()  # the process starting beside: finds no whole key, makes its own
        return draw(nbytes)

    monkeypatch.setattr(secrets, "token_urlsafe", drawn_while_another_starts)
    first = build()
    kept = Path(first.instance_path) / "secret_key"
    assert first.config["SECRET_KEY"] == inner["app"].config["SECRET_KEY"] == kept.read_text().strip()
    assert sorted(p.name for p in kept.parent.iterdir()) == ["secret_key"], "no temp file left behind"


def test_the_key_is_made_on_a_file_system_without_hard_links(build, monkeypatch):
    """FAT, SMB shares and some FUSE mounts refuse os.link (EPERM, ENOTSUP): an instance folder on one got
    no key at all, and every start stopped with "cannot be read: Operation not permitted"."""

    def no_hard_links(src, dst):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_hard_links)
    first = build()
    kept = Path(first.instance_path) / "secret_key"
    assert len(first.config["SECRET_KEY"]) >= 32 and kept.read_text().strip() == first.config["SECRET_KEY"]
    assert kept.stat().st_mode & 0o777 == 0o600
    assert build().config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert sorted(p.name for p in kept.parent.iterdir()) == ["secret_key"], "no temp file left behind"


def test_a_key_file_made_in_place_is_read_once_its_key_is_written(build, tmp_path):
    """Without hard links the key file is empty for a moment after it appears: a process starting then
    waits for the key instead of stopping."""
    kept = tmp_path / "instance" / "secret_key"
    kept.parent.mkdir(parents=True)
    kept.write_text("")
    key = secrets.token_urlsafe(32)
    writer = threading.Timer(0.1, kept.write_text, (key,))
    writer.start()
    try:
        assert build().config["SECRET_KEY"] == key
    finally:
        writer.join()


def test_no_secret_key_and_no_instance_folder_to_keep_one_in_fails_fast_with_one_line(build, tmp_path):
    """A read-only install (the systemd units' ProtectSystem=strict) without SECRET_KEY: every worker and
    scheduler stopped with a FileExistsError or OSError traceback, not a line saying to set the key."""
    (tmp_path / "instance").write_text("in the way")
    with pytest.raises(ConfigError, match=r"^SECRET_KEY is not set and the instance folder .* cannot be made"):
        build()


@pytest.mark.parametrize(
    "text", ['secret_key = "a-key-of-forty-characters-kept-in-the-vault"\n', "SWEEP_INTERVAL = 3\n"]
)
def test_a_setting_the_tracker_does_not_have_is_named_not_dropped(build, config_file, text):
    """A key in lower case, or misspelt, was dropped without a word: without its SECRET_KEY each host made
    a key of its own, and refused the links and sessions the others signed."""
    config_file("SWEEP_BATCH_SIZE = 50\n" + text)
    name = text.split(" ")[0]
    with pytest.raises(ConfigError, match=rf"sets {name}: no setting of the tracker has that name"):
        build()


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("WTF_CSRF_TIME_LIMIT = 43200\n", "WTF_CSRF_TIME_LIMIT", 43200),
        ("WTF_CSRF_SSL_STRICT = false\n", "WTF_CSRF_SSL_STRICT", False),
        ('SESSION_PROTECTION = "strong"\n', "SESSION_PROTECTION", "strong"),
    ],
)
def test_a_setting_of_the_extensions_the_tracker_uses_still_works(build, config_file, text, key, value):
    """Flask-WTF and Flask-Login read theirs from app.config but put them there only when bound, after the
    file is checked: a deployment whose forms lasted a watch (WTF_CSRF_TIME_LIMIT) stopped at its upgrade."""
    config_file(text)
    assert build().config[key] == value


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'SECRET_KEY = "unterminated\n', "Illegal character"),
        (b'NOTES = "caf\xe9"\n', "codec can't decode"),  # Latin-1, as an editor on another desk saved it
    ],
)
def test_a_config_file_that_is_not_toml_or_not_utf8_is_named_in_one_line(build, tmp_path, monkeypatch, content, says):
    path = tmp_path / "deployment.toml"
    path.write_bytes(content)
    monkeypatch.setenv("TRACKER_CONFIG", str(path))
    with pytest.raises(
        ConfigError, match=rf"^TRACKER_CONFIG '{re.escape(str(path))}' is not a readable TOML file: .*{says}"
    ):
        build()


def test_the_deployment_sample_is_refused_until_its_key_is_replaced(build, monkeypatch):
    monkeypatch.setenv("TRACKER_CONFIG", str(Path(__file__).resolve().parents[2] / "config" / "deployment.sample.toml"))
    with pytest.raises(ConfigError, match="placeholder"):
        build()


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("MAX_FUTURE_SKEW_SECONDS", "abc", "MAX_FUTURE_SKEW_SECONDS must be a positive number"),
        ("SWEEP_STALE_INTERVALS", "abc", "SWEEP_STALE_INTERVALS must be a positive number"),
        ("DELIVERY_RETRY_BASE_SECONDS", "abc", "DELIVERY_RETRY_BASE_SECONDS must be a positive number"),
        ("SMTP_PORT", -1, "SMTP_PORT must be a port number"),
        ("SMTP_PORT", "abc", "SMTP_PORT must be a port number"),
        ("PUBLIC_URL", "notaurl", "PUBLIC_URL must be the http(s) address"),
        ("PUBLIC_URL", "http://[::1", "PUBLIC_URL must be the http(s) address"),  # gunicorn's start raised
        ("PUBLIC_URL", "http:///incidents", "PUBLIC_URL must be the http(s) address"),  # no host
        ("PUBLIC_URL", "https://tracker example.org", "no space, query (?...) or fragment (#...)"),
        ("PUBLIC_URL", "https://tracker.example.org/x?y=1", "no space, query (?...) or fragment (#...)"),
        ("PUBLIC_URL", "https://tracker.example.org/#top", "no space, query (?...) or fragment (#...)"),
        ("REFERENCE_PREFIX", "", "REFERENCE_PREFIX must be 1-10 capital letters"),
        ("REFERENCE_PREFIX", "inc-2", "REFERENCE_PREFIX must be 1-10 capital letters"),
        ("SUPERVISOR_TRANSPORT", "email", "SUPERVISOR_TRANSPORT is email but SMTP_HOST is not set"),
        ("EXCHANGE_REFERENCE_PREFIX", "", "EXCHANGE_REFERENCE_PREFIX must be 1-10 capital letters"),
        ("EXCHANGE_REFERENCE_PREFIX", "NM\nBCC", "EXCHANGE_REFERENCE_PREFIX must be 1-10 capital letters"),
        ("EXCHANGE_REFERENCE_PREFIX", "N" * 40, "EXCHANGE_REFERENCE_PREFIX must be 1-10 capital letters"),
        ("SESSION_COOKIE_SECURE", "maybe", "SESSION_COOKIE_SECURE must be true or false"),
        ("SESSION_COOKIE_SECURE", 1, "SESSION_COOKIE_SECURE must be true or false"),
        ("SMTP_FROM", "not an address", "SMTP_FROM must be a mail address"),
        ("SMTP_FROM", "tracker@example.org\nBcc: x@example.org", "SMTP_FROM must be a mail address"),
        ("SMTP_CA_FILE", "/nonexistent/ca.pem", "SMTP_CA_FILE names '/nonexistent/ca.pem', which is not a file"),
        ("SMTP_CA_FILE", __file__, f"SMTP_CA_FILE {__file__!r} cannot be read as CA certificates in PEM form"),
        ("SCHEDULER_METRICS_ADDRESS", "127.0.0.1 8000", "SCHEDULER_METRICS_ADDRESS must be an address"),
        ("SCHEDULER_METRICS_ADDRESS", "", "SCHEDULER_METRICS_ADDRESS must be an address"),
    ],
)
def test_a_setting_that_would_fail_later_fails_at_start(build, key, value, says):
    """Each of these started, then answered 500 on a filing or a health check, or broke every link."""
    with pytest.raises(ConfigError, match=re.escape(says)):
        build({key: value})


@pytest.mark.parametrize(
    ("key", "value", "most"),
    [
        ("SWEEP_INTERVAL_SECONDS", 1e12, "1,000,000,000"),  # the scheduler's start: OverflowError
        ("SESSION_ABSOLUTE_HOURS", 10**6, "100,000"),  # a session's end past the year 9999
        ("SESSION_IDLE_MINUTES", 10**8, "10,000,000"),
        ("DELIVERY_MAX_ATTEMPTS", 21, "20"),  # with the base at its most, the longest retry is sixty years on
        ("DELIVERY_RETRY_BASE_SECONDS", 3601, "3,600"),
        ("LIVE_REFRESH_SECONDS", 3601, "3,600"),  # past a browser's timer (24.8 days), the pages would poll unpaused
    ],
)
def test_a_setting_so_large_that_its_times_lie_past_the_calendar_fails_fast(build, key, value, most):
    with pytest.raises(ConfigError, match=f"{key} must be at most {most}, not "):
        build({key: value})
    build({key: int(most.replace(",", ""))})  # the largest one taken


@pytest.mark.parametrize("value", [0, -1, 0.0, "5", None, True, float("inf"), float("nan")])
def test_non_positive_or_non_numeric_interval_fails_fast(build, value):
    with pytest.raises(ConfigError, match="SWEEP_INTERVAL_SECONDS must be a positive number"):
        build({"SWEEP_INTERVAL_SECONDS": value})


@pytest.mark.parametrize("value", [0, -0.5, "3", None, float("nan")])
def test_a_live_refresh_interval_that_is_no_positive_number_fails_fast(build, value):
    with pytest.raises(ConfigError, match="^LIVE_REFRESH_SECONDS must be a positive number, not "):
        build({"LIVE_REFRESH_SECONDS": value})


def test_the_live_refresh_interval_reaches_the_pages_script(build):
    """live.js reads how often the board, My queue and the incident page refresh from its own tag (the CSP runs no
    inline script); 3 s unless set."""
    for config, said in (({}, "3"), ({"LIVE_REFRESH_SECONDS": 0.5}, "0.5")):
        page = build(config).test_client().get("/signin").text
        assert f'<script src="/static/live.js" defer data-refresh-seconds="{said}"></script>' in page, page[:1500]


@pytest.mark.parametrize("value", ["0", "-3", "soon", "true", "1e400"])
def test_bad_interval_from_the_environment_fails_fast(build, monkeypatch, value):
    monkeypatch.setenv("TRACKER_DELIVERY_INTERVAL_SECONDS", value)
    with pytest.raises(ConfigError, match="DELIVERY_INTERVAL_SECONDS must be a positive number"):
        build()


def test_non_positive_interval_in_the_file_fails_fast(build, config_file):
    config_file("SWEEP_BATCH_SIZE = 0\n")
    with pytest.raises(ConfigError, match="SWEEP_BATCH_SIZE"):
        build()


def test_page_size_default_above_maximum_fails_fast(build):
    with pytest.raises(ConfigError, match="PAGE_SIZE_DEFAULT must not exceed PAGE_SIZE_MAX"):
        build({"PAGE_SIZE_DEFAULT": 300, "PAGE_SIZE_MAX": 200})


@pytest.mark.parametrize(
    "url", ["mysql://db/tracker", "postgres.example:5432/tracker", "postgresql+psycopg2://db/tracker"]
)
def test_unsupported_database_url_fails_fast(build, url):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        build({"DATABASE_URL": url})


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?uri=true", "sqlite:///file:db?mode=memory&uri=true"],
)
def test_an_in_memory_database_fails_fast_outside_the_tests(build, url):
    """Each process (web workers, scheduler, init-db) would have an empty database of its own, lost at exit."""
    with pytest.raises(ConfigError, match="DATABASE_URL names an in-memory SQLite database"):
        build({"DATABASE_URL": url})
    build({"DATABASE_URL": url, "TESTING": True})  # a test's app that never opens it (tests/functional/test_api_fuzz)


@pytest.mark.parametrize("bare", ["postgresql://", "postgres://"])
def test_a_postgresql_url_without_its_driver_takes_the_one_installed(bare):
    from tracker.config import _derive

    class App:  # only what _derive reads
        instance_path = "/nowhere"
        config = {"DATABASE_URL": f"{bare}u:p@db:5432/tracker", "OUTBOX_DIR": "x", "REGION_FILE": "", "SECRET_KEY": "k"}

    _derive(App)
    assert App.config["DATABASE_URL"] == "postgresql+psycopg://u:p@db:5432/tracker"


def test_default_database_is_a_sqlite_file_under_the_instance_path(tmp_path):
    app = create_app()
    try:
        instance = Path(app.instance_path)
        assert instance == tmp_path / "instance"
        assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'tracker.db'}"
        assert instance.is_dir()
        assert app.config["OUTBOX_DIR"] == str(instance / "outbox")
    finally:
        engine_of(app).dispose()


def test_empty_secret_key_is_made_once_and_shared_by_every_process_of_the_installation(build, tmp_path, monkeypatch):
    first = build()
    key = first.config["SECRET_KEY"]
    kept = Path(first.instance_path) / "secret_key"
    assert len(key) >= 32 and kept.read_text().strip() == key
    assert kept.stat().st_mode & 0o777 == 0o600
    assert build().config["SECRET_KEY"] == key, "a second process (the scheduler) must sign links alike"
    monkeypatch.setattr(APIFlask, "auto_find_instance_path", lambda self: str(tmp_path / "elsewhere"))
    assert build().config["SECRET_KEY"] != key, "another installation gets its own key"
    fixed = "fixed-key-of-this-installation-0123456789"
    assert build({"SECRET_KEY": fixed}).config["SECRET_KEY"] == fixed


@pytest.mark.parametrize(
    "value",
    [{"Z": 1800, "O": 7200, "P": 43200}, {"Z": 0, "O": 1, "P": 1, "R": 1}, {"Z": "30m", "O": 1, "P": 1, "R": 1}, 3600],
)
def test_an_acknowledgement_timeout_not_in_seconds_for_each_precedence_fails_fast(build, value):
    with pytest.raises(ConfigError, match="ACK_TIMEOUT_SECONDS must give positive seconds for each precedence"):
        build({"ACK_TIMEOUT_SECONDS": value})


def test_one_precedences_acknowledgement_timeout_can_come_from_the_environment(build, monkeypatch):
    monkeypatch.setenv("TRACKER_ACK_TIMEOUT_SECONDS__Z", "900")
    assert build().config["ACK_TIMEOUT_SECONDS"] == {"Z": 900, "O": 7200, "P": 43200, "R": 172800}


@pytest.mark.parametrize(
    "variable", ["TRACKER_SMTP_PORT__X", "TRACKER_SECRET_KEY__X", "TRACKER_ACK_TIMEOUT_SECONDS__Z__Q", "TRACKER_NO__X"]
)
def test_a_key_under_a_setting_that_is_no_table_is_refused_as_unknown(build, monkeypatch, variable):
    """Flask walked into the number or the text and raised a TypeError: a traceback ended every start."""
    monkeypatch.setenv(variable, "1")
    with pytest.raises(ConfigError, match=f"the environment sets {variable}: no setting of the tracker has that name"):
        build()


def test_a_decision_asked_again_without_an_interval_fails_fast(build):
    with pytest.raises(ConfigError, match="DECISION_REASK_SECONDS must be a positive number"):
        build({"DECISION_REASK_SECONDS": 0})


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ({"REGION_BOUNDARIES": "osm"}, "REGION_BOUNDARIES"),
        ({"REGION_STATES": "Estonia"}, "REGION_STATES"),
        ({"REGION_STATES": ["Estonia", ""]}, "REGION_STATES"),
    ],
)
def test_real_borders_of_another_source_or_states_not_a_list_fail_fast(build, setting, problem):
    with pytest.raises(ConfigError, match=problem):
        build(setting)


def test_the_states_of_the_real_borders_can_come_from_the_environment(build, monkeypatch):
    monkeypatch.setenv("TRACKER_REGION_BOUNDARIES", "natural_earth")
    monkeypatch.setenv("TRACKER_REGION_STATES", '["Estonia", "Russia"]')
    region = build().extensions["tracker.region"]
    assert (region.boundaries, region.states) == ("natural_earth", ("Estonia", "Russia")), region


def test_a_state_not_in_the_natural_earth_data_stops_the_start_not_the_first_filing(build, monkeypatch):
    import tracker.region

    def never(*_args):
        raise AssertionError("the whole Natural Earth file was read at start")

    monkeypatch.setattr(tracker.region, "natural_earth", never)
    with pytest.raises(ConfigError, match="REGION_STATES: no state 'Estonai'"):
        build({"REGION_BOUNDARIES": "natural_earth", "REGION_STATES": ["Estonia", "Estonai"]})
    assert build({"REGION_BOUNDARIES": "natural_earth", "REGION_STATES": ["estonia", "643"]}).config["REGION_STATES"]


def test_a_region_file_with_a_bow_tie_sector_stops_the_start_in_one_line_naming_it(build, tmp_path):
    """Its ring crosses itself: the GeoJSON structure is fine, and shapely (loaded on first use) was the first to
    see it, at a filing. The start is refused, naming the sector and shapely's reason."""
    bow_tie = [[21.0, 54.0], [22.0, 55.0], [22.0, 54.0], [21.0, 55.0], [21.0, 54.0]]
    sectors = [("Square", [[21, 54], [22, 54], [22, 55], [21, 55], [21, 54]]), ("Knot", bow_tie)]
    features = [
        {
            "type": "Feature",
            "properties": {"kind": "sector", "name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        for name, ring in sectors
    ]
    path = tmp_path / "region.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(ConfigError) as refused:
        build({"REGION_FILE": str(path)})
    said = str(refused.value)
    assert "sector 'Knot' is not a valid polygon: Self-intersection[21.5 54.5]" in said and "\n" not in said, said
    valid = tmp_path / "valid.geojson"
    valid.write_text(json.dumps({"type": "FeatureCollection", "features": features[:1]}))
    assert [name for name, _ in build({"REGION_FILE": str(valid)}).extensions["tracker.region"].sectors] == ["Square"]


def test_a_tracker_served_over_https_keeps_its_session_cookie_off_plain_http(build):
    """PUBLIC_URL names https (staff and every link in a message reach it over TLS) while the session cookie may
    travel over plain HTTP: one http:// request, typed or forced by someone on the path, hands them the
    session. The start is refused, saying what to set."""
    with pytest.raises(ConfigError, match=re.escape("PUBLIC_URL is https: set SESSION_COOKIE_SECURE = true")):
        build({"PUBLIC_URL": "https://tracker.example.org", "SESSION_COOKIE_SECURE": False})
    assert build({"PUBLIC_URL": "https://tracker.example.org", "SESSION_COOKIE_SECURE": True})
    assert build({"PUBLIC_URL": "http://127.0.0.1:5000", "SESSION_COOKIE_SECURE": False})


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://tracker:s3cret@db:54x2/tracker",
        "postgresql+psycopg://tracker:s3cret@[::1/tracker",
        "postgresql+psycopg://tracker:s3cret@db:99999/tracker",
    ],
)
def test_a_database_url_that_cannot_be_read_fails_fast_without_showing_its_password(build, url):
    with pytest.raises(ConfigError, match="DATABASE_URL") as refused:
        build({"DATABASE_URL": url})
    assert "s3cret" not in str(refused.value)


def test_the_samples_metrics_secret_is_refused_until_replaced(build, monkeypatch):
    """Uncommented as the sample has it, anyone who read config/deployment.sample.toml could scrape /metrics
    (every line's health and queue) with it."""
    monkeypatch.setenv("TRACKER_METRICS_SCRAPE_SECRET", "change-me: python -c 'import secrets; print(...)'")
    with pytest.raises(ConfigError, match="METRICS_SCRAPE_SECRET is the sample's placeholder"):
        build()


@pytest.mark.parametrize(
    "proxy", ["proxy.example:3128", "socks5://u:s3cret@127.0.0.1:1080", "http://", "http://u:s3cret@proxy:31x8"]
)
def test_a_webhook_proxy_that_is_no_http_proxy_url_fails_fast_without_showing_its_password(build, proxy):
    with pytest.raises(ConfigError, match="WEBHOOK_PROXY must be the http:// or https:// URL") as refused:
        build({"WEBHOOK_PROXY": proxy})
    assert "s3cret" not in str(refused.value)


def test_webhooks_go_through_the_proxy_configured_and_none_by_default(build):
    assert build().extensions["tracker.transports"]["webhook"].proxy == ""
    configured = build({"WEBHOOK_PROXY": "http://proxy.example.internal:3128"})
    assert configured.extensions["tracker.transports"]["webhook"].proxy == "http://proxy.example.internal:3128"


@pytest.mark.parametrize("name", ["TRACKER_SECRETKEY", "TRACKER_secret_key", "TRACKER_SWEEP_INTERVAL_SECOND"])
def test_a_misspelt_environment_variable_stops_the_start_naming_it(build, monkeypatch, name):
    monkeypatch.setenv(name, "7")
    with pytest.raises(ConfigError, match=f"the environment sets {name}: no setting"):
        build()


def test_variables_read_elsewhere_and_nested_settings_are_not_refused(build, monkeypatch):
    for name in ("TRACKER_WEB_WORKERS", "TRACKER_TEST_DATABASE_URL", "TRACKER_BENCH_DATABASE_URL"):
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("TRACKER_ACK_TIMEOUT_SECONDS__Z", "900")
    monkeypatch.setenv("TRACKER_WTF_CSRF_TIME_LIMIT", "43200")
    assert build().config["ACK_TIMEOUT_SECONDS"]["Z"] == 900


@pytest.mark.parametrize(
    "key, value",
    [
        ("OUTBOX_DIR", 5),
        ("REGION_FILE", 5),
        ("AUDIT_ANCHOR_FILE", True),
        ("SMTP_HOST", 1),
        ("SMTP_USERNAME", 1),
        ("SMTP_PASSWORD", 12345678),
        ("OUR_STATION", 3),
    ],
)
def test_a_text_setting_given_as_a_number_or_true_fails_fast_naming_it(build, config_file, key, value):
    """In the file: OUTBOX_DIR = 5 ended the start in a TypeError traceback, AUDIT_ANCHOR_FILE = true or
    SMTP_HOST = 1 started and failed every sweep's anchor or every mail."""
    config_file(f"{key} = {str(value).lower()}\n")
    with pytest.raises(ConfigError, match=f"^{key} must be text in quotes"):
        build()


def test_proxy_fix_x_for_true_is_no_number_of_proxies(build):
    with pytest.raises(ConfigError, match="PROXY_FIX_X_FOR must be 0 or the number"):
        build({"PROXY_FIX_X_FOR": True})


@pytest.mark.parametrize(
    "key, value",
    [
        ("SMTP_PASSWORD", "12345678"),
        ("SMTP_USERNAME", "100234"),
        ("SMTP_PASSWORD", "true"),
        ("SECRET_KEY", "1234567890" * 4),
        ("METRICS_SCRAPE_SECRET", "20261206"),
    ],
)
def test_a_text_setting_from_the_environment_made_of_digits_is_the_text_written(build, monkeypatch, key, value):
    """Flask reads TRACKER_* values as JSON: a digit-only password in a systemd EnvironmentFile or a docker
    env came out a number and stopped the start ("must be text in quotes"), though a variable holds text."""
    monkeypatch.setenv(f"TRACKER_{key}", value)
    assert build().config[key] == value


def test_the_service_links_kubernetes_sets_for_a_service_named_tracker_are_not_refused(build, monkeypatch):
    """Kubernetes gives every pod of the namespace these for a Service named tracker (and tracker-db): the
    tracker deployed beside its own Service stopped at start-up, naming variables nobody wrote."""
    links = {
        "TRACKER_SERVICE_HOST": "10.96.0.12",
        "TRACKER_SERVICE_PORT": "8000",
        "TRACKER_SERVICE_PORT_HTTP": "8000",
        "TRACKER_PORT": "tcp://10.96.0.12:8000",
        "TRACKER_PORT_8000_TCP": "tcp://10.96.0.12:8000",
        "TRACKER_PORT_8000_TCP_PROTO": "tcp",
        "TRACKER_PORT_8000_TCP_PORT": "8000",
        "TRACKER_PORT_8000_TCP_ADDR": "10.96.0.12",
        "TRACKER_DB_SERVICE_HOST": "10.96.0.13",
        "TRACKER_DB_SERVICE_PORT": "5432",
        "TRACKER_DB_PORT": "tcp://10.96.0.13:5432",
        "TRACKER_DB_PORT_5432_TCP_ADDR": "10.96.0.13",
    }
    for name, value in links.items():
        monkeypatch.setenv(name, value)
    assert build()
    monkeypatch.setenv("TRACKER_SMTP_PORTS", "25")  # beside them, a misspelt setting is still refused
    with pytest.raises(ConfigError, match="the environment sets TRACKER_SMTP_PORTS: no setting"):
        build()


def test_a_password_given_as_a_number_is_refused_without_showing_it(build, config_file):
    """The refusal quoted the value: SMTP_PASSWORD = 12345678 put the password in the journal."""
    config_file("SMTP_PASSWORD = 20261206\n")
    with pytest.raises(ConfigError, match="^SMTP_PASSWORD must be text in quotes") as refused:
        build()
    assert "20261206" not in str(refused.value) and str(refused.value).endswith("not a number"), refused.value
