"""Layered configuration: committed defaults, TRACKER_CONFIG file, TRACKER_* variables, test mapping."""

import math
import os
import re
import secrets
import ssl
import time
import tomllib
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .services.exercises import vienna_rules
from .services.incidents import marking

DEFAULTS = Path(__file__).resolve().parent.parent / "config" / "default.toml"
# Tables whose keys a later layer may give only some of (the others keep their defaults).
MERGED_TABLES = ("VIENNA_DOCUMENT",)
POSITIVE = (
    "RATE_LIMIT_WINDOW_SECONDS",
    "SIGNIN_PER_ADDRESS",
    "SIGNIN_PER_ACCOUNT",
    "TOKEN_FAILURES_PER_ADDRESS",
    "LINKS_PER_ADDRESS",
    "SWEEP_INTERVAL_SECONDS",
    "SWEEP_BATCH_SIZE",
    "DELIVERY_INTERVAL_SECONDS",
    "DELIVERY_BATCH_SIZE",
    "DELIVERY_MAX_ATTEMPTS",
    "DELIVERY_CLAIM_SECONDS",
    "RUNNER_DEAD_INTERVALS",
    "WATCHDOG_INTERVALS",
    "WATCHDOG_CHECK_SECONDS",
    "DECISION_REASK_SECONDS",
    "NARRATIVE_MAX_LENGTH",
    "PAGE_SIZE_DEFAULT",
    "PAGE_SIZE_MAX",
    "LINK_MAX_AGE_SECONDS",
    "SMTP_TIMEOUT_SECONDS",
    "WEBHOOK_CONNECT_TIMEOUT_SECONDS",
    "WEBHOOK_READ_TIMEOUT_SECONDS",
    "CHECK_SWEEP_SECONDS",
    "CHECK_DEGRADED_AFTER",
    "CHECK_DOWN_AFTER",
    "RELATED_DISTANCE_KM",
    "RELATED_WINDOW_HOURS",
    "NO_NOTICE_BORDER_KM",
    "FEED_LINK_MAX_AGE_SECONDS",
    "LOGIN_SLOWDOWN_AFTER",
    "SIGNIN_BACKOFF_MAX_SECONDS",
    "SESSION_IDLE_MINUTES",
    "SESSION_ABSOLUTE_HOURS",
    "METRICS_REFRESH_SECONDS",
    "DELIVERY_RETRY_BASE_SECONDS",
    "SWEEP_STALE_INTERVALS",
    "MAX_FUTURE_SKEW_SECONDS",
    "WATCH_HOURS",
    "LIVE_REFRESH_SECONDS",
)


# Settings that are text (paths, host names, credentials, names): a number or true given for one (OUTBOX_DIR = 5)
# ended the start in a TypeError traceback, or started and failed every mail or sweep that read it.
STRINGS = (
    "DATABASE_URL",
    "OUTBOX_DIR",
    "AUDIT_ANCHOR_FILE",
    "REGION_FILE",
    "SMTP_HOST",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "OUR_STATION",
    "WEBHOOK_PROXY",
)


class ConfigError(RuntimeError):
    """The configuration contradicts itself; raised at start-up, never later."""


