"""A sentence of ours with what people typed (or a deployment configured) kept apart from it: the words with
{named} placeholders, and the values that fill them.

Mails, webhooks, the API and exports carry the plain sentence (str()). A page lays each value out by itself
(web/bidi.py, isolated_sentence): a name in Arabic or Hebrew written into the sentence as plain text would draw
the words and numbers beside it into its right-to-left run ("a call on <Hebrew line>, logged by ..." read in
another order). Only what comes from outside is a value; our own words and numbers are in the text, which
therefore holds no brace but its placeholders'.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sentence:
    text: str
    values: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        """The plain sentence, each placeholder filled in with its value."""
        return self.text.format_map(self.values)

    def as_json(self) -> dict:
        """The sentence as a snapshot keeps it (read back by from_json)."""
        return {"text": self.text, "values": dict(self.values)}

    @classmethod
    def from_json(cls, kept: Mapping) -> "Sentence":
        return cls(kept["text"], kept.get("values") or {})
