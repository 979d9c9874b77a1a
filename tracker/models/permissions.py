"""Who may do what: permissions named after actions, and the one table that grants them to roles.

The routes ask for a permission (tracker.http.access.requires), the services ask the same table
when the answer also depends on the incident (a liaison officer acts only on incidents routed to a
line of theirs). Modelled on Alerta's Scope (alerta/models/enums.py): a permission is a word for an
action, and roles are only bundles of them. What every signed-in person may do (read the board,
incidents, exchanges, the ladder, comment) needs no permission.
"""

import enum

from .enums import Role


class Permission(enum.StrEnum):
    INCIDENTS_FILE = "incidents:file"
    # acknowledge, resolve: on incidents routed to one's own lines, unless one may handle any
    INCIDENTS_HANDLE = "incidents:handle"
    INCIDENTS_HANDLE_ANY = "incidents:handle-any"
    # confirm a ladder step reached by decision (PolicyStep.by_decision: the political levels)
    INCIDENTS_DECIDE = "incidents:decide"
    # correct a filed incident's facts (services/incidents/amending.py): liaison staff on incidents routed
    # to their lines, a duty officer on the incidents they filed or while they keep the watch, unless one
    # may amend any; lowering its precedence takes a supervisor's word
    INCIDENTS_AMEND = "incidents:amend"
    INCIDENTS_AMEND_ANY = "incidents:amend-any"
    INCIDENTS_DOWNGRADE = "incidents:downgrade"
    # confirm or dismiss a suggested related incident
    RELATED_DECIDE = "related:decide"
    RELATED_DECIDE_ANY = "related:decide-any"
    # talk to the other side: exchanges, their messages, what is releasable, summaries
    EXCHANGES_TALK = "exchanges:talk"
    EXCHANGES_TALK_ANY = "exchanges:talk-any"
    # four eyes: approve a text to the other side that someone else wrote (never one's own). A
    # liaison officer approves on the lines they serve (a second officer of the desk); supervisors
    # and admins on any line.
    EXCHANGES_APPROVE = "exchanges:approve"
    EXCHANGES_APPROVE_ANY = "exchanges:approve-any"
    EXERCISES_READ = "exercises:read"
    EXERCISES_MANAGE = "exercises:manage"
    REPORTS_READ = "reports:read"
    # see every line's health and check history, and test a line now
    CHANNELS_WATCH = "channels:watch"
    CHANNELS_MANAGE = "channels:manage"
    POLICIES_MANAGE = "policies:manage"
    RULES_MANAGE = "rules:manage"
    # the agreements messages to the other side are sent under (codes, articles)
    AGREEMENTS_MANAGE = "agreements:manage"
    USERS_MANAGE = "users:manage"
    # keep a watch at a desk: start one, log in it, hand it over and sign for one handed to oneself
    # (services/watches); acting on someone else's watch, or starting one for someone else, takes
    # WATCHES_ASSIGN (the supervisor of the watch roster)
    WATCHES_KEEP = "watches:keep"
    WATCHES_ASSIGN = "watches:assign"
    AUDIT_VERIFY = "audit:verify"
    # read who changed the routing configuration (lines, policies, rules, agreements) and how (config_log)
    CONFIG_HISTORY = "config:history"
    # scrape GET /metrics with one's API token (a Prometheus server may use the scrape secret instead)
    METRICS_READ = "metrics:read"


P = Permission
_HANDLER = {
    P.INCIDENTS_HANDLE,
    P.INCIDENTS_AMEND,
    P.RELATED_DECIDE,
    P.EXCHANGES_TALK,
    P.EXCHANGES_APPROVE,
    P.EXERCISES_READ,
    P.WATCHES_KEEP,
}
_SUPERVISOR = _HANDLER | {
    P.INCIDENTS_FILE,
    P.INCIDENTS_HANDLE_ANY,
    P.INCIDENTS_DECIDE,
    P.INCIDENTS_AMEND_ANY,
    P.INCIDENTS_DOWNGRADE,
    P.RELATED_DECIDE_ANY,
    P.EXCHANGES_TALK_ANY,
    P.EXCHANGES_APPROVE_ANY,
    P.EXERCISES_MANAGE,
    P.REPORTS_READ,
    P.CHANNELS_WATCH,
    P.CONFIG_HISTORY,
    P.METRICS_READ,
    P.WATCHES_ASSIGN,
}

# The one permission table.
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.DUTY_OFFICER: frozenset(
        {
            P.INCIDENTS_FILE,
            P.INCIDENTS_AMEND,
            P.RELATED_DECIDE,
            P.RELATED_DECIDE_ANY,
            P.EXERCISES_READ,
            P.WATCHES_KEEP,
        }
    ),
    Role.LIAISON: frozenset(_HANDLER),
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.ADMIN: frozenset(Permission),
}

# A permission on the left, held without the one on the right, reaches only incidents routed to
# a line the person is a member of (or, for exchanges, the counterpart line of the exchange).
ON_OWN_LINES: dict[Permission, Permission] = {
    P.INCIDENTS_HANDLE: P.INCIDENTS_HANDLE_ANY,
    # For a duty officer "own" is the incidents they filed, or every incident while they keep the watch.
    P.INCIDENTS_AMEND: P.INCIDENTS_AMEND_ANY,
    P.RELATED_DECIDE: P.RELATED_DECIDE_ANY,
    P.EXCHANGES_TALK: P.EXCHANGES_TALK_ANY,
    P.EXCHANGES_APPROVE: P.EXCHANGES_APPROVE_ANY,
}


def may(role: Role, permission: Permission) -> bool:
    """Whether the role holds the permission."""
    return permission in GRANTS[role]


def holders(permission: Permission) -> tuple[Role, ...]:
    """The roles that hold the permission, in the order of Role."""
    return tuple(role for role in Role if may(role, permission))
