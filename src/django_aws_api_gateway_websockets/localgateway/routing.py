"""Route selection, evaluated the way API Gateway evaluates a WebSocket API's
``routeSelectionExpression`` against each message.

Rules kept: only ``$request.body.<JSONPath>`` variables, written bare or wrapped in
``${...}``; several variables and literal text may be combined; each variable is evaluated
once (a value that looks like a variable is not evaluated again); ``\\$`` is a literal
dollar; an expression may be all static text (``action``, ``\\$default``); the JSONPath
result is turned into text (arrays become ``[a, b]``) and a path the message lacks becomes
``""`` (``${request.body.action}-${request.body.missing}`` gives ``join-``). A body that is
not a JSON object, or a key with no route, goes to ``$default``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .config import DEFAULT

_BODY = "request.body"
_TOKEN = re.compile(
    r"\\\$"  # an escaped dollar
    r"|\$\{(?P<wrapped>[^}]*)\}"  # ${request.body.path}
    r"|\$(?P<bare>request\.body"  # $request.body.path
    r"(?:\.[A-Za-z0-9_$*-]+|\[\d+\]|\['[^']*'\]|\[\"[^\"]*\"\])+)"
)
_STEP = re.compile(r"\.?([A-Za-z0-9_$-]+)|\[(\d+)\]|\[['\"]([^'\"]*)['\"]\]")


class RouteExpressionError(ValueError):
    """The expression uses something API Gateway would refuse for a WebSocket API."""


@dataclass(frozen=True)
class RouteSelector:
    """A parsed expression: literal text and JSON paths (tuples of keys and indexes)."""

    parts: tuple[str | tuple[str | int, ...], ...]

    @classmethod
    def parse(cls, expression: str) -> RouteSelector:
        parts: list[str | tuple[str | int, ...]] = []
        position = 0
        for match in _TOKEN.finditer(expression):
            if match.start() > position:
                parts.append(_literal(expression[position : match.start()]))
            position = match.end()
            if match.group(0) == "\\$":
                parts.append("$")
                continue
            variable = match.group("wrapped") or match.group("bare") or ""
            if variable != _BODY and not variable.startswith((_BODY + ".", _BODY + "[")):
                raise RouteExpressionError(
                    f"Only $request.body.* variables select WebSocket routes, not {variable!r}."
                )
            parts.append(_parse_path(variable[len(_BODY) :]))
        if position < len(expression):
            parts.append(_literal(expression[position:]))
        if not parts:
            raise RouteExpressionError("An empty expression selects no route.")
        return cls(tuple(parts))

    def route_key(self, body: bytes | str) -> str | None:
        """The route key the message selects, or ``None`` when it cannot select one."""
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(document, dict):
            return None
        text = []
        for part in self.parts:
            if isinstance(part, str):
                text.append(part)
                continue
            value = _lookup(document, part)
            text.append("" if value is None else _stringify(value))
        return "".join(text)


def select_route(selector: RouteSelector, body: bytes | str, route_keys: set[str] | Any) -> str:
    """The route to run: the selected key if the API has that route, else ``$default``."""
    key = selector.route_key(body)
    return key if key is not None and key in route_keys else DEFAULT


def _literal(text: str) -> str:
    """Static text; a ``$`` in it starts a variable API Gateway would not accept."""
    if "$" in text:
        raise RouteExpressionError(
            f"Only $request.body.* variables select WebSocket routes, not {text!r}."
        )
    return text


def _parse_path(path: str) -> tuple[str | int, ...]:
    steps: list[str | int] = []
    position = 0
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None or match.end() == position:
            raise RouteExpressionError(f"Cannot read the JSONPath {path!r}.")
        name, index, quoted = match.groups()
        steps.append(int(index) if index is not None else (name if name is not None else quoted))
        position = match.end()
    if not steps:
        raise RouteExpressionError("An empty JSONPath selects nothing.")
    return tuple(steps)


def _lookup(document: Any, path: tuple[str | int, ...]) -> Any:
    value = document
    for step in path:
        in_list = isinstance(step, int) and isinstance(value, list) and step < len(value)
        in_object = isinstance(step, str) and isinstance(value, dict) and step in value
        if not (in_list or in_object):
            return None
        value = value[step]
    return value


def _stringify(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_stringify(item) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return json.dumps(value)
