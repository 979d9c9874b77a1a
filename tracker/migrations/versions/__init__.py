"""The migration scripts; Alembic reads them by path (this file is not one)."""
