import sys

from waba.simulator.cli import main

sys.exit(main())
