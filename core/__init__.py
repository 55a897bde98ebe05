"""Shared vocabulary of ecowatch: settings, models, errors, jurisdiction packs, time helpers.

Imports nothing else of ours; every other package may import it.
"""
