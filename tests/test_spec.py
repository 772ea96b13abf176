"""AuditSpec read from prompt text: every prompt version in the corpus, and the default."""
from __future__ import annotations

import collections

from reviewer_audit.spec.prompt import default_spec, spec_for_transcript, topic_of
from reviewer_audit.ingest.transcript import load_transcript

from .conftest import SEED_000, corpus_files, needs_corpus

SEVEN = ["src/train.py", "src/evaluate.py", "src/preprocess.py", "src/model.py", "src/main.py", "pyproject.toml", "config/config.yaml"]


def test_default_spec_is_the_newest_prompt():
    spec = default_spec()
    assert spec.required_files == SEVEN
    assert spec.run_config_dir == "config/runs"
    assert spec.verdict_keys == ["is_code_ready", "code_issue"]
    assert [c.topic for c in spec.criteria] == ["completeness", "hydra", "data", "model", "files", "wandb", "config", "evaluate", "modes"]
    ev = spec.cli_for("src.evaluate")[0]
    assert ev.arg_names == ["results_dir", "run_ids"]
    assert {a.value for a in spec.cli_for("src.main")[0].args if a.name == "mode"} == {"full"}
    assert spec.criterion_for("modes", "trial_epochs_1") == "9"
    assert spec.criterion_for("wandb", "no_train_json_dump") == "6"
    assert spec.criterion_for("exec") == "exec"


def test_seed_000_uses_config_run():
    assert spec_for_transcript(load_transcript(SEED_000)).run_config_dir == "config/run"


def test_topic_titles():
    assert topic_of("Trial Mode Implementation") == "modes"
    assert topic_of("Mode-Based Implementation") == "modes"
    assert topic_of("Immediate Executability") == "exec"
    assert topic_of("Structured Logging") == "logging"
    assert topic_of("Something New") is None


@needs_corpus
def test_every_prompt_version_in_the_corpus():
    versions = collections.defaultdict(set)
    for f in corpus_files():
        t = load_transcript(f)
        spec = spec_for_transcript(t)
        versions[len(spec.criteria)].add(spec.version)
        assert spec.required_files, f.name
        if t.family == "derived":
            assert spec.run_config_files == ["config/smoke_test.yaml", "config/full_experiment.yaml"]
            assert spec.verdict_keys == ["is_experiment_code_ready", "experiment_code_issue"]
            assert set(spec.required_files) == set(t.base_bundle.paths())
        else:
            assert spec.run_config_dir in ("config/run", "config/runs")
            assert spec.cli_for("src.main"), f.name
            # 10-criterion prompts require stdout JSON from train.py; later ones forbid it
            assert spec.has("train_json_print") != spec.has("no_train_json_dump") or not (spec.has("train_json_print") or spec.has("no_train_json_dump"))
    assert set(versions) == {5, 9, 10}
