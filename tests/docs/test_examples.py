"""The code in the documentation and the README runs against the real package.

Python examples of a page run in order in one namespace (as a reader would paste them);
JSON examples parse; JavaScript examples pass ``node --check``; ``python manage.py``
lines name real commands with options the command accepts; ``make`` lines name real
Makefile targets.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.test import override_settings
from django.views import View

from django_aws_api_gateway_websockets import checks

from .blocks import ROOT, Block, blocks_of, pages

PAGES = pages()


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _blocks(language: str, *, runnable: bool | None = None) -> list[Block]:
    found = [b for page in PAGES for b in blocks_of(page) if b.language == language]
    if runnable is not None:
        found = [b for b in found if b.compile_only is not runnable]
    return found


def _by_id(blocks: list[Block]) -> dict[str, object]:
    return {"argvalues": blocks, "ids": [b.where for b in blocks]}


def test_pages_have_examples() -> None:
    """Guards the extraction itself: a parser that finds nothing would pass every test."""
    assert len(_blocks("python")) >= 10
    assert _blocks("console")


@pytest.mark.parametrize("block", **_by_id(_blocks("python")))
def test_python_example_compiles(block: Block) -> None:
    compile(block.code, block.where, "exec")


def _runnable_pages() -> list[Path]:
    return [
        page
        for page in PAGES
        if any(b.language == "python" and not b.compile_only for b in blocks_of(page))
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("page", _runnable_pages(), ids=_page_id)
def test_python_examples_run(page: Path) -> None:
    namespace: dict[str, object] = {"__name__": "docs_example_" + page.stem}
    for block in blocks_of(page):
        if block.language != "python" or block.compile_only:
            continue
        namespace.pop("WEBSOCKETS", None)
        try:
            exec(compile(block.code, block.where, "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"{block.where}: {type(exc).__name__}: {exc}")
        if "WEBSOCKETS" in namespace:
            _check_settings(block, namespace["WEBSOCKETS"])
    _check_views(namespace)


SETTINGS_CHECKS = (
    checks.check_gateway_secret,
    checks.check_settings_values,
    checks.check_unknown_keys,
    checks.check_allowed_origins,
    checks.check_management_endpoint,
)


def _check_settings(block: Block, websockets: object) -> None:
    """A ``WEBSOCKETS`` example passes the package's own system checks."""
    with override_settings(WEBSOCKETS=websockets):
        problems = [str(message) for check in SETTINGS_CHECKS for message in check()]
    assert not problems, f"{block.where}: {problems}"


def _check_views(namespace: dict[str, object]) -> None:
    """The views an example defines must be accepted by the package."""
    for name, value in namespace.items():
        if (
            isinstance(value, type)
            and issubclass(value, View)
            and value.__module__ == namespace["__name__"]
        ):
            value()  # the view's __init__ validates and resolves its configuration
            assert callable(value.as_view()), name


@pytest.mark.parametrize("block", **_by_id(_blocks("json")))
def test_json_example_parses(block: Block) -> None:
    json.loads(block.code)


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="needs Node.js to check JavaScript syntax")
@pytest.mark.parametrize("block", **_by_id(_blocks("javascript")))
def test_javascript_example_parses(block: Block, tmp_path: Path) -> None:
    script = tmp_path / "example.js"
    script.write_text(block.code, encoding="utf-8")
    result = subprocess.run(
        [NODE, "--check", str(script)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, f"{block.where}: {result.stderr}"


def _console_lines() -> list[tuple[str, str]]:
    lines = []
    for block in _blocks("console") + _blocks("bash") + _blocks("shell"):
        for line in block.code.splitlines():
            command = line.strip().removeprefix("$ ").strip()
            if command:
                lines.append((block.where, command))
    return lines


MANAGE = re.compile(r"^(?:\S*python\S*\s+)?(?:\S*/)?manage\.py\s+(?P<args>.+)$")


@pytest.mark.parametrize(
    ("where", "line"),
    [item for item in _console_lines() if MANAGE.match(item[1])],
    ids=[f"{w}:{line}" for w, line in _console_lines() if MANAGE.match(line)],
)
def test_manage_py_command_exists(where: str, line: str) -> None:
    match = MANAGE.match(line)
    assert match
    name, *args = shlex.split(match["args"].split("#")[0])
    commands = get_commands()
    assert name in commands, f"{where}: no management command {name!r}"
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    try:
        parser.parse_args([a for a in args if "<" not in a])
    except SystemExit:
        pytest.fail(f"{where}: {line!r} is not accepted by the command's options")


def _make_lines() -> list[tuple[str, str]]:
    return [item for item in _console_lines() if item[1].startswith("make ")]


@pytest.mark.parametrize(
    ("where", "line"), _make_lines(), ids=[f"{w}:{line}" for w, line in _make_lines()]
)
def test_make_target_exists(where: str, line: str) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in line.split()[1:]:
        if "=" in target:
            continue
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"{where}: no target {target}"
