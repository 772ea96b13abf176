"""A read-only libcst traversal that is three to four times faster than `node.visit(visitor)`.

Why: `CSTNode.visit` is written for transformers. Even for a read-only `CSTVisitor` it rebuilds
every parent through `_visit_and_replace_children` (a dataclass construction per node), and
the audit walks each module several times (facts, bundle index, Hydra index, WandB model). On
a generated bundle that traversal, not the parse, was the larger part of the audit.

`Walker` keeps libcst's visitor contract so visitors read the same: `visit_<Node>` (return
False to skip the children), `leave_<Node>`, the per-field hooks `visit_<Node>_<field>` and
`leave_<Node>_<field>`, and overridable `on_visit`/`on_leave`. Children are visited in the
order libcst itself visits them (the order they appear in the source): that order is learned
once per node type from libcst's own `_visit_and_replace_children`, through the field hooks
it calls, so it cannot drift from the installed libcst. Nodes are never copied: what a visitor
sees is the parsed tree itself, so `id(node)` and position maps stay valid.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Callable

import libcst as cst

#: node type -> (fields libcst visited, in order; fields that held no node when that was learned)
_FIELD_ORDER: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


class _FieldOrderRecorder(cst.CSTVisitor):
    """Visits one node without descending further, writing down which fields libcst visits."""

    def __init__(self, target: cst.CSTNode) -> None:
        super().__init__()
        self.target = target
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return node is self.target

    def on_leave(self, original_node: cst.CSTNode) -> None:
        return None

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if node is self.target and attribute not in self.fields:
            self.fields.append(attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


def _holds_node(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_is_node_type(type(v)) for v in value)
    return _is_node_type(type(value))


def _empty(value: object) -> bool:
    """A field value that could have been a child node but is not (None, MaybeSentinel, [])."""
    return value is None or isinstance(value, cst.MaybeSentinel) or (isinstance(value, (list, tuple)) and not value)


def _learn(node: cst.CSTNode) -> tuple[tuple[str, ...], tuple[str, ...]]:
    recorder = _FieldOrderRecorder(node)
    node.visit(recorder)
    visited = tuple(recorder.fields)
    # libcst skips some empty fields entirely (FormattedStringExpression.format_spec when None):
    # note them, so an instance where they hold a node is learned from again
    unseen = tuple(f.name for f in fields(node) if f.name not in visited and _empty(getattr(node, f.name)))
    return visited, unseen


def field_order(node: cst.CSTNode) -> tuple[str, ...]:
    """The fields of `node` that hold children, in the order libcst visits them (source order)."""
    known = _FIELD_ORDER.get(type(node))
    if known is None:
        known = _FIELD_ORDER[type(node)] = _learn(node)
    order, unseen = known
    if unseen and any(_holds_node(getattr(node, name)) for name in unseen):
        known = _learn(node)
        if len(known[0]) > len(order):
            _FIELD_ORDER[type(node)] = known
        order = known[0]
    return order


_NodeHook = Callable[[cst.CSTNode], object]


class Walker:
    """Base class for read-only visitors; call `walk(tree)` instead of `tree.visit(self)`."""

    def __init__(self) -> None:
        # node type -> (visit hook, leave hook, {field: (visit hook, leave hook)} or None)
        self._hooks: dict[type, tuple[_NodeHook | None, _NodeHook | None, dict[str, tuple] | None]] = {}
        # the dispatch is inlined in `walk` unless a subclass overrides on_visit / on_leave
        self._own_on_visit = type(self).on_visit is not Walker.on_visit
        self._own_on_leave = type(self).on_leave is not Walker.on_leave

    def walk(self, node: cst.CSTNode) -> None:
        """Visit `node` and its descendants (pre-order; `leave` after the children)."""
        visit, leave, per_field = self._hooks.get(type(node)) or self._hooks_for(type(node))
        if self._own_on_visit:
            descend = self.on_visit(node) is not False
        else:
            descend = visit is None or visit(node) is not False
        if descend:
            for name in field_order(node):
                field_hooks = per_field.get(name) if per_field else None
                if field_hooks and field_hooks[0] is not None:
                    field_hooks[0](node)
                value = getattr(node, name, None)
                kind = type(value)
                if kind is list or kind is tuple:
                    for child in value:
                        if _is_node_type(type(child)):
                            self.walk(child)
                elif value is not None and _is_node_type(kind):
                    self.walk(value)
                if field_hooks and field_hooks[1] is not None:
                    field_hooks[1](node)
        if self._own_on_leave:
            self.on_leave(node)
        elif leave is not None:
            leave(node)

    def on_visit(self, node: cst.CSTNode) -> bool:
        """Dispatch to `visit_<Node>`; children are skipped only if it returns False."""
        visit = self._hooks_for(type(node))[0]
        return visit is None or visit(node) is not False

    def on_leave(self, original_node: cst.CSTNode) -> None:
        """Dispatch to `leave_<Node>` (called even when the children were skipped)."""
        leave = self._hooks_for(type(original_node))[1]
        if leave is not None:
            leave(original_node)

    def _hooks_for(self, node_type: type) -> tuple:
        hooks = self._hooks.get(node_type)
        if hooks is None:
            names = _method_names(type(self))
            name = node_type.__name__
            visit_prefix, leave_prefix = f"visit_{name}_", f"leave_{name}_"
            fields = {n[len(visit_prefix):] for n in names if n.startswith(visit_prefix)}
            fields |= {n[len(leave_prefix):] for n in names if n.startswith(leave_prefix)}
            per_field = {f: (getattr(self, visit_prefix + f, None), getattr(self, leave_prefix + f, None)) for f in fields}
            hooks = self._hooks[node_type] = (getattr(self, f"visit_{name}", None), getattr(self, f"leave_{name}", None), per_field or None)
        return hooks


#: type -> is it a libcst node class (CSTNode is an ABC, and isinstance on an ABC is slow)
_NODE_TYPES: dict[type, bool] = {}


def _is_node_type(kind: type) -> bool:
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = issubclass(kind, cst.CSTNode)
    return known


_METHOD_NAMES: dict[type, frozenset[str]] = {}


def _method_names(cls: type) -> frozenset[str]:
    """The `visit_*`/`leave_*` names a Walker subclass defines (looked up once per class)."""
    names = _METHOD_NAMES.get(cls)
    if names is None:
        names = _METHOD_NAMES[cls] = frozenset(n for n in dir(cls) if n.startswith(("visit_", "leave_")))
    return names
