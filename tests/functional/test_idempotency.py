"""Idempotency-Key on the API's creating POSTs and the filing form's one-time key: a retry files once."""

import hashlib
import json
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.support import count, csrf, file_incident, filing_form, incident_payload, sign_in
from tracker import jobs
from tracker.db import session_scope
from tracker.models import IdempotentRequest, Incident, TimelineEvent
from tracker.services.incidents import filing
from tracker.timeutil import utcnow

KEY = "2f6c8c1e-6c53-4c7e-9a51-0d3b9f7f2a10"
FILING_KEY = re.compile(r'name="filing_key" type="hidden" value="([^"]+)"')
COMMENT_KEY = re.compile(r'name="comment_key" type="hidden" value="([^"]+)"')


def post_incident(client, world, key=KEY, who="duty", **overrides):
    headers = {**world.auth(who), **({"Idempotency-Key": key} if key is not None else {})}
    return client.post("/api/v1/incidents", json=incident_payload(**overrides), headers=headers)


def test_the_same_key_and_body_again_files_nothing_and_answers_the_first_answer(app, client, world):
    first = post_incident(client, world)
    again = post_incident(client, world)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert count(app, Incident) == 1
    assert again.get_data() == first.get_data() and again.mimetype == "application/json"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers.get("Idempotent-Replayed") == "true", again.headers
    assert again.headers["Location"] == first.headers["Location"]
    # Keys are the caller's own: another user's same key is another request.
    other = post_incident(client, world, who="supervisor")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert other.get_json()["reference"] != first.get_json()["reference"]


def test_the_same_key_with_another_body_or_on_another_route_is_refused(app, client, world):
    reference = post_incident(client, world).get_json()["reference"]
    events = count(app, TimelineEvent)
    changed = post_incident(client, world, narrative="Another incident altogether.")
    assert changed.status_code == 422, changed.text
    assert "Idempotency-Key" in changed.get_json()["error"]["details"], changed.get_json()
    comment = client.post(
        f"/api/v1/incidents/{reference}/comments",
        json={"text": "Seen."},
        headers={**world.auth("duty"), "Idempotency-Key": KEY},
    )
    assert comment.status_code == 422 and "Idempotency-Key" in comment.get_json()["error"]["details"]
    assert count(app, Incident) == 1 and count(app, TimelineEvent) == events


def test_a_retry_after_secret_key_was_rotated_is_replayed_while_the_old_key_is_a_fallback(app, client, world):
    """The body's digest is kept under SECRET_KEY: under a new one the retry read as another body (422)."""
    first, old = post_incident(client, world), app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "the-key-after-the-rotation-" + "n" * 20
    assert post_incident(client, world).status_code == 422, "no fallback: another body"

    app.config["SECRET_KEY_FALLBACKS"] = [old]
    again = post_incident(client, world)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true", again.text
    assert again.get_data() == first.get_data() and count(app, Incident) == 1
    assert post_incident(client, world, narrative="Another incident altogether.").status_code == 422


def test_without_a_key_each_post_files_as_before(app, client, world):
    answers = [post_incident(client, world, key=None) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].get_json()["reference"] != answers[1].get_json()["reference"]
    assert count(app, Incident) == 2


@pytest.mark.parametrize("key", ["", "k" * 201, "clé", "tab\there", "\x7f"])
def test_a_key_that_is_not_1_to_200_printable_ascii_characters_is_refused(app, client, world, key):
    answer = post_incident(client, world, key=key)
    assert answer.status_code == 422, answer.text
    assert "Idempotency-Key" in answer.get_json()["error"]["details"]
    assert count(app, Incident) == 0


def test_a_refused_first_attempt_leaves_the_key_free_for_the_retry(app, client, world):
    app.config["NARRATIVE_MAX_LENGTH"] = 10  # the service refuses this body, for now
    refused = post_incident(client, world)
    assert refused.status_code == 422 and "narrative" in refused.get_json()["error"]["details"], refused.text
    app.config["NARRATIVE_MAX_LENGTH"] = 4000
    retried = post_incident(client, world)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers, retried.text
    assert count(app, Incident) == 1


def test_a_first_attempt_that_crashed_leaves_nothing_and_the_retry_files(app, client, world, monkeypatch):
    real = filing.file_incident

    def crash(session, *args, **kwargs):
        real(session, *args, **kwargs)
        session.flush()
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(filing, "file_incident", crash)
    with pytest.raises(RuntimeError):
        post_incident(client, world)
    monkeypatch.setattr(filing, "file_incident", real)
    assert count(app, Incident) == 0 and count(app, IdempotentRequest) == 0
    assert post_incident(client, world).status_code == 201
    assert post_incident(client, world).headers["Idempotent-Replayed"] == "true"
    assert count(app, Incident) == 1


def test_a_key_older_than_a_day_is_a_new_request_and_old_answers_are_forgotten(app, client, world):
    assert post_incident(client, world).status_code == 201
    with session_scope(app) as session:
        session.execute(update(IdempotentRequest).values(created_at=utcnow() - timedelta(hours=25)))
    again = post_incident(client, world)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert count(app, Incident) == 2
    with session_scope(app) as session:
        session.execute(update(IdempotentRequest).values(created_at=utcnow() - timedelta(hours=25)))
    assert jobs.forget_answers(app) == 1 and count(app, IdempotentRequest) == 0


