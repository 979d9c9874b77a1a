"""Alembic scripts (env.py and versions/); a package only so import-linter can check their imports."""
