import sys

from reglament.cli import main

sys.exit(main())
