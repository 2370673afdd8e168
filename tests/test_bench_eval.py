"""The quality gate bench/eval.py --check: it fails when it could not check, and passes only on met targets.

The gate runs on a stand-in ../shared/eval in tmp_path: tiny corpora and a scorer that
prints the scores it is told to, so these tests need no shared data.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH_EVAL = Path(__file__).resolve().parent.parent / "bench" / "eval.py"


@pytest.fixture
def gate(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_eval", BENCH_EVAL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "EVAL", tmp_path / "eval")
    monkeypatch.setattr(module, "OUT", tmp_path / "out")
    return module


def write_corpus(folder: Path, stem: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    record = {"id": f"{stem}-0", "title": "", "text": "Shelling hit Jarabulus near the Turkish border.", "toponyms": []}
    with gzip.open(folder / f"{stem}.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def write_scorer(folder: Path, score: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"precision": score, "recall": score, "f1": score, "acc_161km": score})
    (folder / "score.py").write_text(f"print('stand-in scorer')\nprint({line!r})\n")


def test_absent_eval_folder_is_reported_and_not_checked(gate, capsys):
    assert gate.main(["--check"]) == 0
    assert "absent: not checked" in capsys.readouterr().out


def test_an_empty_eval_folder_fails(gate, capsys):
    gate.EVAL.mkdir()
    assert gate.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "score.py" in err and "geowebnews.jsonl.gz" in err and "geovirus.jsonl.gz" in err


def test_data_without_a_scorer_fails(gate, capsys):
    for stem in gate.TARGETS:
        write_corpus(gate.EVAL, stem)
    assert gate.main(["--check"]) == 1
    assert "lacks the scorer score.py" in capsys.readouterr().err


def test_a_scorer_without_data_fails(gate, capsys):
    write_scorer(gate.EVAL, 1.0)
    assert gate.main(["--check"]) == 1
    assert "geovirus.jsonl.gz" in capsys.readouterr().err


def test_a_missing_corpus_fails(gate, capsys):
    write_scorer(gate.EVAL, 1.0)
    write_corpus(gate.EVAL, "geowebnews")
    assert gate.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "geovirus.jsonl.gz" in err and "geowebnews.jsonl.gz" not in err


@pytest.mark.parametrize(("score", "status"), [(1.0, 0), (0.5, 1)])
def test_the_gate_follows_the_scores(gate, capsys, score, status):
    write_scorer(gate.EVAL, score)
    for stem in gate.TARGETS:
        write_corpus(gate.EVAL, stem)
    assert gate.main(["--check"]) == status
    out = capsys.readouterr().out
    assert ("all enforced targets met" in out) == (status == 0)
    assert sorted(p.name for p in gate.OUT.iterdir()) == sorted(
        f"{stem}{suffix}.pred.jsonl" for stem in gate.TARGETS for suffix in ("", "-demonyms"))


def test_it_runs_as_a_script_from_anywhere(tmp_path):
    import subprocess

    result = subprocess.run([sys.executable, str(BENCH_EVAL), "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and "--check" in result.stdout
