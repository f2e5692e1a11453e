"""Who is logged in, what each role may do, CSRF protection and the login rate limit.

Roles come from scheduler.accounts.ROLES; where each user may act (their commune, area or the
whole province) comes from scheduler.access. Viewers only read. Failed logins are counted per
username + IP address from the audit log, so the limit holds across server processes and needs
no extra service.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, abort, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from scheduler import audit
from scheduler.access import covers
from scheduler.accounts import check_password
from scheduler.db.models import AuditLog, Bulletin, User

csrf = CSRFProtect()

F = TypeVar("F", bound=Callable[..., Any])

# What each permission needs. Every user is further limited to their scope (scheduler.access).
PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard": frozenset({"admin", "editor", "approver", "operator", "viewer"}),
    "bulletins.view": frozenset({"admin", "editor", "approver"}),
    "bulletins.edit": frozenset({"admin", "editor"}),
    "bulletins.approve": frozenset({"admin", "approver"}),
    "programmes.view": frozenset({"admin", "editor", "approver", "operator"}),
    "programmes.edit": frozenset({"admin", "editor"}),
    "stations.view": frozenset({"admin", "editor", "approver", "operator"}),
    "stations.edit": frozenset({"admin"}),
    "stations.token": frozenset({"admin", "operator"}),
    # restart, reboot, amplifier, volume, resync (scheduler.delivery.care)
    "stations.care": frozenset({"admin", "operator"}),
    "stations.update": frozenset({"admin"}),  # install a new agent package on a box
    "emergencies.view": frozenset({"admin", "approver", "editor", "operator"}),
    "emergencies.start": frozenset({"admin", "approver"}),  # scheduler.emergencies.lifecycle.STARTERS
    "emergencies.request": frozenset({"admin", "approver", "editor"}),  # an editor's order waits for approval
    "live.start": frozenset({"admin", "approver"}),  # Phát trực tiếp: speak to the stations in scope
    "choices.decide": frozenset({"admin", "approver"}),  # Nhận phát / Không phát for content from above (TT 39)
    "communes.policy": frozenset({"admin"}),
    "audit.view": frozenset({"admin", "approver"}),
    "users.manage": frozenset({"admin"}),
    "media.listen": frozenset({"admin", "editor", "approver", "operator", "viewer"}),
    "reports.view": frozenset({"admin", "editor", "approver", "operator", "viewer"}),
    "today.view": frozenset({"admin", "editor", "approver", "operator", "viewer"}),
    "playlog.confirm": frozenset({"admin", "operator"}),  # "đã phát" / "không phát được" by hand
    "alerts.view": frozenset({"admin", "approver", "operator"}),  # their scope's alerts (scheduler.alerts)
    "alerts.manage": frozenset({"admin"}),  # rules and recipients
}

LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)


def can(user: User | None, permission: str) -> bool:
    """True if `user` is active and their role grants `permission` (unknown permissions: never)."""
    return user is not None and user.active and user.role in PERMISSIONS.get(permission, frozenset())


def can_approve(user: User | None, bulletin: Bulletin) -> bool:
    """Approvers and admins may approve, but never a bulletin they wrote themselves, and only one whose
    targets lie wholly inside their scope (scheduler.access: a commune approver approves for the commune)."""
    if not can(user, "bulletins.approve") or user is None or bulletin.author_id == user.id:
        return False
    session = object_session(bulletin)
    return session is not None and covers(session, user, bulletin.targets or [])


def session_fingerprint(user: User) -> str:
    """Ties a login session to the password and the user's session epoch: changing the password, or
    logging out (which raises the epoch), ends every session of that user, server-side."""
    key = current_app.config["SECRET_KEY"].encode()
    basis = f"{user.password_hash}|{user.session_epoch or 0}"
    return hmac.new(key, basis.encode(), hashlib.sha256).hexdigest()[:32]


def load_user(db: Session) -> User | None:
    """The logged-in, still active user of this request, cached on `g`."""
    if "user" in g:
        return cast(User | None, g.user)
    user = None
    uid = session.get("uid")
    if isinstance(uid, int):
        row = db.get(User, uid)
        if row is not None and row.active and hmac.compare_digest(str(session.get("fp", "")), session_fingerprint(row)):
            user = row
    g.user = user
    return user


def current_user() -> User | None:
    from web.context import db

    return load_user(db())


def signed_in_user() -> User:
    """The logged-in user, in a view that require_login or @requires already guards."""
    user = current_user()
    assert user is not None
    return user


def login_user(user: User) -> None:
    # A fresh session on login: nothing from before (e.g. a planted id) survives.
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["fp"] = session_fingerprint(user)
    g.user = user


def logout_user() -> None:
    session.clear()
    g.user = None


def require_login(bp: Blueprint, permission: str | None = None) -> None:
    """Every view of `bp` needs a logged-in user (and `permission`, if given)."""

    @bp.before_request
    def _check() -> Any:
        user = current_user()
        if user is None:
            return redirect(url_for("views.login", next=request.full_path.rstrip("?")))
        if permission and not can(user, permission):
            abort(403)
        return None


def requires(permission: str) -> Callable[[F], F]:
    """View decorator: 403 unless the current user has `permission`."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("views.login", next=request.full_path.rstrip("?")))
            if not can(user, permission):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def limiter_key(username: str, ip: str) -> str:
    return f"{username.strip().lower()[:40]}|{ip}"[:60]


