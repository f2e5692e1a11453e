"""Pure weekly programme planning: plain data in, a plan out. No database, clock or I/O."""

from scheduler.planning.planner import collector_paused, plan_week
from scheduler.planning.request import Plan, PlanRequest

__all__ = ["Plan", "PlanRequest", "collector_paused", "plan_week"]
