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
