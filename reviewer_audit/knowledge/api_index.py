"""What the libraries' public APIs provide, release by release: the loader and the questions
rules ask of `data/api_index.sqlite` (built by scripts/build_api_index.py).

Everything is answered over a **set of indexed versions** at once, as a bit mask (bit *i* = the
library's *i*-th minor version in the manifest), because rules judge against every release a
bundle's dependency range admits:

* :meth:`LibraryApi.resolve` walks a dotted name (`omegaconf.OmegaConf.deepcopy`) through
  modules, their namespaces and class members (bases included) and says, per version, whether
  it is found (and as what), missing (and where the walk stopped), or unknown -- an open
  namespace, a value whose attributes are not indexed, a base class from another library.
  Unknown is never reported as missing.
* :meth:`LibraryApi.call_problems` binds a call's positional count and keyword names to the
  indexed signatures of what a name resolves to.
* :meth:`LibraryApi.registry` returns the registries declared in code (timm's model names,
  transformers' architectures).

Loading is lazy: the manifest (a small JSON file) on first use, then one SQLite row per
module an audit asks about, each decoded once and cached for the process.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from packaging.version import InvalidVersion, Version

from reviewer_audit.knowledge.api_store import IndexFile

DATA_PACKAGE = "reviewer_audit.data"
_SEPARATORS = re.compile(r"[-_.]+")
INDEX_FILE = "api_index.sqlite"
MANIFEST_FILE = "api_manifest.json"
#: The standard library's pseudo-distribution in the index (versions are Python minors).
PYTHON = "python"

TRANSPARENT_BASES = frozenset({
    "b:object", "x:abc.ABC", "x:typing.Generic", "x:typing.Protocol", "x:typing_extensions.Protocol",
    "x:typing_extensions.Generic", "b:Generic", "b:ABC",
})


@dataclass(frozen=True)
class IndexedVersion:
    minor: str  # "4.46"
    version: str  # the release that stands for the minor: "4.46.3"
    date: dt.date
    bit: int


@dataclass
class Resolution:
    """Where a dotted name leads, per version (masks are over the library's versions)."""

    found: list[tuple[str, int]] = field(default_factory=list)  # (target, mask)
    missing: list[tuple[str, str, int]] = field(default_factory=list)  # (container, name, mask)
    unknown: int = 0

    @property
    def found_mask(self) -> int:
        m = 0
        for _, mask in self.found:
            m |= mask
        return m

    @property
    def missing_mask(self) -> int:
        m = 0
        for *_, mask in self.missing:
            m |= mask
        return m


def _alts(value: object, whole: int) -> list[tuple[str, int]]:
    """A stored value (bare = holds wherever its container exists) -> [(value, mask)]."""
    if value is None:
        return []
    if isinstance(value, str):
        return [(value, whole)]
    return [(v, m & whole) for v, m in value if m & whole]


def parse_signature(text: str) -> list[str]:
    return [p for p in text.split(",") if p] if text else []


def bind_problems(sig: str, n_positional: int, keywords: Iterable[str]) -> list[str]:
    """Why a call with `n_positional` arguments and these keyword names cannot bind to the
    signature text (`a,b=,/,c,*args,d=,**kw`); [] when it can. Missing required arguments are
    not judged (defaults and `functools.partial` make them a guess)."""
    params = parse_signature(sig)
    positional: list[str] = []
    posonly: set[str] = set()
    names: set[str] = set()
    star = starstar = False
    seen_star = False
    for p in params:
        if p == "/":
            posonly.update(x.rstrip("=") for x in positional)
            continue
        if p.startswith("**"):
            starstar = True
            continue
        if p.startswith("*"):
            seen_star = True
            star = star or p != "*"
            continue
        name = p.rstrip("=")
        if not seen_star:
            positional.append(name)
        names.add(name)
    problems = []
    if not star and n_positional > len(positional):
        problems.append(f"takes {len(positional)} positional argument{'s' if len(positional) != 1 else ''} but {n_positional} {'were' if n_positional != 1 else 'was'} given")
    if not starstar:
        bad = [k for k in keywords if k not in names or k in posonly]
        if bad:
            problems.append("unexpected keyword argument" + ("s " if len(bad) > 1 else " ") + ", ".join(f"`{k}`" for k in bad))
    return problems


class LibraryApi:
    """The index of one library (or of the standard library, PYTHON)."""

    def __init__(self, name: str, entry: dict, index: "ApiIndex") -> None:
        self.name = name
        self.source = entry.get("source", "")
        rows = [(v["minor"], v["version"], v["date"]) if isinstance(v, dict) else tuple(v) for v in entry.get("versions", [])]
        self.versions = [IndexedVersion(minor, version, dt.date.fromisoformat(day), 1 << i)
                         for i, (minor, version, day) in enumerate(rows)]
        self.modules = tuple(entry.get("modules", ()))
        self.all_mask = (1 << len(self.versions)) - 1
        self._index = index
        self._records: dict[str, dict | None] = {}
        self._resolved: dict[tuple, Resolution] = {}
        self._version_of: dict[str, IndexedVersion | None] = {}
        self._by_minor = {v.minor: v for v in self.versions}

    # ---- versions
    def mask_of_releases(self, releases: Iterable[str]) -> tuple[int, bool]:
        """Mask of the indexed minors these release versions belong to, and whether some
        release falls outside the index (an older minor)."""
        mask = 0
        outside = False
        for r in releases:
            v = self.version_of(r)
            if v is None:
                outside = True
            else:
                mask |= v.bit
        return mask, outside

    def version_of(self, release: str) -> IndexedVersion | None:
        cached = self._version_of.get(release, False)
        if cached is not False:
            return cached
        found = self._version_of[release] = self._find_version(release)
        return found

    def _find_version(self, release: str) -> IndexedVersion | None:
        if self.name == PYTHON:
            return self._by_minor.get(".".join(release.split(".")[:2]))
        try:
            rel = Version(release).release
        except InvalidVersion:
            return None
        return self._by_minor.get(f"{rel[0]}.{rel[1] if len(rel) > 1 else 0}")

    def describe(self, mask: int) -> str:
        """`4.46.x–4.57.x, 5.2.x` for a mask (runs of consecutive indexed versions)."""
        runs: list[list[IndexedVersion]] = []
        for v in self.versions:
            if v.bit & mask:
                if runs and runs[-1][-1].bit << 1 == v.bit:
                    runs[-1].append(v)
                else:
                    runs.append([v])
        label = (lambda v: v.minor) if self.name == PYTHON else (lambda v: f"{v.minor}.x")
        return ", ".join(label(r[0]) if len(r) == 1 else f"{label(r[0])}–{label(r[-1])}" for r in runs)

    def newest(self, mask: int) -> IndexedVersion | None:
        return next((v for v in reversed(self.versions) if v.bit & mask), None)

    def oldest(self, mask: int) -> IndexedVersion | None:
        return next((v for v in self.versions if v.bit & mask), None)

    # ---- records
    def record(self, module: str) -> dict | None:
        if module not in self._records:
            self._records[module] = self._index.file.record(self.name, module)
        return self._records[module]

    def timm_registry(self) -> dict:
        """{timm_in, timm_models: {name: mask}, timm_deprecated: {name: mask}}."""
        return self.record("@timm") or {}

    def architectures(self) -> dict:
        """{model_type: {in, checkpoints: {id: mask}, wraps_auto}} (transformers)."""
        return (self.record("@archs") or {}).get("archs", {})

    def architecture_modules(self, model_type: str) -> dict:
        """{submodule name: callee names (alternatives per version)} of one architecture."""
        return (self.record(f"@arch:{model_type}") or {}).get("modules", {})

    def _names(self, rec: dict, module: str, name: str) -> object:
        if "shards" in rec:
            shard = self.record(f"{module}#{name[:1].lower() if name[:1].isalpha() else '_'}")
            return ((shard or {}).get("names") or {}).get(name)
        return (rec.get("names") or {}).get(name)

    def _class(self, target: str) -> dict | None:
        mod, qual = target[2:].split(":", 1)
        rec = self.record(mod)
        return (rec or {}).get("classes", {}).get(qual)

    # ---- resolution
    def resolve(self, dotted: str, mask: int | None = None, module: str | None = None) -> Resolution:
        """Where `dotted` leads. `module` is the prefix that an import statement names as a
        module path (`from a.b import c` imports module `a.b`, whatever the attribute `a.b` is);
        by default the top-level package; the rest is attribute access."""
        parts = dotted.split(".")
        mask = self.all_mask if mask is None else mask
        module = module or parts[0]
        key = (dotted, mask, module)
        cached = self._resolved.get(key)
        if cached is not None:
            return cached
        res = self._resolved[key] = self._resolve(parts, mask, module)
        return res

    def _resolve(self, parts: list[str], mask: int, module: str) -> Resolution:
        start = module.count(".") + 1
        res = self.module_exists(module, mask)
        if not res.found:
            return res
        states = list(res.found)
        res.found = []
        for i, part in enumerate(parts[start:], start=start):
            container = ".".join(parts[:i])
            nxt: list[tuple[str, int]] = []
            for target, m in states:
                if not m:
                    continue
                for t2, m2 in self._step(target, part, m, res, container):
                    if m2:
                        nxt.append((t2, m2))
            states = nxt
        res.found = [(t, m) for t, m in states if m]
        return res

    def module_exists(self, dotted: str, mask: int | None = None) -> Resolution:
        """`import a.b.c`: is each prefix a module (in the versions of `mask`)? Unknown where a
        parent is open (a compiled or dynamically created submodule)."""
        mask = self.all_mask if mask is None else mask
        res = Resolution()
        parts = dotted.split(".")
        remaining = mask
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            rec = self.record(name)
            have = rec["in"] & remaining if rec else 0
            lacking = remaining & ~have
            if lacking:
                parent = self.record(".".join(parts[: i - 1])) if i > 1 else None
                opened = lacking & (parent.get("open", 0) if parent else 0)
                if i == 1:
                    res.missing.append((name, name, lacking))  # the library has it in other versions
                else:
                    res.unknown |= opened
                    if lacking & ~opened:
                        res.missing.append((".".join(parts[: i - 1]), parts[i - 1], lacking & ~opened))
            remaining = have
            if not remaining:
                return res
        res.found.append(("m:" + dotted, remaining))
        return res

    def _step(self, target: str, part: str, mask: int, res: Resolution, container: str) -> list[tuple[str, int]]:
        if target.startswith("m:"):
            return self._module_step(target[2:], part, mask, res, container)
        if target.startswith("c:"):
            found, missing, unknown = self._member(target, part, mask, set())
            if missing:
                res.missing.append((container, part, missing))
            res.unknown |= unknown
            return found
        res.unknown |= mask  # a function, a value, another library: not indexed further
        return []

    def _module_step(self, module: str, part: str, mask: int, res: Resolution, container: str) -> list[tuple[str, int]]:
        """`module.part`: what the module binds under that name (a `from .tqdm import tqdm`
        shadows the submodule), else the submodule (importing it binds it)."""
        out: list[tuple[str, int]] = []
        remaining = mask
        rec = self.record(module)
        if rec is not None:
            for t, m in _alts(self._names(rec, module, part), rec["in"]):
                m &= remaining
                if m:
                    out.append((t, m))
                    remaining &= ~m
        if remaining:
            sub = self.record(f"{module}.{part}")
            if sub is not None and sub["in"] & remaining:
                out.append((f"m:{module}.{part}", sub["in"] & remaining))
                remaining &= ~sub["in"]
        if not remaining:
            return out
        if rec is None:
            res.unknown |= remaining
            return out
        if remaining:
            opened = remaining & rec.get("open", 0)
            res.unknown |= opened
            if part.startswith("_") and not part.startswith("__"):
                res.unknown |= remaining & ~opened  # private names are not indexed
            elif remaining & ~opened:
                res.missing.append((container, part, remaining & ~opened))
        return out

    def _member(self, target: str, part: str, mask: int, seen: set) -> tuple[list[tuple[str, int]], int, int]:
        """(found, missing mask, unknown mask) for attribute `part` of class `target`."""
        if target in seen:
            return [], 0, mask
        seen = seen | {target}
        cls = self._class(target)
        if cls is None:
            return [], 0, mask
        unknown = mask & ~cls["in"]
        remaining = mask & cls["in"]
        found: list[tuple[str, int]] = []
        mod, qual = target[2:].split(":", 1)
        for kind, m in _alts((cls.get("members") or {}).get(part), cls["in"]):
            m &= remaining
            if not m:
                continue
            if kind.startswith("c:"):
                found.append((f"c:{mod}:{kind[2:]}", m))
            elif kind in ("f", "s", "k"):
                found.append((f"{'u' if kind == 'f' else kind}:{mod}:{qual}.{part}", m))
            else:
                found.append(("v", m))
            remaining &= ~m
        if not remaining:
            return found, 0, unknown
        opened = remaining & cls.get("open", 0)
        unknown |= opened
        remaining &= ~opened
        missing = 0
        for bases, bm in _alts(cls.get("bases"), cls["in"]) or [("", cls["in"])]:
            r = remaining & bm
            if not r:
                continue
            for b in bases.split(",") if bases else []:
                if not r:
                    break
                if b in TRANSPARENT_BASES:
                    continue
                if b.startswith("c:"):
                    f2, m2, u2 = self._member(b, part, r, seen)
                    found.extend(f2)
                    unknown |= u2
                    r = m2  # what this base's MRO lacks is looked up in the next base
                else:
                    unknown |= r
                    r = 0
            missing |= r
        return found, missing, unknown

    # ---- signatures
    def signatures(self, target: str, mask: int) -> list[tuple[str, int]]:
        """[(signature text, mask)] of what calling `target` binds to; versions without a known
        signature are left out."""
        if target.startswith("c:"):
            cls = self._class(target)
            if cls is None:
                return []
            return [(s, m & mask) for s, m in _alts(cls.get("init"), cls["in"]) if m & mask]
        if target[:2] in ("f:", "s:", "k:"):
            mod, qual = target[2:].split(":", 1)
            rec = self.record(mod)
            if rec is None:
                return []
            if "." in qual:
                cname, meth = qual.rsplit(".", 1)
                cls = rec.get("classes", {}).get(cname)
                if cls is None:
                    return []
                sigs = _alts((cls.get("sigs") or {}).get(meth), cls["in"])
                if target.startswith("k:"):
                    sigs = [(_drop_first(s), m) for s, m in sigs]
                return [(s, m & mask) for s, m in sigs if m & mask]
            return [(s, m & mask) for s, m in _alts((rec.get("sigs") or {}).get(qual), rec["in"]) if m & mask]
        return []

    def call_problems(self, dotted: str, mask: int, n_positional: int, keywords: list[str],
                      module: str | None = None) -> tuple[dict[str, int], int, int]:
        """({problem: mask}, mask where the call binds, mask judged) for a call of `dotted`."""
        res = self.resolve(dotted, mask, module)
        problems: dict[str, int] = {}
        ok = 0
        judged = 0
        for target, m in res.found:
            for sig, sm in self.signatures(target, m):
                judged |= sm
                forms = sig.split("|")
                results = [bind_problems(f, n_positional, keywords) for f in forms]
                if any(not r for r in results):
                    ok |= sm
                    continue
                text = "; ".join(results[0])
                problems[text] = problems.get(text, 0) | sm
        return problems, ok, judged


def _drop_first(sig: str) -> str:
    """A classmethod's signature as called through the class: without `cls`."""
    out = []
    for form in sig.split("|"):
        params = parse_signature(form)
        if params and not params[0].startswith("*") and params[0] != "/":
            params = params[1:]
            if params and params[0] == "/":
                params = params[1:]
        out.append(",".join(params))
    return "|".join(out)


class ApiIndex:
    """The whole index: the manifest and a LibraryApi per library."""

    def __init__(self, path: str | Path | None = None, manifest: dict | None = None) -> None:
        if path is None:
            path = Path(str(resources.files(DATA_PACKAGE).joinpath(INDEX_FILE)))
        self.path = Path(path)
        self._file: IndexFile | None = None
        self._manifest = manifest
        self._slim: dict | None = None
        self._libs: dict[str, LibraryApi] = {}
        self._tops: dict[str, str] | None = None

    @property
    def file(self) -> IndexFile:
        if self._file is None:
            self._file = IndexFile(self.path)
        return self._file

    @property
    def manifest(self) -> dict:
        """The full manifest (versions with dates, file names and sha256), for people."""
        if self._manifest is None:
            mf = self.path.with_name(MANIFEST_FILE)
            self._manifest = json.loads(mf.read_text(encoding="utf-8")) if mf.exists() else self.file.manifest()
        return self._manifest

    @property
    def _loader(self) -> dict:
        """What resolving needs of the manifest: kept apart in the index, a few kilobytes."""
        if self._slim is None:
            self._slim = self._manifest if self._manifest is not None else self.file.manifest("loader")
        return self._slim

    def library(self, name: str) -> LibraryApi | None:
        key = PYTHON if name == PYTHON else _SEPARATORS.sub("-", name).lower()  # PEP 503
        if key not in self._libs:
            entry = self._loader.get("libraries", {}).get(key)
            if entry is None:
                return None
            self._libs[key] = LibraryApi(key, entry, self)
        return self._libs[key]

    def library_for_module(self, dotted: str) -> LibraryApi | None:
        """The indexed library that provides the top-level module of `dotted` (unique owner only)."""
        if self._tops is None:
            owners: dict[str, set[str]] = {}
            for lib, entry in self._loader.get("libraries", {}).items():
                for top in entry.get("modules", ()):
                    owners.setdefault(top, set()).add(lib)
            self._tops = {t: next(iter(libs)) for t, libs in owners.items() if len(libs) == 1}
        lib = self._tops.get(dotted.split(".")[0])
        return self.library(lib) if lib else None


@functools.lru_cache(maxsize=1)
def api_index() -> ApiIndex:
    """The shipped index (opened on first use, shared by every audit in the process)."""
    return ApiIndex()
