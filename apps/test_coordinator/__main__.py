"""``uv run apps/test_coordinator``: run the test-coordinator."""

import sys

from test_coordinator.__main__ import main

sys.exit(main())
