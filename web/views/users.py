"""Người dùng: accounts and roles (admins only). Passwords are hashed; the log never holds them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler import audit
from scheduler.accounts import ROLES, account_area, account_commune, check_new_password, create_user, hash_password
from scheduler.db.models import User
from web import context
from web.auth import login_user, require_login, signed_in_user
from web.forms import UserForm
from web.views.helpers import page_number, paginate, saving

bp = Blueprint("users", __name__, url_prefix="/nguoi-dung")
require_login(bp, "users.manage")


def snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "commune": user.commune.name if user.commune else None,
        "area": user.area.name if user.area else None,
        "active": user.active,
    }


def _list(form: UserForm, status: int = 200) -> Any:
    form.password.label.text = "Mật khẩu (ít nhất 8 ký tự)"  # a new account always needs one
    query = select(User).options(selectinload(User.commune), selectinload(User.area)).order_by(User.username)
    page = paginate(context.db(), query, page_number())
    return render_template("users/index.html", page=page, form=form), status


@bp.route("/")
def index() -> Any:
    form = UserForm()
    form.role.data = "editor"
    return _list(form)


@bp.route("/moi", methods=["POST"])
def create() -> Any:
    form = UserForm()
    form.validate()
    if not form.password.data:
        form.password.errors = [*list(form.password.errors), "Hãy đặt mật khẩu (ít nhất 8 ký tự)."]
    if form.errors:
        return _list(form, 400)
    db, now, me = context.db(), context.now(), signed_in_user()
    try:
        with saving(db):
            user = create_user(
                db,
                (form.username.data or "").strip(),
                form.role.data or "",
                form.password.data or "",
                now,
                commune=(form.commune.data or "").strip() or None,
                area=(form.area.data or "").strip() or None,
            )
            user.full_name = (form.full_name.data or "").strip()
            user.active = bool(form.active.data)
            db.flush()
            audit.record(db, now, me, "user.create", "user", user.id, None, snapshot(user))
    except ValueError as exc:
        form.username.errors = [*list(form.username.errors), str(exc)]
        return _list(form, 400)
    flash(f"Đã tạo tài khoản «{user.username}» ({ROLES[user.role]}).", "ok")
    return redirect(url_for("users.index"), code=303)


def update_user(db: Session, user: User, form: UserForm, me: User, now: Any) -> None:
    """Apply the form to `user`; ValueError (Vietnamese) before any change if it is not allowed."""
    role = form.role.data or ""
    if role not in ROLES:
        raise ValueError(f"Vai trò «{role}» không tồn tại.")
    if user.id == me.id and (role != "admin" or not form.active.data):
        raise ValueError("Không thể tự bỏ quyền quản trị hay tự khóa tài khoản của chính mình.")
    commune = account_commune(db, (form.commune.data or "").strip(), role)
    area = account_area(db, (form.area.data or "").strip(), commune)
    password = form.password.data or ""
    if password:
        check_new_password(password)
    before = snapshot(user)
    user.role, user.commune, user.area, user.active = role, commune, area, bool(form.active.data)
    user.full_name = (form.full_name.data or "").strip()
    if password:
        user.password_hash = hash_password(password)
    after = snapshot(user)
    if password:
        after["password_changed"] = True
    db.flush()
    audit.record(db, now, me, "user.update", "user", user.id, before, after)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
def edit(user_id: int) -> Any:
    db = context.db()
    user = db.scalar(select(User).options(selectinload(User.commune), selectinload(User.area))
                     .where(User.id == user_id))
    if user is None:
        abort(404)
    if request.method == "GET":
        form = UserForm(obj=user)
        form.commune.data = user.commune.name if user.commune else ""
        form.area.data = user.area.name if user.area else ""
        form.password.data = ""
        return render_template("users/edit.html", form=form, user=user)
    form = UserForm()
    form.username.data = user.username  # the login name never changes
    form.validate()
    if not form.errors:
        me = signed_in_user()
        try:
            with saving(db):
                update_user(db, user, form, me, context.now())
            if user.id == me.id and form.password.data:
                login_user(user)  # keep this browser logged in after changing one's own password
            flash(f"Đã lưu tài khoản «{user.username}».", "ok")
            return redirect(url_for("users.index"), code=303)
        except ValueError as exc:
            form.role.errors = [*list(form.role.errors), str(exc)]
    return render_template("users/edit.html", form=form, user=user), 400
