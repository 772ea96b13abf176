"""The on-disk form of the library index: snapshots of many releases merged into one record per
module, in one SQLite file.

Why this form:

* **One record per (library, module)**, read only when an audit asks about that module: an
  audit touches a few dozen names of a handful of libraries, so loading is a few small reads
  (milliseconds), whatever the size of the whole index.
* **Releases merged with bit masks.** Consecutive releases share almost all of their API; a
  fact (a name, its target, a signature) is stored once with the set of releases that have it
  (bit *i* = the library's *i*-th version in the manifest). A value that holds in every release
  where its container exists is stored bare.
* **zlib-compressed JSON** per record: the installed file stays small, and a record decodes
  with the standard library alone.
* **SQLite** (standard library) gives indexed random access to the records from one file,
  with no loader code of our own to get wrong.

`merge` and `write_index` are used at build time (scripts/build_api_index.py and the rebuild
test); `IndexFile` reads.
"""
from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Sequence
from pathlib import Path

FORMAT = 1
REGISTRY_KEY = "@registries"
#: Base classes from elsewhere that add no attribute a rule looks up (kept by name).
TRANSPARENT = frozenset({
    "x:abc.ABC", "x:typing.Generic", "x:typing.Protocol", "x:typing_extensions.Protocol", "x:typing_extensions.Generic",
})


# ----------------------------------------------------------------------------------- merging


def _add(table: dict, key: str, value: str, bit: int) -> None:
    slot = table.setdefault(key, {})
    slot[value] = slot.get(value, 0) | bit


def _alts(slot: dict[str, int], whole: int) -> object:
    """{value: mask} -> the bare value when it holds wherever its container exists."""
    if len(slot) == 1:
        (value, mask), = slot.items()
        if mask == whole:
            return value
    return [[v, m] for v, m in sorted(slot.items(), key=lambda kv: (kv[1], kv[0]))]


def _sig_text(sig: object) -> str:
    return "|".join(sig) if isinstance(sig, list) else str(sig)


def private_module(name: str) -> bool:
    return any(p.startswith("_") for p in name.split(".")[1:])


def _short(target: str) -> str:
    """Another library's name only needs to be known to exist: `x:torch.nn.Module` -> `x`
    (base classes keep the ones that add nothing, such as `typing.Generic`)."""
    return "x" if target.startswith("x:") else target


def _reachable(snap: dict) -> set[str]:
    """Classes and functions of private modules that public names lead to (directly, as a
    base class, or as a nested class)."""
    mods = snap["modules"]
    todo = [t for name, e in mods.items() if not private_module(name) for t in e.get("names", {}).values()]
    todo += [f"c:{name}:{q}" for name, e in mods.items() if not private_module(name) for q in e.get("classes", {})]
    seen: set[str] = set()
    while todo:
        t = todo.pop()
        if t in seen or not t.startswith(("c:", "f:")):
            continue
        seen.add(t)
        if t.startswith("c:"):
            mod, qual = t[2:].split(":", 1)
            c = mods.get(mod, {}).get("classes", {}).get(qual)
            if c is not None:
                todo.extend(c.get("bases", []))
                todo.extend(f"c:{mod}:{k[2:]}" for k in c.get("members", {}).values() if k.startswith("c:"))
    return seen


