"""Static validation of a generated bundle's ``pyproject.toml``.

What this module answers, without installing anything:

* Does the text parse as TOML (``tomllib``)?  Syntax errors carry the line and column.
* Is it valid PEP 621 / PEP 517-518 metadata?  The document is validated against the JSON
  Schemas that ship inside the ``validate_pyproject`` package (loaded with
  ``importlib.resources``, never copied here), with ``jsonschema``'s ``Draft7Validator`` and a
  ``FormatChecker`` whose formats (``pep508``, ``pep440``, ``pep508-identifier``, ...) are the
  functions of ``validate_pyproject.formats``.
* Does the project declare its dependencies where uv/pip look for them?  A missing
  ``[project]`` table (Poetry-only projects) or dependencies only under
  ``[tool.poetry.dependencies]`` means a PEP 621 installer installs none of them.
* Which dependency ranges are declared?  Taken from PEP 621 arrays and, best effort, from
  Poetry-style tables (``torch = "^2.0"``), with caret/tilde constraints converted to PEP 440.

Every problem is mapped back to a 1-based line of the TOML text by a small position scanner
(:class:`TomlLocator`), because ``tomllib`` reports no positions.

Which versions a declared range admits is `reviewer_audit.knowledge.versions`' business.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reviewer_audit.knowledge.versions import admits, admits_any_in, poetry_to_pep440, ranges_intersect  # noqa: F401 -- re-exported

__all__ = [
    "Dependency",
    "PyprojectProblem",
    "PyprojectReport",
    "TomlLocator",
    "check_pyproject",
]

# Problem kinds.
KIND_TOML_SYNTAX = "toml_syntax"
KIND_SCHEMA = "schema"
KIND_NO_PROJECT_TABLE = "no_project_table"
KIND_DEPS_OUTSIDE_PROJECT = "deps_outside_project"


# --------------------------------------------------------------------------------------
# Result types


@dataclass(frozen=True)
class PyprojectProblem:
    """One problem, anchored to a 1-based line of the pyproject text.

    ``path`` is the dotted location in the TOML document (``project.dependencies``,
    ``project.dependencies[2]``); ``""`` for the document itself.
    """

    path: str
    line: int
    message: str
    kind: str
    column: int | None = None


@dataclass(frozen=True)
class Dependency:
    """A declared dependency and its version range as a PEP 440 specifier string.

    ``specifier`` is ``""`` when unconstrained.  Poetry ``||`` alternatives are kept as
    ``"<spec> || <spec>"``, which :func:`admits` and friends understand.  ``source`` says
    where it was declared (``project.dependencies``, ``tool.poetry.dependencies``, ...);
    ``group`` is ``None`` for the main (always installed) dependencies.
    """

    name: str
    specifier: str
    line: int
    source: str
    raw: str
    extras: tuple[str, ...] = ()
    marker: str | None = None
    group: str | None = None
    note: str | None = None

    @property
    def canonical_name(self) -> str:
        return canonicalize_name(self.name)

    def admits(self, version: str) -> bool:
        return admits(self.specifier, version)

    def admits_any_in(self, lower: str | None, upper: str | None) -> bool:
        return admits_any_in(self.specifier, lower, upper)


# Preference when one package is declared in several places: PEP 621 first.
_SOURCE_RANK = {
    "project.dependencies": 0,
    "project.dependencies (Poetry-style table)": 1,
    "tool.poetry.dependencies": 2,
}


@dataclass
class PyprojectReport:
    data: dict | None
    problems: list[PyprojectProblem] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    headline: str | None = None
    """``jsonschema.exceptions.best_match`` of the schema errors, or the most important problem."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def problems_of(self, kind: str) -> list[PyprojectProblem]:
        return [p for p in self.problems if p.kind == kind]

    def dependency(self, name: str, *, main_only: bool = True) -> Dependency | None:
        """The declaration of ``name`` that an installer would most plausibly use."""
        wanted = canonicalize_name(name)
        found = [
            d
            for d in self.dependencies
            if d.canonical_name == wanted and (d.group is None or not main_only)
        ]
        if not found:
            return None
        found.sort(key=lambda d: (d.group is not None, _SOURCE_RANK.get(d.source, 9), d.line))
        return found[0]


