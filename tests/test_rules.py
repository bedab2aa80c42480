import re
from pathlib import Path

from survey.analysis.rules import RULES, markdown_table

README = Path(__file__).parent.parent / "README.md"


def test_readme_rule_table_is_generated_from_the_rules():
    text = README.read_text()
    block = re.search(r"<!-- rules:start -->\n(.*?)\n<!-- rules:end -->", text, re.S).group(1)
    assert block == markdown_table(), "regenerate with: python -m survey.analysis.rules"


def test_every_message_states_problem_then_fix():
    for rule in RULES.values():
        assert re.fullmatch(r"SRV\d{3}", rule.code)
        assert rule.message.count(". ") >= 1 and rule.message.endswith("."), rule.code
