"""The exchange's rules without a database: which state may follow which, and which states run a clock."""

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from tracker.models import (
    CLOCKS,
    TRANSITIONS,
    Domain,
    EscalationRisk,
    Exchange,
    ExchangeMessage,
    ExchangeState,
    Incident,
    MessageDirection,
    NotificationKind,
    OutgoingStatus,
    Precedence,
)
from tracker.services.engine.message_text import incident_text, subject
from tracker.services.exchanges import exchanges

S = ExchangeState
NOW = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)


def exchange(state: ExchangeState, **overrides) -> Exchange:
    """An exchange in memory only, with the Vienna Document's 48 h deadlines unless told otherwise."""
    fields = {"state": state, "reply_seconds": 172800, "meeting_seconds": 172800, "overdue_count": 0}
    return Exchange(**{**fields, **overrides})


def reachable(start: ExchangeState) -> set[ExchangeState]:
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in TRANSITIONS[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_state_has_a_row_and_closed_is_the_only_end():
    assert set(TRANSITIONS) == set(ExchangeState), f"states without a row: {set(ExchangeState) - set(TRANSITIONS)}"
    ends = [s for s, after in TRANSITIONS.items() if not after]
    assert ends == [S.CLOSED], f"states nothing can follow: {ends}"


def test_every_state_is_reachable_from_notified_and_every_state_can_still_close():
    assert reachable(S.NOTIFIED) == set(ExchangeState)
    stuck = [s for s in ExchangeState if S.CLOSED not in reachable(s)]
    assert stuck == [], f"states from which the exchange can never close: {stuck}"


def test_only_a_state_with_a_clock_can_become_overdue():
    into_overdue = {s for s, after in TRANSITIONS.items() if S.OVERDUE in after}
    assert into_overdue == set(CLOCKS), f"overdue from {into_overdue}, clocks on {set(CLOCKS)}"


def test_the_vienna_document_path_and_the_overdue_path_are_allowed():
    """Notified, receipt confirmed, explanation requested, reply received; or overdue, meeting
    requested, meeting held, closed. Refused and no answer are ordinary outcomes."""
    for path in (
        [S.NOTIFIED, S.RECEIPT_CONFIRMED, S.EXPLANATION_REQUESTED, S.REPLY_RECEIVED, S.CLOSED],
        [S.NOTIFIED, S.EXPLANATION_REQUESTED, S.OVERDUE, S.MEETING_REQUESTED, S.MEETING_HELD, S.CLOSED],
        [S.NOTIFIED, S.EXPLANATION_REQUESTED, S.REFUSED, S.MEETING_REQUESTED, S.NO_ANSWER, S.CLOSED],
        [S.NOTIFIED, S.EXPLANATION_REQUESTED, S.OVERDUE, S.REPLY_RECEIVED, S.CLOSED],
    ):
        steps = list(zip(path, path[1:], strict=False))
        wrong = [(a.value, b.value) for a, b in steps if b not in TRANSITIONS[a]]
        assert wrong == [], f"path {[s.value for s in path]} refused at {wrong}"


def sent_notice() -> ExchangeMessage:
    return ExchangeMessage(direction=MessageDirection.OUT, status=OutgoingStatus.SENT, kind="notice", text="-")


@pytest.mark.parametrize("state", list(ExchangeState))
def test_a_person_is_never_offered_overdue(state):
    kind = "meeting" if state is S.OVERDUE else None
    offered = exchanges.next_states(exchange(state, deadline_kind=kind, messages=[sent_notice()]))
    assert S.OVERDUE not in offered
    assert offered == [s for s in TRANSITIONS[state] if s is not S.OVERDUE]


@pytest.mark.parametrize("status", [None, OutgoingStatus.DRAFT, OutgoingStatus.APPROVED])
def test_no_receipt_is_confirmed_before_anything_of_ours_was_sent(status):
    """Opened with its notice still a draft (or none written), the exchange is "notified" but the other
    side holds nothing of ours: their receipt of it was offered, by a transition, a call or their message."""
    drafts = [] if status is None else [ExchangeMessage(direction=MessageDirection.OUT, status=status, text="-")]
    theirs = ExchangeMessage(direction=MessageDirection.IN, status=OutgoingStatus.RECEIVED, text="-")
    offered = exchanges.next_states(exchange(S.NOTIFIED, messages=[*drafts, theirs]))
    assert S.RECEIPT_CONFIRMED not in offered, f"offered with {status}: {offered}"
    assert S.RECEIPT_CONFIRMED in exchanges.next_states(exchange(S.NOTIFIED, messages=[*drafts, sent_notice()]))


@pytest.mark.parametrize(("ran_out", "held"), [("meeting", True), ("reply", False), (None, False)])
def test_a_meeting_is_held_late_only_after_a_meetings_clock_ran_out(ran_out, held):
    offered = exchanges.next_states(exchange(S.OVERDUE, deadline_kind=ran_out))
    assert (S.MEETING_HELD in offered) is held, offered
    assert S.REPLY_RECEIVED in offered and S.MEETING_REQUESTED in offered


@pytest.mark.parametrize(
    ("state", "kind", "seconds"),
    [(S.EXPLANATION_REQUESTED, "reply", 3600), (S.MEETING_REQUESTED, "meeting", 7200)],
)
def test_a_request_starts_the_clock_with_the_exchanges_own_deadline(state, kind, seconds):
    x = exchange(state, reply_seconds=3600, meeting_seconds=7200)
    exchanges._set_clock(x, NOW)
    assert (x.deadline_at, x.deadline_kind) == (NOW + timedelta(seconds=seconds), kind)
    assert exchanges.seconds_left(x, NOW + timedelta(seconds=100)) == seconds - 100
    assert exchanges.seconds_left(x, NOW + timedelta(seconds=seconds + 5)) == -5, "negative once due"


@pytest.mark.parametrize("state", [s for s in ExchangeState if s not in CLOCKS])
def test_every_other_state_stops_the_clock(state):
    x = exchange(state, deadline_at=NOW, deadline_kind="reply")
    exchanges._set_clock(x, NOW)
    assert (x.deadline_at, x.deadline_kind) == (None, None), f"{state.value} kept a clock"
    assert exchanges.seconds_left(x, NOW) is None


@pytest.mark.parametrize("state", list(exchanges.MESSAGE_OF))
def test_requests_go_out_and_answers_come_in(state):
    direction, kind = exchanges.MESSAGE_OF[state]
    expected = "out" if state in (S.EXPLANATION_REQUESTED, S.MEETING_REQUESTED) else "in"
    assert direction.value == expected, f"{state.value} carries {kind} {direction.value}"


def test_the_overdue_message_names_the_line_and_the_deadline_that_passed():
    incident = Incident(
        reference="INC-2026-00042",
        precedence=Precedence.IMMEDIATE,
        occurred_at=NOW,
        category="unsafe_intercept",
        domain=Domain.AIR,
        reporting_unit="2nd Air Defence Squadron",
        escalation_risk=EscalationRisk.SERIOUS,
        ladder={"steps": [{"channels": []}]},
    )
    facts = {
        "channel": "Eastland liaison mission",
        "counterpart": "Eastland MoD",
        "deadline_kind": "reply",
        "due_at": NOW + timedelta(hours=48),
        "overdue_count": 1,
    }
    text = incident_text(incident, NotificationKind.EXCHANGE_OVERDUE, 0, 1001, overdue=facts)
    marked = "UNCLASSIFIED // NOT RELEASABLE\n\n"  # every internal message opens (and ends) with the marking
    assert text.startswith(marked + "EXCHANGE OVERDUE: the other side let a deadline pass on Eastland liaison"), text
    assert "their reply to our request for explanation" in text and "291405ZNOV26" in text, text
    bare = incident_text(incident, NotificationKind.EXCHANGE_OVERDUE, 0, 1001)
    assert bare.startswith(marked + "EXCHANGE OVERDUE: the other side let a deadline pass."), bare
    assert subject(incident, NotificationKind.EXCHANGE_OVERDUE).endswith("unsafe intercept EXCHANGE OVERDUE")
