"""Worker options read from YAML, JSON and TOML files: as data, bounded, and by the name the code reads."""
import time

from survey.analysis import atoms as A
from survey.analysis.configs import MAX_CONFIG_BYTES, ConfigValues


def test_keys_from_every_format(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "data.yaml").write_text("loader:\n  num_workers: 6\n  persistent_workers: true\n")
    (tmp_path / "settings.json").write_text('{"train": {"NUM_WORKERS": 0}}')
    (tmp_path / "pyproject.toml").write_text("[tool.train]\nworkers = 3\n")
    (tmp_path / "env.yml").write_text("workers: ${oc.env:WORKERS}\n")
    c = ConfigValues(tmp_path)
    assert c.lookup("num_workers") == [frozenset({A.integer(6), A.CONST})]
    assert c.lookup("NUM_WORKERS") == [frozenset({A.integer(0), A.CONST})]
    assert set(c.lookup("num_WORKERS")) == {frozenset({A.integer(6), A.CONST}), frozenset({A.integer(0), A.CONST})}
    assert frozenset({A.integer(3), A.CONST}) in c.lookup("workers")
    assert frozenset({A.OTHER}) in c.lookup("workers")  # an interpolation is unknown, not zero
    assert c.lookup("n_cpu") == []


def test_never_executed_and_bounded(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.yaml").write_text(
        f"a: !!python/object/apply:os.system ['touch {marker}']\nnum_workers: 2\n")
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))
    (tmp_path / "laughs.yaml").write_text(laughs + "num_workers: 5\n")
    (tmp_path / "big.json").write_text('{"num_workers": 9, "pad": "' + "x" * MAX_CONFIG_BYTES + '"}')
    (tmp_path / "broken.yaml").write_text("num_workers: [1, 2\n")
    start = time.process_time()
    c = ConfigValues(tmp_path)
    values = c.lookup("num_workers")
    assert time.process_time() - start < 5  # the billion laughs are walked to a bound, not expanded
    assert not marker.exists()
    assert frozenset({A.integer(2), A.CONST}) in values and frozenset({A.integer(5), A.CONST}) in values
    assert frozenset({A.integer(9), A.CONST}) not in values  # over the size cap: not read
