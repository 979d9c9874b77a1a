"""scheduler.SweepTrigger: the sweep's next run is the interval's, or the earliest deadline to come when sooner."""

from datetime import timedelta

from tracker.scheduler import SweepTrigger
from tracker.timeutil import UTC, utcnow


def trigger(deadline=None) -> SweepTrigger:
    made = SweepTrigger(seconds=10, timezone=UTC)
    made.deadline = deadline
    return made


def test_the_next_run_is_the_interval_s_without_a_deadline_in_it():
    now = utcnow()
    assert trigger().get_next_fire_time(now, now) == now + timedelta(seconds=10)
    later = now + timedelta(seconds=11)
    assert trigger(later).get_next_fire_time(now, now) == now + timedelta(seconds=10), "after the interval's run"


def test_a_deadline_between_two_runs_is_run_at():
    now = utcnow()
    deadline = now + timedelta(seconds=3)
    assert trigger(deadline).get_next_fire_time(now, now) == deadline
    made = trigger(deadline)  # then the interval goes on from there
    assert made.get_next_fire_time(deadline, deadline + timedelta(microseconds=1)) == deadline + timedelta(seconds=10)


def test_a_deadline_passed_already_is_left_to_the_interval_never_run_again_at_once():
    now = utcnow()
    passed = now - timedelta(seconds=1)
    assert trigger(passed).get_next_fire_time(now, now) == now + timedelta(seconds=10)
    assert trigger(now).get_next_fire_time(now, now) == now + timedelta(seconds=10)


def test_a_deadline_the_sweep_sees_before_the_run_planned_next_is_waited_for_and_swept(monkeypatch):
    """The next run is planned when a run begins, before its sweep sees the deadlines it leaves: six incidents filed
    0.7 s apart escalated together at the next interval, up to an interval late. The sweep waits for such a
    deadline itself, up to a moment before the planned run, and tells the trigger the one after."""
    from tracker import jobs, scheduler

    start = utcnow()
    deadlines = [start + timedelta(seconds=0.3), start + timedelta(seconds=0.6), start + timedelta(seconds=9.8)]
    swept: list = []
    monkeypatch.setattr(jobs, "sweep", lambda app: swept.append(utcnow()) or 1)
    monkeypatch.setattr(jobs, "next_deadline", lambda app: next((d for d in deadlines if d > utcnow()), None))
    made = trigger()
    made.get_next_fire_time(start, start)  # planned: start + 10 s
    assert scheduler.sweep_on_time(None, made) == 3
    assert [round((at - start).total_seconds(), 1) for at in swept] == [0.0, 0.3, 0.6], swept
    assert made.deadline == deadlines[2], "9.8 s is within 0.5 s of the planned run: left to it, and planned for"


def test_a_stopping_scheduler_ends_the_sweeps_wait_at_once(monkeypatch):
    from tracker import jobs, scheduler

    start = utcnow()
    monkeypatch.setattr(jobs, "sweep", lambda app: 1)
    monkeypatch.setattr(jobs, "next_deadline", lambda app: start + timedelta(seconds=5))
    made = trigger()
    made.get_next_fire_time(start, start)
    made.stopping.set()
    assert scheduler.sweep_on_time(None, made) == 1 and utcnow() - start < timedelta(seconds=1)
