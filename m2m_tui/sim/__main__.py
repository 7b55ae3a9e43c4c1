"""``python -m m2m_tui.sim``: the standalone simulator (same flags as ``m2m-tui sim``)."""

import sys

from m2m_tui.sim.standalone import run_standalone

raise SystemExit(run_standalone(sys.argv[1:]))
