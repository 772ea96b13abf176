"""Build reviewer_audit/data/api_index.sqlite and api_manifest.json: the public API of the
libraries generated bundles use, for every minor version current since late 2023, read
statically from the published wheels (and the standard library from typeshed's stubs).

Why: a review is judged by what the libraries a bundle admits really provide. Hand-written
lists of removed APIs miss most crashes (`OmegaConf.deepcopy`, a SciPy function imported from
`sklearn.metrics`, a timm name nobody registered); the packages themselves say what exists.

Run from the repository root (needs network access to pypi.org, nothing else):

    python scripts/build_releases.py           # release dates (data/releases.json), first
    python scripts/build_api_index.py          # download, extract, merge, write the index
    python scripts/build_api_index.py --only omegaconf --only timm   # rebuild some libraries,
                                                                     # keep the others as shipped

What it does, per library in build_releases.LIBRARIES (plus the standard library):

1. **Versions.** From data/releases.json: final, non-yanked releases grouped by minor version
   (`4.46.*`); a minor is kept when it was the newest minor at some time since WINDOW_START, and
   it is represented by its last release (4.46.3 stands for every 4.46.x).
2. **Files.** The release's pure-Python wheel, else its smallest wheel (Python sources and
   stubs are the same in every platform's wheel: torch's macOS wheel is 60 MB where the Linux
   one is 800), else the sdist. The file name and sha256 go into the manifest.
3. **Extraction** (`reviewer_audit.knowledge.api_extract`): `ast` over every .py/.pyi; the
   package is never imported. Snapshots are cached under --cache (default
   ~/.cache/reviewer-audit-build, never inside the repository), keyed by the file's sha256 and
   the extractor's own source, so a rerun only redoes what changed.
4. **Merge and write** (`reviewer_audit.knowledge.api_store`): one record per module, releases
   as bit masks, zlib-compressed JSON in one SQLite file.

The standard library comes from typeshed's stubs as shipped in a pinned mypy wheel
(TYPESHED_FROM), evaluated once per Python minor (PYTHONS; the dates are the final releases'
from the release-schedule PEPs); typeshed's stdlib/VERSIONS says which modules each has.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import io
import json
import sys
import tarfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from build_releases import LIBRARIES, PYPI_JSON, project_json  # noqa: E402

from reviewer_audit.knowledge import api_extract  # noqa: E402
from reviewer_audit.knowledge.api_store import FORMAT, merge, write_index  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "reviewer_audit" / "data"
OUT = DATA / "api_index.sqlite"
MANIFEST = DATA / "api_manifest.json"
RELEASES = DATA / "releases.json"

#: The period generated bundles target: a minor counts if it was current at any time since.
WINDOW_START = dt.date(2023, 10, 1)
#: Distributions of build_releases.LIBRARIES that are not indexed (dependencies of the others,
#: kept there for their release dates only).
NOT_INDEXED = {"sentencepiece", "tokenizers", "safetensors", "huggingface-hub", "torchaudio"}
#: Modules whose namespace compiled code fills at import time, so the source does not show all
#: of their names (found by comparing the index with `dir()` of an installed release).
OPEN_MODULES = {
    "torch": ("torch.cuda", "torch.cuda.sparse", "torch.sparse", "torch.monitor", "torch.return_types",
              "torch.onnx.symbolic_opset9", "torch.onnx.symbolic_opset10", "torch.onnx.symbolic_opset11"),
    "matplotlib": tuple(f"matplotlib.backends.backend_{b}" for b in (
        "agg", "cairo", "gtk3", "gtk3agg", "gtk3cairo", "gtk4", "gtk4agg", "gtk4cairo", "macosx", "mixed", "nbagg", "pdf",
        "pgf", "ps", "qt", "qtagg", "qtcairo", "svg", "template", "tkagg", "tkcairo", "webagg", "webagg_core", "wx", "wxagg", "wxcairo")),
}
#: typeshed's stubs, as pinned by one mypy release (its wheel carries mypy/typeshed/stdlib).
TYPESHED_FROM = ("mypy", "2.4.1")
#: Python minors and the dates of their final releases (PEP 619, 664, 693, 719, 745, 790).
#: typeshed no longer distinguishes 3.9 (its checks start at 3.10), so 3.9 is not indexed.
PYTHONS = {
    "3.10": "2021-10-04", "3.11": "2022-10-24", "3.12": "2023-10-02", "3.13": "2024-10-07",
    "3.14": "2025-10-07", "3.15": "2026-10-01",
}


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------- versions


def minors(library: str, releases: dict[str, dict], today: dt.date) -> list[tuple[str, str, str]]:
    """(minor, representative version, its date) for every minor current since WINDOW_START."""
    groups: dict[tuple[int, int], list[tuple[Version, dt.date]]] = {}
    for text, info in releases.items():
        try:
            v = Version(text)
        except InvalidVersion:
            continue
        if v.is_prerelease or v.is_devrelease or info.get("yanked"):
            continue
        day = dt.date.fromisoformat(info["date"])
        if day > today:
            continue
        groups.setdefault((v.release + (0,))[:2], []).append((v, day))
    keys = sorted(groups)
    out = []
    for i, key in enumerate(keys):
        rows = sorted(groups[key])
        first_of_next = min(d for _, d in groups[keys[i + 1]]) if i + 1 < len(keys) else None
        if first_of_next is not None and first_of_next < WINDOW_START:
            continue
        rep, day = rows[-1]
        out.append((f"{key[0]}.{key[1]}", str(rep), day.isoformat()))
    return out


def pick_file(library: str, version: str) -> dict:
    files = project_json(library)["releases"].get(version) or []
    files = [f for f in files if not f.get("yanked")]
    wheels = [f for f in files if f["packagetype"] == "bdist_wheel"]
    pure = [f for f in wheels if f["filename"].endswith("-none-any.whl")]
    if pure:
        return pure[0]
    if wheels:
        return min(wheels, key=lambda f: f["size"])
    sdists = [f for f in files if f["packagetype"] == "sdist"]
    if sdists:
        return sdists[0]
    raise SystemExit(f"{library} {version}: no wheel or sdist on PyPI")


def download(library: str, f: dict) -> bytes:
    url = urllib.parse.urljoin(PYPI_JSON.format(name=library), f["url"])
    with urllib.request.urlopen(url, timeout=600) as resp:  # noqa: S310 -- PyPI's own file URL
        data = resp.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != f["digests"]["sha256"]:
        raise SystemExit(f"{f['filename']}: sha256 {digest} does not match PyPI's {f['digests']['sha256']}")
    return data


def sources(filename: str, data: bytes) -> dict[str, str]:
    """The .py/.pyi files of a wheel or sdist, by path inside the installed package tree."""
    out: dict[str, str] = {}
    if filename.endswith(".whl"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in z.namelist():
                if ".dist-info/" in name or name.split("/")[0].endswith(".data"):
                    continue
                if name.endswith((".py", ".pyi")):
                    out[name] = z.read(name).decode("utf-8", "replace")
                elif name.endswith((".so", ".pyd")):
                    out[name] = ""  # a compiled module: its name, not its contents
        return out
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            if m.isfile() and m.name.endswith((".py", ".pyi")):
                parts = m.name.split("/")[1:]
                if parts and parts[0] == "src":
                    parts = parts[1:]
                if parts and parts[0] not in ("tests", "test", "docs", "examples", "benchmarks", "setup.py"):
                    fh = t.extractfile(m)
                    if fh is not None:
                        out["/".join(parts)] = fh.read().decode("utf-8", "replace")
    return out


#: Top-level folders a wheel may carry that are not the library (bitsandbytes ships `tests/`).
NOT_LIBRARY = frozenset({"tests", "test", "testing", "docs", "examples", "benchmarks", "scripts"})


def library_files(files: dict[str, str]) -> dict[str, str]:
    return {p: t for p, t in files.items() if p.split("/", 1)[0] not in NOT_LIBRARY}


def top_modules(files: dict[str, str]) -> list[str]:
    tops = set()
    for path in files:
        named = api_extract.module_name_of(path)
        if named is not None:
            tops.add(named[0].split(".")[0])
    return sorted(tops)


# ----------------------------------------------------------------------------------- cache


#: Snapshots are cached per extractor source: a changed extractor re-extracts everything.
EXTRACTOR_KEY = hashlib.sha256(Path(api_extract.__file__).read_bytes()).hexdigest()[:12]


def cached_sources(cache: Path, library: str, f: dict) -> dict[str, str]:
    """The file's Python sources, downloaded once (sha256-checked) and kept under the cache."""
    path = cache / "sources" / f"{f['digests']['sha256']}-v2.json.gz"
    if path.exists():
        return json.loads(gzip.decompress(path.read_bytes()))
    files = sources(f["filename"], download(library, f))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps(files).encode(), 6))
    return files


