"""`python -m benchmarks`: see `benchmarks.cli`. The guard matters: the controller and
cloud processes are spawned, and spawning re-imports the main module."""

import sys

from benchmarks.cli import main

if __name__ == "__main__":
    sys.exit(main())
