"""The admin pages: login, the dashboard (Tổng quan), audio for logged-in users, shared template helpers.

The other areas have their own blueprints in this package (bulletins, programmes, stations,
emergencies, audit, users); this one also sets up CSRF and the Vietnamese error pages for the app.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.wrappers import Response

from scheduler import audit
from scheduler.catalogue import language_label, topic_label
from scheduler.db.models import AudioAsset, User
from scheduler.domain import DAY_LABELS, kind_label, priority_label
from scheduler.planning.windows import format_days
from scheduler.rendering import audio_in_scope
from web import auth, context
from web.auth import can, current_user, requires, signed_in_user
from web.forms import LoginForm
from web.views import labels
from web.views.helpers import client_ip, error_page, local, safe_next, saving, unavailable
from web.views.overview import build_overview

bp = Blueprint("views", __name__)  # templates and static files are the app's (web/templates, web/static)

# (endpoint, label, permission) in the order of the menu.
NAV: tuple[tuple[str, str, str], ...] = (
    ("views.dashboard", "Tổng quan", "dashboard"),
    ("today.index", "Hôm nay", "today.view"),
    ("bulletins.index", "Bản tin", "bulletins.view"),
    ("programmes.index", "Lịch phát", "programmes.view"),
    ("stations.index", "Đài và cụm loa", "stations.view"),
    ("fleetmap.index", "Bản đồ", "stations.view"),
    ("emergencies.index", "Phát khẩn cấp", "emergencies.view"),
    ("live.index", "Phát trực tiếp", "live.start"),
    ("choices.index", "Tin tuyến trên", "choices.decide"),
    ("alerts.index", "Cảnh báo", "alerts.view"),
    ("reports.index", "Báo cáo", "reports.view"),
    ("audit.index", "Nhật ký", "audit.view"),
    ("users.index", "Người dùng", "users.manage"),
)

AUDIO_TYPES = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
    ".aac": "audio/aac",
    ".webm": "audio/webm",
    ".oga": "audio/ogg",
}


@bp.record_once
def _setup(state: Any) -> None:
    app: Flask = state.app
    auth.init_app(app)
    app.jinja_env.filters.update(
        vn_time=lambda v: f"{local(v):%H:%M %d/%m/%Y}" if v else "—",
        vn_hm=lambda v: f"{local(v):%H:%M}" if v else "—",
        vn_iso=lambda v: f"{local(datetime.fromisoformat(v)):%H:%M:%S %d/%m}" if v else "—",
        vn_local_input=lambda v: f"{local(v):%Y-%m-%dT%H:%M}" if v else "",
        vn_date=lambda v: f"{v:%d/%m/%Y}" if v else "—",
        status_label=labels.status_label,
        priority_label=priority_label,
        topic_label=topic_label,
        language_label=language_label,
        role_label=labels.role_label,
        action_label=labels.action_label,
        entity_label=labels.entity_label,
        kind_label=kind_label,
        weekday_label=labels.weekday_label,
        day_label=lambda d: DAY_LABELS[d],
        days_label=format_days,
        duration=labels.duration,
        ago=lambda v: labels.ago(v, context.now()),
    )

    @app.errorhandler(403)
    def _forbidden(_exc: Any) -> Any:
        return error_page(403, "Tài khoản của bạn không có quyền xem hoặc làm việc này. "
                               "Hãy liên hệ quản trị viên nếu cần.")

    @app.errorhandler(404)
    def _not_found(_exc: Any) -> Any:
        return error_page(404, "Không tìm thấy trang hoặc dữ liệu bạn yêu cầu. "
                               "Có thể nó đã bị xóa hoặc đường dẫn bị sai.")

    @app.errorhandler(413)
    def _too_large(_exc: Any) -> Any:
        return error_page(413, "Tệp gửi lên quá lớn. Tệp ghi âm tối đa 50 MB.")

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError) -> Any:
        current_app.logger.warning("Trang %s: cơ sở dữ liệu không trả lời (%s); trả 503.", request.path,
                                   type(exc.orig).__name__ if exc.orig is not None else "?")
        return unavailable()

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        user = current_user()
        nav = [
            (endpoint, label)
            for endpoint, label, permission in NAV
            if endpoint in current_app.view_functions and can(user, permission)
        ]
        return {"me": user, "can": lambda p: can(user, p), "nav": nav, "now": context.now()}


@bp.route("/dang-nhap", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    error = None
    if form.validate_on_submit():
        db, now = context.db(), context.now()
        check = auth.login_allowed(db, form.username.data or "", client_ip(), now)
        if not check.allowed:
            assert check.retry_at is not None
            error = (
                f"Đăng nhập sai quá {auth.LOGIN_MAX_FAILURES} lần. Tài khoản tạm khóa trên máy này "
                f"đến {local(check.retry_at):%H:%M} ngày {local(check.retry_at):%d/%m/%Y}."
            )
            return render_template("login.html", form=form, error=error), 429
        with saving(db):
            user = auth.authenticate(db, form.username.data or "", form.password.data or "", client_ip(), now)
        if user is None:
            error = "Tên đăng nhập hoặc mật khẩu không đúng (hoặc tài khoản đã bị khóa). Hãy kiểm tra và thử lại."
            return render_template("login.html", form=form, error=error), 401
        auth.login_user(user)
        wanted = form.next.data if form.next.data != url_for("views.dashboard") else ""  # "/" is no real choice
        return redirect(safe_next(wanted, landing_page(user)))
    return render_template("login.html", form=form, error=error)


def landing_page(user: User) -> str:
    """Where a login without a destination lands: an operator's day first, everyone else's overview."""
    if user.role == "operator" and can(user, "today.view"):
        return url_for("today.index")
    return url_for("views.dashboard")


@bp.route("/dang-xuat", methods=["POST"])
def logout() -> Response:
    user = current_user()
    if user is not None:
        db = context.db()
        with saving(db):
            # Server-side: a copy of this session cookie (or any other of this user's) stops working now.
            user.session_epoch = (user.session_epoch or 0) + 1
            audit.record(db, context.now(), user, "logout", "user", user.id)
    auth.logout_user()
    flash("Bạn đã đăng xuất.", "ok")
    return redirect(url_for("views.login"))


@bp.route("/")
@requires("dashboard")
def dashboard() -> str:
    user = signed_in_user()
    overview = build_overview(context.db(), user, context.now(), all_upcoming=request.args.get("sap_phat") == "tat_ca")
    return render_template("dashboard.html", o=overview)


@bp.route("/am-thanh/<sha256>")
@requires("media.listen")
def audio(sha256: str) -> Response:
    """A rendered audio asset, for logged-in users only (the players fetch theirs through the API)."""
    db = context.db()
    asset = db.scalar(select(AudioAsset).where(AudioAsset.sha256 == sha256))
    if asset is None or not audio_in_scope(db, signed_in_user(), sha256):
        abort(404)
    media = context.settings().media_dir.resolve()
    path = (media / asset.file_name).resolve()
    if not path.is_relative_to(media) or not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype=AUDIO_TYPES.get(Path(path).suffix.lower(), "application/octet-stream"),
        conditional=True,
        download_name=f"{sha256[:12]}{path.suffix}",
    )
