"""Analysis: relevance, place (responsible unit), topic, sentiment, signals, near-duplicates.

Pure functions and classes over text and a jurisdiction pack: no I/O beyond reading bundled data,
no web framework, no crawler, no scheduler.
"""

from nlp.analyzer import Analyzer

__all__ = ["Analyzer"]
