"""Use cases. Each takes a session (and collaborators) and never commits: the caller does."""
