"""HTTP calls from the agent to its server, with the station's bearer token.

Only the agent's own server gets the token: audio is always fetched from `<server>/api/v1/audio/…`
whatever host the manifest names, so a token never leaks to a third party.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from scheduler import wire

CHUNK = 64 * 1024


class ServerUnavailable(Exception):
    """The server could not be reached or failed (network down, timeout, 5xx): retry later."""


class ServerRefused(Exception):
    """The server answered with a 4xx; `message` is its Vietnamese explanation, `data` its JSON body."""

    def __init__(self, status: int, message: str, data: Any = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.data = data


@dataclass
class JsonResponse:
    status: int
    etag: str | None
    data: Any


class ServerClient:
    """Thin wrapper over a requests session; every method raises ServerUnavailable or ServerRefused."""

    def __init__(self, base_url: str, token: str, session: requests.Session | None = None,
                 timeout: tuple[float, float] = (5.0, 30.0)) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout
        self.headers = {"Authorization": f"Bearer {token}", "User-Agent": "loaxa-agent"}

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        try:
            response = self.session.request(method, self.base_url + path, headers=headers,
                                            timeout=self.timeout, **kwargs)
        # The operator reads these lines: say what happened in words; urllib3's English stays in __cause__.
        except requests.Timeout as exc:
            raise ServerUnavailable(f"Máy chủ {self.base_url} không trả lời kịp (quá thời gian chờ).") from exc
        except requests.ConnectionError as exc:
            raise ServerUnavailable(
                f"Không kết nối được máy chủ {self.base_url}: máy chủ chưa chạy hoặc mạng không thông.") from exc
        except requests.RequestException as exc:
            raise ServerUnavailable(f"Lỗi khi gọi máy chủ {self.base_url}{path} ({type(exc).__name__}).") from exc
        if response.status_code >= 500:
            raise ServerUnavailable(f"Máy chủ báo lỗi {response.status_code} ở {path}.")
        if response.status_code >= 400:
            raise ServerRefused(response.status_code, _error_text(response), _json_or_none(response))
        return response

    def get_json(self, path: str, etag: str | None = None) -> JsonResponse:
        """GET with If-None-Match; a 304 comes back with data None; a 404 as status 404."""
        headers = {"If-None-Match": etag} if etag else {}
        try:
            response = self._request("GET", path, headers=headers)
        except ServerRefused as exc:
            if exc.status == 404:
                return JsonResponse(404, None, None)
            raise
        if response.status_code == 304:
            return JsonResponse(304, etag, None)
        try:
            data = response.json()
        except ValueError as exc:
            raise ServerUnavailable(f"Máy chủ trả về nội dung không phải JSON ở {path}.") from exc
        return JsonResponse(response.status_code, response.headers.get("ETag"), data)

    def post_json(self, path: str, body: Any) -> Any:
        response = self._request("POST", path, json=body)
        try:
            return response.json()
        except ValueError as exc:
            raise ServerUnavailable(f"Máy chủ trả về nội dung không phải JSON ở {path}.") from exc

    def download(self, sha256: str, part: Path, on_chunk: Callable[[int], None] | None = None,
                 path: str | None = None) -> int:
        """Fetch audio into `part`, resuming a partial file with a Range request; fsync before return.
        `path`: a command's own (signed) path for this file instead of the usual one.

        Returns how many bytes of an earlier partial download were kept (0 when it started over)."""
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            response = self._request("GET", path or wire.audio_path(sha256), headers=headers, stream=True)
        except ServerRefused as exc:
            if exc.status == 416:  # the partial file is already whole (or bigger): start over
                part.unlink(missing_ok=True)
            raise
        with response:
            mode = "ab" if have and response.status_code == 206 else "wb"
            try:
                with open(part, mode) as fh:
                    for chunk in response.iter_content(CHUNK):
                        fh.write(chunk)
                        if on_chunk is not None:
                            on_chunk(len(chunk))
                    fh.flush()
                    os.fsync(fh.fileno())
            except requests.RequestException as exc:
                raise ServerUnavailable(f"Tải tệp {sha256[:12]}… bị gián đoạn: {exc}") from exc
        return have if mode == "ab" else 0

    def fetch_to(self, path: str, dest: Path, limit: int = 200 * 1024 * 1024) -> int:
        """GET `path` (with the token) into `dest`, at most `limit` bytes; fsync; returns the size."""
        response = self._request("GET", path, stream=True)
        size = 0
        with response, open(dest, "wb") as fh:
            try:
                for chunk in response.iter_content(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise ServerUnavailable(f"Tệp {path} lớn quá {limit // (1024 * 1024)} MB.")
                    fh.write(chunk)
            except requests.RequestException as exc:
                raise ServerUnavailable(f"Tải {path} bị gián đoạn: {exc}") from exc
            fh.flush()
            os.fsync(fh.fileno())
        return size


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_text(response: requests.Response) -> str:
    try:
        data = response.json()
        if isinstance(data, dict) and data.get("error"):
            return str(data["error"])
    except ValueError:
        pass
    return response.text[:300] or response.reason or ""
