"""Decide, cheaply and deterministically, whether a bundle module is safe to hand to libcst.

libcst's native parser and its Python-side tree walks are the slow, fragile part of an audit:
on this kind of hostile input they are

* unbounded in native stack: `x = ((((...))))` or `[[[...]]]` 5000 deep segfaults the process,
  `lambda: lambda: ...` 5000 deep aborts it -- no Python exception to catch;
* super-linear in time: 1000 nested brackets take ~17 s to parse, and a flat module costs
  ~1-2 s per 10,000 syntax nodes (a 2 MiB module: minutes and gigabytes).

CPython's own parser (`ast.parse`, C code; it parses and never compiles or executes) rejects
all of the crashing shapes in milliseconds -- more than 200 nested brackets is a
`SyntaxError`, very deep operator chains a `RecursionError`/`MemoryError` -- and its tree gives
the nesting depth and the node count before libcst sees a byte. A module that crosses a limit
is reported as not analysed (a `SyntaxProblem`, so rules needing it are skipped and RA001 names
the reason), never crashed on. Limits live in `reviewer_audit.ingest.limits`.
"""
from __future__ import annotations

import ast
import symtable
import warnings
from dataclasses import dataclass

from reviewer_audit.program.facts import CPythonView, SyntaxProblem
from reviewer_audit.ingest.limits import (
    MAX_BUNDLE_PYTHON_BYTES,
    MAX_BUNDLE_PYTHON_NODES,
    MAX_NESTING,
    MAX_PYTHON_BYTES,
    MAX_PYTHON_NODES,
    PYTHON_MODULE_COST,
)


@dataclass
class PythonBudget:
    """What is left of one bundle's Python analysis budget (bytes and CPython syntax nodes)."""

    bytes: int = MAX_BUNDLE_PYTHON_BYTES
    nodes: int = MAX_BUNDLE_PYTHON_NODES


def analyse(path: str, text: str, budget: PythonBudget | None = None):
    """The module's `ModuleFacts`, or the `SyntaxProblem` that says why there are none.

    A module CPython accepts but libcst cannot parse (libcst refuses more than 3000 implicitly
    concatenated strings, and its tree walks recurse deeper than CPython's) is valid code: its
    problem says "not analysed" rather than passing libcst's complaint off as a syntax error.
    """
    from reviewer_audit.program.facts import extract_facts

    problem, cpython_ok, view = _precheck(path, text, budget)
    if problem is not None:
        return problem
    result = extract_facts(path, text)
    if cpython_ok and isinstance(result, SyntaxProblem):
        return SyntaxProblem(path, f"not analysed: CPython accepts this module but libcst cannot parse it ({result.message})", result.line, result.column)
    if not isinstance(result, SyntaxProblem):
        result.cpython = view
    return result


def precheck(path: str, text: str, budget: PythonBudget | None = None) -> SyntaxProblem | None:
    """None when `text` may be parsed with libcst (and `budget` is charged), else the problem.

    The problem is CPython's own syntax error when CPython rejects the module (the module would
    not run either), or a "not analysed" limit when the module is too large or too deeply nested
    to analyse safely.
    """
    return _precheck(path, text, budget)[0]


