"""``uv run apps/configuration_service``: run the configuration service."""

import sys

from configuration_service.__main__ import main

sys.exit(main())
