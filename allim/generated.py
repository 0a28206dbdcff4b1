"""Files a generator keeps in the checkout (`make rules`, `make kube`): which are stale, and bringing the disk in line.

A generator owns some folders (a folder and a glob): a file there that it no longer writes is stale too, and is
removed when it writes, so a renamed rule file or manifest cannot linger and fail `--check` forever.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

Owned = Sequence[tuple[Path, str]]  # (folder relative to the root, glob of the files the generator writes there)


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def changed(root: Path, files: Mapping[Path, str]) -> list[Path]:
    """The files whose content on disk differs from `files` (or that are missing)."""
    return [path for path, text in files.items() if _read(root / path) != text]


def leftover(root: Path, files: Mapping[Path, str], owned: Owned) -> list[Path]:
    """Files in the owned folders that `files` no longer holds."""
    return sorted(
        path.relative_to(root)
        for folder, pattern in owned
        for path in (root / folder).glob(pattern)
        if path.is_file() and path.relative_to(root) not in files
    )


def stale(root: Path, files: Mapping[Path, str], owned: Owned) -> list[str]:
    """One line per stale file: out of date, or in an owned folder but no longer written."""
    return [f"{path} is out of date" for path in changed(root, files)] + [
        f"{path} is not written by the generator" for path in leftover(root, files, owned)
    ]


def sync(prog: str, make_target: str, root: Path, files: Mapping[Path, str], owned: Owned, *, check: bool) -> int:
    """`--check`: print each stale file and return 1 if there is one. Otherwise write what differs and remove what
    is no longer written, naming each file; 0."""
    if check:
        problems = stale(root, files, owned)
        for problem in problems:
            print(f"{prog}: {problem}: run `{make_target}`", file=sys.stderr)
        return 1 if problems else 0
    for path in changed(root, files):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(files[path], encoding="utf-8")
        print(f"wrote {path}")
    for path in leftover(root, files, owned):
        (root / path).unlink()
        print(f"removed {path}")
    return 0
