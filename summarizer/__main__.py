"""``python -m summarizer``: see summarizer.cli."""

import sys

from summarizer.cli import main

sys.exit(main())
