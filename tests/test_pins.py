import pytest

from survey.analysis.pins import admits, find_pins, torch_era


@pytest.mark.parametrize("files, pins, era", [
    ({"requirements.txt": "torch==1.8.1+cu111\n"}, ["==1.8.1+cu111"], "old"),
    ({"requirements.txt": "torch >= 1.10, < 2\n"}, [">=1.10,<2"], "new"),
    ({"requirements.txt": "torch\nnumpy==1.8\n"}, [], "unknown"),
    ({"requirements.txt": "torchvision==0.9\n"}, [], "unknown"),
    ({"requirements/dev.txt": "torch~=1.7.0\n"}, ["~=1.7.0"], "old"),
    ({"setup.py": "setup(install_requires=['torch>=1.4'])\n"}, [">=1.4"], "unknown"),
    ({"setup.cfg": "[options]\ninstall_requires =\n    torch==2.0.1\n"}, ["==2.0.1"], "new"),
    ({"pyproject.toml": '[project]\ndependencies = ["torch>=2.1", "numpy"]\n'}, [">=2.1"], "new"),
    ({"pyproject.toml": '[tool.poetry.dependencies]\ntorch = {version = "~1.8", source = "x"}\n'},
     [">=1.8,<1.9"], "old"),
    ({"environment.yml": "dependencies:\n  - pytorch=1.8\n  - pip:\n    - opencv-python\n"}, ["==1.8.*"], "old"),
    ({"environment.yml": "dependencies:\n  - pytorch==1.9.0\n"}, ["==1.9.0"], "new"),
    ({"requirements.txt": "torch==1.8.0\n", "setup.py": "install_requires=['torch>=1.11']"},
     ["==1.8.0", ">=1.11"], "unknown"),
    ({"requirements.txt": "# torch==1.2 was old\ntorch==2.3\n"}, ["==2.3"], "new"),
])
def test_pins(write_repo, files, pins, era):
    root = write_repo(files)
    found = find_pins(root)
    assert [spec for _, spec in found] == pins
    assert torch_era(found) == era


def test_admits_splits_at_1_9():
    assert admits("<1.9") == (True, False)
    assert admits(">=1.9") == (False, True)
    assert admits(">=1.6") == (True, True)
    assert admits("==3.5.0") == (False, True)