def load_config(app: Flask, overrides: dict | None) -> None:
    """Fill app.config from every layer, then derive paths and check the result."""
    app.config.from_file(str(DEFAULTS), load=tomllib.load, text=False)
    tables = {key: dict(app.config[key]) for key in MERGED_TABLES}
    extra = os.environ.get("TRACKER_CONFIG")
    if extra:
        if not Path(extra).is_file():
            raise ConfigError(f"TRACKER_CONFIG names {extra!r}, which is not a file")
        # Relative to where the command runs, as checked (Flask would read it relative to instance/).
        try:
            with open(Path(extra).resolve(), "rb") as file:
                settings = tomllib.load(file)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as problem:  # which file, not only where in it
            raise ConfigError(f"TRACKER_CONFIG {extra!r} is not a readable TOML file: {problem}") from None
        # Flask takes only capitalised keys and any name: a `secret_key` or a misspelt SECRET_KEY was dropped
        # without a word, and each host made a key of its own, refusing the links the others signed.
        unknown = sorted(key for key in settings if key not in app.config and not _extension_setting(key))
        if unknown:
            raise ConfigError(
                f"TRACKER_CONFIG {extra!r} sets {', '.join(unknown)}: no setting of the tracker has that name "
                "(the settings, in capitals, are in config/default.toml)"
            )
        app.config.from_mapping(settings)
    _refuse_unknown_variables(app)
    app.config.from_prefixed_env("TRACKER")
    _keep_text_as_given(app.config)
    if overrides:
        app.config.update(overrides)
    for key, defaults in tables.items():  # a later layer that gives some of a table's keys keeps the others
        if isinstance(app.config[key], dict):
            app.config[key] = {**defaults, **app.config[key]}
    _check_strings(app.config)
    _derive(app)
    _check(app.config)
    # A form's CSRF token lasts as long as a session may (Flask-WTF's own hour refused a call log or a filing kept
    # open longer, what was typed lost), unless set: the session's own end still ends it.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", app.config["SESSION_ABSOLUTE_HOURS"] * 3600)
    if app.config["SECRET_KEY_FALLBACKS"] and app.config.get("WTF_CSRF_SECRET_KEY") is None:
        # Flask-WTF signs a form's CSRF token with SECRET_KEY alone: a form open at a rotation was refused.
        app.config["WTF_CSRF_SECRET_KEY"] = list(signing_keys(app.config))


# Settings read by the extensions bound after the configuration is loaded (Flask-WTF, Flask-Login), so not
# in app.config when the file is checked; set in the file they have always worked (a CSRF time limit as
# long as a watch, WTF_CSRF_SSL_STRICT behind a proxy that drops the Referer). TITLE: the API docs' title.
EXTENSION_PREFIXES = ("WTF_", "RECAPTCHA_", "REMEMBER_COOKIE_")
EXTENSION_SETTINGS = {
    "SESSION_PROTECTION",
    "USE_SESSION_FOR_NEXT",
    "AUTH_HEADER_NAME",
    "FORCE_HOST_FOR_REDIRECTS",
    "LOGIN_DISABLED",
    "TITLE",
}


def _keep_text_as_given(config) -> None:
    """Flask reads each TRACKER_* value as JSON first, so a text setting written as digits or a JSON word
    (TRACKER_SMTP_PASSWORD=12345678, an SMTP_USERNAME that is an account number) came out a number, true or
    None, and was refused as no text. A text setting from the environment is the text written (one in JSON
    quotes is still read without them, as before)."""
    for key in (*STRINGS, "SECRET_KEY", "METRICS_SCRAPE_SECRET"):
        given = os.environ.get(f"TRACKER_{key}")
        if given is not None and not isinstance(config.get(key), str):
            config[key] = given


def _check_strings(config) -> None:
    """Refuse a text setting given as something else, saying what it was but not its value: SMTP_PASSWORD and
    DATABASE_URL are credentials, and the refusal goes to the journal and to whoever reads the start's output."""
    for key in STRINGS:
        if not isinstance(value := config.get(key), str):
            raise ConfigError(f'{key} must be text in quotes ("" for its default where it has one), not {_kind(value)}')


def _kind(value) -> str:
    if isinstance(value, bool):
        return "true or false"
    return "a number" if isinstance(value, int | float) else f"a {type(value).__name__}"


def _extension_setting(key: str) -> bool:
    return key in EXTENSION_SETTINGS or key.startswith(EXTENSION_PREFIXES)


# TRACKER_* variables that are read elsewhere, not settings: the file's name, gunicorn.conf.py's TRACKER_WEB_*,
# the tests' and benchmarks' databases.
VARIABLES_NOT_SETTINGS = ("CONFIG",)
VARIABLE_PREFIXES_NOT_SETTINGS = ("WEB_", "TEST_", "BENCH_", "UPDATE_GOLDEN")
# What Kubernetes puts in every container's environment for each service of its namespace (service links, on
# unless the pod says enableServiceLinks: false): a service named tracker, or tracker-db, gives TRACKER_SERVICE_HOST,
# TRACKER_SERVICE_PORT(_NAME), TRACKER_PORT and TRACKER_PORT_8000_TCP(_PROTO, _PORT, _ADDR), or TRACKER_DB_... .
SERVICE_LINK = re.compile(r"SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_[0-9]+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)?")


