"""The library index: shipped data, its loader, and a rebuild of one real library from its files.

The rebuild reads omegaconf's installed files (it is always installed: hydra-core requires
it) with the same extractor the build script uses, and compares the result with the shipped
index for that release. The installed files are the wheel's; nothing is imported.
"""
from __future__ import annotations

import importlib.metadata
import json
from importlib import resources

import pytest

from reviewer_audit.knowledge import api_extract
from reviewer_audit.knowledge.api_index import PYTHON, ApiIndex, api_index, bind_problems
from reviewer_audit.knowledge.api_store import IndexFile, merge, physical, version_view

DATA = resources.files("reviewer_audit.data")


def test_manifest_covers_the_libraries_of_the_issue():
    libs = api_index().manifest["libraries"]
    for name in ("torch", "torchvision", "transformers", "peft", "datasets", "evaluate", "accelerate", "trl",
                 "bitsandbytes", "timm", "omegaconf", "hydra-core", "wandb", "optuna", "numpy", "scipy",
                 "scikit-learn", "pandas", "matplotlib", "seaborn", "tqdm", "pyyaml", "pillow", PYTHON):
        assert libs[name]["versions"], name
        for v in libs[name]["versions"]:
            assert v["date"] and v["version"] and v["sha256"], (name, v)


def test_manifest_file_matches_the_index():
    text = DATA.joinpath("api_manifest.json").read_text(encoding="utf-8")
    index = IndexFile(str(DATA.joinpath("api_index.sqlite")))
    try:
        assert json.loads(text) == index.manifest()
    finally:
        index.close()


def test_shipped_data_is_small():
    size = sum(DATA.joinpath(n).stat().st_size for n in ("api_index.sqlite", "api_manifest.json"))
    assert size < 15 * 1024 * 1024


def test_a_name_that_never_existed_is_missing_in_every_version():
    lib = api_index().library("omegaconf")
    res = lib.resolve("omegaconf.OmegaConf.deepcopy")
    assert res.missing_mask == lib.all_mask and not res.found
    assert lib.resolve("omegaconf.OmegaConf.to_container").found_mask == lib.all_mask


def test_a_name_added_later_is_missing_only_in_older_versions():
    lib = api_index().library("scikit-learn")
    res = lib.resolve("sklearn.metrics.root_mean_squared_error", module="sklearn.metrics")
    assert lib.describe(res.missing_mask) == "1.3.x"  # added in 1.4


def test_binding_a_call():
    assert bind_problems("cfg,*,resolve=,throw_on_missing=", 1, ["resolve"]) == []
    assert bind_problems("cfg,*,resolve=", 2, []) == ["takes 1 positional argument but 2 were given"]
    assert bind_problems("a,/,b=", 1, ["a"]) == ["unexpected keyword argument `a`"]
    assert bind_problems("a,*args,**kw", 5, ["z"]) == []


def _installed_files(dist_name: str) -> tuple[str, dict[str, str]]:
    dist = importlib.metadata.distribution(dist_name)
    files = {}
    for f in dist.files or []:
        path = str(f)
        if path.endswith((".py", ".pyi")) and ".dist-info/" not in path:
            files[path] = f.read_text(encoding="utf-8")
    return dist.version, files


def test_rebuilding_omegaconf_gives_the_shipped_data():
    try:
        version, files = _installed_files("omegaconf")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("omegaconf is not installed, so there is nothing to rebuild from")
    index = ApiIndex()
    lib = index.library("omegaconf")
    shipped = next((v for v in lib.versions if v.version == version), None)
    if shipped is None:
        pytest.skip(f"the installed omegaconf {version} is not a release the index stands on "
                    f"({', '.join(v.version for v in lib.versions)})")
    if not files:
        pytest.skip("the installed omegaconf lists no files (RECORD missing)")
    rebuilt = version_view(merge([api_extract.extract(files)]), 1)
    assert rebuilt == version_view(index.file.library("omegaconf"), shipped.bit)


def test_the_written_rows_give_back_the_records():
    """Sharded namespaces and the split registries reassemble into what was merged."""
    index = ApiIndex()
    for lib in ("transformers", "timm"):
        records = index.file.library(lib)
        rows = {k: index.file.record(lib, k) for k in index.file.keys(lib)}
        assert physical(records) == rows
    assert "shards" in index.file.record("transformers", "transformers")
    assert index.library("transformers").resolve("transformers.TrainingArguments").found
