"""Every fixture repository gets exactly its hand-checked row."""
import pytest

from survey.analysis.classify import classify_repo
from conftest import FIXTURES, expected_rows

ROWS = expected_rows()
COLUMNS = ("verdict", "rng_kind", "torch_pin", "effective", "findings", "errors")


def test_every_fixture_has_an_expected_row_and_back():
    on_disk = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert on_disk == set(ROWS)
    assert len(on_disk) >= 50


def test_fixtures_cover_every_verdict_and_kind():
    assert {r["verdict"] for r in ROWS.values()} == {
        "affected", "flawed-seed", "seeded", "single-process", "clean", "no-dataset"}
    assert {r["rng_kind"] for r in ROWS.values()} >= {"global", "instance", ""}
    assert {r["effective"] for r in ROWS.values()} == {"yes", "no", "unknown"}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_fixture_row(name):
    verdict = classify_repo(FIXTURES / name)
    row = {k: str(v) for k, v in verdict.row().items()}
    assert {c: row[c] for c in COLUMNS} == {c: ROWS[name][c] for c in COLUMNS}
    for finding in verdict.findings:
        assert finding.line >= 1 and finding.col >= 1
        assert (FIXTURES / name / finding.path).is_file()