def _refuse_unknown_variables(app: Flask) -> None:
    """Flask takes every TRACKER_* variable as a setting of that name: a misspelt one
    (TRACKER_SECRETKEY, TRACKER_secret_key) was kept under a name nothing reads, and the tracker started on
    the default without a word (another host's key, a SQLite file instead of PostgreSQL). Refuse it as a
    misspelt key of the TRACKER_CONFIG file is; a nested key (TRACKER_ACK_TIMEOUT_SECONDS__Z) is taken only
    under a setting that is a table (_nested_in)."""
    unknown = sorted(
        name
        for name in os.environ
        if name.startswith("TRACKER_")
        and (key := name.removeprefix("TRACKER_")) not in VARIABLES_NOT_SETTINGS
        and not key.startswith(VARIABLE_PREFIXES_NOT_SETTINGS)
        and not _nested_in(app.config, key)
        and not _extension_setting(key)
        and not _service_link(key)
    )
    if unknown:
        raise ConfigError(
            f"the environment sets {', '.join(unknown)}: no setting of the tracker has that name (the settings, in "
            "capitals, are in config/default.toml; TRACKER_ then the setting's name): correct or unset it"
        )


def _nested_in(config, key: str) -> bool:
    """Whether the setting key names is one (SECRET_KEY), or a key of a setting that is a table (A__B: Flask
    walks the tables, making those missing beneath the first). A__B under a setting that is a number or text
    was a TypeError's traceback at every start ("'int' object does not support item assignment")."""
    *tables, _tail = key.split("__")
    if not tables:
        return key in config
    current = config
    for part in tables:
        if part not in current:
            return current is not config  # a table missing beneath the first is made; the first must exist
        if not isinstance(current[part], dict):
            return False
        current = current[part]
    return True


def _service_link(key: str) -> bool:
    """A variable Kubernetes set for a service whose name begins with tracker: one of the service-link names,
    beside the TRACKER_..._SERVICE_HOST of the same service (a misspelt setting has none)."""
    parts = key.split("_")
    for cut in range(len(parts)):
        service = "".join(f"{part}_" for part in parts[:cut])
        if SERVICE_LINK.fullmatch("_".join(parts[cut:])) and f"TRACKER_{service}SERVICE_HOST" in os.environ:
            return True
    return False


def _derive(app: Flask) -> None:
    instance = Path(app.instance_path)
    if not app.config["DATABASE_URL"]:
        _make_instance(instance, "DATABASE_URL is not set")
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'tracker.db'}"
    url = str(app.config["DATABASE_URL"])
    for bare in ("postgresql://", "postgres://"):  # the driver this tracker installs (psycopg 3), said or not
        if url.startswith(bare):
            app.config["DATABASE_URL"] = "postgresql+psycopg://" + url.removeprefix(bare)
    if not app.config["OUTBOX_DIR"]:
        app.config["OUTBOX_DIR"] = str(instance / "outbox")
    if app.config["REGION_FILE"] and not Path(app.config["REGION_FILE"]).is_absolute():
        app.config["REGION_FILE"] = str(DEFAULTS.parent.parent / app.config["REGION_FILE"])
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key")
        app.extensions[KEY_KEPT] = True


# Set when SECRET_KEY is the key kept in instance/secret_key, not one the configuration gives.
KEY_KEPT = "tracker.secret_key_kept"


def secret_key_configured(app: Flask) -> bool:
    """Whether SECRET_KEY comes from the configuration, which wins over instance/secret_key: a restore that puts
    a backup's key into that file brings back its links only where it does not."""
    return not app.extensions.get(KEY_KEPT, False)


DEMO_REGION = DEFAULTS.parent / "region.geojson"
LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}


def _host(url: str) -> str:
    """The URL's host in lower case without the root's final dot; "" when it names none or cannot be read
    ("http://[::1": a bracket not closed, which urlsplit refuses with ValueError)."""
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


def _port_problem(url: str) -> bool:
    """True when the URL's port is no port number (urlsplit raises ValueError reading it)."""
    try:
        return urlsplit(url).port == 0
    except ValueError:
        return True


