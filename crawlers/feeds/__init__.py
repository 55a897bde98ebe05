"""RSS/Atom readers (feedparser), with conditional GET and tolerant decoding."""