def merge(snapshots: Sequence[dict | None]) -> dict[str, dict]:
    """Snapshots of one library's releases (index = version bit; None = not available) ->
    {record key: record}. Private modules (`torch._tensor`) keep only the classes and
    signatures that public names lead to, and not their namespaces (recorded as open)."""
    mods: dict[str, dict] = {}
    regs: dict = {}
    for i, snap in enumerate(snapshots):
        if snap is None:
            continue
        bit = 1 << i
        keep = _reachable(snap)
        for name, e in snap["modules"].items():
            r = mods.setdefault(name, {"in": 0, "pkg": 0, "open": 0, "names": {}, "classes": {}, "sigs": {}})
            r["in"] |= bit
            if e.get("pkg"):
                r["pkg"] |= bit
            if e.get("open") or private_module(name):
                r["open"] |= bit
            private = private_module(name)
            if not private:
                for n, t in e.get("names", {}).items():
                    _add(r["names"], n, _short(t), bit)
            for n, s in e.get("sigs", {}).items():
                if not private or f"f:{name}:{n}" in keep:
                    _add(r["sigs"], n, _sig_text(s), bit)
            for q, c in e.get("classes", {}).items():
                if private and f"c:{name}:{q}" not in keep:
                    continue
                rc = r["classes"].setdefault(q, {"in": 0, "open": 0, "bases": {}, "members": {}, "init": {}, "sigs": {}})
                rc["in"] |= bit
                if c.get("open"):
                    rc["open"] |= bit
                bases = ",".join(b if b in TRANSPARENT or not b.startswith("x:") else "x" for b in c.get("bases", []))
                rc["bases"][bases] = rc["bases"].get(bases, 0) | bit
                for n, k in c.get("members", {}).items():
                    _add(rc["members"], n, k, bit)
                if "init" in c:
                    rc["init"][_sig_text(c["init"])] = rc["init"].get(_sig_text(c["init"]), 0) | bit
                for n, s in c.get("sigs", {}).items():
                    _add(rc["sigs"], n, _sig_text(s), bit)
        _merge_registries(regs, snap.get("registries", {}), bit)
    out: dict[str, dict] = {}
    for name, r in sorted(mods.items()):
        if private_module(name) and not r["classes"] and not r["sigs"] and not r["pkg"]:
            continue  # nothing public leads here
        whole = r["in"]
        rec: dict = {"in": whole}
        if r["pkg"]:
            rec["pkg"] = r["pkg"]
        if r["open"]:
            rec["open"] = r["open"]
        if r["names"]:
            rec["names"] = {n: _alts(s, whole) for n, s in sorted(r["names"].items())}
        if r["sigs"]:
            rec["sigs"] = {n: _alts(s, whole) for n, s in sorted(r["sigs"].items())}
        if r["classes"]:
            classes = {}
            for q, rc in sorted(r["classes"].items()):
                cin = rc["in"]
                c: dict = {"in": cin}
                if rc["open"]:
                    c["open"] = rc["open"]
                bases = {b: m for b, m in rc["bases"].items() if b}
                if bases:
                    c["bases"] = _alts(bases, cin)
                if rc["members"]:
                    c["members"] = {n: _alts(s, cin) for n, s in sorted(rc["members"].items())}
                if rc["init"]:
                    c["init"] = _alts(rc["init"], cin)
                if rc["sigs"]:
                    c["sigs"] = {n: _alts(s, cin) for n, s in sorted(rc["sigs"].items())}
                classes[q] = c
            rec["classes"] = classes
        out[name] = rec
    if regs:
        out[REGISTRY_KEY] = _finish_registries(regs)
    return out


def _merge_registries(regs: dict, snap: dict, bit: int) -> None:
    for key in ("timm_models", "timm_deprecated"):
        for n in snap.get(key, ()):
            table = regs.setdefault(key, {})
            table[n] = table.get(n, 0) | bit
    for mt, a in snap.get("transformers_archs", {}).items():
        ra = regs.setdefault("transformers_archs", {}).setdefault(mt, {"in": 0, "modules": {}, "checkpoints": {}, "wraps_auto": 0})
        ra["in"] |= bit
        if a.get("wraps_auto"):
            ra["wraps_auto"] |= bit
        for n, kinds in a.get("modules", {}).items():
            _add(ra["modules"], n, kinds, bit)
        for c in a.get("checkpoints", ()):
            ra["checkpoints"][c] = ra["checkpoints"].get(c, 0) | bit
    if "timm_models" in snap:
        regs["timm_in"] = regs.get("timm_in", 0) | bit
    if "transformers_archs" in snap:
        regs["archs_in"] = regs.get("archs_in", 0) | bit


def _finish_registries(regs: dict) -> dict:
    out: dict = {}
    for key in ("timm_in", "archs_in"):
        if key in regs:
            out[key] = regs[key]
    for key in ("timm_models", "timm_deprecated"):
        if key in regs:
            out[key] = dict(sorted(regs[key].items()))
    if "transformers_archs" in regs:
        archs = {}
        for mt, ra in sorted(regs["transformers_archs"].items()):
            a: dict = {"in": ra["in"]}
            if ra["wraps_auto"]:
                a["wraps_auto"] = ra["wraps_auto"]
            if ra["modules"]:
                a["modules"] = {n: _alts(s, ra["in"]) for n, s in sorted(ra["modules"].items())}
            if ra["checkpoints"]:
                a["checkpoints"] = dict(sorted(ra["checkpoints"].items()))
            archs[mt] = a
        out["transformers_archs"] = archs
    return out