def on_this_machine(config) -> bool:
    """Whether PUBLIC_URL opens on this machine only (127.0.0.1, localhost, ::1): a demo, or a trial, which no
    desk elsewhere can reach."""
    return _loopback(_host(str(config["PUBLIC_URL"])))


def _loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def demo_settings(config) -> list[str]:
    """What a deployment still has that only suits a demo or a trial (the demo's defaults, plain http), one line
    each (the web server says so when it starts: a demo on one machine would be told for nothing)."""
    found = []
    if on_this_machine(config):
        found.append(
            f"PUBLIC_URL is {config['PUBLIC_URL']}: the links in messages (acknowledge, receipt, line check) open "
            "on this machine only; set it to the address the desks reach the tracker at"
        )
    elif str(config["PUBLIC_URL"]).startswith("http://"):
        found.append(
            f"PUBLIC_URL is {config['PUBLIC_URL']}: passwords typed at sign-in, session cookies and API tokens cross "
            "the network readable; serve it over TLS (an https:// PUBLIC_URL, SESSION_COOKIE_SECURE = true)"
        )
    relay = str(config["SMTP_HOST"]).strip().lower().strip("[]").rstrip(".")
    if config["SMTP_SECURITY"] == "none" and config["SMTP_USERNAME"] and relay and not _loopback(relay):
        found.append(
            f"SMTP_SECURITY is none with a login to the relay at {config['SMTP_HOST']}: SMTP_PASSWORD crosses the "
            'network readable at every message; use "starttls" or "tls"'
        )
    found.extend(_demo_world(config))
    if demo_region(config["REGION_FILE"]):
        found.append(
            f"REGION_FILE is the demo's region ({DEMO_REGION.name}: Northmark and Eastland's invented border and "
            "sectors); set it to your own region's file"
        )
    return found


def proxy_problem(config, serves_tls: bool) -> str | None:
    """What is wrong with an https PUBLIC_URL that the web server does not serve itself (serves_tls: it has a
    certificate): a proxy in front ends the TLS, and with PROXY_FIX_X_FOR 0 every request comes from its address."""
    if not str(config["PUBLIC_URL"]).startswith("https://") or serves_tls or config["PROXY_FIX_X_FOR"]:
        return None
    return (
        "PUBLIC_URL is https but gunicorn serves no TLS, so a proxy in front ends it, and PROXY_FIX_X_FOR is 0: every "
        "client has the proxy's address, and one guesser's sign-in slow-down or one script's wrong tokens hold back "
        "every desk; set PROXY_FIX_X_FOR to the number of proxies in front (1 for one)"
    )


# The settings that mark and sign what goes to the other side, and what their committed defaults (the demo's invented
# states) do in a deployment that keeps them.
DEMO_WORLD = {
    "RELEASABLE_TO": "every incident and message is marked releasable to it",
    "OUR_STATION": "a formatted message to the other side names it as its sender (FM) where its line names none",
}


def _demo_world(config) -> list[str]:
    """A line for each setting of DEMO_WORLD still at its committed default."""
    with open(DEFAULTS, "rb") as file:
        defaults = tomllib.load(file)
    found = []
    for key, does in DEMO_WORLD.items():
        if config[key] == defaults[key]:
            shown = ", ".join(config[key]) if isinstance(config[key], list) else config[key]
            found.append(
                f"{key} is still the demo's invented {shown}: {does}; name your own (config/deployment.sample.toml)"
            )
    return found


def demo_region(path: str) -> bool:
    """Whether REGION_FILE is the demo's region file, shipped with the code."""
    return bool(path) and Path(path).resolve() == DEMO_REGION.resolve()


def _make_instance(instance: Path, why: str) -> None:
    """The instance folder, or one line saying what to set instead (a read-only install, as the systemd
    units' ProtectSystem=strict makes it, cannot keep anything there)."""
    try:
        instance.mkdir(parents=True, exist_ok=True)
    except OSError as problem:
        raise ConfigError(
            f"{why} and the instance folder {str(instance)!r} cannot be made ({problem.strerror}): "
            "set it in the configuration (TRACKER_CONFIG or TRACKER_* variables)"
        ) from None


