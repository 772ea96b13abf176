"""Which files of a real repository are the bundle (RA502 and every directory walk).

A bundle checked where it lives sits among `.git/`, CI workflows, READMEs, Hydra's and WandB's
run folders, ignored files and this tool's own reports: none of it may be reported, read, or
trip an input limit; Python modules and config YAML outside the required set still count.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reviewer_audit.api import check_bundle
from reviewer_audit.gate.check import run_check
from reviewer_audit.ingest.bundle import Bundle
from reviewer_audit.ingest.limits import MAX_BUNDLE_FILE_BYTES
from reviewer_audit.ingest.repo_files import RepoFilter

from .conftest import FIXTURES


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())


#: What a real repository holds around a bundle, none of it bundle content.
AROUND = {
    ".git/HEAD": "ref: refs/heads/main\n",
    ".git/hooks/pre-commit": "#!/bin/sh\nexit 1\n",
    ".github/workflows/ci.yml": "on: push\njobs: {}\n",
    ".gitlab-ci.yml": "test:\n  script: [true]\n",
    ".pre-commit-config.yaml": "repos: []\n",
    ".gitignore": "data/\n*.ckpt\n!keep.ckpt\n",
    "README.md": "# experiment\n",
    "LICENSE": "MIT\n",
    "requirements.txt": "torch\n",
    "outputs/2025-01-01/12-00-00/.hydra/config.yaml": "mode: full\n",
    "outputs/2025-01-01/12-00-00/main.log": "log\n",
    "outputs/2025-01-01/12-00-00/model.ckpt": b"\x00" * (MAX_BUNDLE_FILE_BYTES + 10),
    "multirun/2025-01-01/12-00-00/0/.hydra/overrides.yaml": "- a=1\n",
    "wandb/run-1/files/config.yaml": "wandb_version: 1\n",
    "wandb/run-1/files/code/src/train.py": "import wandb\n",
    "data/train.csv": "x" * (MAX_BUNDLE_FILE_BYTES + 10),
    "weights.ckpt": b"\x01" * 16,
    "reviewer-audit.sarif": "{}\n",
    "junit.xml": "<testsuites/>\n",
    "src/__pycache__/train.cpython-311.pyc": b"\x00\x01",
    "mkdocs.yml": "site_name: x\n",
    "Jenkinsfile": "pipeline {}\n",
}


def _repo(tmp_path: Path, extra: dict[str, str | bytes] | None = None) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "clean_bundle", repo)
    _write(repo, {**AROUND, **(extra or {})})
    return repo


def test_a_clean_bundle_in_a_real_repository_has_no_extra_file(tmp_path):
    repo = _repo(tmp_path)
    report = check_bundle(repo)
    assert report.tool_verdict.ready, [f"{f.rule} {f.where}" for f in report.findings]
    assert not [f for f in report.findings if f.rule == "RA502"]
    paths = Bundle.from_directory(repo).paths()
    assert not any(p.startswith((".", "outputs/", "multirun/", "wandb/", "data/")) or p.endswith(".ckpt") for p in paths), paths
    assert {"README.md", "LICENSE", "requirements.txt", "reviewer-audit.sarif"} <= set(paths), "read, but not bundle content"


def test_bundle_content_outside_the_required_set_still_counts(tmp_path):
    repo = _repo(tmp_path, {"src/utils.py": "X = 1\n", "setup.py": "", "config/extra.yaml": "a: 1\n", "notes/todo.yaml": "- x\n",
                            "keep.ckpt": "kept by a negated .gitignore pattern\n"})
    extra = sorted(f.path for f in check_bundle(repo).findings if f.rule == "RA502")
    assert extra == ["config/extra.yaml", "setup.py", "src/utils.py"], "YAML outside the required folders (notes/) is no bundle config"
    assert "keep.ckpt" in Bundle.from_directory(repo).paths(), "`!keep.ckpt` re-includes it, as in git"


def test_gitignore_files_above_and_below_the_bundle_apply_as_in_git(tmp_path):
    top = tmp_path / "top"
    _write(top, {".git/HEAD": "x\n", ".gitignore": "scratch_*.py\n", "experiments/.gitignore": "/run-1/src/old.py\n"})
    bundle = top / "experiments" / "run-1"
    shutil.copytree(FIXTURES / "clean_bundle", bundle)
    _write(bundle, {"src/scratch_a.py": "", "src/old.py": "", "src/new.py": "", "config/.gitignore": "local.yaml\n", "config/local.yaml": "a: 1\n"})
    paths = Bundle.from_directory(bundle).paths()
    assert "src/new.py" in paths
    assert not {"src/scratch_a.py", "src/old.py", "config/local.yaml"} & set(paths)


def test_extend_exclude_from_the_configuration_and_the_command_line(tmp_path, monkeypatch):
    repo = _repo(tmp_path, {"src/notebook_helpers.py": "", "sandbox/try.py": ""})
    (tmp_path / "pyproject.toml").write_text('[tool.reviewer-audit]\nextend-exclude = ["repo/sandbox/"]\n')
    monkeypatch.chdir(tmp_path)
    result = run_check([repo])
    assert sorted(f.path for f in result.reports[0].report.findings if f.rule == "RA502") == ["src/notebook_helpers.py"]
    result = run_check([repo], extend_exclude=["notebook_*.py"])
    assert not [f for f in result.reports[0].report.findings if f.rule == "RA502"]
    assert ("sandbox/", "extend-exclude") in result.skipped[str(repo)]


def test_this_runs_own_output_files_are_never_read(tmp_path):
    repo = _repo(tmp_path)
    out = repo / "report.json"
    out.write_text("x" * (MAX_BUNDLE_FILE_BYTES + 1))  # a big report from an earlier run
    skip = RepoFilter(repo, exclude_paths=[out])
    assert "report.json" not in Bundle.from_directory(repo, skip).paths()
    assert ("report.json", "an output file of this run") in skip.skipped


def test_transcript_and_json_bundles_count_every_generated_file():
    """A generated key is a file the generator wrote, whatever its name: RA502's INVALID case
    `unmapped/utils_txt` covers it; here the JSON bundle keeps its shape."""
    bundle = Bundle.from_mapping({"train_py": "", "readme_md": "# x"}, source="b.json")
    assert bundle.origin == "mapping" and "unmapped/readme_md" in bundle.paths()


def test_find_bundles_maps_files_and_folders_to_bundle_folders(tmp_path, monkeypatch):
    from reviewer_audit.gate.discover import find_bundles
    from reviewer_audit.ingest.errors import InputError
    from reviewer_audit.spec.prompt import default_spec

    required = default_spec().required_files
    _write(tmp_path, {".git/HEAD": "x\n", "pyproject.toml": "[tool.reviewer-audit]\n", "scripts/plot.py": "",
                      "wandb/run-1/files/code/src/main.py": "", "wandb/run-1/files/code/pyproject.toml": ""})
    for name in ("run-1", "run-2"):
        shutil.copytree(FIXTURES / "clean_bundle", tmp_path / "experiments" / name)
    _write(tmp_path, {"experiments/run-1/outputs/x/.hydra/config.yaml": "a: 1\n"})
    monkeypatch.chdir(tmp_path)
    files = ["experiments/run-1/src/train.py", "experiments/run-1/config/config.yaml", "experiments/run-2/pyproject.toml",
             "experiments/run-1/outputs/x/.hydra/config.yaml", "wandb/run-1/files/code/src/main.py", "pyproject.toml", "scripts/plot.py"]
    bundles, notes = find_bundles([Path(f) for f in files], required)
    assert bundles == [Path("experiments/run-1"), Path("experiments/run-2")], "each bundle once; run outputs and wandb snapshots are none"
    assert [n.split(":")[0] for n in notes] == ["pyproject.toml", "scripts/plot.py"], "a file in no bundle is said, not dropped"
    bundles, notes = find_bundles([Path(".")], required)
    assert sorted(map(str, bundles)) == ["experiments/run-1", "experiments/run-2"], "found below `.`, wandb/ not searched"
    with pytest.raises(InputError):
        find_bundles([Path("missing.py")], required)
