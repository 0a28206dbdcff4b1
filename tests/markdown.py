"""Just enough Markdown reading for the documentation tests: headings, anchors, code blocks, inline code, links.

Lines inside fenced code blocks are never headings (the README's sample `/metrics` output starts lines with `#`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^(#{1,6}) +(.+?) *#* *$")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def github_anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (any script's letters kept), spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str
    line: int


@dataclass
class Document:
    """A Markdown file split into what the tests compare."""

    path: Path
    headings: list[Heading] = field(default_factory=list)
    code_blocks: list[str] = field(default_factory=list)
    prose: list[str] = field(default_factory=list)  # lines outside code blocks
    prose_lines: list[int] = field(default_factory=list)  # their line numbers (1-based), in step with `prose`

    @classmethod
    def read(cls, path: Path) -> Document:
        doc = cls(path)
        seen: dict[str, int] = {}
        fence = ""
        block: list[str] = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            fence_match = _FENCE.match(line)
            if fence:
                block.append(line)
                if fence_match and fence_match.group(1).startswith(fence) and not fence_match.group(2).strip():
                    doc.code_blocks.append("\n".join(block))
                    fence, block = "", []
                continue
            if fence_match:
                fence, block = fence_match.group(1), [line]
                continue
            doc.prose.append(line)
            doc.prose_lines.append(number)
            heading = _HEADING.match(line)
            if heading:
                text = heading.group(2)
                base = github_anchor(_INLINE_CODE.sub(r"\2", text))
                count = seen.get(base, 0)
                seen[base] = count + 1
                anchor = base if count == 0 else f"{base}-{count}"
                doc.headings.append(Heading(len(heading.group(1)), text, anchor, number))
        assert not fence, f"{path.name}: a code block is never closed"
        return doc

    @property
    def anchors(self) -> set[str]:
        return {heading.anchor for heading in self.headings}

    def inline_code(self) -> set[str]:
        """Every `code span` in the prose (tables included); a span may go on over a line break, as in CommonMark."""
        paragraphs = "\n".join(self.prose).split("\n\n")
        return {
            " ".join(match.group(2).split())
            for paragraph in paragraphs
            for match in _INLINE_CODE.finditer(paragraph.replace("\n", " "))
        }

    def links(self) -> list[str]:
        """Link targets in the prose, in order (code spans removed first: `[x](y)` inside backticks is no link)."""
        targets: list[str] = []
        for line in self.prose:
            targets.extend(_LINK.findall(_INLINE_CODE.sub("", line)))
        return targets
