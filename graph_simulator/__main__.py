import sys

from graph_simulator.cli import main

sys.exit(main())
