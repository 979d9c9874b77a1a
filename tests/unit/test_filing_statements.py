"""A filing's statements stay within what psycopg caches: a statement longer than its limit, or executed with
more parameters, is parsed again at every use and never prepared (it cost a filing a fifth of its CPU)."""

from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS
from sqlalchemy.dialects.postgresql import psycopg

from tracker.services.accounts import people
from tracker.services.incidents import writing


def test_the_incident_insert_and_the_token_check_stay_cacheable_by_psycopg():
    for statement in (writing._counted_insert(), writing._both_statement(), people._token_check()):
        compiled = statement.compile(dialect=psycopg.dialect())
        assert len(str(compiled)) <= MAX_CACHED_STATEMENT_LENGTH, str(compiled)[:200]
        assert len(compiled.binds) <= MAX_CACHED_STATEMENT_PARAMS, sorted(compiled.binds)


def test_every_column_but_those_a_new_incident_never_has_is_a_parameter_of_the_insert():
    compiled = writing._counted_insert().compile(dialect=psycopg.dialect())
    columns = {c.key for c in writing._INCIDENTS.columns} - {"id", "reference", *writing._LATER}
    assert columns <= set(compiled.binds), columns - set(compiled.binds)
    assert not set(writing._LATER) & set(compiled.binds)
