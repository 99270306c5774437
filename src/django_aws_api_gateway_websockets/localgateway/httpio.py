"""Just enough HTTP/1.1 on asyncio streams for one port that serves both WebSocket
handshakes and ``@connections`` requests (with keep-alive, as boto3 uses it).

The WebSocket side then belongs to ``websockets``' Sans-I/O protocol, which is fed the
raw request head read here.
"""

from __future__ import annotations

import asyncio
import http
import re
from dataclasses import dataclass

#: Longest request head accepted; AWS caps a WebSocket URL at 4,096 characters.
MAX_HEAD_BYTES = 16 * 1024

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]
    raw_head: bytes

    def header(self, name: str, default: str = "") -> str:
        name = name.lower()
        return next((v for n, v in self.headers if n.lower() == name), default)

    def lower_headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers}

    @property
    def is_websocket(self) -> bool:
        return self.method == "GET" and self.header("upgrade").lower() == "websocket"

    @property
    def keep_alive(self) -> bool:
        connection = self.header("connection").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request head, or ``None`` when the client closed between requests."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BadRequest(400, "Incomplete request") from exc
    except asyncio.LimitOverrunError as exc:
        raise BadRequest(431, "Request header fields too large") from exc
    lines = raw[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if (
        len(parts) != 3
        or not _TOKEN.fullmatch(parts[0])
        or parts[2] not in ("HTTP/1.1", "HTTP/1.0")
    ):
        raise BadRequest(400, "Malformed request line")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        value = value.strip(" \t")
        if not sep or not _TOKEN.fullmatch(name) or not _VALUE.fullmatch(value):
            raise BadRequest(400, "Malformed header line")
        headers.append((name, value))
    return Request(parts[0], parts[1], parts[2], tuple(headers), raw)


async def read_body(reader: asyncio.StreamReader, request: Request, max_bytes: int) -> bytes:
    if request.header("transfer-encoding"):
        raise BadRequest(411, "Send a Content-Length, not a Transfer-Encoding")
    length_text = request.header("content-length", "0")
    if not length_text.isdigit():
        raise BadRequest(400, "Invalid Content-Length")
    length = int(length_text)
    if length > max_bytes:
        raise BadRequest(413, "Request body too large")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise BadRequest(400, "Incomplete request body") from exc


def response_bytes(
    status: int,
    body: bytes = b"",
    headers: tuple[tuple[str, str], ...] = (),
    keep_alive: bool = True,
) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    lines = [f"HTTP/1.1 {status} {phrase}"]
    lines += [f"{name}: {value}" for name, value in headers if name.lower() != "content-length"]
    if status != 204:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