# --------------------------------------------------------------------------------------
# Line locator


class TomlLocator:
    """Map a TOML document path to the 1-based line that defines it.

    A small scanner over text that ``tomllib`` has already accepted.  It records the line
    of every table header (``[a.b]``, ``[[a.b]]`` with its index), every key of a key/value
    pair (dotted keys included), every key of an inline table, and every array element.
    :meth:`line_of` falls back to the nearest recorded ancestor, then to line 1.  It never
    raises: whatever it could not scan simply stays unrecorded.
    """

    _BARE = re.compile(r"[A-Za-z0-9_-]+")
    _ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}

    def __init__(self, text: str) -> None:
        self._s = text
        self._i = 0
        self._line = 1
        self.positions: dict[tuple, int] = {}
        self._explicit: set[tuple] = set()
        self._aot: dict[tuple, int] = {}
        try:
            self._document()
        except Exception:  # noqa: BLE001 - best effort; keep what was recorded
            pass

    # -- public -------------------------------------------------------------------------
    def line_of(self, path: Iterable[str | int]) -> int:
        key = tuple(path)
        while key:
            if key in self.positions:
                return self.positions[key]
            key = key[:-1]
        return 1

    # -- scanning primitives --------------------------------------------------------------
    def _eof(self) -> bool:
        return self._i >= len(self._s)

    def _peek(self, n: int = 1) -> str:
        return self._s[self._i : self._i + n]

    def _advance(self, n: int = 1) -> None:
        chunk = self._s[self._i : self._i + n]
        self._line += chunk.count("\n")
        self._i += n

    def _skip_ws(self) -> None:
        while not self._eof() and self._s[self._i] in " \t":
            self._i += 1

    def _skip_comment(self) -> None:
        if self._peek() == "#":
            end = self._s.find("\n", self._i)
            self._i = len(self._s) if end < 0 else end

    def _skip_blank(self) -> None:
        """Whitespace, newlines and comments."""
        while not self._eof():
            c = self._s[self._i]
            if c in " \t\r":
                self._i += 1
            elif c == "\n":
                self._advance()
            elif c == "#":
                self._skip_comment()
            else:
                break

    def _expect(self, token: str) -> None:
        if self._peek(len(token)) != token:
            raise ValueError(f"expected {token!r} at line {self._line}")
        self._advance(len(token))

    # -- strings and keys ---------------------------------------------------------------
    def _basic_string(self) -> str:
        self._expect('"')
        out = []
        while True:
            c = self._s[self._i]
            if c == '"':
                self._i += 1
                return "".join(out)
            if c == "\\":
                nxt = self._s[self._i + 1]
                if nxt in self._ESCAPES:
                    out.append(self._ESCAPES[nxt])
                    self._i += 2
                elif nxt in "uUx":
                    width = {"u": 4, "U": 8, "x": 2}[nxt]
                    out.append(chr(int(self._s[self._i + 2 : self._i + 2 + width], 16)))
                    self._i += 2 + width
                else:
                    out.append(nxt)
                    self._i += 2
                continue
            if c == "\n":
                raise ValueError("newline in basic string")
            out.append(c)
            self._i += 1

    def _literal_string(self) -> str:
        self._expect("'")
        end = self._s.index("'", self._i)
        value = self._s[self._i : end]
        self._i = end + 1
        return value

    def _multiline(self, delim: str) -> None:
        self._advance(3)
        while True:
            if self._eof():
                raise ValueError("unterminated multi-line string")
            if delim == '"""' and self._peek() == "\\":
                self._advance(2)
                continue
            if self._peek(3) == delim:
                self._advance(3)
                extra = 0
                while extra < 2 and self._peek() == delim[0]:
                    self._advance()
                    extra += 1
                return
            self._advance()

    def _key(self) -> list[str]:
        parts = []
        while True:
            self._skip_ws()
            c = self._peek()
            if c == '"':
                parts.append(self._basic_string())
            elif c == "'":
                parts.append(self._literal_string())
            else:
                m = self._BARE.match(self._s, self._i)
                if not m:
                    raise ValueError(f"bad key at line {self._line}")
                parts.append(m.group())
                self._i = m.end()
            self._skip_ws()
            if self._peek() == ".":
                self._i += 1
                continue
            return parts

    # -- values -------------------------------------------------------------------------
    def _record(self, path: tuple, line: int, *, explicit: bool = False) -> None:
        if explicit:
            if path not in self._explicit:
                self.positions[path] = line
                self._explicit.add(path)
        else:
            self.positions.setdefault(path, line)

    def _value(self, path: tuple) -> None:
        c = self._peek()
        if self._peek(3) in ('"""', "'''"):
            self._multiline(self._peek(3))
        elif c == '"':
            self._basic_string()
        elif c == "'":
            self._literal_string()
        elif c == "[":
            self._array(path)
        elif c == "{":
            self._inline_table(path)
        else:
            m = re.compile(r"[^,\]}#\n]+").match(self._s, self._i)
            if not m:
                raise ValueError(f"bad value at line {self._line}")
            self._i = m.end()

    def _array(self, path: tuple) -> None:
        self._expect("[")
        index = 0
        while True:
            self._skip_blank()
            if self._peek() == "]":
                self._i += 1
                return
            self._record(path + (index,), self._line)
            self._value(path + (index,))
            self._skip_blank()
            if self._peek() == ",":
                self._i += 1
            index += 1

    def _inline_table(self, path: tuple) -> None:
        self._expect("{")
        while True:
            self._skip_blank()
            if self._peek() == "}":
                self._i += 1
                return
            line = self._line
            key = self._key()
            for k in range(1, len(key) + 1):
                self._record(path + tuple(key[:k]), line)
            self._skip_ws()
            self._expect("=")
            self._skip_ws()
            self._value(path + tuple(key))
            self._skip_blank()
            if self._peek() == ",":
                self._i += 1

    # -- document -----------------------------------------------------------------------
    def _resolve(self, key: list[str]) -> tuple:
        """Header key -> path, with the current index of every array-of-tables prefix."""
        path: tuple = ()
        for part in key:
            path = path + (part,)
            if path in self._aot:
                path = path + (self._aot[path],)
        return path

    def _document(self) -> None:
        current: tuple = ()
        while True:
            self._skip_blank()
            if self._eof():
                return
            line = self._line
            if self._peek(2) == "[[":
                self._advance(2)
                key = self._key()
                self._expect("]]")
                base = self._resolve(key[:-1]) + (key[-1],)
                self._aot[base] = self._aot.get(base, -1) + 1
                current = base + (self._aot[base],)
                for k in range(1, len(base) + 1):
                    self._record(base[:k], line)
                self._record(current, line, explicit=True)
            elif self._peek() == "[":
                self._advance()
                key = self._key()
                self._expect("]")
                current = self._resolve(key)
                for k in range(1, len(current)):
                    self._record(current[:k], line)
                self._record(current, line, explicit=True)
            else:
                key = self._key()
                for k in range(1, len(key) + 1):
                    self._record(current + tuple(key[:k]), line)
                self._skip_ws()
                self._expect("=")
                self._skip_ws()
                self._value(current + tuple(key))
            self._skip_ws()
            self._skip_comment()