def cached_snapshot(cache: Path, key: str, build) -> dict:
    path = cache / "snapshots" / f"{key}-{EXTRACTOR_KEY}.json.gz"
    if path.exists():
        return json.loads(gzip.decompress(path.read_bytes()))
    snap = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps(snap, separators=(",", ":")).encode(), 6))
    return snap


# ----------------------------------------------------------------------------------- build


def build_library(library: str, releases: dict, cache: Path, today: dt.date) -> tuple[dict, dict]:
    versions = []
    snaps = []
    tops: set[str] = set()
    for minor, version, day in minors(library, releases, today):
        f = pick_file(library, version)

        def make(f=f, version=version):
            _log(f"  {library} {version}: {f['filename']} ({f['size'] // 1_000_000} MB)")
            files = library_files(cached_sources(cache, library, f))
            snap = api_extract.extract(files, open_modules=OPEN_MODULES.get(library, ()))
            snap["tops"] = top_modules(files)
            return snap

        snap = cached_snapshot(cache, f"{canonicalize_name(library)}-{version}-{f['digests']['sha256'][:16]}", make)
        tops.update(snap.pop("tops", []))
        versions.append({"minor": minor, "version": version, "date": day, "file": f["filename"], "sha256": f["digests"]["sha256"]})
        snaps.append(snap)
    entry = {"source": "pypi", "versions": versions, "modules": sorted(tops)}
    return entry, merge(snaps)


