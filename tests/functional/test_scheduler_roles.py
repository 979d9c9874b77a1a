"""`flask --app wsgi scheduler --jobs sweep|deliver`: a scheduler process runs the sweep, the delivery, or both."""

import pytest

from tracker.scheduler import build_scheduler

SWEEP = {"sweep", "checks", "watchdog", "metrics", "forget", "beat"}


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (("sweep", "deliver"), SWEEP | {"deliver"}),
        (("sweep",), SWEEP),
        (("deliver",), {"deliver", "beat"}),
    ],
)
def test_each_scheduler_runs_the_jobs_of_its_roles_and_always_beats(app, roles, expected):
    scheduler = build_scheduler(app, roles=roles)
    assert {job.id for job in scheduler.get_jobs()} == expected


@pytest.mark.parametrize("roles", [(), ("escalate",)])
def test_a_scheduler_without_a_known_role_is_refused(app, roles):
    with pytest.raises(ValueError, match="a scheduler runs some of sweep, deliver"):
        build_scheduler(app, roles=roles)


def test_the_cli_offers_the_choice(app):
    result = app.test_cli_runner().invoke(args=["scheduler", "--jobs", "escalate"])
    assert result.exit_code == 2 and "'sweep'" in result.output and "'deliver'" in result.output, result.output
    helped = app.test_cli_runner().invoke(args=["scheduler", "--help"])
    assert "--jobs [sweep|deliver]" in helped.output, helped.output
