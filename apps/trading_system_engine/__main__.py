"""``uv run apps/trading_system_engine``: run the trading-system-engine."""

import sys

from trading_system_engine.__main__ import main

sys.exit(main())
