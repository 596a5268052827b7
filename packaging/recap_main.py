"""Entry point of the frozen app: the same `recap` command as `python -m app`.

Without a command it opens the desktop app (that is what a double-click does).
"""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
