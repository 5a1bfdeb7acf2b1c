"""``python -I -m automation.launch.gateway --spec FILE``: the gateway process."""

import sys

from automation.launch.gateway._main import main

sys.exit(main())
