"""Detect, grade, assign, escalate. ``rules``, ``deadlines`` and ``workdays`` are pure (they take
``now``); ``service`` applies them to the store."""