# --------------------------------------------------------------------------------------
# Schemas and format checker (from the validate_pyproject package)


def _load_json(package: str, name: str) -> dict:
    return json.loads(resources.files(package).joinpath(name).read_text(encoding="utf-8"))


_FORMAT_DESCRIPTIONS = {
    "pep508": 'a PEP 508 requirement string (e.g. "torch>=2.0,<3")',
    "pep508-versionspec": "a PEP 508 version specifier",
    "pep508-identifier": "a valid PEP 508 project name",
    "pep440": "a PEP 440 version",
    "pep517-backend-reference": 'a PEP 517 build-backend reference ("module:object")',
    "trove-classifier": "a known trove classifier",
    "SPDX": "an SPDX license expression",
    "url": "a URL",
    "idn-email": "an e-mail address",
}


def _format_checker() -> FormatChecker:
    from validate_pyproject import formats

    checker = FormatChecker()
    for attr, fn in vars(formats).items():
        if attr.startswith("_") or not callable(fn) or inspect.isclass(fn):
            continue
        if getattr(fn, "__module__", None) != formats.__name__:
            continue
        name = getattr(fn, "__name__", attr).replace("_", "-")
        if name == "trove-classifier" and not inspect.isfunction(fn):
            # Without the ``trove_classifiers`` package validate_pyproject would download the
            # list from PyPI; never go to the network from an audit: accept instead.
            fn = _accept
        checker.checks(name)(_wrap_format(fn, numeric=bool(re.fullmatch(r"u?int\d*", attr))))
    return checker