def _versions_file(text: str) -> dict[str, tuple[tuple[int, int], tuple[int, int] | None]]:
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or ":" not in line:
            continue
        mod, rng = (p.strip() for p in line.split(":", 1))
        lo, _, hi = rng.partition("-")
        parse = lambda s: tuple(int(x) for x in s.split("."))  # noqa: E731
        out[mod] = (parse(lo), parse(hi) if hi else None)
    return out


def build_stdlib(cache: Path) -> tuple[dict, dict]:
    name, version = TYPESHED_FROM
    f = pick_file(name, version)
    data = None
    versions = []
    snaps = []
    for minor, day in PYTHONS.items():
        pyver = tuple(int(x) for x in minor.split("."))

        def make(minor=minor, pyver=pyver):
            nonlocal data
            _log(f"  stdlib {minor}: typeshed from {f['filename']}")
            if data is None:
                data = download(name, f)
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                prefix = "mypy/typeshed/stdlib/"
                files = {n[len(prefix):]: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith(prefix) and n.endswith(".pyi")}
                table = _versions_file(z.read(prefix + "VERSIONS").decode())
            available = {m: lo <= pyver and (hi is None or pyver <= hi) for m, (lo, hi) in table.items()}
            return api_extract.extract(files, pyver=pyver, available=available)

        snap = cached_snapshot(cache, f"stdlib-{minor}-{f['digests']['sha256'][:16]}", make)
        versions.append({"minor": minor, "version": minor, "date": day, "file": f["filename"], "sha256": f["digests"]["sha256"]})
        snaps.append(snap)
    tops = sorted({m.split(".")[0] for s in snaps for m in s["modules"]})
    entry = {"source": f"typeshed stdlib stubs from {name} {version}", "versions": versions, "modules": tops}
    return entry, merge(snaps)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", default=[], help="rebuild only these libraries (repeatable; 'python' = the standard library); the others are kept from the shipped index")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "reviewer-audit-build", help="download/extraction cache (outside the repository)")
    ap.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today(), help="ignore releases after this date")
    args = ap.parse_args()
    releases = json.loads(RELEASES.read_text())["libraries"]
    only = {canonicalize_name(n) for n in args.only}
    manifest: dict = {"format": FORMAT, "window_start": WINDOW_START.isoformat(), "libraries": {}}
    records: dict[str, dict] = {}
    old = None
    if only and OUT.exists():
        from reviewer_audit.knowledge.api_store import IndexFile
        old = IndexFile(OUT)
        manifest["libraries"] = old.manifest().get("libraries", {})
    names = [canonicalize_name(n) for n in LIBRARIES if canonicalize_name(n) not in NOT_INDEXED] + ["python"]
    for lib in names:
        if only and lib not in only:
            if old is not None and lib in manifest["libraries"]:
                records[lib] = {k: old.record(lib, k) for k in old.keys(lib)}
            continue
        _log(f"{lib}:")
        if lib == "python":
            entry, recs = build_stdlib(args.cache)
        else:
            entry, recs = build_library(lib, releases[lib], args.cache, args.today)
        manifest["libraries"][lib] = entry
        records[lib] = recs
    if old is not None:
        old.close()
    manifest["libraries"] = dict(sorted(manifest["libraries"].items()))
    write_index(OUT, manifest, records)
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    _log(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KiB) and {MANIFEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
