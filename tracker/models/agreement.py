"""The agreements under which we talk to the other side (INCSEA, DMA 1989, MMCA, the Vienna Document's
Chapter III mechanism, a deconfliction memorandum): each message over a counterpart line cites one."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..timeutil import utcnow
from .base import Base


class Agreement(Base):
    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short and stable, as it stands in a message header and a report: "INCSEA-1972", "VD11-CH3".
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    # The other party (a State, or "" for a multilateral instrument such as the Vienna Document).
    counterpart_state: Mapped[str] = mapped_column(String(80), default="")
    # The article cited by default, and per message kind where another applies:
    # {"notification": "Article VI(2)", "explanation_request": "para. 16.1", ...}.
    default_article: Mapped[str] = mapped_column(String(120), default="")
    articles: Mapped[dict] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # as ContactChannel.version

    def article_for(self, kind: str) -> str:
        """The article a message of this kind is sent under."""
        return str((self.articles or {}).get(kind) or self.default_article)