def _precheck(path: str, text: str, budget: PythonBudget | None) -> tuple[SyntaxProblem | None, bool, CPythonView | None]:
    """(problem or None, whether CPython's parser and symbol table accepted the module, and
    CPython's view of it when it did and it is within the limits).

    Warnings about the audited code (invalid escapes, ...) are not ours to print, and under
    `-W error` they would turn into SyntaxErrors, so they are silenced here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _precheck_quiet(path, text, budget)


def _precheck_quiet(path: str, text: str, budget: PythonBudget | None) -> tuple[SyntaxProblem | None, bool, CPythonView | None]:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_PYTHON_BYTES:
        return SyntaxProblem(path, f"not analysed: the module is {size} bytes, over the {MAX_PYTHON_BYTES}-byte limit for one Python module", 1, 1), False, None
    if budget is not None and size > budget.bytes:
        return SyntaxProblem(path, f"not analysed: the bundle's Python modules exceed {MAX_BUNDLE_PYTHON_BYTES} bytes in all", 1, 1), False, None
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        problem = SyntaxProblem(path, exc.msg, exc.lineno or 1, exc.offset or 1)
        if exc.msg.startswith("too many"):  # nested parentheses / indentation levels / nested blocks
            return problem, False, None
        # Maybe syntax newer than this interpreter (PEP 695/701) that libcst reads: let libcst
        # try, once the tokens show no shape that could crash or stall it.
        return _token_precheck(path, text, budget, problem), False, None
    except ValueError as exc:  # "source code string cannot contain null bytes" on some versions
        line = text.count("\n", 0, max(text.find("\0"), 0)) + 1
        problem = SyntaxProblem(path, str(exc).splitlines()[0] if str(exc) else "invalid source", line, 1)
        return _token_precheck(path, text, budget, problem), False, None
    except (RecursionError, MemoryError):
        return SyntaxProblem(path, "too deeply nested for CPython's parser (it fails the same way when the module is run)", 1, 1), False, None
    nodes, depth, where = _measure(tree, MAX_PYTHON_NODES)
    if depth > MAX_NESTING:
        return SyntaxProblem(path, f"not analysed: code nested more than {MAX_NESTING} levels deep", where, 1), True, None
    # libcst pays per line too (blank and comment lines are nodes of its tree, not of ast's).
    nodes += text.count("\n")
    if nodes > MAX_PYTHON_NODES:
        return SyntaxProblem(path, f"not analysed: the module has more than {MAX_PYTHON_NODES} syntax nodes and lines", 1, 1), True, None
    scope_problem, table = _scope_check(path, text)
    if scope_problem is not None:
        return scope_problem, False, None
    return _charge(path, budget, size, nodes), True, CPythonView(tree, table)


def _scope_check(path: str, text: str) -> tuple[SyntaxProblem | None, symtable.SymbolTable | None]:
    """CPython's scope errors, which `ast.parse` lets through but compiling (and so running)
    the module does not: `nonlocal` at module level, a name both parameter and global, ...
    `symtable` only builds symbol tables -- no bytecode, nothing run. The table is kept with
    the module's facts (`CPythonView`): name resolution (RA905) asks it which names each scope
    binds."""
    try:
        return None, symtable.symtable(text, path, "exec")
    except SyntaxError as exc:
        return SyntaxProblem(path, exc.msg, exc.lineno or 1, exc.offset or 1), None
    except (RecursionError, MemoryError, ValueError):
        return SyntaxProblem(path, "too deeply nested for CPython's compiler (it fails the same way when the module is run)", 1, 1), None


#: In a module CPython rejects, longest logical line (in tokens) handed to libcst. Operator and
#: lambda chains this long parse in about a second; libcst aborts near 10,000 tokens.
MAX_LINE_TOKENS_UNPARSED = 2000


def _token_precheck(path: str, text: str, budget: PythonBudget | None, problem: SyntaxProblem) -> SyntaxProblem | None:
    """Bounds for a module `ast` rejected, from the tokenizer alone: bracket depth, tokens per
    logical line, tokens in all. Over any of them (or untokenizable), CPython's error stands."""
    import io
    import tokenize

    opening, closing = {"(", "[", "{"}, {")", "]", "}"}
    depth = line = total = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            total += 1
            if tok.type == tokenize.OP:
                if tok.string in opening:
                    depth += 1
                    if depth > MAX_NESTING:
                        return problem
                elif tok.string in closing:
                    depth = max(0, depth - 1)
            if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                line = 0
            else:
                line += 1
                if line > MAX_LINE_TOKENS_UNPARSED:
                    return problem
            if total > 2 * MAX_PYTHON_NODES:
                return problem
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError, MemoryError):
        return problem
    nodes = total // 2 + text.count("\n")  # a syntax node is about two tokens; lines cost too
    return _charge(path, budget, len(text.encode("utf-8", "surrogatepass")), nodes)


def _charge(path: str, budget: PythonBudget | None, size: int, nodes: int) -> SyntaxProblem | None:
    """Take one module's cost (syntax nodes + lines + PYTHON_MODULE_COST) from the bundle's
    budget, or say the budget is spent."""
    if budget is None:
        return None
    cost = nodes + PYTHON_MODULE_COST
    if cost > budget.nodes:
        return SyntaxProblem(path, f"not analysed: the bundle's Python analysis budget ({MAX_BUNDLE_PYTHON_NODES} syntax nodes and lines, {PYTHON_MODULE_COST} per module) is spent", 1, 1)
    budget.bytes -= size
    budget.nodes -= cost
    return None


def _measure(tree: ast.AST, max_nodes: int) -> tuple[int, int, int]:
    """(node count, max depth, line of the first node past MAX_NESTING) without recursion;
    stops counting once past `max_nodes` or MAX_NESTING."""
    nodes, deepest, where = 0, 0, 1
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_NESTING:
                return nodes, deepest, getattr(node, "lineno", 1) or 1
        if nodes > max_nodes:
            break
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return nodes, deepest, where
