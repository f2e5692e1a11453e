"""The production layout of deploy/ brought up for a benchmark: Mosquitto, gunicorn, nginx, PostgreSQL.

Each piece is a context manager that starts its process on a free port and stops it on exit (the same
layout scripts/deploy-smoke.sh checks, without systemd):
    with scratch_database(admin_url) as url, mosquitto(work) as mqtt_url, \\
            gunicorn(work, env) as app_port, nginx(work, [app_port], media_dir) as web_port: ...
gunicorn runs with deploy/gunicorn.conf.py (its workers and threads), nginx with deploy/nginx/loaxa.conf
rendered by scripts/render-template.sh and run by scripts/nginx.sh (which installs Debian's nginx when
missing).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("LOAXA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"process {proc.args!r} exited ({proc.returncode}) before listening on {port}")
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def stop(proc: subprocess.Popen[bytes], sig_timeout: float = 30) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=sig_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def scratch_database(admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """A new, empty PostgreSQL database next to `admin_url`'s; dropped on exit. Yields its URL."""
    from sqlalchemy import create_engine, text

    name = f"loaxa_bench_{int(time.time())}_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def mosquitto(work: Path) -> Iterator[str]:
    """A private, anonymous broker on a free port (no persistence); yields its mqtt:// URL."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = work / f"mosquitto-{port}.conf"
    lines = [f"listener {port} 127.0.0.1", "persistence false", "allow_anonymous true", "max_queued_messages 0"]
    if os.geteuid() == 0:
        lines.append("user root")
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


def start_gunicorn(work: Path, env: Mapping[str, str], app: str | None = None,
                   extra_path: Sequence[Path] = (), port: int | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn -c deploy/gunicorn.conf.py on a free port (workers and threads as configured there, or
    LOAXA_GUNICORN_WORKERS / _THREADS in `env`); `app` replaces the configured `web.app:create_app()`.
    Access log in work/gunicorn-<port>.log, as in production. Returns the master process, listening on the
    port (`port`, else a free one). The master leads its own process group: os.killpg(proc.pid, SIGKILL)
    takes the whole node down at once, workers included, as a machine that dies."""
    exe = Path(sys.executable).with_name("gunicorn")
    port = port or free_port()
    log = work / f"gunicorn-{port}.log"
    path = os.pathsep.join([*map(str, extra_path), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    full_env = {**env, "LOAXA_GUNICORN_BIND": f"127.0.0.1:{port}", "LOAXA_GUNICORN_ACCESSLOG": str(log),
                "LOAXA_GUNICORN_ERRORLOG": str(log), "PYTHONPATH": path}
    args = [str(exe), "-c", str(ROOT / "deploy/gunicorn.conf.py"), *([app] if app else [])]
    proc = subprocess.Popen(args, env=full_env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_port(port, proc)
    except BaseException:
        stop(proc)
        raise
    return proc, port


@contextlib.contextmanager
def gunicorn(work: Path, env: Mapping[str, str], app: str | None = None,
             extra_path: Sequence[Path] = (), port: int | None = None) -> Iterator[int]:
    """start_gunicorn as a context manager: yields the port, stops gunicorn on exit."""
    proc, port = start_gunicorn(work, env, app, extra_path, port)
    try:
        yield port
    finally:
        stop(proc)


@contextlib.contextmanager
def nginx(work: Path, upstream_ports: Sequence[int], media_dir: Path, workers: str = "auto") -> Iterator[int]:
    """nginx with deploy/nginx/loaxa.conf in front of the given gunicorn ports (one `server` line each: the
    template's list form), run by scripts/nginx.sh (installs Debian's nginx when missing); yields its port.
    /truc-tiep/ (upstream loaxa_live) goes to the same ports: no benchmark here broadcasts live."""
    port = free_port()
    home = work / f"nginx-{port}"
    home.mkdir(parents=True)
    nodes = ",".join(f"127.0.0.1:{p}" for p in upstream_ports)
    site = subprocess.run(
        [str(ROOT / "scripts/render-template.sh"), str(ROOT / "deploy/nginx/loaxa.conf"), f"LISTEN=127.0.0.1:{port}",
         "SERVER_NAME=localhost", f"UPSTREAM={nodes}", f"LIVE_UPSTREAM={nodes}", f"MEDIA_DIR={media_dir}",
         f"STATIC_DIR={ROOT / 'web/static'}", "METRICS_ALLOW=127.0.0.1"],
        check=True, capture_output=True, text=True).stdout
    (home / "site.conf").write_text(site)
    proc = subprocess.Popen([str(ROOT / "scripts/nginx.sh"), "run", "--dir", str(home),
                             "--site", str(home / "site.conf"), "--workers", workers], stdout=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(3)  # SIGQUIT: graceful stop (scripts/nginx.sh execs nginx)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def server_errors(work: Path) -> list[str]:
    """The exceptions the gunicorn nodes under `work` logged (each traceback's last line, with how often),
    so a benchmark that saw a 5xx says why before its scratch directory goes."""
    from collections import Counter

    seen: Counter[str] = Counter()
    for log in sorted(work.glob("gunicorn-*.log")):
        in_traceback = False
        last = ""
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("Traceback"):
                in_traceback, last = True, ""
            elif in_traceback and line and not line.startswith((" ", "\t")):
                last = line
                in_traceback = False
                seen[last[:300]] += 1
    for log in sorted(work.glob("nginx-*/nginx-error.log")):
        for line in log.read_text(errors="replace").splitlines():
            if any(f"[{level}]" in line for level in ("error", "crit", "alert", "emerg")):
                seen["nginx: " + line.split("] ", 1)[-1][:300]] += 1
    for log in sorted(work.glob("nginx-*/nginx-access.log")):
        for line in log.read_text(errors="replace").splitlines():
            parts = line.split('"')
            if len(parts) > 2 and parts[2].split()[:1] and parts[2].split()[0].startswith("5"):
                seen[f"nginx answered {parts[2].split()[0]} to {parts[1][:120]}"] += 1
    return [f"{n} × {line}" for line, n in seen.most_common(20)]
