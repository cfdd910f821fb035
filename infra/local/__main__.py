"""`python -m infra.local`: the whole system on this machine (see infra/local/stack.py)."""

import sys

from infra.local.stack import main

sys.exit(main())
