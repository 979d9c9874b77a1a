"""APScheduler's warning that a run was skipped while the job still ran is the one-instance plan working, not a
fault (tracker.logs.SkippedTick): the scheduler's log leaves it out and keeps APScheduler's other warnings.
In a process of its own, as a scheduler runs: logging is configured for the whole process."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import logging, sys, threading, time
    from apscheduler.schedulers.background import BackgroundScheduler
    from tracker import logs

    logs.configure("INFO", "text")
    release = threading.Event()
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(release.wait, "interval", seconds=0.05, args=[1.0])
    scheduler.start()
    time.sleep(0.4)  # the job holds its one instance: the ticks meanwhile are skipped
    release.set()
    scheduler.shutdown()
    logging.getLogger("apscheduler.scheduler").warning("another warning of the scheduler's")
    """
)


def test_a_skipped_tick_is_left_out_and_other_scheduler_warnings_are_kept():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "another warning of the scheduler's" in done.stderr, done.stderr
    assert "maximum number of running instances" not in done.stderr, done.stderr
