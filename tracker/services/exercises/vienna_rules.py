"""The Vienna Document thresholds the exercise checks apply, read from the configuration's
VIENNA_DOCUMENT table (config/default.toml): each threshold with the paragraph its findings cite.
Pure: config.py checks the table at start-up with rules_from, and the doors read it the same way."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

# The figures the Document counts, named as our reports name what they saw (Incident.observed_forces).
FIGURES = (
    "troops",
    "battle_tanks",
    "armoured_combat_vehicles",
    "artillery_pieces",
    "airborne_troops",
    "aircraft_sorties",
)


@dataclass(frozen=True)
class Threshold:
    """At least one of these figures makes the activity qualify (paragraph cited)."""

    paragraph: str
    limits: dict[str, int]

    def reached(self, figures: Mapping[str, int | None]) -> list[str]:
        """The figures at or above their limit."""
        return [name for name, limit in self.limits.items() if (figures.get(name) or 0) >= limit]

    def exceeded(self, figures: Mapping[str, int | None]) -> list[str]:
        """The figures above their limit (the constraining provisions say "more than")."""
        return [name for name, limit in self.limits.items() if (figures.get(name) or 0) > limit]


@dataclass(frozen=True)
class Rules:
    """The thresholds and paragraphs of the configuration's VIENNA_DOCUMENT table."""

    notice_days: int
    notice_paragraph: str
    snap_paragraph: str
    snap_notice_paragraph: str
    notify: tuple[Threshold, ...]
    air: Threshold
    observe: tuple[Threshold, ...]
    snap_observe_hours: int
    snap_observe_paragraph: str
    near_percent: float
    constrain: Threshold
    constrain_communication_paragraph: str
    calendar_paragraph: str
    calendar_month: int
    calendar_day: int

    def calendar_due(self, year: int) -> date:
        """The last day the annual calendar of the year is due: 15 November of the year before."""
        return date(year - 1, self.calendar_month, self.calendar_day)


def _whole(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"VIENNA_DOCUMENT {name} must be a positive whole number, not {value!r}")
    return value


def _paragraph(table: object, name: str) -> str:
    paragraph = table.get("paragraph") if isinstance(table, Mapping) else None
    if not isinstance(paragraph, str) or not paragraph.strip():
        raise ValueError(f'VIENNA_DOCUMENT {name} must cite its paragraph (paragraph = "38")')
    return paragraph.strip()


def _threshold(table, name: str) -> Threshold:
    paragraph = _paragraph(table, name)
    limits = {key: value for key, value in table.items() if key != "paragraph"}
    unknown = sorted(set(limits) - set(FIGURES))
    if unknown or not limits:
        raise ValueError(f"VIENNA_DOCUMENT {name} must give one or more of {', '.join(FIGURES)}: not {unknown}")
    return Threshold(paragraph, {key: _whole(value, f"{name}.{key}") for key, value in limits.items()})


def _thresholds(tables, name: str) -> tuple[Threshold, ...]:
    if not isinstance(tables, list) or not tables:
        raise ValueError(f"VIENNA_DOCUMENT {name} must be a list of thresholds")
    return tuple(_threshold(table, f"{name}[{i}]") for i, table in enumerate(tables))


def rules_from(config: Mapping) -> Rules:
    """Read the VIENNA_DOCUMENT table; raise ValueError saying what is wrong with it."""
    if not isinstance(config, Mapping):
        raise ValueError("VIENNA_DOCUMENT must be a table")
    expected = {"NOTICE", "SNAP", "NOTIFY", "AIR", "OBSERVE", "SNAP_OBSERVE", "NEAR_PERCENT", "CONSTRAIN", "CALENDAR"}
    if missing := sorted(expected - set(config)):
        raise ValueError(f"VIENNA_DOCUMENT lacks {', '.join(missing)}")
    if unknown := sorted(set(config) - expected):
        raise ValueError(
            f"VIENNA_DOCUMENT has no setting {', '.join(unknown)}: is a top-level setting written under its table?"
        )
    notice, snap, snap_observe = config["NOTICE"], config["SNAP"], config["SNAP_OBSERVE"]
    near = config["NEAR_PERCENT"]
    if isinstance(near, bool) or not isinstance(near, int | float) or not 0 <= near < 100:
        raise ValueError(f"VIENNA_DOCUMENT NEAR_PERCENT must be a number from 0 to under 100, not {near!r}")
    notice_paragraph = _paragraph(notice, "NOTICE")
    calendar = config["CALENDAR"]
    calendar_paragraph = _paragraph(calendar, "CALENDAR")
    month, day = calendar.get("month"), calendar.get("day")
    try:
        date(2001, _whole(month, "CALENDAR.month"), _whole(day, "CALENDAR.day"))
    except ValueError as exc:
        raise ValueError(
            f"VIENNA_DOCUMENT CALENDAR must give a day of the year (month = 11, day = 15): {exc}"
        ) from None
    constrain = config["CONSTRAIN"]
    communication = constrain.get("communication_paragraph") if isinstance(constrain, Mapping) else None
    if not isinstance(communication, str) or not communication.strip():
        raise ValueError(
            'VIENNA_DOCUMENT CONSTRAIN must cite the paragraph of the communication (communication_paragraph = "70")'
        )
    snap_notice = snap.get("notice_paragraph") if isinstance(snap, Mapping) else None
    if not isinstance(snap_notice, str) or not snap_notice.strip():
        raise ValueError('VIENNA_DOCUMENT SNAP must cite the paragraph of its notice (notice_paragraph = "41.1")')
    return Rules(
        notice_days=_whole(notice.get("days"), "NOTICE.days"),
        notice_paragraph=notice_paragraph,
        snap_paragraph=_paragraph(snap, "SNAP"),
        snap_notice_paragraph=snap_notice.strip(),
        notify=_thresholds(config["NOTIFY"], "NOTIFY"),
        air=_threshold(config["AIR"], "AIR"),
        observe=_thresholds(config["OBSERVE"], "OBSERVE"),
        snap_observe_hours=_whole(snap_observe.get("hours") if isinstance(snap_observe, Mapping) else None, "hours"),
        snap_observe_paragraph=_paragraph(snap_observe, "SNAP_OBSERVE"),
        near_percent=float(near),
        constrain=_threshold({k: v for k, v in constrain.items() if k != "communication_paragraph"}, "CONSTRAIN"),
        constrain_communication_paragraph=communication.strip(),
        calendar_paragraph=calendar_paragraph,
        calendar_month=month,
        calendar_day=day,
    )
