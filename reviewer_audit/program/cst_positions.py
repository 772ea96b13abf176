"""Source positions of every libcst node, the same as `libcst.metadata.PositionProvider`'s, at
about a quarter of the cost.

Why: `PositionProvider` generates the module's code once and, for every node, builds
`CodePosition`/`CodeRange` objects and splits every token with a regular expression. On a
generated bundle that was the single largest cost of an audit (about 70 ms of 110 ms of
libcst work). This records the same ranges as plain tuples and checks tokens for line breaks
with `in` before splitting. The code generation driving it is libcst's own
(`Module._codegen` with a `CodegenState`, as `PositionProvider` does), so the rules for which
whitespace a node owns stay libcst's; `tests/test_cst_fast.py` checks the ranges against
`PositionProvider` on every module of the corpus.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState

#: (start line, start column, end line, end column); lines 1-based, columns 0-based, like libcst
Range = tuple[int, int, int, int]

_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass
class _RangeRecorder(CodegenState):
    """A `CodegenState` that tracks line and column and records each node's range by id."""

    line: int = 1
    column: int = 0
    ranges: dict[int, Range] = field(default_factory=dict)
    starts: list[tuple[int, int]] = field(default_factory=list)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.column += len(token)  # indentation never holds a line break

    def add_token(self, value: str) -> None:
        self.tokens.append(value)  # Module's code generation looks at what was emitted
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.starts.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        line, column = self.starts.pop()
        # a syntactic position recorded inside the node's code generation wins, as in libcst
        self.ranges.setdefault(id(node), (line, column, self.line, self.column))

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None) -> "_SyntacticRange":
        return _SyntacticRange(self, node, start_node, end_node)


class _SyntacticRange:
    """`record_syntactic_position`'s context manager, as a class: libcst enters one for most
    nodes, and a generator-based `contextmanager` costs several times as much per use."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _RangeRecorder, node: cst.CSTNode, start_node: cst.CSTNode | None, end_node: cst.CSTNode | None) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(self, *exc_info: object) -> None:
        state = self.state
        start, end = self.start, (state.line, state.column)
        if self.start_node is not None:
            start = state.ranges[id(self.start_node)][:2]
        if self.end_node is not None:
            end = state.ranges[id(self.end_node)][2:]
        state.ranges[id(self.node)] = (*start, *end)


def node_ranges(module: cst.Module) -> dict[int, Range]:
    """`id(node) -> range` for every node of `module` (keep `module` alive while using it)."""
    state = _RangeRecorder(default_indent=module.default_indent, default_newline=module.default_newline)
    module._codegen(state)
    return state.ranges
