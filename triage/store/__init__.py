"""The durable store: SQLite by default, PostgreSQL by URL, schema migrated at start-up."""

from triage.store.database import Store, StoreError, open_store
from triage.store.models import (AuditEntry, Case, FolderCheckpoint, Message, OutboxRow, Review,
                                 SuggestionRecord)

__all__ = ["Store", "StoreError", "open_store", "AuditEntry", "Case", "FolderCheckpoint", "Message", "OutboxRow",
           "Review", "SuggestionRecord"]
