"""Agent packages the server publishes for `update` commands: a loaxa wheel, checked, stored under the
media dir by its SHA-256, served to stations at wire.agent_package_path (with their token)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from datetime import datetime
from email.parser import Parser
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import AgentPackage

PACKAGE_DIR = "agent-packages"
MAX_BYTES = 100 * 1024 * 1024


def wheel_version(path: Path) -> str:
    """The version of a loaxa wheel; ValueError (Vietnamese) for anything else."""
    try:
        with zipfile.ZipFile(path) as wheel:
            metas = [n for n in wheel.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if len(metas) != 1:
                raise ValueError("không có đúng một tệp .dist-info/METADATA")
            meta = Parser().parsestr(wheel.read(metas[0]).decode("utf-8", errors="replace"))
            names = wheel.namelist()
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"Tệp «{path.name}» không phải gói wheel đọc được ({exc}).") from None
    except ValueError as exc:
        raise ValueError(f"Tệp «{path.name}» không phải gói wheel hợp lệ: {exc}.") from None
    if (meta.get("Name") or "").lower() != "loaxa":
        raise ValueError(f"Gói «{path.name}» là «{meta.get('Name')}», không phải phần mềm loaxa.")
    if not any(n.startswith("scheduler/agent/") for n in names):
        raise ValueError(f"Gói «{path.name}» không chứa phần mềm đầu thu (scheduler/agent).")
    version = (meta.get("Version") or "").strip()
    if not version:
        raise ValueError(f"Gói «{path.name}» không ghi phiên bản.")
    return version


def publish(session: Session, media_dir: Path, wheel: Path, by: str, now: datetime) -> AgentPackage:
    """Check and store a wheel; the same file twice is the same package."""
    if not wheel.is_file():
        raise ValueError(f"Không thấy tệp «{wheel}».")
    if wheel.stat().st_size > MAX_BYTES:
        raise ValueError(f"Gói «{wheel.name}» lớn quá {MAX_BYTES // (1024 * 1024)} MB.")
    version = wheel_version(wheel)
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    existing = session.scalar(select(AgentPackage).where(AgentPackage.sha256 == sha))
    if existing is not None:
        return existing
    relative = f"{PACKAGE_DIR}/{sha}.whl"
    target = media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(wheel, target)
    package = AgentPackage(version=version, sha256=sha, file_name=relative, size=wheel.stat().st_size,
                           published_at=now, published_by=by)
    session.add(package)
    session.flush()
    return package


def build_wheel(source: Path, out_dir: Path | None = None) -> Path:
    """Build a loaxa wheel from a source tree with pip (no dependencies; the build backend, setuptools>=77,
    comes from the package index in pip's isolated build environment)."""
    if not (source / "pyproject.toml").is_file():
        raise ValueError(f"Thư mục «{source}» không có pyproject.toml của loaxa.")
    out = out_dir or Path(tempfile.mkdtemp(prefix="loaxa-wheel-"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
         "-w", str(out), str(source)], capture_output=True, timeout=600, check=False)
    wheels = sorted(out.glob("loaxa-*.whl"), key=lambda p: p.stat().st_mtime)
    if done.returncode != 0 or not wheels:
        raise ValueError("Không đóng gói được: " + done.stderr.decode(errors="replace").strip()[-400:])
    return wheels[-1]


def package_for(session: Session, sha256: str) -> AgentPackage | None:
    return session.scalar(select(AgentPackage).where(AgentPackage.sha256 == sha256))


def list_packages(session: Session) -> list[AgentPackage]:
    return list(session.scalars(select(AgentPackage).order_by(AgentPackage.id.desc())))