@dataclass(frozen=True)
class LoginCheck:
    allowed: bool
    retry_at: datetime | None = None


def login_allowed(db: Session, username: str, ip: str, now: datetime) -> LoginCheck:
    """Refuse after LOGIN_MAX_FAILURES failures for this username + IP within LOGIN_WINDOW.

    Counting starts again after a successful login from the same key.
    """
    key = limiter_key(username, ip)
    since = now - LOGIN_WINDOW
    last_ok = db.scalar(
        select(func.max(AuditLog.at)).where(
            AuditLog.entity == "login", AuditLog.entity_id == key, AuditLog.action == "login.ok"
        )
    )
    if last_ok is not None and last_ok > since:
        since = last_ok
    recent = list(
        db.scalars(
            select(AuditLog.at)
            .where(
                AuditLog.entity == "login",
                AuditLog.entity_id == key,
                AuditLog.action == "login.failed",
                AuditLog.at > since,
            )
            .order_by(AuditLog.at.desc())
            .limit(LOGIN_MAX_FAILURES)
        )
    )
    if len(recent) >= LOGIN_MAX_FAILURES:
        # Allowed again once the oldest of the last N failures leaves the window.
        return LoginCheck(False, recent[-1] + LOGIN_WINDOW)
    return LoginCheck(True)


# A real scrypt hash, checked against when the username is unknown so both paths cost the same.
_DUMMY_HASH = "scrypt$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def authenticate(db: Session, username: str, password: str, ip: str, now: datetime) -> User | None:
    """Check the password and record the attempt (in the caller's transaction)."""
    user = db.scalar(select(User).where(User.username == username.strip()))
    ok = check_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not user.active:
        ok = False
    key = limiter_key(username, ip)
    audit.record(db, now, user if ok else None, "login.ok" if ok else "login.failed", "login", key)
    return user if ok else None


def _exempt_station_api() -> None:
    """The station API authenticates with bearer tokens, not cookies: no CSRF token there."""
    api = current_app.blueprints.get("api")
    if api is not None:
        csrf.exempt(api)


def init_app(app: Flask) -> None:
    """CSRF on every form (except the station API), session lifetime, Vietnamese CSRF error page."""
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", SESSION_LIFETIME)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the whole login session
    app.before_request(_exempt_station_api)  # runs before CSRFProtect's own hook
    csrf.init_app(app)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Any:
        from web.views.helpers import error_page  # web.views imports this module

        return error_page(400, "Biểu mẫu đã hết hạn hoặc thiếu mã bảo vệ (CSRF). Hãy tải lại trang rồi gửi lại.")
