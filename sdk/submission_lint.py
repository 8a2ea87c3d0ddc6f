"""Which hyperparameter names a submission reads, found statically in its source (``ast``).

``paceline check`` compares them with the search space: a name the submission reads but the
space lacks fails the run with ``AttributeError`` at its first step. The analysis starts at the
``hyperparameters`` parameter of each API function and follows it through aliases
(``hp = hyperparameters``), ``getattr``/``hasattr``, ``hyperparameters._asdict()[...]`` and into
plain Python functions it is passed to (``hyper(hyperparameters, "lr", 0.1)``), with string
arguments carried along. It is sound in one direction only: a read it reports as required
happens unless a branch skips it; reads guarded by ``hasattr``, a ``try`` that catches
``AttributeError``, or ``getattr`` with a default are optional. Where the object goes somewhere
it cannot follow (stored, returned, passed to a method), :attr:`HyperparameterReads.complete`
is ``False`` and "never read" cannot be claimed.

    >>> reads = hyperparameter_reads(load_submission("nadamw"))  # doctest: +SKIP
    >>> sorted(r.name for r in reads.reads if not r.optional)     # doctest: +SKIP
"""

from __future__ import annotations

import ast
import builtins
import inspect
import os
from dataclasses import dataclass, field
from functools import cache
from types import FunctionType, ModuleType
from typing import Any

API_FUNCTIONS = ("init_optimizer_state", "update_params", "data_selection", "prepare_for_eval")
# builtins that take the object without reading a field by name
_HARMLESS = {"isinstance", "print", "id", "type", "repr", "str", "bool", "hasattr"}
_CATCHES_ATTRIBUTE_ERROR = {"AttributeError", "Exception", "BaseException"}
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Read:
    """One read of hyperparameter ``name`` at ``where`` (``file:line``)."""

    name: str
    where: str
    optional: bool  # getattr with a default, or guarded by hasattr / try-except AttributeError
    none_guarded: bool  # only reached when hyperparameters is not None


@dataclass
class HyperparameterReads:
    """Every read found, and whether the object ever went where the analysis cannot follow."""

    reads: list[Read] = field(default_factory=list)
    escapes: list[str] = field(default_factory=list)  # "file:line" where it was lost

    @property
    def complete(self) -> bool:
        return not self.escapes

    def required(self) -> dict[str, Read]:
        """Names read without a default or a guard, each with its first location."""
        out: dict[str, Read] = {}
        for r in self.reads:
            if not r.optional:
                out.setdefault(r.name, r)
        return out

    def read_when_none(self) -> dict[str, Read]:
        """Required reads not guarded by a None check (they raise when hyperparameters is None)."""
        out: dict[str, Read] = {}
        for r in self.reads:
            if not r.optional and not r.none_guarded:
                out.setdefault(r.name, r)
        return out

    def names(self) -> set[str]:
        return {r.name for r in self.reads}


def hyperparameter_reads(submission: Any) -> HyperparameterReads:
    """The hyperparameter reads of a loaded :class:`sdk.submission.Submission`."""
    result = HyperparameterReads()
    seen: set[Any] = set()
    for name in API_FUNCTIONS:
        fn = getattr(submission.module, name, None)
        if fn is None:
            continue
        _follow(fn, "hyperparameters", {}, result, seen, 0, f"{name}()")
    return result


def _parsed(filename: str) -> ast.Module | None:
    """The file's syntax tree, parsed once per version of the file."""
    try:
        stat = os.stat(filename)
    except OSError:
        return None
    return _parse(filename, stat.st_mtime_ns, stat.st_size)


@cache
def _parse(filename: str, mtime_ns: int, size: int) -> ast.Module | None:
    del mtime_ns, size  # cache keys only
    try:
        with open(filename, encoding="utf-8") as f:
            return ast.parse(f.read(), filename)
    except (OSError, SyntaxError, ValueError):
        return None


def _function_node(fn: FunctionType) -> tuple[str, ast.AST] | None:
    try:
        filename = inspect.getsourcefile(fn)
    except TypeError:
        return None
    tree = _parsed(filename) if filename else None
    if tree is None:
        return None
    first = fn.__code__.co_firstlineno
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == fn.__name__:
            lines = [node.lineno, *(d.lineno for d in node.decorator_list)]
            if first in lines:
                return filename, node
    return None


