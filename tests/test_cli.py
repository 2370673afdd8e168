"""The geoarchive command end to end: real files, real gazetteer, real Whoosh index."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SAMPLE_TITLE = "Kremlin laments new United States sanctions after Putin-Obama meeting"


@pytest.fixture(scope="module")
def seeded_index(module_store_factory):
    """The seeds ingested through the CLI into an archive of each kind (Whoosh, PostgreSQL)."""
    index_dir = module_store_factory.location()
    result = CliRunner().invoke(cli, ["ingest", "--quiet", "--jobs", "1", "--index", str(index_dir), str(SEEDS)])
    assert result.exit_code == 0, result.output
    return index_dir


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    for name, command in cli.commands.items():
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help and "Example" in command.help, f"{name} needs a docstring with an example"


def test_ingest_seeds_then_search_finds_the_sample(seeded_index):
    result = CliRunner().invoke(cli, ["search", "Jarabulus", "--index", str(seeded_index), "--json"])
    assert result.exit_code == 0, result.output
    page = json.loads(result.output)
    assert page["total"] == 1
    hit = page["results"][0]
    assert hit["title"] == SAMPLE_TITLE
    by_name = {p["geonameid"]: p for p in hit["places"]}
    assert 169179 in by_name and 172082 in by_name  # Jarābulus, I‘zāz


def test_reingest_is_idempotent(seeded_index):
    runner = CliRunner()
    before = json.loads(runner.invoke(cli, ["stats", "--json", "--index", str(seeded_index)]).output)
    result = runner.invoke(cli, ["ingest", "-q", "-j", "1", "--index", str(seeded_index), str(SEEDS)])
    assert result.exit_code == 0, result.output
    assert "1 unchanged" in result.output
    after = json.loads(runner.invoke(cli, ["stats", "--json", "--index", str(seeded_index)]).output)
    assert after["articles"] == before["articles"] == 1
    assert after["mentions"] == before["mentions"] > 0
    assert set(after) == {"articles", "places", "mentions", "bytes"}


def test_stats_text(seeded_index):
    result = CliRunner().invoke(cli, ["stats", "--index", str(seeded_index)])
    assert result.exit_code == 0
    assert "articles: 1" in result.output


def test_search_text_output_and_bad_parameter(seeded_index):
    runner = CliRunner()
    result = runner.invoke(cli, ["search", "Azaz", "--index", str(seeded_index)])
    assert result.exit_code == 0, result.output
    assert SAMPLE_TITLE in result.output
    result = runner.invoke(cli, ["search", "Azaz", "--bbox", "nonsense", "--index", str(seeded_index)])
    assert result.exit_code == 2
    assert "bbox" in result.output


def test_search_without_an_index_says_how_to_build_one(tmp_path):
    result = CliRunner().invoke(cli, ["search", "x", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "geoarchive ingest" in result.output


def test_ingest_folder_with_bad_files_names_each_skipped_file(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SEEDS / "000_30476793be204b5a.txt", folder)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "latin1.txt").write_bytes("Café owners in Zürich\n\nThe café near Genève opened.".encode("cp1252"))
    (folder / "garbage.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")
    errors = tmp_path / "errors.jsonl"
    index_dir = tmp_path / "ix"
    result = CliRunner().invoke(
        cli, ["ingest", "-q", "-j", "1", "--index", str(index_dir), "--errors", str(errors), str(folder)]
    )
    assert result.exit_code == 1, result.output
    for name in ("empty.txt", "garbage.txt", "notes.docx"):
        assert name in result.output
    assert "000_30476793be204b5a.txt" not in result.output.split("Skipped")[1]
    skipped = [json.loads(line) for line in errors.read_text().splitlines()]
    assert {Path(s["path"]).name for s in skipped} == {"empty.txt", "garbage.txt", "notes.docx"}
    stats = json.loads(CliRunner().invoke(cli, ["stats", "--json", "--index", str(index_dir)]).output)
    assert stats["articles"] == 2  # the sample and the cp1252 text, decoded
    result = CliRunner().invoke(cli, ["search", "Zürich", "--json", "--index", str(index_dir)])
    assert json.loads(result.output)["total"] == 1


def test_prune_removes_articles_whose_file_is_gone(tmp_path, archive_location):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Floods in Bangladesh\n\nHeavy rain hit Dhaka on Monday.")
    (folder / "b.txt").write_text("Fires near Athens\n\nWildfires spread outside Athens, Greece.")
    index_dir = archive_location
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", "-q", "-j", "1", "--index", str(index_dir), str(folder)]).exit_code == 0
    (folder / "b.txt").unlink()
    result = runner.invoke(cli, ["ingest", "-q", "-j", "1", "--prune", "--index", str(index_dir), str(folder)])
    assert result.exit_code == 0, result.output
    assert "1 pruned" in result.output
    stats = json.loads(runner.invoke(cli, ["stats", "--json", "--index", str(index_dir)]).output)
    assert stats["articles"] == 1


def test_geotag_command_reports_malformed_lines():
    lines = "\n".join([
        json.dumps({"id": "a", "text": "Heavy shelling hit Aleppo and Idlib in northern Syria."}),
        "{not json",
        json.dumps({"id": "b", "text": "Obama met Putin."}),
    ])
    result = CliRunner().invoke(cli, ["geotag"], input=lines)
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b"]
    names = {t["name"] for t in out[0]["toponyms"]}
    assert {"Aleppo", "Idlib", "Syria"} <= names
    assert out[1]["toponyms"] == []
    assert "<stdin>:2:" in result.stderr


def test_python_dash_m_archive_works():
    result = subprocess.run([sys.executable, "-m", "archive", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "geoarchive" in result.stdout


def test_geotag_with_the_online_fallback_asks_a_local_nominatim_once(nominatim_server, tmp_path):
    line = json.dumps({"id": "q", "text": "Clashes were reported in Qamishli on Monday."}) + "\n"
    args = ["geotag", "--fallback-user-agent", "geoarchive-tests/1 (tests@example.org)",
            "--fallback-url", f"http://{nominatim_server.domain}", "--fallback-cache", str(tmp_path / "c.sqlite")]
    for _ in range(2):
        result = CliRunner().invoke(cli, args, input=line)
        assert result.exit_code == 0, result.output
        (toponym,) = json.loads(result.stdout)["toponyms"]
        assert toponym["name"] == "Qamishli" and abs(toponym["lat"] - 37.05) < 0.01
    assert len(nominatim_server.requests) == 1  # the second run answered from the cache


def test_fallback_is_off_unless_asked(nominatim_server):
    line = json.dumps({"id": "q", "text": "Clashes were reported in Qamishli on Monday."}) + "\n"
    result = CliRunner().invoke(cli, ["geotag"], input=line)
    assert json.loads(result.stdout)["toponyms"] == []
    assert nominatim_server.requests == []


def test_overrides_apply_on_retag(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Storm warning\n\nA storm is expected in Paris on Friday.")
    overrides = tmp_path / "overrides.toml"
    overrides.write_text('[pin]\n"Paris" = 4717560\n')  # Paris, Texas
    index_dir = tmp_path / "ix"
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", "-q", "-j", "1", "--index", str(index_dir), str(folder)]).exit_code == 0

    def paris_country():
        page = json.loads(runner.invoke(cli, ["search", "storm", "--json", "--index", str(index_dir)]).output)
        return {p["country_code"] for p in page["results"][0]["places"] if p["name"] == "Paris"}

    assert paris_country() == {"FR"}
    args = ["ingest", "-q", "-j", "1", "--overrides", str(overrides), "--index", str(index_dir), str(folder)]
    assert "1 unchanged" in runner.invoke(cli, args).output
    assert paris_country() == {"FR"}
    result = runner.invoke(cli, [*args, "--retag"])
    assert "1 changed" in result.output
    assert paris_country() == {"US"}


def test_bad_overrides_file_is_a_clean_error(tmp_path):
    overrides = tmp_path / "o.toml"
    overrides.write_text('[pin]\n"Paris" = 999999999\n')
    result = CliRunner().invoke(cli, ["geotag", "--overrides", str(overrides)], input="")
    assert result.exit_code == 1
    assert "Error:" in result.output and "o.toml" in result.output and "Traceback" not in result.output
