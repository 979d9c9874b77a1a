"""The audit chain's hashing and walking, without a database."""

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from tracker.models import EventKind
from tracker.services import audit

AT = datetime(2026, 11, 27, 14, 5, 0, 123456, tzinfo=UTC)
CONTENT = {
    "prev_hash": audit.GENESIS,
    "incident_id": 7,
    "kind": "commented",
    "actor": "liaison",
    "at": AT,
    "details": {"text": "Eastland confirms", "told": ["L1", "L2"], "step": 2},
}


def digest(**changes) -> str:
    return audit.event_hash(**{**CONTENT, **changes})


def test_canonical_form_is_compact_sorted_utf8_json_with_microseconds():
    text = audit.canonical(**{**CONTENT, "actor": "Désirée", "details": {"b": 1, "a": [1, "é"]}}).decode()
    assert text == f'["{audit.GENESIS}",7,"commented","Désirée","2026-11-27T14:05:00.123456Z",{{"a":[1,"é"],"b":1}}]'


def test_hash_is_stable_across_dict_ordering_at_every_depth():
    one = {"z": 1, "a": {"y": [1, {"q": 1, "p": 2}], "b": None}}
    other = {"a": {"b": None, "y": [1, {"p": 2, "q": 1}]}, "z": 1}
    assert list(one) != list(other)
    assert digest(details=one) == digest(details=other)


@pytest.mark.parametrize(
    "in_memory, read_back",
    [
        ({"steps": (1, 2)}, {"steps": [1, 2]}),
        ({"by_step": {1: "L1"}}, {"by_step": {"1": "L1"}}),
        ({"mixed": {1: "a", "b": 2}}, {"mixed": {"1": "a", "b": 2}}),
        ({}, None),
    ],
    ids=["tuple-is-a-list", "int-keys-are-strings", "mixed-keys-sort", "none-is-empty"],
)
def test_details_hash_as_the_database_gives_them_back(in_memory, read_back):
    assert digest(details=in_memory) == digest(details=read_back)


@pytest.mark.parametrize(
    "at, text",
    [
        (datetime(2026, 11, 27, 14, 5, tzinfo=UTC), "2026-11-27T14:05:00.000000Z"),
        (datetime(2026, 11, 27, 14, 5, 0, 1, tzinfo=UTC), "2026-11-27T14:05:00.000001Z"),
        (datetime(2026, 11, 27, 16, 5, tzinfo=timezone(timedelta(hours=2))), "2026-11-27T14:05:00.000000Z"),
    ],
    ids=["whole-second", "one-microsecond", "other-zone"],
)
def test_times_serialize_in_utc_always_with_microseconds(at, text):
    assert audit.format_at(at) == text


def test_one_microsecond_changes_the_hash_and_the_zone_does_not():
    assert digest(at=AT + timedelta(microseconds=1)) != digest()
    assert digest(at=AT.astimezone(timezone(timedelta(hours=-5)))) == digest()


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="naive"):
        digest(at=AT.replace(tzinfo=None))


def test_a_lone_surrogate_in_the_details_still_hashes():
    assert digest(details={"text": "\ud800"}) != digest(details={"text": ""})


def test_enum_kind_hashes_as_its_value():
    assert digest(kind=EventKind.COMMENTED) == digest(kind="commented")


@pytest.mark.parametrize(
    "field, value",
    [
        ("prev_hash", "f" * 64),
        ("incident_id", 8),
        ("kind", "resolved"),
        ("actor", "liaison "),
        ("at", AT + timedelta(seconds=1)),
        ("details", {**CONTENT["details"], "step": 3}),
    ],
)
def test_every_field_is_covered_by_the_hash(field, value):
    assert digest(**{field: value}) != digest(), f"changing {field} left the hash unchanged"


def chain(incident_id: int, count: int, first_id: int = 1) -> list[SimpleNamespace]:
    """count events of one incident, correctly chained."""
    events, head = [], audit.GENESIS
    for n in range(count):
        event = SimpleNamespace(
            id=first_id + n, incident_id=incident_id, kind="commented", actor="duty", at=AT, details={"n": n}
        )
        event.prev_hash, event.hash = head, None
        event.hash = head = audit.hash_of(event)
        events.append(event)
    return events


def test_intact_chains_are_counted():
    verdict = audit.walk(chain(1, 3) + chain(2, 2, first_id=4))
    assert (verdict.intact, verdict.events, verdict.incidents) == (True, 5, 2), verdict


def test_an_edited_event_breaks_its_own_hash():
    events = chain(1, 4)
    events[2].details = {"n": "edited"}
    verdict = audit.walk(events)
    assert verdict.broken is not None, verdict
    assert (verdict.broken.event_id, verdict.broken.problem, verdict.events) == (3, audit.CONTENT, 2), verdict


@pytest.mark.parametrize("where", [0, 2])
def test_a_deleted_event_breaks_the_next_link(where):
    events = chain(1, 4)
    gone = events.pop(where)
    verdict = audit.walk(events)
    assert verdict.broken is not None, verdict
    assert (verdict.broken.event_id, verdict.broken.problem) == (gone.id + 1, audit.LINK), verdict
    assert verdict.broken.found == gone.hash, "the break should name the deleted event's hash as the missing link"


def test_an_event_moved_to_another_incident_is_found():
    events = chain(1, 2) + chain(2, 2, first_id=3)
    events[1].incident_id = 2
    verdict = audit.walk(sorted(events, key=lambda e: (e.incident_id, e.id)))
    assert verdict.broken is not None and verdict.broken.event_id == 2, verdict
    assert verdict.broken.problem == audit.CONTENT


def test_a_break_describes_itself_with_the_reference():
    broken = audit.Break(12, 3, "commented", audit.LINK, "a" * 64, "b" * 64, reference="INC-2026-00003")
    text = broken.describe()
    assert "event 12 of INC-2026-00003 (commented)" in text and "deleted or inserted" in text, text