# ----------------------------------------------------------------------------------- the file


def encode(record: dict) -> bytes:
    return zlib.compress(json.dumps(record, separators=(",", ":"), sort_keys=True).encode(), 9)


def decode(blob: bytes) -> dict:
    return json.loads(zlib.decompress(blob))


#: A namespace with more names than this is stored in shards by first letter (`transformers#a`),
#: so a lookup decodes a few hundred names, not the 4,000 of `transformers`.
SHARD_MIN = 400


def _shard_key(name: str) -> str:
    return name[:1].lower() if name[:1].isalpha() else "_"


def physical(records: dict[str, dict]) -> dict[str, dict]:
    """Logical records -> the rows written: big namespaces sharded; the registries split so that
    a rule reads only the part it needs (`@timm`, `@archs` with each architecture's checkpoints,
    `@arch:<model_type>` with its submodule names)."""
    out: dict[str, dict] = {}
    for key, rec in records.items():
        if key == REGISTRY_KEY:
            timm = {k: rec[k] for k in ("timm_in", "timm_models", "timm_deprecated") if k in rec}
            if timm:
                out["@timm"] = timm
            archs = rec.get("transformers_archs")
            if archs:
                out["@archs"] = {"archs_in": rec.get("archs_in", 0),
                                 "archs": {mt: {k: v for k, v in a.items() if k != "modules"} for mt, a in archs.items()}}
                for mt, a in archs.items():
                    if a.get("modules"):
                        out[f"@arch:{mt}"] = {"in": a["in"], "modules": a["modules"]}
            continue
        names = rec.get("names") or {}
        if len(names) > SHARD_MIN:
            shards: dict[str, dict] = {}
            for n, v in names.items():
                shards.setdefault(_shard_key(n), {})[n] = v
            main = {k: v for k, v in rec.items() if k != "names"}
            main["shards"] = sorted(shards)
            out[key] = main
            for c, part in shards.items():
                out[f"{key}#{c}"] = {"in": rec["in"], "names": part}
        else:
            out[key] = rec
    return out


def logical(rows: dict[str, dict]) -> dict[str, dict]:
    """The inverse of `physical`."""
    out: dict[str, dict] = {}
    regs: dict = {}
    for key, rec in rows.items():
        if key == "@timm":
            regs.update(rec)
        elif key == "@archs":
            regs["archs_in"] = rec.get("archs_in", 0)
            for mt, a in rec["archs"].items():
                regs.setdefault("transformers_archs", {}).setdefault(mt, {}).update(a)
        elif key.startswith("@arch:"):
            regs.setdefault("transformers_archs", {}).setdefault(key[6:], {})["modules"] = rec["modules"]
        elif "#" in key:
            continue
        elif "shards" in rec:
            main = {k: v for k, v in rec.items() if k != "shards"}
            names: dict = {}
            for c in rec["shards"]:
                names.update(rows[f"{key}#{c}"]["names"])
            main["names"] = dict(sorted(names.items()))
            out[key] = dict(sorted(main.items()))
        else:
            out[key] = rec
    if regs:
        if "transformers_archs" in regs:
            regs["transformers_archs"] = {mt: dict(sorted(a.items())) for mt, a in sorted(regs["transformers_archs"].items())}
        out[REGISTRY_KEY] = regs
    return out


def write_index(path: Path, manifest: dict, libraries: dict[str, dict[str, dict]]) -> None:
    """Write every library's records and the manifest to a fresh SQLite file (same input, same
    content: rows are inserted sorted and the file is vacuumed). The loader's part of the
    manifest (versions and top-level modules, no file names or hashes) is stored apart, so
    opening the index parses a few kilobytes."""
    tmp = path.with_suffix(".tmp")
    if tmp.exists():
        tmp.unlink()
    con = sqlite3.connect(tmp)
    try:
        con.execute("PRAGMA page_size = 4096")
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
        # a rowid table keeps the compressed blobs in overflow pages without per-row B-tree
        # splits (a third smaller than WITHOUT ROWID here); the index finds a record
        con.execute("CREATE TABLE records (library TEXT NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL)")
        con.execute("CREATE UNIQUE INDEX records_key ON records (library, key)")
        con.execute("INSERT INTO meta VALUES ('manifest', ?)", (json.dumps(manifest, sort_keys=True),))
        con.execute("INSERT INTO meta VALUES ('loader', ?)", (json.dumps(loader_manifest(manifest), sort_keys=True, separators=(",", ":")),))
        for lib in sorted(libraries):
            con.executemany("INSERT INTO records VALUES (?, ?, ?)",
                            [(lib, key, encode(rec)) for key, rec in sorted(physical(libraries[lib]).items())])
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()
    tmp.replace(path)


