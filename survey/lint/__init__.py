"""``survey check``: the analysis as a linter, its output formats, ``# noqa`` and ``--fix``."""