def _instance_secret(path: Path) -> str:
    """A key kept under instance/, made once and shared by every process of this installation.

    Web workers and schedulers must agree on it: links signed by one are checked by another.
    """
    _make_instance(path.parent, "SECRET_KEY is not set")
    try:
        if not path.exists():
            _make_secret(path)
        key = _read_secret(path)
    except (OSError, UnicodeDecodeError) as problem:
        raise ConfigError(
            f"SECRET_KEY is not set and the key kept in {str(path)!r} cannot be read: {problem}"
        ) from None
    if len(key) < SECRET_KEY_MIN_LENGTH:  # not the configured key's fault: say which file
        raise ConfigError(
            f"SECRET_KEY is not set and {str(path)!r} holds no key ({len(key)} characters): remove the file to have "
            "a new one made (links and sessions signed with the old key stop working), or set SECRET_KEY"
        )
    return key


def _make_secret(path: Path) -> None:
    """Put a new key at path unless another process put one there first; the file appears whole (a key
    written into a temp file, then linked to its name), so a process starting beside the one making it
    (make run starts the web server and the scheduler at once) never reads it empty."""
    temp = path.with_name(f".{path.name}-{os.getpid()}-{secrets.token_hex(4)}")
    handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(secrets.token_urlsafe(32))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:  # made meanwhile by another process: that key is the one
            pass
        except OSError:  # no hard links on this file system (FAT, SMB shares, some FUSE mounts): made in place
            _make_secret_in_place(path, temp.read_text())
    finally:
        os.unlink(temp)


def _make_secret_in_place(path: Path, key: str) -> None:
    """Create path with key unless it exists; the file is empty until the key is written (_read_secret
    waits for it)."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(handle, "w") as out:
        out.write(key)
        out.flush()
        os.fsync(out.fileno())


def _read_secret(path: Path, tries: int = 10) -> str:
    """The key kept at path; an empty file is read again for a moment, as another process may have just
    made it in place (where no hard link can be made) and not written its key yet."""
    key = path.read_text().strip()
    for _ in range(tries):
        if key:
            break
        time.sleep(0.05)
        key = path.read_text().strip()
    return key


SECRET_KEY_MIN_LENGTH = 32
# A random key of 32 characters or more holds many different ones (one of hex digits, 16 at most; one of
# token_urlsafe, about 25): fewer than this is a character or a word repeated.
SECRET_KEY_MIN_DISTINCT = 8


def _check_secret(key, name: str = "SECRET_KEY") -> None:
    """The key that signs sessions and one-click links: anyone who knows it (or guesses a short one) can
    acknowledge an incident without signing in. Refuse what is not one. Never says the key."""
    if not isinstance(key, str):
        raise ConfigError(f"{name} must be a string: quote one made of digits")
    if len(key) < SECRET_KEY_MIN_LENGTH:
        made = "leave it empty to have one made under instance/, or make one" if name == "SECRET_KEY" else "make one"
        raise ConfigError(
            f"{name} must be at least {SECRET_KEY_MIN_LENGTH} random characters (it is {len(key)}); {made}: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if key.lower().startswith("change-me"):
        raise ConfigError(f"{name} is the sample's placeholder, known to anyone who reads it: make one of your own")
    if len(set(key)) < SECRET_KEY_MIN_DISTINCT:  # 40 spaces, "a" 40 times: long, and the first thing tried
        raise ConfigError(
            f"{name} is {len(key)} characters but only {len(set(key))} different ones: a key of a few characters "
            "repeated is guessed at once; make one: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )


def _check_fallbacks(config) -> None:
    """SECRET_KEY_FALLBACKS: the keys SECRET_KEY had before a rotation, still taken to verify a session or a link
    they signed (never to sign), each held to what SECRET_KEY is: a guessable one would let anyone sign."""
    fallbacks = config["SECRET_KEY_FALLBACKS"]
    if fallbacks is None:  # Flask's own default
        config["SECRET_KEY_FALLBACKS"] = fallbacks = []
    if not isinstance(fallbacks, list | tuple):
        raise ConfigError(
            'SECRET_KEY_FALLBACKS must be a list of earlier keys, e.g. ["<the key before>"] (as a TRACKER_* '
            "variable, a JSON list), or [] for none"
        )
    for number, key in enumerate(fallbacks, 1):
        _check_secret(key, f"SECRET_KEY_FALLBACKS' key {number}")
    config["SECRET_KEY_FALLBACKS"] = list(fallbacks)


def signing_keys(config) -> tuple[str, ...]:
    """The keys a signer verifies with, oldest first: SECRET_KEY_FALLBACKS, then SECRET_KEY, the one it signs with
    (itsdangerous signs with the last of a list), as Flask's session cookie takes them."""
    return (*config["SECRET_KEY_FALLBACKS"], config["SECRET_KEY"])


