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


def test_a_bundle_written_for_the_trial_mode_generation_is_checked_with_its_command_line(tmp_path):
    """`check DIR` without a transcript: a config that declares `trial_mode` and no `mode` was
    written for the prompt whose run command has no `mode=`; composing it with `mode=full` would
    only say which prompt it was written for."""
    from reviewer_audit.ingest.bundle import Bundle
    from reviewer_audit.pipeline.audit import bundle_spec, check_bundle, load_bundle

    files = {"config/config.yaml": "defaults:\n  - _self_\n  - run: ???\ntrial_mode: false\nresults_dir: results\n",
             "config/run/r1.yaml": "run_id: r1\n",
             "src/main.py": "import hydra\n\n@hydra.main(config_path='../config', config_name='config', version_base=None)\n"
                            "def main(cfg):\n    print(cfg.trial_mode)\n\nif __name__ == '__main__':\n    main()\n"}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    spec = bundle_spec(load_bundle(tmp_path))
    assert spec.has("trial_mode_flag") and not spec.has("mode_flag")
    assert spec.version.endswith("+trial_mode")
    assert all("mode=" not in f.command.replace("trial_mode=", "") for f in spec.cli_for("src.main"))
    report = check_bundle(tmp_path, select=["RA203"])
    assert report.run_ids == ["r1"], "the run configs are found in config/run/, where this generation puts them"
    assert not [f for f in report.findings if f.rule == "RA203"], [f.message for f in report.findings]
    assert sorted(c.command for c in report.commands if c.kind == "main") == [
        "python -m src.main run=r1 results_dir=results", "python -m src.main run=r1 results_dir=results trial_mode=true"]

    new = Bundle.from_mapping({"config/config.yaml": "mode: ???\nresults_dir: results\n"}, source="<new>")
    assert bundle_spec(new) == default_spec()
