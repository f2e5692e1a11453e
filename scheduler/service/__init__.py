"""The background service (`loaxa scheduler`): one elected leader runs the periodic jobs.

config: knobs from the environment; leader: who may run (PostgreSQL advisory lock or a file lock);
heartbeat: the leader's beat and its jobs' bookkeeping in `service_heartbeat`; jobs: each job's body,
callable with an injected `now`; schedule: the APScheduler set-up; runner: the leader/standby loop.
See docs/scheduler-service.md.
"""
