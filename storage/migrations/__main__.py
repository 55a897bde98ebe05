"""``python -m storage.migrations revision "message"``."""

import sys

from storage.migrations import main

raise SystemExit(main(sys.argv[1:]))
