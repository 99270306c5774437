"""Pull the code examples out of the documentation pages and the README.

A page's examples are read in order. An rst comment ``.. docs-test: compile-only`` right
before a code block marks it as a fragment that cannot run on its own (it names the
reader's own modules, say); it is still compiled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"

COMPILE_ONLY = ".. docs-test: compile-only"
_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. (?:code-block|code|sourcecode)::\s*(?P<lang>\S+)")
_OPTION = re.compile(r"^\s+:[\w-]+:")
_FENCE = re.compile(r"^```(?P<lang>\w*)\s*$")


@dataclass(frozen=True)
class Block:
    source: str  # path relative to the repository root
    line: int  # 1-based line of the directive or fence
    language: str
    code: str
    compile_only: bool = False

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _previous_text(lines: list[str], index: int) -> str:
    for line in reversed(lines[:index]):
        if line.strip():
            return line.strip()
    return ""


def rst_blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        if not match:
            i += 1
            continue
        start, base = i, len(match["indent"])
        i += 1
        while i < len(lines) and _OPTION.match(lines[i]):
            i += 1
        body: list[str] = []
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > base):
            body.append(lines[i])
            i += 1
        text = list(body)
        while text and not text[-1].strip():
            text.pop()
        while text and not text[0].strip():
            text.pop(0)
        width = min((_indent(line) for line in text if line.strip()), default=0)
        code = "\n".join(line[width:] for line in text) + "\n"
        blocks.append(
            Block(
                source=str(path.relative_to(ROOT)),
                line=start + 1,
                language=match["lang"].lower(),
                code=code,
                compile_only=_previous_text(lines, start) == COMPILE_ONLY,
            )
        )
    return blocks


def markdown_blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        blocks.append(
            Block(
                source=str(path.relative_to(ROOT)),
                line=start + 1,
                language=(match["lang"] or "text").lower(),
                code="\n".join(body) + "\n",
                compile_only=_previous_text(lines, start) == "<!-- docs-test: compile-only -->",
            )
        )
    return blocks


def pages() -> list[Path]:
    """Every documentation page, and the README."""
    found = sorted(p for p in DOCS.rglob("*.rst") if "_build" not in p.parts)
    return [*found, README] if README.exists() else found


def blocks_of(path: Path) -> list[Block]:
    return markdown_blocks(path) if path.suffix == ".md" else rst_blocks(path)
