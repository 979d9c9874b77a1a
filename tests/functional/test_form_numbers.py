"""Numbers typed on the pages are read from ASCII digits: WTForms' IntegerField and FloatField read with int() and
float(), which take "٣٠٠" or "３００" for 300, "1_000" for 1000 and (float) "nan", "inf" and "1e3"."""

import importlib
import inspect
import pkgutil
import re

import pytest
from sqlalchemy import func, select
from wtforms import FloatField, Form, IntegerField
from wtforms.fields.core import UnboundField

import tracker.web
from tests.functional.test_admin_pages import channel_form
from tests.support import csrf, filing_form, sign_in
from tracker.db import session_scope
from tracker.models import ContactChannel, Incident
from tracker.web.base_form import NumberField, WholeNumberField

ERROR = re.compile(r'<small class="error" id="([a-z_]+)-error">([^<]*)</small>')


def _number_fields():
    """(form.field, field class) of every number field of every form of the pages."""
    for info in pkgutil.iter_modules(tracker.web.__path__):
        module = importlib.import_module(f"tracker.web.{info.name}")
        for _, form in inspect.getmembers(module, inspect.isclass):
            if not issubclass(form, Form) or not form.__module__.startswith("tracker.web"):
                continue
            for klass in form.__mro__:
                for name, unbound in vars(klass).items():
                    if isinstance(unbound, UnboundField) and issubclass(unbound.field_class, IntegerField | FloatField):
                        yield f"{form.__name__}.{name}", unbound.field_class


def test_every_number_field_of_the_pages_reads_ascii_digits_only():
    found = dict(_number_fields())
    assert "IncidentForm.cpa_horizontal" in found and "PolicyForm.repeat" in found, sorted(found)
    lenient = sorted(name for name, kind in found.items() if not issubclass(kind, WholeNumberField | NumberField))
    assert lenient == [], lenient


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("٣٠٠", "ARABIC-INDIC DIGIT THREE"),
        ("３００", "FULLWIDTH DIGIT THREE"),
        ("nan", "not a number"),
        ("inf", "not a number"),
        ("1e3", "not a number"),
        ("1_000", "not a number"),
    ],
)
def test_a_closest_approach_typed_with_other_digits_or_as_nan_is_refused_beside_its_field(
    client, world, app, typed, said
):
    sign_in(client, "duty")
    answer = client.post("/incidents/new", data=filing_form(client, cpa_horizontal=typed, cpa_horizontal_unit="m"))
    errors = dict(ERROR.findall(answer.text))
    assert answer.status_code == 422 and said in errors.get("cpa_horizontal", ""), (answer.status_code, errors)
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0, "nothing filed"


def test_a_closest_approach_typed_with_ascii_digits_is_read(client, world, app):
    sign_in(client, "duty")
    answer = client.post("/incidents/new", data=filing_form(client, cpa_horizontal=" 0.3 ", cpa_horizontal_unit="nm"))
    assert answer.status_code == 302, dict(ERROR.findall(answer.text))
    with session_scope(app) as session:
        assert session.scalar(select(Incident.cpa_horizontal_m)) == 556


def test_a_line_check_interval_typed_in_fullwidth_digits_is_refused(client, world, app):
    sign_in(client, "admin")
    form = {
        "csrf_token": csrf(client, "/admin/channels/new"),
        "name": "Night desk",
        "level": "1",
        "transport": "outbox",
        "address": "night@test.example",
        "check_interval_seconds": "３６００",
    }
    answer = client.post("/admin/channels/new", data=form)
    assert answer.status_code in (200, 422) and "FULLWIDTH DIGIT THREE" in answer.text, answer.text[:3000]
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).where(ContactChannel.name == "Night desk")) == 0


def test_every_select_of_numbers_reads_ascii_digits_only():
    """coerce=int read "١" as 1: a select took another spelling of one of its choices."""
    lenient = []
    for info in pkgutil.iter_modules(tracker.web.__path__):
        module = importlib.import_module(f"tracker.web.{info.name}")
        for _, form in inspect.getmembers(module, inspect.isclass):
            if issubclass(form, Form) and form.__module__.startswith("tracker.web"):
                for name, unbound in vars(form).items():
                    if isinstance(unbound, UnboundField) and unbound.kwargs.get("coerce") is int:
                        lenient.append(f"{form.__name__}.{name}")
    assert lenient == [], lenient


def test_a_line_level_typed_in_arabic_indic_digits_is_refused(client, world, app):
    sign_in(client, "admin")
    form = {
        "csrf_token": csrf(client, "/admin/channels/new"),
        **channel_form(name="Night desk", level="١", address="night@test.example"),
    }
    answer = client.post("/admin/channels/new", data=form)
    assert answer.status_code == 422 and "level-error" in answer.text, (answer.status_code, answer.text[:2000])
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).where(ContactChannel.name == "Night desk")) == 0, "not saved"
    form["level"] = "1"
    assert client.post("/admin/channels/new", data=form).status_code == 302, "the same form in 0-9 is saved"
