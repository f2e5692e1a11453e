"""The real loaxa application under waitress, in its own process, on a clock the soak test sets.

Usage: python soak_server.py CLOCK_FILE PORT  (settings from the LOAXA_* environment). The clock file
holds one ISO instant, rewritten by the simulation as simulated time advances.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path

from waitress import serve

from scheduler.settings import Settings
from web.app import create_app


def main() -> None:
    clock_file, port = Path(sys.argv[1]), int(sys.argv[2])

    def clock() -> datetime:
        return datetime.fromisoformat(clock_file.read_text().strip())

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a deep queue is the point of a soak
    app = create_app(Settings.from_env(), clock=clock)
    serve(app, host="127.0.0.1", port=port, threads=8, ident="loaxa-soak", _quiet=True)


if __name__ == "__main__":
    main()
