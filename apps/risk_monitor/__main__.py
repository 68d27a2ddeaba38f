"""``uv run apps/risk_monitor``: run the risk-monitor."""

import sys

from risk_monitor.__main__ import main

sys.exit(main())