def _accept(value: Any) -> bool:  # noqa: ARG001
    return True


def _wrap_format(fn, *, numeric: bool):
    def check(instance: Any) -> bool:
        if numeric:
            if not isinstance(instance, int) or isinstance(instance, bool):
                return True
        elif not isinstance(instance, str):
            return True  # the "type" keyword reports that
        try:
            return bool(fn(instance))
        except Exception:  # noqa: BLE001 - a checker that crashes rejects the value
            return False

    return check


@functools.lru_cache(maxsize=1)
def _validator() -> Draft7Validator:
    from referencing import Registry, Resource

    pkg = "validate_pyproject"
    top = _load_json(pkg, "pyproject_toml.schema.json")
    project = _load_json(pkg, "project_metadata.schema.json")
    schemas = [top, project]
    tool_props = {}
    for plugin in ("setuptools", "distutils"):
        try:
            plugin_schema = _load_json(f"{pkg}.plugins", f"{plugin}.schema.json")
        except (FileNotFoundError, ModuleNotFoundError):  # pragma: no cover - older packages
            continue
        schemas.append(plugin_schema)
        tool_props[plugin] = {"$ref": plugin_schema["$id"]}
    if tool_props:
        top = dict(top)
        props = dict(top["properties"])
        props["tool"] = {**props["tool"], "properties": tool_props}
        top["properties"] = props
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas
    )
    Draft7Validator.check_schema(top)
    return Draft7Validator(top, registry=registry, format_checker=_format_checker())


# --------------------------------------------------------------------------------------
# Error formatting


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part)
            out += f".{text}" if out else text
    return out


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    return f"a {type(value).__name__}"


_JSON_TO_TOML = {"object": "a table", "array": "an array", "string": "a string",
                 "integer": "an integer", "number": "a number", "boolean": "a boolean"}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _extra_keys(error: ValidationError) -> list[str]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    patterns = error.schema.get("patternProperties", {}) if isinstance(error.schema, dict) else {}
    return [k for k in instance if k not in props and not any(re.search(p, k) for p in patterns)]


def _describe(error: ValidationError) -> tuple[tuple, str]:
    """(path to anchor the problem at, one-line message) for a jsonschema error."""
    path = tuple(error.absolute_path)
    where = f"`{_dotted(path)}`" if path else "the document"
    v = error.validator
    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        # The failing value is a key of the table at ``path``, not a value inside it.
        return path + (error.instance,), f"{where} has an invalid key {error.instance!r}"
    if v == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        want = " or ".join(_JSON_TO_TOML.get(n, n) for n in names)
        msg = f"{where} must be {want}, but it is {_toml_type(error.instance)}"
        if path in (("project", "dependencies"),) and isinstance(error.instance, dict):
            msg += (
                ' (Poetry-style table such as `torch = "^2.0"`; PEP 621 requires an array of '
                'PEP 508 strings such as "torch>=2.0,<3". uv and pip reject the whole file: '
                '"invalid type: map, expected a sequence")'
            )
        elif len(path) >= 2 and path[:2] == ("project", "optional-dependencies") and isinstance(
            error.instance, dict
        ):
            msg += " (PEP 621 wants a table of arrays of PEP 508 strings)"
        return path, msg
    if v == "format":
        desc = _FORMAT_DESCRIPTIONS.get(error.validator_value, f"in format {error.validator_value!r}")
        msg = f"{where} = {_short(error.instance)} is not {desc}"
        if isinstance(error.instance, str) and re.search(r"\^|~(?!=)", error.instance):
            msg += " (caret/tilde constraints are Poetry syntax, not PEP 440)"
        return path, msg
    if v == "additionalProperties":
        extras = _extra_keys(error)
        if extras:
            keys = ", ".join(repr(k) for k in extras)
            return path + (extras[0],), f"{where} has unexpected key(s) {keys}"
    if v == "required":
        return path, f"{where}: {error.message}"
    return path, f"{where}: {_short(error.message, 200)}"


