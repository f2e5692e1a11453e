"""The station agent: keeps a week of programme and audio on the receiver box and plays it on time.

Runs on the box with only the base dependencies (click, requests, paho-mqtt, tzdata): nothing in
this package may import SQLAlchemy, Flask or scheduler.db. See docs/agent.md.
"""
