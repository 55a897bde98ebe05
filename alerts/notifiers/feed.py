"""The in-app feed: messages stored for the console (always on, never quiet)."""

from __future__ import annotations

import datetime as dt

from core.settings import Settings
from core.timeutil import utcnow
from storage.sql import SqlStore, Tx

from . import Message


class FeedNotifier:
    """Stores each message as a ``notification`` line of the live-feed table (``storage.events``),
    addressed to the message's recipient."""

    channel = "feed"

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    @classmethod
    def from_settings(cls, settings: Settings, store: SqlStore) -> FeedNotifier:
        """Always configured: the feed lives in the store."""
        return cls(store)

    def send_in(self, tx: Tx, message: Message, at: dt.datetime) -> None:
        """Store the message inside ``tx``: the outbox job marks it sent in the same transaction,
        so a crash cannot store it twice (sent again after the lease) or mark it sent unstored."""
        tx.add_feed_event(at=at, incident_id=message.incident_id, recipient=message.address, grade=message.grade,
                          subject=message.subject, body=message.body, events=message.events)

    def send(self, message: Message) -> None:
        """Append to the feed of the message's recipient (in a transaction of its own)."""
        with self.store.begin() as tx:
            self.send_in(tx, message, utcnow())
