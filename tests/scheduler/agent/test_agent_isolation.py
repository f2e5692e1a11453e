"""The agent must run on a receiver box with only the base dependencies."""

from __future__ import annotations

import subprocess
import sys

SERVER_ONLY = ("sqlalchemy", "flask", "alembic", "psycopg", "scheduler.db", "pydub", "apscheduler")


def test_agent_and_its_command_import_nothing_from_the_server_stack() -> None:
    code = (
        "import sys\n"
        "import scheduler.agent.agent, scheduler.agent.mqtt_link, web.cli.agent_cmd\n"
        "from web.cli import main\n"
        "main.get_command(None, 'agent')\n"
        f"print(','.join(m for m in {SERVER_ONLY!r} if any(k == m or k.startswith(m + '.') for k in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
