"""Log lines an operator reads in a terminal: Vietnamese levels, which part of loaxa is speaking.

Library loggers that write English at INFO (APScheduler's "Added job …", alembic's "Context impl")
are kept to errors unless the command runs with --verbose.
"""

from __future__ import annotations

import logging

LEVELS = {logging.DEBUG: "chi tiết", logging.INFO: "", logging.WARNING: "cảnh báo", logging.ERROR: "LỖI",
          logging.CRITICAL: "LỖI NGHIÊM TRỌNG"}  # fmt: skip
QUIET_LIBRARIES = ("apscheduler", "alembic", "urllib3", "paho", "waitress")


class OperatorFormatter(logging.Formatter):
    def __init__(self, who: str) -> None:
        super().__init__(datefmt="%Y-%m-%d %H:%M:%S")
        self.who = who

    def format(self, record: logging.LogRecord) -> str:
        level = LEVELS.get(record.levelno, record.levelname)
        prefix = f"{self.formatTime(record, self.datefmt)} [{self.who}] {f'{level}: ' if level else ''}"
        line = prefix + record.getMessage()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup(who: str, verbose: bool) -> None:
    """Log to stderr as `who` ("bộ lập lịch", "đầu thu DEMO-01"); libraries only say errors unless verbose."""
    handler = logging.StreamHandler()
    handler.setFormatter(OperatorFormatter(who))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.ERROR)
