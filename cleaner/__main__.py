"""``python -m cleaner`` runs the command-line filter."""

import sys

from cleaner.cli import main

sys.exit(main())