def _follow(fn: Any, param: str, consts: dict[str, str], result: HyperparameterReads,
            seen: set[Any], depth: int, where: str) -> None:
    """Record the reads of ``param`` (the hyperparameters object) inside function ``fn``."""
    fn = inspect.unwrap(fn) if callable(fn) else fn
    if not isinstance(fn, FunctionType):
        result.escapes.append(where)
        return
    key = (fn.__code__, param, tuple(sorted(consts.items())))
    if key in seen:
        return
    seen.add(key)
    found = _function_node(fn)
    if found is None or depth > _MAX_DEPTH:
        result.escapes.append(where)
        return
    filename, node = found
    _Visitor(fn, filename, {param}, consts, result, seen, depth).run(node)


def _catches_attribute_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(t, ast.Name) and t.id in _CATCHES_ATTRIBUTE_ERROR for t in types)


class _Visitor:
    """Walks one function body, tracking the names that hold the hyperparameters object."""

    def __init__(self, fn: FunctionType, filename: str, names: set[str], consts: dict[str, str],
                 result: HyperparameterReads, seen: set[Any], depth: int) -> None:
        self.fn, self.result, self.seen, self.depth = fn, result, seen, depth
        shown = os.path.relpath(filename)
        self.filename = filename if shown.startswith("..") else shown
        self.names = set(names)  # hold the object
        self.dicts: set[str] = set()  # hold hyperparameters._asdict()
        self.consts = dict(consts)

    # ---- helpers ---------------------------------------------------------------------------

    def at(self, node: ast.AST) -> str:
        return f"{self.filename}:{getattr(node, 'lineno', '?')}"

    def is_obj(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id in self.names

    def is_dict(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.dicts
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "_asdict" and self.is_obj(node.func.value))

    def const(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.consts.get(node.id)
        return None

    def read(self, name: str | None, node: ast.AST, optional: bool, guarded: bool) -> None:
        if name is None:
            self.result.escapes.append(self.at(node))  # a name chosen at run time
        else:
            self.result.reads.append(Read(name, self.at(node), optional, guarded))

    def guards(self, test: ast.AST) -> tuple[bool, bool]:
        """(hasattr/``in`` guard, None guard) found anywhere in a condition."""
        has, none = False, False
        for n in ast.walk(test):
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                    and n.func.id == "hasattr" and n.args and self.is_obj(n.args[0])):
                has = True
            if isinstance(n, ast.Compare) and any(isinstance(o, ast.In | ast.NotIn) for o in n.ops):
                has = has or any(self.is_dict(c) or self.is_fields(c) for c in n.comparators)
            if self.is_obj(n):
                none = True
        return has, none

    def is_fields(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "_fields" and self.is_obj(node.value)

    # ---- the walk --------------------------------------------------------------------------

    def run(self, node: ast.AST) -> None:
        self.collect_aliases(node)
        args = node.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if a.arg in self.names:
                break
        else:
            if args.kwarg is None:
                return  # the function does not take the object at all
            self.result.escapes.append(self.at(node))
            return
        for stmt in node.body:
            self.visit(stmt, False, False)

    def collect_aliases(self, node: ast.AST) -> None:
        """``hp = hyperparameters`` and ``d = hyperparameters._asdict()``, to a fixed point."""
        changed = True
        while changed:
            changed = False
            for n in ast.walk(node):
                if isinstance(n, ast.Assign | ast.AnnAssign) and n.value is not None:
                    targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                    for t in targets:
                        if not isinstance(t, ast.Name):
                            continue
                        if self.is_obj(n.value) and t.id not in self.names:
                            self.names.add(t.id)
                            changed = True
                        elif self.is_dict(n.value) and t.id not in self.dicts:
                            self.dicts.add(t.id)
                            changed = True

    def visit(self, node: ast.AST, optional: bool, guarded: bool) -> None:  # noqa: C901
        v = self.visit
        if isinstance(node, ast.If | ast.IfExp | ast.While):
            has, none = self.guards(node.test)
            self.visit_test(node.test, optional, guarded)
            for part in ("body", "orelse"):
                body = getattr(node, part)
                for child in body if isinstance(body, list) else [body]:
                    v(child, optional or has, guarded or none)
            return
        if isinstance(node, ast.BoolOp):
            has, none = self.guards(node)
            for value in node.values:
                self.visit_test(value, optional or has, guarded or none)
            return
        if isinstance(node, ast.Try | getattr(ast, "TryStar", ast.Try)):
            catches = any(_catches_attribute_error(h) for h in node.handlers)
            for child in node.body:
                v(child, optional or catches, guarded)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                v(child, optional, guarded)
            return
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None and (
                self.is_obj(node.value) or self.is_dict(node.value)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not all(isinstance(t, ast.Name) for t in targets):
                self.result.escapes.append(self.at(node))  # stored: state["h"] = hyperparameters
            return  # a plain alias is collected up front
        if isinstance(node, ast.Attribute) and self.is_obj(node.value):
            if node.attr.startswith("_"):
                self.result.escapes.append(self.at(node))  # _fields, _replace, ...
            elif isinstance(node.ctx, ast.Load):
                self.read(node.attr, node, optional, guarded)
            return
        if isinstance(node, ast.Subscript) and (self.is_obj(node.value) or self.is_dict(node.value)):
            self.read(self.const(node.slice), node, optional, guarded)
            v(node.slice, optional, guarded)
            return
        if isinstance(node, ast.Compare) and any(
                self.is_obj(x) for x in [node.left, *node.comparators]):
            if all(isinstance(x, ast.Constant) and x.value is None or self.is_obj(x)
                   for x in [node.left, *node.comparators]):
                return  # hyperparameters is None
        if isinstance(node, ast.Call) and self.visit_call(node, optional, guarded):
            return
        if isinstance(node, ast.Name) and (node.id in self.names or node.id in self.dicts):
            if isinstance(node.ctx, ast.Load):
                self.result.escapes.append(self.at(node))
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            params = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
            if params & (self.names | self.dicts):
                return  # shadowed inside: a different object
        for child in ast.iter_child_nodes(node):
            v(child, optional, guarded)

    def visit_test(self, test: ast.AST, optional: bool, guarded: bool) -> None:
        """A condition: a bare ``hyperparameters`` or ``not hyperparameters`` is a None test."""
        inner = test.operand if isinstance(test, ast.UnaryOp) and isinstance(
            test.op, ast.Not) else test
        if self.is_obj(inner):
            return
        self.visit(test, optional, guarded)

    def visit_call(self, node: ast.Call, optional: bool, guarded: bool) -> bool:
        """Handle a call that involves the object; ``False`` when it is an ordinary call."""
        func, args = node.func, node.args
        if isinstance(func, ast.Name) and func.id in ("getattr", "hasattr") and args \
                and self.is_obj(args[0]):
            if func.id == "getattr":
                self.read(self.const(args[1]) if len(args) > 1 else None, node,
                          optional or len(args) > 2, guarded)
            for a in args[1:]:
                self.visit(a, optional, guarded)
            return True
        if isinstance(func, ast.Attribute) and func.attr == "get" and self.is_dict(func.value):
            self.read(self.const(args[0]) if args else None, node, True, guarded)
            for a in args[1:]:
                self.visit(a, optional, guarded)
            return True
        passed = [i for i, a in enumerate(args) if self.is_obj(a)]
        passed_kw = [k.arg for k in node.keywords if self.is_obj(k.value)]
        if not passed and not passed_kw:
            return False
        callee = self.resolve(func)
        name = getattr(callee, "__name__", None)
        if callee is getattr(builtins, name or "", None) and name in _HARMLESS:
            pass
        elif isinstance(callee, FunctionType) and None not in passed_kw:
            self.follow(callee, node, passed, passed_kw)
        else:
            self.result.escapes.append(self.at(node))
        self.visit(func, optional, guarded)
        for a in [*args, *(k.value for k in node.keywords)]:
            if not self.is_obj(a):
                self.visit(a, optional, guarded)
        return True

    def resolve(self, func: ast.AST) -> Any:
        """The object a call's callee names, from the function's globals, when static."""
        if isinstance(func, ast.Name):
            if func.id in self.fn.__globals__:
                return self.fn.__globals__[func.id]
            return getattr(builtins, func.id, None)
        if isinstance(func, ast.Attribute):
            owner = self.resolve(func.value)
            if isinstance(owner, ModuleType):
                return getattr(owner, func.attr, None)
        return None

    def follow(self, callee: FunctionType, node: ast.Call, passed: list[int],
               passed_kw: list[str]) -> None:
        try:
            params = list(inspect.signature(callee).parameters.values())
        except (TypeError, ValueError):
            self.result.escapes.append(self.at(node))
            return
        if any(isinstance(a, ast.Starred) for a in node.args):
            self.result.escapes.append(self.at(node))
            return
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        consts: dict[str, str] = {}
        for i, a in enumerate(node.args):
            if i < len(positional) and self.const(a) is not None:
                consts[positional[i].name] = self.const(a)
        for k in node.keywords:
            if k.arg and self.const(k.value) is not None:
                consts[k.arg] = self.const(k.value)
        targets = [positional[i].name if i < len(positional) else None for i in passed]
        targets += passed_kw
        for target in targets:
            if target is None:
                self.result.escapes.append(self.at(node))
                continue
            _follow(callee, target, consts, self.result, self.seen, self.depth + 1, self.at(node))