def _leaf(error: ValidationError) -> ValidationError:
    """The most specific sub-error of a oneOf/anyOf failure, else the error itself."""
    return best_match([error]) if error.context else error


# --------------------------------------------------------------------------------------
# Dependencies


def _pep621_dependencies(
    items: Any, base: tuple, source: str, group: str | None, locator: TomlLocator
) -> list[Dependency]:
    out: list[Dependency] = []
    if not isinstance(items, list):
        return out
    for index, item in enumerate(items):
        if not isinstance(item, str):
            continue
        try:
            req = Requirement(item)
        except InvalidRequirement:
            continue  # reported by the schema's pep508 format
        out.append(
            Dependency(
                name=req.name,
                specifier=str(req.specifier),
                line=locator.line_of(base + (index,)),
                source=source,
                raw=item,
                extras=tuple(sorted(req.extras)),
                marker=str(req.marker) if req.marker else None,
                group=group,
                note="direct URL reference" if req.url else None,
            )
        )
    return out


def _poetry_dependencies(
    table: Any, base: tuple, source: str, group: str | None, locator: TomlLocator
) -> list[Dependency]:
    out: list[Dependency] = []
    if not isinstance(table, dict):
        return out
    for name, value in table.items():
        if not isinstance(name, str) or name.lower() == "python":
            continue
        line = locator.line_of(base + (name,))
        constraints: list[str] = []
        extras: tuple[str, ...] = ()
        marker: str | None = None
        notes: list[str] = []
        dep_group = group
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            if isinstance(entry, str):
                constraints.append(entry)
            elif isinstance(entry, dict):
                if any(k in entry for k in ("git", "path", "url", "file")):
                    notes.append("non-registry source (git/path/url)")
                if "version" in entry:
                    constraints.append(str(entry["version"]))
                elif not any(k in entry for k in ("git", "path", "url", "file")):
                    constraints.append("*")
                if isinstance(entry.get("extras"), list):
                    extras = tuple(sorted(str(e) for e in entry["extras"]))
                if isinstance(entry.get("markers"), str):
                    marker = entry["markers"]
                if entry.get("optional") is True and dep_group is None:
                    dep_group = "optional"
            else:
                notes.append(f"unreadable value {_short(entry)}")
        if len(entries) > 1:
            notes.append("multiple constraints (merged as alternatives)")
        specs = []
        for c in constraints:
            try:
                specs.append(poetry_to_pep440(c))
            except ValueError as exc:
                notes.append(str(exc))
        if not specs or "" in specs:
            specifier = ""
        else:
            specifier = " || ".join(dict.fromkeys(specs))
        raw = value if isinstance(value, str) else json.dumps(value, default=str)
        out.append(
            Dependency(
                name=name,
                specifier=specifier,
                line=line,
                source=source,
                raw=raw,
                extras=extras,
                marker=marker,
                group=dep_group,
                note="; ".join(notes) or None,
            )
        )
    return out


def _collect_dependencies(data: dict, locator: TomlLocator) -> list[Dependency]:
    deps: list[Dependency] = []
    project = data.get("project")
    if isinstance(project, dict):
        declared = project.get("dependencies")
        if isinstance(declared, list):
            deps += _pep621_dependencies(
                declared, ("project", "dependencies"), "project.dependencies", None, locator
            )
        elif isinstance(declared, dict):
            deps += _poetry_dependencies(
                declared,
                ("project", "dependencies"),
                "project.dependencies (Poetry-style table)",
                None,
                locator,
            )
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for group, items in optional.items():
                deps += _pep621_dependencies(
                    items,
                    ("project", "optional-dependencies", group),
                    f"project.optional-dependencies.{group}",
                    str(group),
                    locator,
                )
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for group, items in groups.items():
            deps += _pep621_dependencies(
                items, ("dependency-groups", group), f"dependency-groups.{group}", str(group), locator
            )
    poetry = _poetry_table(data)
    if poetry is not None:
        deps += _poetry_dependencies(
            poetry.get("dependencies"),
            ("tool", "poetry", "dependencies"),
            "tool.poetry.dependencies",
            None,
            locator,
        )
        deps += _poetry_dependencies(
            poetry.get("dev-dependencies"),
            ("tool", "poetry", "dev-dependencies"),
            "tool.poetry.dev-dependencies",
            "dev",
            locator,
        )
        poetry_groups = poetry.get("group")
        if isinstance(poetry_groups, dict):
            for group, body in poetry_groups.items():
                if isinstance(body, dict):
                    deps += _poetry_dependencies(
                        body.get("dependencies"),
                        ("tool", "poetry", "group", group, "dependencies"),
                        f"tool.poetry.group.{group}.dependencies",
                        str(group),
                        locator,
                    )
    return deps


