"""Entry point of one CleanerPool worker process (`python -m cleaners._worker ...`)."""

import sys

from cleaners.pool import worker_main

if __name__ == "__main__":
    worker_main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4])
