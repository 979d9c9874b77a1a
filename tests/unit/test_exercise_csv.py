"""The exercise register's CSV reader (services/exercises/csv_import.py): a malformed file is refused naming its
line, not read as one row whose every other column was "must be given"."""

import pytest

from tracker.errors import ValidationError
from tracker.services.exercises import csv_import

HEADER = ",".join(csv_import.REQUIRED)


def test_a_quote_never_closed_is_refused_naming_its_line():
    text = f'{HEADER}\n"unclosed,{",".join("x" for _ in csv_import.REQUIRED[1:])}\nnext,row\n'
    with pytest.raises(ValidationError) as refused:
        csv_import.read_csv(text)
    said = refused.value.details["csv"]
    assert said.startswith("line ") and "closing quote is missing" in said, said


def test_a_quote_inside_a_cell_not_quoted_whole_is_a_character_of_it():
    rows, problems = csv_import._rows(f'{HEADER}\n5" gun,{",".join("x" for _ in csv_import.REQUIRED[1:])}\n')
    assert problems == {} and rows[0][1][csv_import.REQUIRED[0]] == '5" gun', rows


def test_a_space_after_a_closing_quote_is_read_as_before():
    rows, problems = csv_import._rows(f'{HEADER}\n"x" ,{",".join("y" for _ in csv_import.REQUIRED[1:])}\n')
    assert problems == {} and rows[0][1][csv_import.REQUIRED[1]] == "y", rows


def test_a_quote_never_closed_after_a_space_after_a_closing_one_is_still_refused():
    rest = ",".join("y" for _ in csv_import.REQUIRED[1:])
    text = f'{HEADER}\n"x" ,{rest}\n"unclosed,{rest}\nz,{rest}\n'
    with pytest.raises(ValidationError) as refused:
        csv_import.read_csv(text)
    assert "closing quote is missing" in refused.value.details["csv"], refused.value.details