def _poetry_table(data: Mapping) -> dict | None:
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    return poetry if isinstance(poetry, dict) else None


def _poetry_main_deps(data: Mapping) -> list[str]:
    poetry = _poetry_table(data)
    deps = poetry.get("dependencies") if poetry else None
    if not isinstance(deps, dict):
        return []
    return [k for k in deps if isinstance(k, str) and k.lower() != "python"]


def _uses_poetry_backend(data: Mapping) -> bool:
    build = data.get("build-system")
    backend = build.get("build-backend") if isinstance(build, dict) else None
    return isinstance(backend, str) and backend.startswith("poetry")


# --------------------------------------------------------------------------------------
# Entry point


def _count(items: Sequence, singular: str, plural: str) -> str:
    return f"{len(items)} {singular if len(items) == 1 else plural}"


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")

KIND_LIMIT = "limit"
#: Largest pyproject.toml read (bytes); real ones are under 3 KB.
MAX_TOML_BYTES = 64 * 1024
#: Most parts in one dotted key (`a.b.c = 1`: 3) and deepest array / inline-table nesting.
#: tomllib spends O(parts^2) time and memory on a dotted key (10,000 parts: 3 s, 400 MB;
#: 100,000: killed) and recurses per nesting level; the validator and locator walk it again.
MAX_TOML_NESTING = 32
# Possessive repeats and a start only where no key character precedes keep the search linear
# (a greedy segment retried at every position of a 50 KB string took 31 s).
_TOML_SEGMENT = r"""(?:[A-Za-z0-9_-]++|"[^"\n]*+"|'[^'\n]*+')"""
_TOML_LONG_KEY = re.compile(rf"""(?<![A-Za-z0-9_"'-]){_TOML_SEGMENT}(?:[ \t]*+\.[ \t]*+{_TOML_SEGMENT}){{{MAX_TOML_NESTING}}}""")


