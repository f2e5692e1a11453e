"""Pure weekly programme planning: plain data in, a plan out. No database, clock or I/O."""

from scheduler.planning.request import Plan, PlanRequest

__all__ = ["Plan", "PlanRequest", "plan_week"]


def plan_week(request: PlanRequest) -> Plan:
    """Plan every station in the request for its ISO week (see planner module)."""
    from scheduler.planning.planner import plan_week as _plan

    return _plan(request)
