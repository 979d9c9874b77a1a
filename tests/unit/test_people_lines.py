"""Names and e-mail addresses of users and tokens are one line each, within their columns: a tab in a
username or 300 characters in a full name are refused with 422 (on PostgreSQL they failed in the
database, and the error printed the password's hash)."""

import pytest

from tracker.errors import ValidationError
from tracker.services.accounts import people


class NoSession:
    def scalar(self, *_):  # no user of that name
        return None


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"username": "a\tb"}, "username"),
        ({"full_name": "F" * 300}, "full_name"),
        ({"full_name": "Maj\nPetrov"}, "full_name"),
        ({"email": "x" * 300 + "@example.org"}, "email"),
    ],
)
def test_a_users_names_are_one_line_within_their_columns(given, field):
    fields = {"username": "night", "password": "night-one-pw", "role": "liaison", **given}
    with pytest.raises(ValidationError) as refused:
        people.create_user(NoSession(), **fields, by=None)
    assert field in refused.value.details, refused.value.details


def test_a_tokens_name_is_one_line_within_its_column():
    with pytest.raises(ValidationError) as refused:
        people.create_token(NoSession(), None, "L" * 300, by="admin")
    assert "name" in refused.value.details
