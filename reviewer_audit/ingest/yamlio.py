"""YAML with line numbers, loaded safely.

ruamel.yaml's round-trip loader keeps the line of every key (findings point at `config.yaml:17`)
and never constructs Python objects from tags (`!!python/object/apply` stays inert data). Alias
bombs are defused when converting to plain data: the walk counts nodes and stops at a limit.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from reviewer_audit.ingest.limits import MAX_NESTING, MAX_YAML_BYTES, MAX_YAML_FLOW_DEPTH, MAX_YAML_NODES


class YamlError(ValueError):
    """The text is not YAML we can use; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message if line is None else f"line {line}: {message}")


@dataclass
class YamlDoc:
    """A parsed YAML document: plain data plus a key -> line index."""

    data: Any
    #: dotted key path ("model.lora.rank") -> 1-based line of the key.
    lines: dict[str, int] = field(default_factory=dict)
    #: `# @package ...` header when the document starts with one (Hydra semantics).
    package: str | None = None

    def line_of(self, dotted: str, default: int = 1) -> int:
        """Line of the deepest known prefix of `dotted`, so a missing leaf still points near."""
        parts = dotted.split(".")
        while parts:
            key = ".".join(parts)
            if key in self.lines:
                return self.lines[key]
            parts.pop()
        return default

    def leaves(self) -> list[tuple[tuple[str, ...], Any]]:
        """(key path, value) of every leaf of the document's mappings."""
        return leaf_items(self.data)


def leaf_items(data: Any, prefix: tuple[str, ...] = (), *, lists: bool = False, depth: int | None = None) -> list[tuple[tuple[str, ...], Any]]:
    """(key path, value) of every leaf below the mappings of `data` (an empty mapping has none;
    a bare scalar at the top is no keyed setting). With `lists`, the items of lists too, keyed by
    their index (`experiments.0.model.name`); `depth` bounds the key paths' length."""
    if depth is not None and len(prefix) > depth:
        return []
    if isinstance(data, dict) or (lists and isinstance(data, list)):
        items = data.items() if isinstance(data, dict) else enumerate(data)
        return [kv for k, v in items for kv in leaf_items(v, prefix + (str(k),), lists=lists, depth=depth)]
    return [(prefix, data)] if prefix else []


def _yaml():
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    return y


def package_header(text: str) -> str | None:
    """Hydra's `# @package <pkg>` header: only comment lines at the very top count."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            return None
        body = line.lstrip("#").strip()
        if body.startswith("@package"):
            return body[len("@package"):].strip() or None
    return None


def yaml_limit_problem(text: str) -> str | None:
    """Why `text` is too costly to parse as YAML (size, flow nesting), or None.

    Checked before any YAML parser sees the text: ruamel.yaml and PyYAML scan flow collections
    in O(depth) per token (1000 nested `[` in 2 KB take seconds), so the nesting is measured
    here with a plain scan that skips comments and quoted scalars.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_YAML_BYTES:
        return f"YAML document is {size} bytes, over the {MAX_YAML_BYTES}-byte limit"
    if "[" not in text and "{" not in text:
        return None
    depth = deepest = 0
    quote: str | None = None
    prev = "\n"
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote is not None:
            if ch == "\\" and quote == '"':
                i += 1  # skip the escaped character
            elif ch == quote:
                if quote == "'" and i + 1 < n and text[i + 1] == "'":
                    i += 1  # '' inside a single-quoted scalar
                else:
                    quote = None
        elif ch == "#" and prev in " \t\n":
            end = text.find("\n", i)
            i = n if end < 0 else end
            prev = "\n"
            continue
        elif ch in "'\"" and prev in " \t\n[{,:-":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_YAML_FLOW_DEPTH:
                    return f"YAML flow collections nested more than {MAX_YAML_FLOW_DEPTH} levels deep"
        elif ch in "]}":
            depth = max(0, depth - 1)
        prev = ch
        i += 1
    return None


def load_yaml(text: str) -> YamlDoc:
    """Parse YAML text into plain data with a line index. Raises `YamlError` on any problem."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    problem = yaml_limit_problem(text)
    if problem is not None:
        raise YamlError(f"not analysed: {problem}")
    try:
        with warnings.catch_warnings():
            # ruamel warns (ReusedAnchorWarning, ...) about the audited text on stderr, or raises
            # the warning under -W error; either way it is not ours to show.
            warnings.simplefilter("ignore")
            raw = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(problem, mark.line + 1 if mark is not None else None) from None
    except (YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise YamlError(f"invalid YAML ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    doc = YamlDoc(data=None, package=package_header(text))
    budget = [MAX_YAML_NODES]
    doc.data = _plain(raw, "", doc.lines, budget, 0)
    return doc


def _plain(node: Any, prefix: str, lines: dict[str, int], budget: list[int], depth: int) -> Any:
    """Convert ruamel containers to dict/list, recording key lines; bounded in size and depth."""
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlError(f"document has more than {MAX_YAML_NODES} nodes once its aliases are expanded")
    if depth > MAX_NESTING:
        raise YamlError(f"nesting deeper than {MAX_NESTING} levels")
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap) or isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            skey = str(key)
            dotted = f"{prefix}.{skey}" if prefix else skey
            lc = getattr(node, "lc", None)
            if lc is not None:
                try:
                    line, _col = lc.key(key)
                    lines.setdefault(dotted, line + 1)
                except (KeyError, TypeError, AttributeError):
                    pass
            out[skey] = _plain(value, dotted, lines, budget, depth + 1)
        return out
    if isinstance(node, CommentedSeq) or isinstance(node, list):
        return [_plain(v, f"{prefix}.{i}", lines, budget, depth + 1) for i, v in enumerate(node)]
    if hasattr(node, "tag") and hasattr(node, "value"):  # TaggedScalar: keep the text, drop the tag
        return str(node.value)
    if isinstance(node, (str, int, float, bool)) or node is None:
        # ruamel scalar subclasses (ScalarFloat, ...) -> builtin types
        for t in (bool, int, float, str):
            if isinstance(node, t):
                return t(node)
        return node
    return str(node)
