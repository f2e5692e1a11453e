"""scripts/render-template.sh fills deploy/ templates; a comma-separated value writes its line once per item."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "render-template.sh"
NGINX_SITE = ROOT / "deploy" / "nginx" / "loaxa.conf"


def render(template: Path, *pairs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), str(template), *pairs], capture_output=True, text=True, timeout=30)


def nginx_site(tmp_path: Path, upstream: str, live: str) -> str:
    run = render(NGINX_SITE, "LISTEN=127.0.0.1:8000", "SERVER_NAME=localhost", f"UPSTREAM={upstream}",
                 f"LIVE_UPSTREAM={live}", f"MEDIA_DIR={tmp_path}", f"STATIC_DIR={tmp_path}",
                 "METRICS_ALLOW=10.0.0.5")
    assert run.returncode == 0, run.stderr
    return run.stdout


def upstream_servers(site: str, name: str) -> list[str]:
    block = re.search(r"upstream " + name + r" \{(.*?)\}", site, re.S)
    assert block is not None, site
    return re.findall(r"^\s*server (\S+)", block.group(1), re.M)


def test_a_list_value_writes_one_line_per_item_and_other_lines_once(tmp_path: Path) -> None:
    template = tmp_path / "t.conf"
    template.write_text("listen @PORT@;\nserver @NODE@ max_fails=1;\nallow @NODE@;\n# @PORT@ & more\n")
    run = render(template, "PORT=80", "NODE=10.0.0.11:8080,10.0.0.12:8080")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "listen 80;",
        "server 10.0.0.11:8080 max_fails=1;",
        "server 10.0.0.12:8080 max_fails=1;",
        "allow 10.0.0.11:8080;",
        "allow 10.0.0.12:8080;",
        "# 80 & more",
    ]


def test_a_placeholder_left_without_a_value_fails_and_prints_nothing(tmp_path: Path) -> None:
    template = tmp_path / "t.conf"
    template.write_text("server @NODE@;\nlisten @PORT@;\n")
    run = render(template, "NODE=a,b")
    assert run.returncode == 1
    assert run.stdout == ""
    assert "@PORT@" in run.stderr


def test_the_nginx_site_gets_every_app_node_and_every_live_process(tmp_path: Path) -> None:
    site = nginx_site(tmp_path, "10.0.0.11:8080,10.0.0.12:8080", "10.0.0.11:8081,10.0.0.12:8081")
    assert upstream_servers(site, "loaxa_app") == ["10.0.0.11:8080", "10.0.0.12:8080"]
    assert upstream_servers(site, "loaxa_live") == ["10.0.0.11:8081", "10.0.0.12:8081"]
    # Only the station POSTs that are safe twice may be sent again to another node.
    retried = re.findall(r"location ([^{\n]*?) \{[^}]*non_idempotent", site)
    assert retried == ["~ ^/api/v1/(ack|playlog|emergency-reports)$"]


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                    reason="nginx chưa được cài (scripts/nginx.sh install)")
def test_nginx_accepts_the_site_with_two_nodes(tmp_path: Path) -> None:
    (tmp_path / "site.conf").write_text(nginx_site(tmp_path, "127.0.0.1:9001,127.0.0.1:9002",
                                                   "127.0.0.1:9011,127.0.0.1:9012"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}/b; proxy_temp_path {tmp_path}/p; "
        f"include {tmp_path}/site.conf; }}\n")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    check = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
