"""``python -m spanqa`` runs the command line."""

import sys

from spanqa.cli import main

sys.exit(main())
