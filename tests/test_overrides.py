"""The user-editable overrides file: alias, block, pin."""

import pytest

from archive.errors import OverridesError
from archive.geo.geotag import Geotagger
from archive.geo.overrides import load_overrides

GOOD = """
[alias]
"Big Apple" = "New York City"

[pin]
"Paris" = 4717560  # Paris, Texas

[block]
names = ["Jarabulus"]
"""


@pytest.fixture
def overrides(tmp_path):
    path = tmp_path / "overrides.toml"
    path.write_text(GOOD, encoding="utf-8")
    return load_overrides(path)


def test_parse(overrides):
    assert overrides.alias("big apple") == "New York City"
    assert overrides.pinned("paris") == 4717560
    assert overrides.blocked("jarabulus")
    assert "big apple" in overrides.names and "big" in overrides.prefixes


def test_applied_by_the_tagger(gazetteer, overrides):
    tagger = Geotagger(gazetteer=gazetteer, overrides=overrides)
    mentions = tagger.tag_text("From the Big Apple to Paris, then on to Jarabulus and Syria.")
    by_surface = {m.surface: m.place for m in mentions}
    assert by_surface["Big Apple"].name == "New York City"
    assert by_surface["Paris"].geonameid == 4717560
    assert "Jarabulus" not in by_surface
    assert by_surface["Syria"].country_code == "SY"


def test_json_file(tmp_path, gazetteer):
    path = tmp_path / "o.json"
    path.write_text('{"pin": {"Georgia": 614540}, "block": {"names": ["Syria"]}}', encoding="utf-8")
    tagger = Geotagger(gazetteer=gazetteer, overrides=load_overrides(path))
    by_surface = {m.surface: m.place for m in tagger.tag_text("Georgia and Syria signed a deal.")}
    assert by_surface == {"Georgia": gazetteer.get(614540)}


@pytest.mark.parametrize(
    "text, message",
    [
        ("[alias]\nBig = \n", r"o\.toml: invalid TOML: .*line 2"),
        ("[pins]\nParis = 1\n", r"o\.toml:1: unknown section 'pins'; expected one of: alias, block, pin"),
        ('[pin]\n"Paris" = "France"\n', r"o\.toml:2: \[pin\] 'Paris': expected a GeoNames id \(an integer\)"),
        ("[alias]\nParis = 3\n", r"o\.toml:2: \[alias\] 'Paris': expected the name of a place, got 3"),
        ('[block]\nnames = "Paris"\n', r"\[block\] names must be a list of strings"),
        ('[block]\nname = ["Paris"]\n', r"o\.toml:2: \[block\] 'name': unknown key"),
    ],
)
def test_errors_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "o.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OverridesError, match=message):
        load_overrides(path)


def test_json_syntax_error_has_line(tmp_path):
    path = tmp_path / "o.json"
    path.write_text('{\n"pin": {"Paris": 1,}\n}', encoding="utf-8")
    with pytest.raises(OverridesError, match=r"o\.json:2: invalid JSON"):
        load_overrides(path)


def test_unknown_pinned_id_is_reported(tmp_path, gazetteer):
    path = tmp_path / "o.toml"
    path.write_text("[pin]\nParis = 999999999\n", encoding="utf-8")
    with pytest.raises(OverridesError, match=r"\[pin\] 'paris' = 999999999: no place with that GeoNames id"):
        Geotagger(gazetteer=gazetteer, overrides=load_overrides(path))


def test_missing_file(tmp_path):
    with pytest.raises(OverridesError, match="cannot read overrides file"):
        load_overrides(tmp_path / "nope.toml")