def loader_manifest(manifest: dict) -> dict:
    return {"libraries": {name: {"versions": [[v["minor"], v["version"], v["date"]] for v in e.get("versions", [])],
                                 "modules": e.get("modules", []), "source": e.get("source", "")}
                          for name, e in manifest.get("libraries", {}).items()}}


class IndexFile:
    """Read access to a written index: the manifest and one record at a time."""

    def __init__(self, path: str | Path) -> None:
        # read-only, immutable: no journal, no locks, nothing written beside the package data
        self._con = sqlite3.connect(f"file:{Path(path).as_posix()}?mode=ro&immutable=1", uri=True, check_same_thread=False)

    def manifest(self, part: str = "manifest") -> dict:
        """The full manifest, or `part="loader"`: what the loader needs of it."""
        row = self._con.execute("SELECT value FROM meta WHERE key = ?", (part,)).fetchone()
        return json.loads(row[0]) if row else {}

    def library(self, library: str) -> dict[str, dict]:
        """Every logical record of a library (reassembled from the rows written)."""
        rows = {k: decode(d) for k, d in self._con.execute("SELECT key, data FROM records WHERE library = ?", (library,))}
        return logical(rows)

    def record(self, library: str, key: str) -> dict | None:
        row = self._con.execute("SELECT data FROM records WHERE library = ? AND key = ?", (library, key)).fetchone()
        return decode(row[0]) if row else None

    def keys(self, library: str) -> list[str]:
        return [r[0] for r in self._con.execute("SELECT key FROM records WHERE library = ? ORDER BY key", (library,))]

    def close(self) -> None:
        self._con.close()


# ----------------------------------------------------------------------------------- one version


def _at(value: object, bit: int, whole: int) -> str | None:
    if isinstance(value, str):
        return value if whole & bit else None
    return next((v for v, m in value if m & bit), None)


def _sig_back(text: str) -> object:
    return text.split("|") if "|" in text else text


def version_view(records: dict[str, dict], bit: int) -> dict:
    """The merged records of one library as they stand in one version (bit): the same shape as
    an extracted snapshot, less what merging drops (private modules' namespaces). Used to
    compare a rebuilt release with the shipped index."""
    modules: dict[str, dict] = {}
    for key, rec in records.items():
        if key == REGISTRY_KEY or not rec["in"] & bit:
            continue
        whole = rec["in"]
        entry: dict = {}
        if rec.get("pkg", 0) & bit:
            entry["pkg"] = True
        if rec.get("open", 0) & bit:
            entry["open"] = True
        entry["names"] = {n: t for n, v in (rec.get("names") or {}).items() if (t := _at(v, bit, whole)) is not None}
        classes = {}
        for q, c in (rec.get("classes") or {}).items():
            if not c["in"] & bit:
                continue
            cw = c["in"]
            ce: dict = {}
            bases = _at(c.get("bases", ""), bit, cw) if "bases" in c else None
            if bases:
                ce["bases"] = bases.split(",")
            if c.get("open", 0) & bit:
                ce["open"] = True
            ce["members"] = {n: k for n, v in (c.get("members") or {}).items() if (k := _at(v, bit, cw)) is not None}
            sigs = {n: _sig_back(s) for n, v in (c.get("sigs") or {}).items() if (s := _at(v, bit, cw)) is not None}
            if sigs:
                ce["sigs"] = sigs
            if "init" in c and (init := _at(c["init"], bit, cw)) is not None:
                ce["init"] = _sig_back(init)
            classes[q] = ce
        if classes:
            entry["classes"] = classes
        sigs = {n: _sig_back(s) for n, v in (rec.get("sigs") or {}).items() if (s := _at(v, bit, whole)) is not None}
        if sigs:
            entry["sigs"] = sigs
        modules[key] = entry
    return {"modules": dict(sorted(modules.items()))}
