"""Use cases in wings, one sub-package per duty: engine, incidents, exchanges, exercises, review,
accounts. Each takes a session (and collaborators), never commits and never imports Flask."""
