"""The in-app feed: messages stored for the console to stream (always on, never quiet)."""

from __future__ import annotations

from core.settings import Settings
from core.timeutil import utcnow
from storage.sql import SqlStore

from . import Message


class FeedNotifier:
    """Writes each message to the ``feed_events`` table."""

    channel = "feed"

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    @classmethod
    def from_settings(cls, settings: Settings, store: SqlStore) -> FeedNotifier:
        """Always configured: the feed lives in the store."""
        return cls(store)

    def send(self, message: Message) -> None:
        """Append to the feed of the message's recipient."""
        with self.store.begin() as tx:
            tx.add_feed_event(at=utcnow(), incident_id=message.incident_id, recipient=message.address,
                              grade=message.grade, subject=message.subject, body=message.body,
                              events=message.events)
