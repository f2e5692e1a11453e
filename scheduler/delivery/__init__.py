"""Server-side delivery to stations: MQTT notices and commands, broker ACLs, delivery state, operator tools.

The HTTP side lives in web/api.py; the wire contract shared with the agent is scheduler.wire.
The scheduler service calls push_pending(); the emergency flow calls announce_emergency() or send_command().
"""

from scheduler.delivery.commands import (
    announce_emergency,
    emergency_command,
    emergency_stop_command,
    send_command,
    send_commands,
)
from scheduler.delivery.notices import PushResult, notify_changed, push_pending
from scheduler.delivery.state import DeliveryRow, delivery_status

__all__ = [
    "DeliveryRow",
    "PushResult",
    "announce_emergency",
    "delivery_status",
    "emergency_command",
    "emergency_stop_command",
    "notify_changed",
    "push_pending",
    "send_command",
    "send_commands",
]
