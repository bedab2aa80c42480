"""The package's shape: no import cycles between modules, no module past 600 lines."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "survey"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """Modules of the package that ``path`` imports, at any depth (lazy imports count: they can cycle too)."""
    here = _module(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                yield f"{target}.{alias.name}" if (PACKAGE.parent / (f"{target}.{alias.name}".replace(".", "/") + ".py")).exists() else target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name


def _graph():
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    return {m: {t for t in _imports(p) if t in modules and t != m and not m.startswith(t + ".") and t != "survey"}
            for m, p in modules.items()}


def test_no_import_cycle():
    graph = _graph()
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = "done"
    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_graph_sees_imports():
    # the cycle test is only as good as the graph: it must see the lazy imports of the command line
    graph = _graph()
    assert "survey.analysis.batch" in graph["survey.cli"]
    assert "survey.analysis.classify" in graph["survey.analysis.batch"]


def test_modules_stay_small():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert not long, long


_ATOM_LITERAL = __import__("re").compile(r"""["'](q|i|self|wds|param|arg|key|kv|fn|t|rng|lib|loader):|["']s!""")


def test_atoms_are_spelled_in_one_module():
    # every kind of value the analysis passes around is defined in analysis/atoms.py; a prefix literal
    # anywhere else is a second definition that the next new kind of atom would miss
    spelled = [f"{p.relative_to(PACKAGE)}:{i}" for p in PACKAGE.rglob("*.py") if p.name != "atoms.py"
               for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if _ATOM_LITERAL.search(line)]
    assert not spelled, spelled
