import sys

from agentvlm.cli import main

sys.exit(main())
