"""Running an installation: backups and restores, health checks, operational metrics."""


class OpsError(Exception):
    """An operation refused or failed; the message (Vietnamese) says what to do."""
