import csv
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures" / "repos"
EXPECTED = TESTS / "fixtures" / "expected.csv"


def expected_rows():
    with EXPECTED.open(newline="") as fh:
        return {row["repo"]: row for row in csv.DictReader(fh)}


@pytest.fixture
def write_repo(tmp_path):
    """Writes a small repository from {relative path: text} and returns its root."""
    def write(files, name="repo"):
        root = tmp_path / name
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text)
        root.mkdir(parents=True, exist_ok=True)
        return root
    return write
