"""The one permission table: roles are bundles of permissions named after actions."""

import pytest

from tracker.models import Role
from tracker.models.permissions import GRANTS, ON_OWN_LINES, Permission, holders, may


def test_every_role_has_a_row_and_every_permission_a_holder():
    assert set(GRANTS) == set(Role), "each role is granted its permissions in GRANTS"
    nobody = [p for p in Permission if not holders(p)]
    assert not nobody, f"permissions no role holds: {nobody}"


def test_admins_may_do_everything():
    assert all(may(Role.ADMIN, p) for p in Permission)


@pytest.mark.parametrize(("scoped", "wider"), ON_OWN_LINES.items())
def test_whoever_may_act_on_any_incident_may_act_on_their_own(scoped, wider):
    for role in holders(wider):
        assert may(role, scoped), f"{role} holds {wider} but not {scoped}"


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        (Role.DUTY_OFFICER, Permission.INCIDENTS_FILE, True),
        (Role.DUTY_OFFICER, Permission.INCIDENTS_HANDLE, False),
        (Role.LIAISON, Permission.INCIDENTS_FILE, False),
        (Role.LIAISON, Permission.INCIDENTS_HANDLE, True),
        (Role.LIAISON, Permission.INCIDENTS_HANDLE_ANY, False),
        (Role.SUPERVISOR, Permission.REPORTS_READ, True),
        (Role.SUPERVISOR, Permission.CHANNELS_MANAGE, False),
    ],
)
def test_the_table_says_who_files_handles_and_reviews(role, permission, allowed):
    assert may(role, permission) is allowed
