"""Entry point of the demo story: ``uv run python scripts/demo.py [options]``.

``scripts/demo`` runs it once the servers are up. The story itself lives in the package
``scripts/sceau_demo/`` (see its docstring); this file only starts it, so the documented command
keeps working. Running a file puts its folder first on ``sys.path``, which is how ``sceau_demo``
is found.
"""

from __future__ import annotations

import sys

from sceau_demo.cli import main

if __name__ == "__main__":
    sys.exit(main())
