"""Build reviewer_audit/data/releases.json: every release of the libraries generated bundles use,
with the date PyPI first published it.

Why: a review is judged by the library versions that existed when the code was written
(`--exclude-newer DATE`, uv's meaning: only releases published before DATE count). A dependency
range admits a version only if that version was out by then, so an API removed in a later
release is not a blocker for code that ran fine at the time.

Run from the repository root (needs network access to pypi.org, nothing else):

    python scripts/build_releases.py            # rewrite the data file
    python scripts/build_releases.py --check    # exit 1 if the committed file is missing a library

The date of a release is the earliest upload time of its files (UTC). Yanked releases are kept
and marked: uv and pip skip them unless pinned exactly.
"""
from __future__ import annotations

import argparse
import functools
import json
import sys
import urllib.request
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

#: The distributions generated bundles declare or import (keep in step with the library index).
LIBRARIES = (
    "torch", "torchvision", "torchaudio", "transformers", "peft", "datasets", "evaluate", "accelerate", "trl",
    "bitsandbytes", "timm", "omegaconf", "hydra-core", "wandb", "optuna", "numpy", "scipy",
    "scikit-learn", "pandas", "matplotlib", "seaborn", "tqdm", "pyyaml", "pillow", "sentencepiece",
    "tokenizers", "safetensors", "huggingface-hub",
)
OUT = Path(__file__).resolve().parents[1] / "reviewer_audit" / "data" / "releases.json"


PYPI_JSON = "https://pypi.org/pypi/{name}/json"


@functools.lru_cache(maxsize=None)
def project_json(name: str) -> dict:
    """PyPI's JSON for a project: every release with its files (URLs, sizes, sha256, upload times).
    Shared with scripts/build_api_index.py, which downloads the files of the releases that matter."""
    with urllib.request.urlopen(PYPI_JSON.format(name=name), timeout=60) as resp:  # noqa: S310 -- fixed https host
        return json.load(resp)


def fetch(name: str) -> dict[str, dict]:
    data = project_json(name)
    out: dict[str, dict] = {}
    for version, files in data["releases"].items():
        try:
            Version(version)
        except InvalidVersion:
            continue
        stamps = sorted(f["upload_time_iso_8601"] for f in files if f.get("upload_time_iso_8601"))
        if not stamps:
            continue
        entry = {"date": stamps[0][:10]}
        if all(f.get("yanked") for f in files):
            entry["yanked"] = True
        out[version] = entry
    return dict(sorted(out.items(), key=lambda kv: Version(kv[0])))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that every library is in the committed file")
    args = ap.parse_args()
    if args.check:
        have = set(json.loads(OUT.read_text())["libraries"])
        missing = sorted({canonicalize_name(n) for n in LIBRARIES} - have)
        print("missing: " + ", ".join(missing) if missing else "complete")
        return 1 if missing else 0
    libraries = {}
    for name in LIBRARIES:
        libraries[canonicalize_name(name)] = fetch(name)
        print(f"{name}: {len(libraries[canonicalize_name(name)])} releases", file=sys.stderr)
    doc = {"source": "https://pypi.org/pypi/<name>/json (earliest upload time per release, UTC)", "libraries": libraries}
    OUT.write_text(json.dumps(doc, indent=0, sort_keys=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
