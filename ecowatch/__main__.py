"""``python -m ecowatch``: the assembled command line (ecowatch.main)."""

from ecowatch.main import main

# Guarded: a spawned worker (ecowatch.analysis_workers) imports this module again as its own main.
if __name__ == "__main__":
    main()
