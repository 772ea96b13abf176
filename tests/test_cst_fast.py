"""The fast traversal and position map behave exactly like libcst's own visitor and
PositionProvider: same nodes, same order, same field hooks, same ranges."""
from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from reviewer_audit.program.cst_positions import node_ranges
from reviewer_audit.program.cst_walk import Walker
from tests.conftest import SEED_000, SEED_002, corpus_files, needs_corpus

#: shapes where line and column bookkeeping is easy to get wrong
TRICKY = {
    "empty": "",
    "no trailing newline": "x = 1\ny = 2",
    "crlf": "import os\r\n\r\ndef f(a,\r\n      b):\r\n    return a\r\n",
    "lone cr": "x = 1\ry = 2\r",
    "continuation": "total = 1 + \\\n    2 + \\\n    3\nprint(total)\n",
    "triple-quoted": 'doc = """one\ntwo\nthree"""\nafter = f(doc)\n',
    "multi-line f-string": 'name = "x"\nmsg = f"""a {name}\nb {\n  name.upper()\n}"""\ncall(msg)\n',
    "decorators and comments": "# head\n\n@dec(\n    1,\n)  # trailing\n@other\nclass C(Base):\n    '''doc'''\n\n    @staticmethod\n    def m(x: int = 3, *a, k, **kw) -> 'C':\n        return [i for i in a if i]  # c\n",
    "tabs and nesting": "if a:\n\tif b:\n\t\tx = (1,\n\t\t     2)\n\telse:\n\t\tpass\n",
    "try and with": "try:\n    with open(p) as f, open(q) as g:\n        pass\nexcept (A, B) as e:\n    raise\nelse:\n    y = lambda q: q or e\nfinally:\n    z = 1 if y else 2\n",
    "match": "match cmd:\n    case [x, *rest] if x:\n        pass\n    case {'k': v}:\n        pass\n",
}


def _libcst_ranges(module: cst.Module) -> dict[int, tuple[int, int, int, int]]:
    ranges = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {id(n): (r.start.line, r.start.column, r.end.line, r.end.column) for n, r in ranges.items()}


class _Events:
    """Records visits, leaves and the If/IfExp/Try field hooks (a subset, as visitors use them)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple] = []

    def on_visit(self, node):
        self.events.append(("visit", id(node)))
        return super().on_visit(node)

    def on_leave(self, original_node):
        self.events.append(("leave", id(original_node)))
        super().on_leave(original_node)

    def visit_If_body(self, node):
        self.events.append(("If.body", id(node)))

    def leave_IfExp_orelse(self, node):
        self.events.append(("IfExp.orelse/", id(node)))

    def visit_Try_body(self, node):
        self.events.append(("Try.body", id(node)))

    def visit_Lambda(self, node):
        return False  # children skipped, leave still called


class _LibcstEvents(_Events, cst.CSTVisitor):
    pass


class _FastEvents(_Events, Walker):
    pass


def _assert_same(source: str) -> None:
    module = cst.parse_module(source)
    assert node_ranges(module) == _libcst_ranges(module)
    reference, fast = _LibcstEvents(), _FastEvents()
    module.visit(reference)
    fast.walk(module)
    assert fast.events == reference.events
    assert any(e[0] == "visit" for e in fast.events)


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_shapes(name: str) -> None:
    _assert_same(TRICKY[name])


def test_field_hooks_fire() -> None:
    """The equality above must not hold vacuously: the hooks really fire."""
    fast = _FastEvents()
    fast.walk(cst.parse_module(TRICKY["try and with"] + "if a:\n    b = c if d else e\n"))
    kinds = {e[0] for e in fast.events}
    assert {"If.body", "IfExp.orelse/", "Try.body"} <= kinds


@pytest.mark.parametrize("seed", [SEED_000, SEED_002], ids=lambda p: p.name[:8])
def test_seed_modules(seed) -> None:
    from reviewer_audit.ingest.transcript import load_transcript

    files = load_transcript(seed).bundle.files
    modules = [f.text for p, f in files.items() if p.endswith(".py")]
    assert len(modules) >= 5
    for text in modules:
        _assert_same(text)


@needs_corpus
def test_every_corpus_module() -> None:
    """1.4 million nodes: every range and every traversal step as libcst computes it."""
    from reviewer_audit.ingest.transcript import load_transcript

    checked = 0
    for path in corpus_files():
        for p, f in load_transcript(path).bundle.files.items():
            if not p.endswith(".py"):
                continue
            try:
                cst.parse_module(f.text)
            except cst.ParserSyntaxError:
                continue
            _assert_same(f.text)
            checked += 1
    assert checked > 500