# The largest value a positive setting takes: further, a deadline or interval worked out from it lies past the
# year 9999 (SWEEP_INTERVAL_SECONDS = 1e12 ended the scheduler's start in an OverflowError), and the longest retry
# (DELIVERY_RETRY_BASE_SECONDS * 2 ** (DELIVERY_MAX_ATTEMPTS - 1)) stays within some sixty years.
# LIVE_REFRESH_SECONDS: a browser's timer takes at most 2^31 - 1 ms (24.8 days), and one longer fires at once, so
# a page would poll without pause; a page refreshed less often than hourly is not live.
MOST = {"DELIVERY_MAX_ATTEMPTS": 20, "DELIVERY_RETRY_BASE_SECONDS": 3600, "LIVE_REFRESH_SECONDS": 3600}
MOST_BY_UNIT = {"_MINUTES": 10**7, "_HOURS": 10**5}
MOST_ELSE = 10**9


def _most(key: str) -> int:
    unit = next((most for suffix, most in MOST_BY_UNIT.items() if key.endswith(suffix)), MOST_ELSE)
    return MOST.get(key, unit)


def _check(config) -> None:
    _check_secret(config["SECRET_KEY"])
    _check_fallbacks(config)
    for key in POSITIVE:
        value = config.get(key)
        # TOML's nan and inf, and 1e400 in a TRACKER_* variable, are floats too: nan passed "<= 0" (a link that never
        # expired), and either ended the scheduler's start, or every command's, in a traceback.
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < math.inf:
            raise ConfigError(f"{key} must be a positive number, not {value!r}")
        if value > (most := _most(key)):
            raise ConfigError(f"{key} must be at most {most:,}, not {value!r}: a time that far off is no time")
    smtp_port = config["SMTP_PORT"]
    if not isinstance(smtp_port, int) or isinstance(smtp_port, bool) or not 1 <= smtp_port <= 65535:
        raise ConfigError(f"SMTP_PORT must be a port number (1-65535), not {smtp_port!r}")
    public = str(config["PUBLIC_URL"])
    if not public.startswith(("http://", "https://")) or not _host(public):
        raise ConfigError(f"PUBLIC_URL must be the http(s) address staff open (links in messages), not {public!r}")
    if any(character.isspace() for character in public) or urlsplit(public).query or "#" in public:
        # Every link in a message is PUBLIC_URL and a path: a space in it, or a query or fragment before the path,
        # made every acknowledge, receipt and check link one that opens nothing.
        raise ConfigError(
            f"PUBLIC_URL must be the address staff open, with no space, query (?...) or fragment (#...), not {public!r}"
        )
    # The exchange's reference goes to the other side in every subject and REF line, and into a 40-character
    # column: a line break, a space or a long prefix failed each message sent (PostgreSQL: a 500) instead.
    for key in ("REFERENCE_PREFIX", "EXCHANGE_REFERENCE_PREFIX"):
        prefix = config[key]
        if not isinstance(prefix, str) or not re.fullmatch(r"[A-Z][A-Z0-9]{0,9}", prefix):
            raise ConfigError(f"{key} must be 1-10 capital letters or digits, a letter first, not {prefix!r}")
    proxies = config["PROXY_FIX_X_FOR"]
    if not isinstance(proxies, int) or isinstance(proxies, bool) or proxies < 0:
        raise ConfigError("PROXY_FIX_X_FOR must be 0 or the number of reverse proxies in front of the tracker")
    port = config["SCHEDULER_METRICS_PORT"]
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ConfigError("SCHEDULER_METRICS_PORT must be a port number, or 0 for none")
    if not isinstance(config["METRICS_SCRAPE_SECRET"], str):
        raise ConfigError("METRICS_SCRAPE_SECRET must be a string (empty: none); quote one made of digits")
    if config["METRICS_SCRAPE_SECRET"].lower().startswith("change-me"):  # the sample's line, uncommented as it is
        raise ConfigError(
            "METRICS_SCRAPE_SECRET is the sample's placeholder, known to anyone who reads it: make one of your own"
        )
    if config["LOG_FORMAT"] not in ("json", "text"):
        raise ConfigError("LOG_FORMAT must be json or text")
    if str(config["LOG_LEVEL"]).upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
    if config["PAGE_SIZE_DEFAULT"] > config["PAGE_SIZE_MAX"]:
        raise ConfigError("PAGE_SIZE_DEFAULT must not exceed PAGE_SIZE_MAX")
    if config["SMTP_SECURITY"] not in ("starttls", "tls", "none"):
        raise ConfigError("SMTP_SECURITY must be starttls, tls or none")
    if config["SUPERVISOR_TRANSPORT"] not in ("outbox", "email"):
        raise ConfigError("SUPERVISOR_TRANSPORT must be outbox or email")
    if config["SUPERVISOR_TRANSPORT"] == "email" and not str(config["SMTP_HOST"]).strip():
        # Every message to the supervisors (exhausted, dead letters, watchdog, lines down) failed for good.
        raise ConfigError("SUPERVISOR_TRANSPORT is email but SMTP_HOST is not set: name the mail relay, or use outbox")
    _check_mail_and_session(config)
    if config["CHECK_DOWN_AFTER"] < config["CHECK_DEGRADED_AFTER"]:
        raise ConfigError("CHECK_DOWN_AFTER must not be below CHECK_DEGRADED_AFTER")
    if config["REGION_FILE"] and not Path(config["REGION_FILE"]).is_file():
        raise ConfigError(f"REGION_FILE names {config['REGION_FILE']!r}, which is not a file")
    if config["REGION_BOUNDARIES"] not in ("", "natural_earth"):
        raise ConfigError('REGION_BOUNDARIES must be "" or "natural_earth"')
    states = config["REGION_STATES"]
    if not isinstance(states, list | tuple) or not all(isinstance(s, str) and s.strip() for s in states):
        raise ConfigError('REGION_STATES must be a list of state names or codes, e.g. ["Estonia", "Russia"]')
    _check_the_other_side(config)
    try:
        vienna_rules.rules_from(config["VIENNA_DOCUMENT"])
    except ValueError as problem:
        raise ConfigError(str(problem)) from None
    _check_per_precedence(config, "ACK_TIMEOUT_SECONDS")
    if not str(config["DATABASE_URL"]).startswith(("sqlite://", "postgresql+psycopg://")):
        raise ConfigError("DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL (psycopg 3 is the driver)")
    _check_database_url(str(config["DATABASE_URL"]))
    if not config["TESTING"] and _in_memory(str(config["DATABASE_URL"])):
        # Each process (every web worker, the scheduler, init-db itself) opened a database of its own, empty and
        # gone when it exited: init-db "succeeded", the server answered 500 on a missing table, nothing was kept.
        raise ConfigError(
            "DATABASE_URL names an in-memory SQLite database, which each process would have to itself, empty, and "
            "lose at exit: name a file (sqlite:////var/lib/tracker/tracker.db), or leave it empty for "
            "instance/tracker.db"
        )


