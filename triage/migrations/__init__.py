"""Alembic migrations for the store, applied by :func:`triage.store.database.upgrade`."""
