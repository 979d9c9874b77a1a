"""`flask --app wsgi sweep` and `scheduler`: the escalation and delivery jobs, once or until stopped."""

import gc
import logging
import signal
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import logs
from ..db import plan_for_tables_as_they_are
from .base import ensure_migrated, real_app, redact, writable_for


@click.command("sweep", short_help="Run one escalation sweep and one delivery pass now, then exit.")
@with_appcontext
def sweep():
    """Run one escalation sweep and one delivery pass now, then exit (1 when a stage of either failed: the error
    is logged, and the stages after it ran anyway).

    \b
    Example:
      flask --app wsgi sweep
    """
    from .. import jobs

    ensure_migrated(current_app)
    # As the scheduler does: else a pass spent an attempt of every outbox message on an OUTBOX_DIR it cannot
    # write, said "sent 0 messages" and exited 0, and logged a traceback for an anchor it could not keep.
    writable_for(real_app(), ("sweep", "deliver"))
    with _ErrorsLogged() as errors:
        click.echo(f"escalated {jobs.sweep(current_app)} incidents, sent {jobs.deliver(current_app)} messages")
    if errors.count:  # a stage that fails is logged and the pass goes on: its counts alone said nothing of it
        raise click.ClickException(
            f"the pass failed: {errors.count} error{'s' if errors.count > 1 else ''} logged above (what it did is "
            "counted on the line before)"
        )


class _ErrorsLogged(logging.Handler):
    """Counts what the tracker's loggers say at ERROR while it is entered: each job logs a failure and goes on (a
    scheduler must not stop), so a one-off command learns of one only there."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1

    def __enter__(self) -> "_ErrorsLogged":
        logging.getLogger("tracker").addHandler(self)
        return self

    def __exit__(self, *_exc) -> None:
        logging.getLogger("tracker").removeHandler(self)


@click.command("scheduler", short_help="Run the escalation and delivery jobs until stopped.")
@click.option(
    "--jobs",
    "roles",
    type=click.Choice(["sweep", "deliver"]),
    multiple=True,
    help="Run only these jobs (repeat the option for both; default: both). `--jobs sweep`: escalations, the "
    "clocks of the other side, line checks, the watchdog; `--jobs deliver`: sending the outbox.",
)
@with_appcontext
def scheduler(roles: tuple[str, ...]):
    """Run the escalation and delivery jobs until stopped (run one or two per deployment; a busy one may run
    the sweep and the delivery in processes of their own, each once or twice).

    \b
    Example:
      flask --app wsgi scheduler
      flask --app wsgi scheduler --jobs sweep
    """
    from ..scheduler import ROLES, build_scheduler, stop_waiting

    roles = roles or ROLES

    app = real_app()
    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    ensure_migrated(current_app)
    writable_for(app, roles)
    if port := app.config["SCHEDULER_METRICS_PORT"]:
        from prometheus_client import start_http_server

        address = app.config["SCHEDULER_METRICS_ADDRESS"]
        try:
            start_http_server(port, addr=address)
        except OSError as error:  # taken (by the other scheduler on this host?), or an address not of this host
            raise click.ClickException(
                f"SCHEDULER_METRICS_PORT {port} cannot be opened on {address} ({error.strerror or error}): "
                "give each scheduler on a host a port of its own, or 0 for none"
            ) from None
    doing = {
        "sweep": f"sweep every {app.config['SWEEP_INTERVAL_SECONDS']} s",
        "deliver": f"delivery every {app.config['DELIVERY_INTERVAL_SECONDS']} s",
    }
    jobs_run = ", ".join(doing[role] for role in ROLES if role in roles)
    from .. import dispatch, jobs

    # Its name in heartbeats and claims, as an operator looking at the runners table sees it.
    _tell(f"scheduler {jobs.runner_id()}: {jobs_run} on {redact(app.config['DATABASE_URL'])}")

    if problem := dispatch.link_keys_problem(app, leave_out=jobs.runner_id()):
        logging.getLogger("tracker.scheduler").warning("%s", problem)
    plan_for_tables_as_they_are(app)
    running = build_scheduler(app, roles=roles)
    # What start-up made (the app, its libraries, the region's shapes) lives as long as the process: kept
    # out of the garbage collector's full passes, which otherwise walk it all again and again during a
    # large sweep (about a tenth of its CPU). gc.freeze() is CPython's own answer for such long-lived data.
    gc.freeze()
    # systemd's stop and Ctrl-C alike: shut down cleanly, even when started with SIGINT ignored (as a
    # background job of a shell, or a child of a process that ignores it), where Python raises no
    # KeyboardInterrupt and the scheduler would be killed later with its heartbeat left behind.
    for stop in STOPS:
        signal.signal(stop, _exit)
    died = False
    try:
        # The scheduler's loop and its jobs run in threads of their own; this thread only waits for the
        # signal, so the signal's SystemExit lands here. Raised in the scheduler's own loop (run in this
        # thread before), it could land while a job was being handed to a worker thread, where the
        # scheduler caught it as a job it failed to submit and ran on until killed, heartbeat left behind.
        running.start()
        while running._thread.is_alive():  # its loop ends only with an error of APScheduler's own
            time.sleep(1)
        died = True
    except (KeyboardInterrupt, SystemExit):
        by = f" on {_stopped_by[-1]}" if _stopped_by else ""
        _tell(f"scheduler stopping{by}: letting the running jobs finish")
    finally:
        try:
            if running.running:
                stop_waiting(running)
                running.shutdown(wait=True)
        except Exception:  # stopped before its thread had started: nothing of its own to wait for
            logging.getLogger("tracker.scheduler").exception("the scheduler did not shut down cleanly")
        jobs.leave(app)  # after the jobs: a claim of ours may be taken over from now on
    if died:  # exit non-zero, so systemd (Restart=on-failure) or whatever runs it starts it again
        why = "the scheduler's loop stopped on an error (logged above); its jobs ran no more"
        if not logs.json_mode():
            raise click.ClickException(why)
        logging.getLogger("tracker.scheduler").error(why)
        raise click.exceptions.Exit(1)
    _tell("scheduler stopped")


def _tell(line: str) -> None:
    """What the scheduler says of its start and stop: a plain line on a terminal (LOG_FORMAT text), a log
    record among the others in JSON mode (one JSON object per line, whatever reads the stream)."""
    if logs.json_mode():
        logging.getLogger("tracker.scheduler").info(line)
    else:
        click.echo(line, err=True)


# What stops a scheduler cleanly: systemd's stop, Ctrl-C, its terminal closed (SIGHUP) and Ctrl-\ (SIGQUIT). The
# last two killed it at once, saying nothing, its heartbeat left behind and its claims held until it went stale.
STOPS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
_stopped_by: list[str] = []


def _exit(number, _frame):
    # One stop is enough: a second signal must not cut short the wait for running jobs and the heartbeat's
    # removal (SIGKILL abandons them; the claims are taken over once the heartbeat is silent).
    for stop in STOPS:
        signal.signal(stop, signal.SIG_IGN)
    _stopped_by.append(signal.Signals(number).name)
    raise SystemExit(0)
