"""`flask --app wsgi exercise import FILE` and `exercise list`."""

from pathlib import Path

import pytest

from tests.support import count
from tracker.models import ExerciseNotice

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "exercises.sample.csv"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_sample_file_is_imported_and_listed(app, runner):
    result = runner.invoke(args=["exercise", "import", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("imported 3 exercises:"), result.output
    assert count(app, ExerciseNotice) == 3

    listed = runner.invoke(args=["exercise", "list", "--when", "all"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2", "3"], lines
    assert "EASTERN RAMPART-27" in lines[0] and "2027-03-02 06:00Z - 2027-03-09 18:00Z" in lines[0], lines[0]
    assert "Eastland, Southland" in lines[1] and "bilateral_briefing" in lines[1], lines[1]
    assert "⚑ troops just under the observation threshold (para. 47.4)" in lines[0], (
        "12,500 troops declared: " + lines[0]
    )
    assert "briefing only (para. 38)" in lines[1] and "⚑" not in lines[2], lines
    # When each was made known: SILENT SKY-27 has no notification time on record, which its line must say (it
    # showed "voluntary_briefing" alone, as if the briefing had been given).
    assert "vienna_document 2026-11-20T09:00:00Z" in lines[0] and "bilateral_briefing 2026-11-28T10:00:00Z" in lines[1]
    assert "voluntary_briefing (no notification on record)" in lines[2], lines[2]
    past = runner.invoke(args=["exercise", "list", "--when", "past"])
    nothing = ("", "no exercises past; `--when all` lists every one\n")
    assert (past.stdout, past.stderr) == nothing, "nothing is over yet"


def test_a_bad_file_imports_nothing_and_names_each_bad_row(app, runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(SAMPLE.read_text().replace("vienna_document", "rumour").replace("120600ZAPR27", "yesterday"))
    result = runner.invoke(args=["exercise", "import", str(bad)])
    assert result.exit_code == 1, result.output
    assert "row 2: notified_via: one of vienna_document" in result.stderr, result.stderr
    assert "row 3: starts_at: expected ISO 8601" in result.stderr, result.stderr
    assert "row 4" not in result.stderr and "Traceback" not in result.output, result.output
    assert count(app, ExerciseNotice) == 0


def test_a_file_that_is_not_utf8_is_refused(app, runner, tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,states\nÜBUNG,Östland\n".encode("latin-1"))
    result = runner.invoke(args=["exercise", "import", str(latin)])
    assert result.exit_code == 1 and "is not UTF-8 text" in result.stderr, result.output
