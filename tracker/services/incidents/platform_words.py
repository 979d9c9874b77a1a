"""The other side's platform in words, as the pages, the print and the timeline say it.

A transponder or radio contact left "not known" is stored as nothing (web/forms.py: YES_NO) and is not said at all:
never as "off" or "no", which would be a fact nobody reported."""

# A platform's texts, its names: as it is stored, and as the API and the amend form take it (each held to the
# text rule only where an amendment changes it: amended_columns).
NAMES = ("kind", "nationality", "type", "callsign")


def names(platform: dict) -> list[str]:
    """The platform's names as typed (kind, nationality, type, callsign), the blanks left out."""
    return [platform[key] for key in NAMES if platform.get(key)]


def flags(platform: dict) -> list[str]:
    """Its transponder and radio contact in words, each only when known."""
    said = []
    if platform.get("transponder_on") is not None:
        said.append("transponder on" if platform["transponder_on"] else "transponder off")
    if platform.get("radio_contact") is not None:
        said.append("radio contact yes" if platform["radio_contact"] else "radio contact no")
    return said


def words(platform: dict) -> str:
    """The whole platform on one line: "fighter aircraft · Eastland · transponder off"."""
    return " · ".join(names(platform) + flags(platform)) or "–"