def test_every_creating_post_honours_the_key_and_the_document_says_so(app, client, world):
    reference = post_incident(client, world).get_json()["reference"]
    headers = {**world.auth("duty"), "Idempotency-Key": "comment-1"}
    first = client.post(f"/api/v1/incidents/{reference}/comments", json={"text": "Seen."}, headers=headers)
    again = client.post(f"/api/v1/incidents/{reference}/comments", json={"text": "Seen."}, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["id"] == again.get_json()["id"]

    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    creating = [
        (path, operation)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method == "post" and "201" in operation["responses"]
    ]
    undocumented = [
        path
        for path, operation in creating
        if "Idempotency-Key" not in {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
    ]
    # A line check is sent over the line outside the request's transaction: not replayable.
    assert undocumented == ["/api/v1/channels/{channel_id}/checks"], undocumented
    assert len(creating) >= 10


def test_the_filing_form_files_once_however_often_it_is_sent(app, client, world):
    sign_in(client, "duty")
    page = client.get("/incidents/new")
    key = FILING_KEY.search(page.text)[1]
    assert key != FILING_KEY.search(client.get("/incidents/new").text)[1], "a new key for each rendering"
    data = {**filing_form(client), "filing_key": key}
    first = client.post("/incidents/new", data=data)
    again = client.post("/incidents/new", data=data)
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert count(app, Incident) == 1
    assert "filed already" in client.get(again.headers["Location"]).text


def test_a_comment_form_sent_twice_adds_one_comment(app, client, world):
    """A double click on "Add comment" posted the form twice, and the timeline showed the comment twice."""
    reference = file_incident(client, world)["reference"]
    sign_in(client, "liaison")
    page = client.get(f"/incidents/{reference}")
    data = {"csrf_token": csrf(client, f"/incidents/{reference}"), "text": "Eastland called back."}
    data["comment_key"] = COMMENT_KEY.search(page.text)[1]
    first = client.post(f"/incidents/{reference}/comments", data=data)
    again = client.post(f"/incidents/{reference}/comments", data=data)
    assert first.status_code == again.status_code == 302
    assert "added already" in client.get(again.headers["Location"]).text
    timeline = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("liaison")).get_json()["timeline"]
    assert [e["kind"] for e in timeline].count("commented") == 1, timeline
    data["comment_key"] = COMMENT_KEY.search(client.get(f"/incidents/{reference}").text)[1]  # the page drawn again
    assert client.post(f"/incidents/{reference}/comments", data=data).status_code == 302
    assert count(app, TimelineEvent) == len(timeline) + 1, "a new form's comment is added"


def test_a_form_sent_back_with_problems_keeps_its_key_for_the_corrected_one(app, client, world):
    sign_in(client, "duty")
    key = FILING_KEY.search(client.get("/incidents/new").text)[1]
    refused = client.post("/incidents/new", data={**filing_form(client), "filing_key": key, "reporting_unit": ""})
    assert refused.status_code == 422 and FILING_KEY.search(refused.text)[1] == key
    data = {**filing_form(client), "filing_key": key, "csrf_token": csrf(client, "/incidents/new")}
    assert client.post("/incidents/new", data=data).status_code == 302
    assert client.post("/incidents/new", data=data).status_code == 302
    assert count(app, Incident) == 1


@pytest.mark.both_databases  # the key's claim waits on PostgreSQL's unique index, on SQLite's write lock
def test_eight_clients_sending_the_same_key_at_once_file_one_incident(app, world):
    threads, answers, start = [], [], threading.Barrier(8)

    def send():
        client = app.test_client()
        start.wait()
        answers.append(post_incident(client, world, key="burst-1"))

    for _ in range(8):
        threads.append(threading.Thread(target=send))
        threads[-1].start()
    for thread in threads:
        thread.join(60)
    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers if a.status_code != 201]
    assert len({a.get_json()["reference"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 7
    assert count(app, Incident) == 1


def test_a_lines_kept_answer_holds_neither_its_secret_nor_its_hooks_path(app, client, world):
    """The answer kept 24 h for a retry of a line's creation held its webhook signing secret and the hook's
    whole address (a credential in its path): the store keeps them as the pages show them to others."""
    hook = "https://hooks.test.example/services/T0001/B0002/kept-token-in-the-path"
    body = {"name": "Hotline hook", "level": 3, "transport": "webhook", "address": hook}
    headers = {**world.auth("admin"), "Idempotency-Key": "line-1"}
    first = client.post("/api/v1/channels", json=body, headers=headers)
    assert first.status_code == 201, first.text
    secret = first.get_json()["secret"]
    assert secret and first.get_json()["address"] == hook, "shown once, in the answer that made it"
    with session_scope(app) as session:
        (kept,) = session.scalars(select(IdempotentRequest.answer)).all()
    assert secret.encode() not in kept and b"kept-token" not in kept, kept

    again = client.post("/api/v1/channels", json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true", again.text
    replayed = again.get_json()
    assert replayed["id"] == first.get_json()["id"] and replayed["name"] == "Hotline hook", replayed
    assert "secret" not in replayed and replayed["address"] == "https://hooks.test.example/[path withheld]"


def test_what_is_kept_of_a_lines_body_cannot_test_a_guess_of_its_secret(app, client, world):
    """The body's digest was a plain SHA-256: whoever read the table could hash guesses of the body (all of it
    known but the secret an admin chose) and find the secret."""
    sent = json.dumps(
        {
            "name": "Hook",
            "level": 3,
            "transport": "webhook",
            "address": "https://hooks.test.example/h",
            "secret": "correct horse battery",
        }
    )
    headers = {**world.auth("admin"), "Idempotency-Key": "line-2", "Content-Type": "application/json"}
    assert client.post("/api/v1/channels", data=sent, headers=headers).status_code == 201
    with session_scope(app) as session:
        (digest,) = session.scalars(select(IdempotentRequest.body_digest)).all()
    assert digest != hashlib.sha256(sent.encode()).hexdigest()
    again = client.post("/api/v1/channels", data=sent, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true", again.text
