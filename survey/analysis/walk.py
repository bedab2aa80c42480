"""The walk: one iterative, source-ordered pass over a file's tree, recording raw nodes per scope."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, Tuple

from .syntax import SourceText, argument_nodes, dotted, is_super_call, string_key


_SKIPPED_FIELDS = frozenset({"ctx", "op", "ops", "type_comment"})


class Scope:
    __slots__ = ("kind", "qualname", "name", "cls", "parent", "params", "defaults", "self_name", "assigns",
                 "calls", "returns", "attr_assigns", "defs", "is_static", "line", "node", "item_assigns")

    def __init__(self, kind, qualname, name, parent, cls="", line=0):
        self.kind = kind
        self.qualname = qualname
        self.name = name
        self.parent = parent
        self.cls = cls
        self.params: List[str] = []
        self.defaults: Dict[str, ast.expr] = {}
        self.self_name = ""
        self.assigns: Dict[str, list] = {}
        self.item_assigns: Dict[str, list] = {}
        self.calls: List[Tuple[ast.Call, int, int]] = []
        self.returns: List[ast.expr] = []
        self.attr_assigns: List[Tuple[ast.expr, str, ast.expr, int, int]] = []
        self.defs: Dict[str, str] = {}
        self.is_static = False
        self.line = line
        self.node = None


_LEAVES = frozenset({ast.Name, ast.Constant, ast.alias, ast.Pass, ast.Break, ast.Continue, ast.Global,
                     ast.Nonlocal})
_WRAPPERS = frozenset({ast.Attribute, ast.Expr, ast.keyword})  # nodes whose one child is .value, no handler


# Children of the commonest nodes, written out (a generic walk over _fields is twice as slow); the order is
# the source order, which the facts keep. The walk follows _WRAPPERS to their child itself.
_SHAPES = {
    ast.Call: lambda n: (n.func, *n.args, *[k.value for k in n.keywords]),
    ast.Subscript: lambda n: (n.value, n.slice),
    ast.BinOp: lambda n: (n.left, n.right),
    ast.BoolOp: lambda n: n.values,
    ast.UnaryOp: lambda n: (n.operand,),
    ast.Compare: lambda n: (n.left, *n.comparators),
    ast.Tuple: lambda n: n.elts,
    ast.List: lambda n: n.elts,
    ast.Set: lambda n: n.elts,
    ast.Dict: lambda n: [*[k for k in n.keys if k is not None], *n.values],
    ast.JoinedStr: lambda n: n.values,
    ast.FormattedValue: lambda n: (n.value,) if n.format_spec is None else (n.value, n.format_spec),
    ast.If: lambda n: (n.test, *live(n.body), *live(n.orelse)),
    ast.IfExp: lambda n: (n.test, n.body, n.orelse),
    ast.Starred: lambda n: (n.value,),
    ast.Slice: lambda n: [x for x in (n.lower, n.upper, n.step) if x is not None],
    ast.Assign: lambda n: (*n.targets, n.value),
    ast.AugAssign: lambda n: (n.target, n.value),
    ast.AnnAssign: lambda n: (n.target, n.annotation) if n.value is None else (n.target, n.annotation, n.value),
    ast.NamedExpr: lambda n: (n.target, n.value),
    ast.Return: lambda n: () if n.value is None else (n.value,),
    ast.For: lambda n: (n.target, n.iter, *live(n.body), *live(n.orelse)),
    ast.AsyncFor: lambda n: (n.target, n.iter, *live(n.body), *live(n.orelse)),
    ast.While: lambda n: (n.test, *live(n.body), *live(n.orelse)),
    ast.With: lambda n: (*n.items, *live(n.body)),
    ast.AsyncWith: lambda n: (*n.items, *live(n.body)),
    ast.withitem: lambda n: (n.context_expr,) if n.optional_vars is None else (n.context_expr, n.optional_vars),
    ast.Try: lambda n: (*live(n.body), *n.handlers, *live(n.orelse), *live(n.finalbody)),
    ast.ExceptHandler: lambda n: (*live(n.body),) if n.type is None else (n.type, *live(n.body)),
    ast.comprehension: lambda n: (n.target, n.iter, *n.ifs),
    ast.ListComp: lambda n: (n.elt, *n.generators),
    ast.SetComp: lambda n: (n.elt, *n.generators),
    ast.GeneratorExp: lambda n: (n.elt, *n.generators),
    ast.DictComp: lambda n: (n.key, n.value, *n.generators),
    ast.Await: lambda n: (n.value,),
}


_TERMINATORS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
_TERMINATOR_TYPES = frozenset(_TERMINATORS)


def live(body: list) -> list:
    """The statements of a block that can run: none after an unconditional return, raise, continue or break."""
    if _TERMINATOR_TYPES.isdisjoint(map(type, body)):  # most blocks: told in C
        return body
    for i, stmt in enumerate(body):
        if isinstance(stmt, _TERMINATORS):
            return body[: i + 1]
    return body


def _children(node) -> List[ast.AST]:
    """Child nodes in source order."""
    shape = _SHAPES.get(type(node))
    if shape is not None:
        return shape(node)
    out = []
    for name in _fields(type(node)):
        value = getattr(node, name, None)
        if isinstance(value, list):
            out.extend(v for v in live(value) if isinstance(v, ast.AST))
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


_FIELD_CACHE: Dict[type, Tuple[str, ...]] = {}


def _fields(cls) -> Tuple[str, ...]:
    fields = _FIELD_CACHE.get(cls)
    if fields is None:
        fields = _FIELD_CACHE[cls] = tuple(f for f in cls._fields if f not in _SKIPPED_FIELDS)
    return fields


class Collector:
    """Records raw nodes per scope in one iterative, source-ordered walk; atoms are evaluated afterwards.

    Decorators, default values, annotations and class bases belong to the enclosing scope (that is where
    Python evaluates them); bodies belong to the new one."""

    def __init__(self, module: str, is_package: bool, source: SourceText):
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.source = source
        self.root = Scope("module", module + ".<module>", "<module>", None)
        self.scopes: List[Scope] = [self.root]
        self.classes: List[Tuple[Scope, ast.ClassDef, int]] = []
        self.lambdas: Dict[int, str] = {}
        self.star_imports: List[str] = []
        self._guards: Tuple[str, ...] = ()

    def walk(self, tree: ast.Module) -> None:
        # (node, scope, guards): guards are the self-attribute tests that enclose the node (``if self.augment:``),
        # so a construction site that fixes them (augment=False) can leave the guarded code out
        # Names and constants, most of a tree, are never pushed, and an attribute, expression statement or
        # keyword is followed to its one child in place (a fifth faster than pushing each node).
        leaves = _LEAVES
        stack = [(node, self.root, ()) for node in reversed(tree.body) if type(node) not in leaves]
        handlers = _HANDLERS
        pop, extend = stack.pop, stack.extend
        while stack:
            node, scope, guards = pop()
            kind = type(node)
            while kind in _WRAPPERS:
                node = node.value
                kind = type(node)
            if kind in leaves:
                continue
            handler = handlers.get(kind)
            if handler is None:
                nested = None
            else:
                self._guards = guards
                nested = handler(self, node, scope)
            if nested is None:
                children = _children(node)
                if children:
                    extend([(c, scope, guards) for c in reversed(children) if type(c) not in leaves])
            else:
                extend([item if len(item) == 3 else (*item, guards) for item in reversed(nested)
                        if type(item[0]) not in leaves])

    # -- helpers -------------------------------------------------------------------------------------
    def _pos(self, node) -> Tuple[int, int]:
        if self.source.ascii:  # columns in UTF-8 bytes are characters
            return node.lineno, node.col_offset + 1
        return node.lineno, self.source.column(node.lineno, node.col_offset) + 1

    @staticmethod
    def _bind(scope: Scope, name: str, value) -> None:
        scope.assigns.setdefault(name, []).append(value)

    def _bind_target(self, scope: Scope, target, value) -> None:
        if isinstance(target, ast.Name):
            self._bind(scope, target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for el in target.elts:
                self._bind_target(scope, el, value)
        elif isinstance(target, ast.Starred):
            self._bind_target(scope, target.value, value)
        elif isinstance(target, ast.Attribute):
            line, col = self._pos(target)
            scope.attr_assigns.append((target.value, target.attr, value, line, col))
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            key = string_key(target)
            if key is not None:
                scope.item_assigns.setdefault(target.value.id, []).append((key, value))

    def _resolve_relative(self, node: ast.ImportFrom) -> str:
        mod = node.module or ""
        level = node.level or 0
        if not level:
            return mod
        base = self.package.split(".") if self.package else []
        if level > 1:
            base = base[: len(base) - (level - 1)] if level - 1 <= len(base) else []
        return ".".join([p for p in base if p] + ([mod] if mod else []))

    # -- imports -------------------------------------------------------------------------------------
    def _import(self, node: ast.Import, scope: Scope):
        for alias in node.names:
            if alias.asname:
                self._bind(scope, alias.asname, ("import", alias.name))
            else:
                top = alias.name.split(".")[0]
                self._bind(scope, top, ("import", top))
        return []

    def _import_from(self, node: ast.ImportFrom, scope: Scope):
        base = self._resolve_relative(node)
        for alias in node.names:
            if alias.name == "*":
                self.star_imports.append(base)
                continue
            self._bind(scope, alias.asname or alias.name, ("import", f"{base}.{alias.name}" if base else alias.name))
        return []

    # -- scopes --------------------------------------------------------------------------------------
    def _class(self, node: ast.ClassDef, parent: Scope):
        qual = child_qualname(parent, node.name)
        parent.defs[node.name] = qual
        scope = Scope("class", qual, node.name, parent, cls=qual, line=node.lineno)
        self.scopes.append(scope)
        self.classes.append((scope, node, node.lineno))
        outer = [*node.decorator_list, *node.bases, *node.keywords]
        return [(n, parent) for n in outer] + [(n, scope) for n in node.body]

    def _function(self, node, parent: Scope):
        qual = child_qualname(parent, node.name)
        parent.defs[node.name] = qual
        cls = parent.qualname if parent.kind == "class" else ""
        scope = Scope("function", qual, node.name, parent, cls=cls, line=node.lineno)
        scope.node = node
        scope.is_static = any(dotted(d) == "staticmethod" for d in node.decorator_list)
        self._params(scope, node.args)
        if cls and scope.params and not scope.is_static:
            scope.self_name = scope.params[0]
        self.scopes.append(scope)
        outer = [*node.decorator_list, *argument_nodes(node.args)]
        if node.returns is not None:
            outer.append(node.returns)
        return [(n, parent) for n in outer] + [(n, scope) for n in live(node.body)]

    def _lambda(self, node: ast.Lambda, parent: Scope):
        line, col = self._pos(node)
        qual = f"{parent.qualname if parent.kind != 'module' else self.module}.<lambda:{line}:{col}>"
        self.lambdas[id(node)] = qual
        scope = Scope("function", qual, "<lambda>", parent, line=line)
        self._params(scope, node.args)
        scope.returns.append(node.body)
        self.scopes.append(scope)
        return [(n, parent) for n in argument_nodes(node.args)] + [(node.body, scope)]

    @staticmethod
    def _params(scope: Scope, args: ast.arguments) -> None:
        positional = [*args.posonlyargs, *args.args]
        for a in positional:
            scope.params.append(a.arg)
        for a, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
            scope.defaults[a.arg] = default
        for a, default in zip(args.kwonlyargs, args.kw_defaults):
            scope.params.append(a.arg)
            if default is not None:
                scope.defaults[a.arg] = default
        for star in (args.vararg, args.kwarg):
            if star is not None:
                scope.params.append(star.arg)

    # -- statements ----------------------------------------------------------------------------------
    def _assign(self, node: ast.Assign, scope: Scope):
        for t in node.targets:
            self._bind_target(scope, t, node.value)

    def _ann_assign(self, node: ast.AnnAssign, scope: Scope):
        if node.value is not None:
            self._bind_target(scope, node.target, node.value)

    def _aug_assign(self, node, scope: Scope):
        self._bind_target(scope, node.target, node.value)

    def _for(self, node, scope: Scope):
        self._bind_target(scope, node.target, node.iter)

    def _with_item(self, node: ast.withitem, scope: Scope):
        if node.optional_vars is not None:
            self._bind_target(scope, node.optional_vars, node.context_expr)

    def _return(self, node: ast.Return, scope: Scope):
        if node.value is not None:
            scope.returns.append(node.value)

    def _if(self, node: ast.If, scope: Scope):
        guards = self._guards
        test = _guard(node.test, scope.self_name) if scope.self_name else None
        body, orelse = live(node.body), live(node.orelse)
        if test is None:
            return [(node.test, scope, guards), *((n, scope, guards) for n in body),
                    *((n, scope, guards) for n in orelse)]
        negated = test[1:] if test.startswith("!") else "!" + test
        return [(node.test, scope, guards), *((n, scope, guards + (test,)) for n in body),
                *((n, scope, guards + (negated,)) for n in orelse)]

    def _subscript(self, node: ast.Subscript, scope: Scope):
        """``self.dataset[idx]`` (a wrapper reading the dataset it wraps) runs that object's __getitem__: it is
        recorded as the call ``self.dataset.__getitem__(idx)``. Only items of self's attributes: reading an
        item of anything else would add a call per indexing of every array."""
        if not scope.self_name or not isinstance(node.ctx, ast.Load):
            return None
        base = node.value
        while isinstance(base, ast.Subscript):  # self.datasets[k][idx]
            base = base.value
        if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name) and base.value.id == scope.self_name:
            func = ast.Attribute(value=node.value, attr="__getitem__", ctx=ast.Load())
            call = ast.Call(func=func, args=[node.slice], keywords=[])
            ast.copy_location(func, node)
            ast.copy_location(call, node)
            line, col = self._pos(node)
            scope.calls.append((call, line, col, self._guards))
        return None

    def _call(self, node: ast.Call, scope: Scope):
        line, col = self._pos(node)
        scope.calls.append((node, line, col, self._guards))
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        if func.attr in _MUTATORS and node.args:
            # tf.transforms.append(Cutout()), augs.extend([...]): the container may hold what is added
            value = node.args[-1]
            root = func.value
            while isinstance(root, ast.Attribute) and not (isinstance(root.value, ast.Name)
                                                            and root.value.id == scope.self_name):
                root = root.value
            if isinstance(root, ast.Name):
                self._bind(scope, root.id, value)
            elif isinstance(root, ast.Attribute):
                self._bind_target(scope, root, value)
        elif func.attr == "update" and isinstance(func.value, ast.Name):
            # opts.update(num_workers=4) fills a dict as opts["num_workers"] = 4 does
            entries = [(k.arg, k.value) for k in node.keywords if k.arg]
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    entries += [(k.value, v) for k, v in zip(arg.keys, arg.values)
                                if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            for key, value in entries:
                scope.item_assigns.setdefault(func.value.id, []).append((key, value))
        elif func.attr == "__init__" and _is_super_call(func.value, scope) and scope.self_name:
            # super().__init__(root, transform=transform) into a library dataset: the library sets
            # self.transform, which this class's own __getitem__ then calls
            for k in node.keywords:
                if k.arg in _LIBRARY_ATTRIBUTES:
                    pos = self._pos(k.value)
                    scope.attr_assigns.append((ast.Name(id=scope.self_name, ctx=ast.Load()), k.arg, k.value, *pos))


def _guard(test, self_name: str) -> Optional[str]:
    """``if self.X:`` and ``if self.X is not None:`` -> "X"; ``if not self.X:`` and ``if self.X is None:`` ->
    "!X"; other tests are not guards. (Judged by truthiness: None, False and 0 are false.)"""
    negate = False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, negate = test.operand, True
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot)) \
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None:
        negate = negate != isinstance(test.ops[0], ast.Is)
        test = test.left
    if isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id == self_name:
        return ("!" if negate else "") + test.attr
    return None


_MUTATORS = frozenset({"append", "extend", "insert", "add", "appendleft"})
_LIBRARY_ATTRIBUTES = frozenset({"transform", "target_transform", "transforms", "pre_transform"})


def _is_super_call(node, scope: Scope) -> bool:
    """``super()`` or ``super(Cls, self)``, or a base class named directly (``Base.__init__(self, ...)``)."""
    if is_super_call(node):
        return True
    return isinstance(node, (ast.Name, ast.Attribute)) and bool(scope.self_name)


# Plain functions, not bound methods: a table of bound methods held by the collector is a reference cycle,
# which keeps the whole syntax tree alive until the cyclic collector runs (the collector then dominates).
_HANDLERS = {
    ast.Import: Collector._import, ast.ImportFrom: Collector._import_from, ast.ClassDef: Collector._class,
    ast.FunctionDef: Collector._function, ast.AsyncFunctionDef: Collector._function, ast.Lambda: Collector._lambda,
    ast.Assign: Collector._assign, ast.AnnAssign: Collector._ann_assign, ast.AugAssign: Collector._aug_assign,
    ast.NamedExpr: Collector._aug_assign, ast.For: Collector._for, ast.AsyncFor: Collector._for,
    ast.comprehension: Collector._for, ast.withitem: Collector._with_item, ast.Return: Collector._return,
    ast.Call: Collector._call, ast.If: Collector._if, ast.Subscript: Collector._subscript,
}


def enclosing_class(s: Scope) -> str:
    while s is not None:
        if s.kind == "class":
            return s.qualname
        s = s.parent
    return ""


def child_qualname(parent: Scope, name: str) -> str:
    if parent.kind == "module":
        return parent.qualname.replace(".<module>", "") + "." + name
    return parent.qualname + "." + name