def _in_memory(url: str) -> bool:
    """Whether the URL is SQLite's in-memory database (sqlite://, sqlite:///:memory:, a file: URI in memory mode);
    tests may use one (TESTING), a deployment never."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return (
        database in ("", ":memory:")
        or database.startswith("file::memory:")
        or "mode=memory" in database
        or (parsed.query.get("mode") == "memory")
    )


def _check_database_url(url: str) -> None:
    """A URL SQLAlchemy cannot take apart (a port that is no number, an IPv6 host without its closing bracket)
    stopped every command and gunicorn with a traceback from deep in the engine. The URL is never quoted back:
    it may hold the password."""
    try:
        port = make_url(url).port
    except (ValueError, ArgumentError):
        raise ConfigError(
            "DATABASE_URL cannot be read as a URL: its port must be a number, and an IPv6 host go in brackets "
            "(e.g. postgresql+psycopg://tracker@db.example.internal:5432/tracker); a password with @ : / or space "
            "in it must be percent-encoded"
        ) from None
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(f"DATABASE_URL names port {port}: a port number is 1-65535")


def _check_mail_and_session(config) -> None:
    """Settings read only when a mail goes out, a session cookie is set or the scheduler starts: a typo there
    started without a word ("maybe" is a true value to Python: a secure cookie no sign-in over http keeps),
    then failed every mail or never served the metrics."""
    if not isinstance(config["SESSION_COOKIE_SECURE"], bool):
        raise ConfigError(f"SESSION_COOKIE_SECURE must be true or false, not {config['SESSION_COOKIE_SECURE']!r}")
    if str(config["PUBLIC_URL"]).startswith("https://") and not config["SESSION_COOKIE_SECURE"]:
        # Staff reach it over TLS: a cookie that may also cross plain HTTP hands the session to the path.
        raise ConfigError("PUBLIC_URL is https: set SESSION_COOKIE_SECURE = true (the session cookie over TLS only)")
    sender = config["SMTP_FROM"]
    if not isinstance(sender, str) or "\n" in sender or "\r" in sender or "@" not in parseaddr(sender)[1]:
        raise ConfigError(
            f'SMTP_FROM must be a mail address, e.g. "Incident tracker <tracker@example.org>", not {sender!r}'
        )
    proxy = config["WEBHOOK_PROXY"]  # never quoted back: it may hold the proxy's password
    if proxy and (not proxy.startswith(("http://", "https://")) or not _host(proxy) or _port_problem(proxy)):
        raise ConfigError(
            "WEBHOOK_PROXY must be the http:// or https:// URL of the proxy webhooks go through "
            '(e.g. http://proxy.example.internal:3128), or "" for none'
        )
    ca_file = config["SMTP_CA_FILE"]
    if not isinstance(ca_file, str) or (ca_file and not Path(ca_file).is_file()):
        raise ConfigError(f"SMTP_CA_FILE names {ca_file!r}, which is not a file (empty: the system's trusted CAs)")
    if ca_file:  # a DER certificate or a key file started, then failed every mail (retried, then dead-lettered)
        try:
            ssl.create_default_context(cafile=ca_file)
        except OSError as problem:  # ssl.SSLError among them
            raise ConfigError(
                f"SMTP_CA_FILE {ca_file!r} cannot be read as CA certificates in PEM form "
                f"({getattr(problem, 'reason', None) or problem.strerror or problem}): name the relay's CA in PEM, "
                "or leave it empty for the system's trusted CAs"
            ) from None
    address = config["SCHEDULER_METRICS_ADDRESS"]
    if not isinstance(address, str) or not re.fullmatch(r"[A-Za-z0-9.:\-]+", address):
        raise ConfigError(f"SCHEDULER_METRICS_ADDRESS must be an address to listen on, e.g. 127.0.0.1, not {address!r}")


def _check_the_other_side(config) -> None:
    for key in ("CLASSIFICATIONS", "RELEASABLE_TO"):
        names = config[key]
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            raise ConfigError(f"{key} must be a list of names")
    if not config["CLASSIFICATIONS"]:
        raise ConfigError("CLASSIFICATIONS must name at least one classification (the first is the default)")
    longest = marking.CLASSIFICATION_LENGTH  # what an incident's column holds; a subject keeps it whole
    if too_long := [c for c in config["CLASSIFICATIONS"] if len(c) > longest]:
        raise ConfigError(f"CLASSIFICATIONS must be at most {longest} characters each, not {too_long[0]!r}")
    _check_per_precedence(config, "RECEIPT_SECONDS")


def _check_per_precedence(config, key: str) -> None:
    """A mapping of whole positive seconds for each precedence letter (Z, O, P and R), none left out."""
    seconds = config[key]
    if (
        not isinstance(seconds, dict)
        or set(seconds) != set("ZOPR")
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in seconds.values())
    ):
        raise ConfigError(f"{key} must give positive seconds for each precedence: Z, O, P and R")
