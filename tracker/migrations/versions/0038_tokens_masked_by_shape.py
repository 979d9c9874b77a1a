"""Failures kept before a signed link's token was masked by its shape lose it, as 0033 masked the rest.

A receiver that answers "unknown token eyJ..." quoted our token bare, neither in a /links/ url nor as a JSON
member, and tracker.text.masked let it through: the message's failure showed it to every reader of the incident
and in the supervisors' dead letter, and the token still acknowledged the incident. masked() now knows a token by
its shape (text.SIGNED_TOKEN); this runs 0033's masking of the kept failures again with it. Timeline events stay as
sealed and are masked where shown, as 0033 says.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07
"""

import importlib

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    importlib.import_module("tracker.migrations.versions.0033_failures_masked").upgrade()


def downgrade() -> None:
    """Nothing given back: the tokens were never meant to be kept."""
