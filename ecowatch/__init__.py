"""The top floor: the ``ecowatch`` command line and the scheduler wiring. Imported by nothing."""
