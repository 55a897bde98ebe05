"""``python -m ecowatch``: the assembled command line (ecowatch.main)."""

from ecowatch.main import main

main()
