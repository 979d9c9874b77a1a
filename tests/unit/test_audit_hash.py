"""The audit chain's hashing and the checks of each seal, without a database."""

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from tracker.models import EventKind
from tracker.services.review import audit

AT = datetime(2026, 11, 27, 14, 5, 0, 123456, tzinfo=UTC)
CONTENT = {
    "prev_hash": audit.GENESIS,
    "event_id": 12,
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
    assert text == f'["{audit.GENESIS}",12,7,"commented","Désirée","2026-11-27T14:05:00.123456Z",{{"a":[1,"é"],"b":1}}]'


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
        ("event_id", 13),
        ("incident_id", 8),
        ("kind", "resolved"),
        ("actor", "liaison "),
        ("at", AT + timedelta(seconds=1)),
        ("details", {**CONTENT["details"], "step": 3}),
    ],
)
def test_every_field_is_covered_by_the_hash(field, value):
    assert digest(**{field: value}) != digest(), f"changing {field} left the hash unchanged"


def sealed(count: int, incidents: tuple[int, ...] = (1,)) -> list[SimpleNamespace]:
    """count seals in seq order, as seals_after reads them: each with the seal before it and its event."""
    rows, head = [], audit.GENESIS
    for n in range(count):
        event = SimpleNamespace(
            id=100 + n,
            incident_id=incidents[n % len(incidents)],
            kind="commented",
            actor="duty",
            at=AT,
            details={"n": n},
        )
        digest = audit.hash_of(head, event)
        rows.append(
            SimpleNamespace(
                seq=n + 1,
                event_id=event.id,
                prev_hash=head,
                hash=digest,
                previous_hash=None if n == 0 else head,
                found_id=event.id,
                sealed_incident_id=event.incident_id,
                handover_id=None,
                **{k: getattr(event, k) for k in ("incident_id", "kind", "actor", "at", "details")},
            )
        )
        head = digest
    return rows


def test_an_intact_chain_is_counted_and_its_last_seal_reported():
    rows = sealed(5, incidents=(1, 2))
    verdict = audit.walk(rows)
    assert (verdict.intact, verdict.seals, verdict.incidents) == (True, 5, 2), verdict
    assert (verdict.last_seq, verdict.last_hash) == (5, rows[-1].hash)


def test_an_edited_event_no_longer_matches_its_seal():
    rows = sealed(4)
    rows[2].details = {"n": "edited"}
    verdict = audit.walk(rows)
    broken = verdict.broken
    assert broken is not None, verdict
    assert (broken.seq, broken.event_id, broken.problem, verdict.seals) == (3, 102, audit.CONTENT, 2), broken
    assert broken.expected == rows[2].hash and broken.found != rows[2].hash


def test_a_deleted_event_leaves_its_seal_pointing_at_nothing():
    rows = sealed(4)
    rows[1].found_id = rows[1].incident_id = rows[1].kind = rows[1].actor = rows[1].at = rows[1].details = None
    broken = audit.walk(rows).broken
    assert broken is not None and (broken.seq, broken.event_id, broken.problem) == (2, 101, audit.MISSING), broken
    assert "event 101, seal 2: the event is gone" in broken.describe(), broken.describe()


@pytest.mark.parametrize("gone", [0, 2])
def test_a_deleted_seal_leaves_a_gap(gone):
    rows = sealed(4)
    rows[gone + 1].previous_hash = None  # what the join on seq - 1 finds once that seal is gone
    del rows[gone]
    broken = audit.walk(rows).broken
    assert broken is not None and (broken.seq, broken.problem) == (gone + 2, audit.GAP), broken
    assert f"seal {gone + 1} before it is missing" in broken.describe(), broken.describe()


def test_a_seal_naming_another_predecessor_breaks_the_link():
    rows = sealed(3)
    rows[2].previous_hash = "f" * 64  # seal 2's hash as it now reads
    broken = audit.walk(rows).broken
    assert broken is not None and (broken.seq, broken.problem) == (3, audit.LINK), broken
    assert (broken.expected, broken.found) == ("f" * 64, rows[2].prev_hash)


def test_the_first_seal_links_to_the_genesis_hash():
    rows = sealed(2)
    rows[0].prev_hash = "f" * 64
    broken = audit.walk(rows).broken
    assert broken is not None and (broken.seq, broken.problem, broken.expected) == (1, audit.LINK, audit.GENESIS)
    assert "the chain starts from" in broken.describe(), broken.describe()


def test_content_moved_to_another_event_does_not_match():
    rows = sealed(3)
    rows[1].found_id = rows[1].event_id = 999  # the same content under another id
    broken = audit.walk(rows).broken
    assert broken is not None and (broken.seq, broken.problem) == (2, audit.CONTENT), broken


def test_an_event_moved_to_another_incident_is_named_as_moved():
    rows = sealed(3)
    rows[1].incident_id = 2  # sealed as incident 1's
    broken = audit.walk(rows).broken
    assert broken is not None and (broken.seq, broken.problem, broken.incident_id) == (2, audit.MOVED, 2), broken
    assert broken.sealed_incident_id == 1 and broken.found != broken.expected, broken
    text = audit.Break(**{**vars(broken), "reference": "INC-2", "sealed_reference": "INC-1"}).describe()
    assert "event 101 of INC-2 (commented), seal 2: it was sealed as an event of INC-1 and has been moved" in text


def test_a_break_describes_itself_with_the_reference():
    broken = audit.Break(5, 12, audit.CONTENT, "a" * 64, "b" * 64, 3, "commented", reference="INC-2026-00003")
    text = broken.describe()
    assert text.startswith("audit chain broken at event 12 of INC-2026-00003 (commented), seal 5: "), text
    assert "content changed after it was sealed" in text, text
