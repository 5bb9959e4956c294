"""The label set: built-in names exactly as the taxonomy, and council overrides."""

from __future__ import annotations

import pytest

from triage.taxonomy import TYPES, TaxonomyError, load_taxonomy


def test_built_in_labels_match_the_taxonomy_exactly():
    t = load_taxonomy()
    assert tuple(t.types) == ("complaint", "compliment", "comment", "enquiry", "other") == TYPES
    assert list(t.categories) == ["Quality", "Decision", "Conduct", "Timeliness", "Communication"]
    assert list(t.service_areas) == [
        "Localities", "Assessment & Prevention", "Integrated Learning Disabilities", "Mental Health",
        "Customer Financial Affairs", "Integrated Care Quality", "Hospitals & Health Partnerships"]
    assert all(desc for desc in [*t.types.values(), *t.categories.values(), *t.service_areas.values()])


def test_council_file_replaces_categories_and_service_areas(tmp_path):
    path = tmp_path / "mk.toml"
    path.write_text('[category]\n"Professional Decision Making" = "d"\n"Service Failure" = "s"\n'
                    '"Staff Conduct" = "c"\n"Contractor Related" = "r"\n'
                    '[service_area]\n"Older People" = "o"\n"Working Age Adults" = "w"\n')
    t = load_taxonomy(path)
    assert list(t.categories) == ["Professional Decision Making", "Service Failure", "Staff Conduct", "Contractor Related"]
    assert list(t.service_areas) == ["Older People", "Working Age Adults"]
    assert tuple(t.types) == TYPES
    assert t.check("complaint", "Service Failure", "Older People") == []
    assert t.check("complaint", "Quality", "Older People") != []


@pytest.mark.parametrize("content, error", [
    ("[category]\nQuality = 1\n[service_area]\nA = 'a'\n", "description string"),
    ("[service_area]\nA = 'a'\n", r"missing or empty \[category\]"),
    ("[type]\ncomplaint = 'x'\n[category]\nQ='q'\n[service_area]\nA='a'\n", "exactly"),
    ("not toml [", "not valid TOML"),
])
def test_bad_taxonomy_files(tmp_path, content, error):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(TaxonomyError, match=error):
        load_taxonomy(path)


def test_missing_taxonomy_file(tmp_path):
    with pytest.raises(TaxonomyError, match="no such taxonomy file"):
        load_taxonomy(tmp_path / "nope.toml")


def test_label_rules():
    t = load_taxonomy()
    assert t.check("complaint", "Quality", "Localities") == []
    assert t.check("comment", "Conduct", "Mental Health") == []
    assert t.check("compliment", None, "Mental Health") == []
    assert t.check("enquiry", None, None) == []
    assert "needs a category" in t.check("complaint", None, "Localities")[0]
    assert "takes no category" in t.check("compliment", "Quality", "Localities")[0]
    assert "takes no service area" in t.check("other", None, "Localities")[0]
    assert "unknown type" in t.check("grievance", None, None)[0]
