"""Cross-cutting parts: database, auth, errors, health, logging."""