def _toml_limit_problem(text: str) -> str | None:
    """Why `text` is too costly to hand to tomllib (size, dotted-key length, nesting), or None."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_TOML_BYTES:
        return f"pyproject.toml is {size} bytes, over the {MAX_TOML_BYTES}-byte limit"
    if _TOML_LONG_KEY.search(text):
        return f"a dotted key or value has more than {MAX_TOML_NESTING} parts"
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch in "\"'":
            delim = ch * 3 if text.startswith(ch * 3, i) else ch
            j = i + len(delim)
            while j < n and not text.startswith(delim, j):
                if ch == '"' and text[j] == "\\":
                    j += 1
                elif len(delim) == 1 and text[j] == "\n":
                    break  # unterminated single-line string: tomllib reports it
                j += 1
            i = j + len(delim)
            continue
        if ch in "[{":
            depth += 1
            if depth > MAX_TOML_NESTING:
                return f"arrays or inline tables nested more than {MAX_TOML_NESTING} levels deep"
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    return None


def check_pyproject(text: str) -> PyprojectReport:
    """Validate a bundle's pyproject.toml text.  Never raises for any input string."""
    problem = _toml_limit_problem(text)
    if problem is not None:
        message = f"pyproject.toml not analysed: {problem}"
        return PyprojectReport(data=None, problems=[PyprojectProblem("", 1, message, KIND_LIMIT)], headline=message)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        column = getattr(exc, "colno", None)
        if line is None:
            m = _TOML_POSITION.search(str(exc))
            if m:
                line, column = int(m.group(1)), int(m.group(2))
            else:  # "(at end of document)"
                line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
        message = f"TOML syntax error: {exc}"
        problem = PyprojectProblem("", line, message, KIND_TOML_SYNTAX, column)
        return PyprojectReport(data=None, problems=[problem], headline=message)
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. an integer of 5000 digits
        message = f"TOML value not readable: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return PyprojectReport(data=None, problems=[PyprojectProblem("", 1, message, KIND_TOML_SYNTAX)], headline=message)

    locator = TomlLocator(text)
    problems: list[PyprojectProblem] = []
    seen: set[tuple[str, str]] = set()

    def add(path: tuple, message: str, kind: str, *, anchor: tuple | None = None) -> None:
        key = (_dotted(path), message)
        if key not in seen:
            seen.add(key)
            line = locator.line_of(path if anchor is None else anchor)
            problems.append(PyprojectProblem(_dotted(path), line, message, kind))

    # 1. Where do the dependencies live?
    project = data.get("project")
    if not isinstance(project, dict):
        poetry_deps = _poetry_main_deps(data)
        if not text.strip():
            message = "pyproject.toml is empty: no [project] table, so no dependencies are declared"
            anchor: tuple = ()
        elif _poetry_table(data) is not None:
            anchor = ("tool", "poetry", "dependencies") if poetry_deps else ("tool", "poetry")
            message = (
                "no [project] table: the project is declared only under [tool.poetry]"
                f" ({_count(poetry_deps, 'dependency', 'dependencies')} in Poetry syntax);"
                " PEP 621 tools such as uv read none of it, so `uv run` installs no dependencies"
            )
            if _uses_poetry_backend(data):
                message += " (pip can still build it through the poetry-core backend)"
        else:
            anchor = ()
            message = (
                "no [project] table: no PEP 621 metadata and no dependencies for uv/pip to install"
            )
        if project is None:
            # The problem is the missing table; the line is where the dependencies really are.
            add(("project",), message, KIND_NO_PROJECT_TABLE, anchor=anchor)
    else:
        dynamic = project.get("dynamic")
        dynamic_deps = isinstance(dynamic, list) and "dependencies" in dynamic
        poetry_deps = _poetry_main_deps(data)
        if "dependencies" not in project and not dynamic_deps and poetry_deps:
            add(
                ("tool", "poetry", "dependencies"),
                "[project] declares no `dependencies`; the "
                f"{_count(poetry_deps, 'package', 'packages')} under [tool.poetry.dependencies]"
                " are ignored by PEP 621 tools such as uv, so `uv run` installs none of them",
                KIND_DEPS_OUTSIDE_PROJECT,
            )

    # 2. JSON Schema validation (PEP 517/518/621/735 + setuptools/distutils tool tables).
    validator = _validator()
    errors = list(validator.iter_errors(data))
    headline = None
    if errors:
        top = best_match(errors)
        headline = _describe(_leaf(top))[1]
    for error in sorted(errors, key=lambda e: tuple(map(str, e.absolute_path))):
        path, message = _describe(_leaf(error))
        add(path, message, KIND_SCHEMA)

    # 3. PEP 621 rules the schema cannot express (only on schema-valid data, whose types
    # those checks assume).
    if not errors:
        from validate_pyproject.extra_validations import EXTRA_VALIDATIONS

        for check in EXTRA_VALIDATIONS:
            try:
                check(data)
            except Exception as exc:  # noqa: BLE001 - each raises its own ValidationError type
                name = getattr(exc, "name", "") or ""
                path = tuple(p for p in name.removeprefix("data.").split(".") if p and p != "data")
                add(path, f"{str(exc).splitlines()[0]}", KIND_SCHEMA)

    problems.sort(key=lambda p: (p.line, p.kind != KIND_NO_PROJECT_TABLE, p.path))
    missing = [p for p in problems if p.kind == KIND_NO_PROJECT_TABLE]
    if missing:  # nothing gets installed at all: that outranks any schema detail
        headline = missing[0].message
    elif headline is None and problems:
        headline = problems[0].message
    return PyprojectReport(
        data=data,
        problems=problems,
        dependencies=_collect_dependencies(data, locator),
        headline=headline,
    )
