"""A reader whose library cannot be imported skips its files with one line; the batch goes on.

The missing library is real, not a mock: the ingest runs in a fresh Python process whose
``sys.modules`` holds None for the module (which is how Python reports a module that cannot be
imported), so everything the product does on an older pip without ``lxml_html_clean`` happens.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HTML = """<!doctype html><html><head><title>Shelling in Azaz</title></head><body><article>
<h1>Shelling in Azaz</h1><p>Shelling hit Azaz and Jarabulus in northern Syria on Monday, residents said,
as fighting continued near the Turkish border for a third day of clashes.</p>
<p>Aid groups said hundreds of families had fled towards the border crossing near Kilis.</p>
</article></body></html>"""
FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Storm in Manila</title><guid>feed-1</guid>
<description>A storm hit Manila in the Philippines.</description></item>
</channel></rss>"""
JSONL = {"id": "m1", "title": "Flooding in Dhaka", "text": "Heavy rain flooded Dhaka, the capital of Bangladesh."}


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a-page.html").write_text(HTML, encoding="utf-8")  # read first: the old code died here
    (src / "b-second.html").write_text(HTML.replace("Azaz", "Afrin"), encoding="utf-8")
    (src / "c-feed.rss").write_text(FEED, encoding="utf-8")
    (src / "d-news.jsonl").write_text(json.dumps(JSONL) + "\n", encoding="utf-8")
    return src


def ingest(folder: Path, index: Path, *, block: tuple[str, ...]) -> subprocess.CompletedProcess:
    code = (
        "import sys\n"
        f"for name in {block!r}:\n"
        "    sys.modules[name] = None  # this module cannot be imported in this process\n"
        "from archive.cli import cli\n"
        f"cli(['ingest', '--quiet', '--jobs', '1', '--index', {str(index)!r}, {str(folder)!r}])\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)


def titles(index: Path) -> set[str]:
    from archive.models import SearchRequest
    from archive.store import open_store

    return {h.title for h in open_store(index).iter_hits(SearchRequest(sort="newest"))}


def test_missing_html_cleaner_skips_html_and_keeps_the_rest(folder, tmp_path):
    run = ingest(folder, tmp_path / "idx", block=("lxml_html_clean",))
    assert run.returncode == 1, run.stderr  # 1: something was skipped (not a crash)
    assert "Traceback" not in run.stderr
    assert "Indexed 2 new" in run.stdout, run.stdout + run.stderr
    reason = ("cannot read HTML pages: the Python package 'lxml_html_clean' is missing or broken (")
    fix = "install it with: pip install lxml_html_clean"
    lines = [line.strip() for line in run.stderr.splitlines() if "lxml_html_clean" in line]
    assert len(lines) == 2, run.stderr  # one line per HTML file
    for name, line in zip(("a-page.html", "b-second.html"), lines, strict=True):
        assert line.startswith(f"{folder / name}: {reason}") and line.endswith(fix), line
    assert titles(tmp_path / "idx") == {"Storm in Manila", "Flooding in Dhaka"}


def test_missing_warc_library_skips_only_warc_files(folder, tmp_path):
    (folder / "e-capture.warc").write_bytes(b"WARC/1.0\r\nWARC-Type: warcinfo\r\n\r\n")
    run = ingest(folder, tmp_path / "idx", block=("warcio",))
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert (f"{folder / 'e-capture.warc'}: cannot read WARC/ARC archives: the Python package 'warcio' is "
            "missing or broken") in run.stderr
    assert "install it with: pip install warcio" in run.stderr
    assert titles(tmp_path / "idx") == {"Shelling in Azaz", "Shelling in Afrin", "Storm in Manila",
                                        "Flooding in Dhaka"}


def test_control_with_every_library_everything_goes_in(folder, tmp_path):
    run = ingest(folder, tmp_path / "idx", block=())
    assert run.returncode == 0, run.stdout + run.stderr
    assert titles(tmp_path / "idx") == {"Shelling in Azaz", "Shelling in Afrin", "Storm in Manila",
                                        "Flooding in Dhaka"}


def test_readers_direct_imports_are_declared():
    """Every third-party module the readers import is a declared dependency (by its pip name)."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower().replace("_", "-") for d in declared}
    needed = {"lxml", "lxml-html-clean", "trafilatura", "feedparser", "warcio", "charset-normalizer",
              "python-dateutil"}
    assert needed <= names, needed - names
