"""allim.generated: what `make rules` and `make kube` call stale, and how they bring the checkout in line."""

from __future__ import annotations

from pathlib import Path

import pytest

from allim import generated

OWNED = ((Path("out"), "*.yml"),)


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def test_generated_stale_names_changed_missing_and_leftover_files(tmp_path: Path) -> None:
    _tree(tmp_path, {"out/a.yml": "old", "out/gone.yml": "x", "out/notes.txt": "mine", "elsewhere/b.yml": "b"})
    files = {Path("out/a.yml"): "new", Path("out/c.yml"): "c", Path("elsewhere/b.yml"): "b"}
    assert generated.stale(tmp_path, files, OWNED) == [
        "out/a.yml is out of date",
        "out/c.yml is out of date",
        "out/gone.yml is not written by the generator",
    ]


def test_generated_sync_check_writes_nothing_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _tree(tmp_path, {"out/gone.yml": "x"})
    assert generated.sync("gen", "make gen", tmp_path, {Path("out/a.yml"): "a"}, OWNED, check=True) == 1
    assert "gen: out/a.yml is out of date: run `make gen`" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["gone.yml"]


def test_generated_sync_writes_what_differs_and_removes_leftovers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tree(tmp_path, {"out/same.yml": "same", "out/gone.yml": "x", "out/notes.txt": "mine"})
    files = {Path("out/same.yml"): "same", Path("out/deep/new.yml"): "new"}
    assert generated.sync("gen", "make gen", tmp_path, files, OWNED, check=False) == 0
    assert capsys.readouterr().out.splitlines() == ["wrote out/deep/new.yml", "removed out/gone.yml"]
    assert (tmp_path / "out/deep/new.yml").read_text() == "new" and (tmp_path / "out/notes.txt").exists()
    assert not (tmp_path / "out/gone.yml").exists()
    assert generated.stale(tmp_path, files, OWNED) == []
