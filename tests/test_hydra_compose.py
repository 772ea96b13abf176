"""Tests for `reviewer_audit.program.hydra_compose`: in-memory Hydra composition of a bundle's config.

Every expectation about Hydra's behaviour below was checked against a real
`@hydra.main(config_path="config", config_name="config", version_base=None)` run of the same
files on disk (hydra-core 1.3.8); the tests themselves write no files.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError

from reviewer_audit.program import hydra_compose
from reviewer_audit.program.hydra_compose import ERROR_KINDS, ComposeResult, compose, parse_override

ROOT = Path(__file__).resolve().parents[1]

CONFIG = textwrap.dedent(
    """\
    defaults:
      - _self_
      - run: null

    wandb:
      entity: e
      project: p
      mode: online
    mode: full
    training:
      epochs: 3
    """
)
RUN = "run_id: proposed-x\nmethod: proposed\nmodel:\n  backbone: bert\n"


def bundle(run: str = RUN) -> dict[str, str]:
    return {"config/config.yaml": CONFIG, "config/run/proposed-x.yaml": run}


def ok(result: ComposeResult):
    assert result.error is None and result.error_kind is None, (result.error_kind, result.error)
    assert result.config is not None
    return result.config


def failed(result: ComposeResult, kind: str) -> str:
    assert result.config is None
    assert result.error_kind == kind, (result.error_kind, result.error)
    assert kind in ERROR_KINDS
    assert result.error and "\n" not in result.error
    return result.error


# 1 ------------------------------------------------------------------------------------------
def test_group_without_package_header_lands_under_group_key_in_struct_mode():
    cfg = ok(compose(bundle(), overrides=["run=proposed-x"]))
    assert cfg.run.model.backbone == "bert"
    assert cfg.run.run_id == "proposed-x"
    assert "model" not in cfg
    assert "hydra" not in cfg  # the task function never sees the hydra node
    assert OmegaConf.is_struct(cfg)
    with pytest.raises(ConfigAttributeError):
        cfg.new_key = 1
    with pytest.raises(ConfigAttributeError):
        cfg.run.model.new_key = 1
    with pytest.raises(ConfigAttributeError):
        _ = cfg.model  # reading a key that is not there raises too, as at run time
    cfg.training.epochs = 5  # existing keys stay writable (Hydra does not set read-only)
    assert cfg.training.epochs == 5


def test_null_group_default_without_override_composes_primary_only():
    cfg = ok(compose(bundle()))
    assert OmegaConf.to_container(cfg) == {
        "wandb": {"entity": "e", "project": "p", "mode": "online"},
        "mode": "full",
        "training": {"epochs": 3},
    }


# 2 ------------------------------------------------------------------------------------------
def test_global_package_header_lands_at_root():
    cfg = ok(compose(bundle("# @package _global_\n" + RUN), overrides=["run=proposed-x"]))
    assert cfg.model.backbone == "bert"
    assert cfg.run_id == "proposed-x"
    assert "run" not in cfg
    assert OmegaConf.is_struct(cfg)


def test_self_ordering_decides_which_value_wins():
    run = "# @package _global_\nmodel:\n  backbone: bert\n  lr: 1\n"
    before = {
        "config/config.yaml": "defaults:\n  - run: r\n  - _self_\nmodel:\n  backbone: primary\n",
        "config/run/r.yaml": run,
    }
    after = {
        "config/config.yaml": "defaults:\n  - _self_\n  - run: r\nmodel:\n  backbone: primary\n",
        "config/run/r.yaml": run,
    }
    no_self = {"config/config.yaml": "defaults:\n  - run: r\nmodel:\n  backbone: primary\n", "config/run/r.yaml": run}
    assert OmegaConf.to_container(ok(compose(before))) == {"model": {"backbone": "primary", "lr": 1}}
    assert OmegaConf.to_container(ok(compose(after))) == {"model": {"backbone": "bert", "lr": 1}}
    # Without `_self_`, Hydra >= 1.1 appends it: the primary config wins.
    assert OmegaConf.to_container(ok(compose(no_self))) == {"model": {"backbone": "primary", "lr": 1}}


# 3 ------------------------------------------------------------------------------------------
def test_group_choice_when_files_live_in_another_folder():
    files = {"config/config.yaml": CONFIG, "config/runs/proposed-x.yaml": RUN}
    # There is no `run` group (no config/run/), so Hydra parses `run=foo` as a plain value
    # override of a key the primary config does not have -- not as a group choice.
    error = failed(compose(files, overrides=["run=foo"]), "override_missing_key")
    assert error == "Could not override 'run'."
    failed(compose(files, overrides=["run=proposed-x"]), "override_missing_key")
    # Only the `+run=...` form Hydra suggests would "work", as a plain string.
    assert ok(compose(files, overrides=["+run=proposed-x"])).run == "proposed-x"


def test_missing_option_of_an_existing_group():
    error = failed(compose(bundle(), overrides=["run=foo"]), "missing_group_option")
    assert error == "In 'config': Could not find 'run/foo'"


def test_mandatory_group_left_unset():
    files = {"config/config.yaml": "defaults:\n  - run: ???\n", "config/run/a.yaml": "a: 1\n"}
    failed(compose(files), "missing_group_choice")
    assert ok(compose(files, overrides=["run=a"])).run.a == 1


# 4 ------------------------------------------------------------------------------------------
def test_plain_key_override_without_group():
    files = {"config/config.yaml": "run: null\nresults_dir: ./results\n"}
    cfg = ok(compose(files, overrides=["run=proposed-x"]))
    assert cfg.run == "proposed-x"
    assert cfg.results_dir == "./results"


def test_plain_key_override_when_a_group_of_that_name_exists():
    # With config/run/ present, `run=...` is a group override, and the defaults list has no
    # `run` entry: Hydra refuses (it does not fall back to setting the plain key).
    files = {"config/config.yaml": "run: null\n", "config/run/proposed-x.yaml": RUN}
    error = failed(compose(files, overrides=["run=proposed-x"]), "group_not_in_defaults")
    assert error == "Could not override 'run'. No match in the defaults list."


# 5 ------------------------------------------------------------------------------------------
def test_value_overrides_apply():
    cfg = ok(compose(bundle(), overrides=["run=proposed-x", "mode=trial", "wandb.mode=disabled", "training.epochs=1"]))
    assert cfg.mode == "trial"
    assert cfg.wandb.mode == "disabled"
    assert cfg.training.epochs == 1
    assert cfg.run.method == "proposed"
    cfg = ok(compose(bundle(), overrides=["run=proposed-x", "run.model.backbone=gpt2"]))
    assert cfg.run.model.backbone == "gpt2"


def test_override_of_missing_key_needs_plus():
    error = failed(compose(bundle(), overrides=["training.max_train_batches=2"]), "override_missing_key")
    assert error == "Could not override 'training.max_train_batches'."
    assert ok(compose(bundle(), overrides=["+training.max_train_batches=2"])).training.max_train_batches == 2
    assert ok(compose(bundle(), overrides=["++training.max_train_batches=2"])).training.max_train_batches == 2
    # and `+` on an existing key is refused
    failed(compose(bundle(), overrides=["+training.epochs=2"]), "override_existing_key")
    assert ok(compose(bundle(), overrides=["++training.epochs=2"])).training.epochs == 2


def test_override_problems_in_compose():
    assert "no viable alternative" in failed(
        compose(bundle(), overrides=["run={'run_id': 'x'}"]), "override_parse"
    )
    failed(compose(bundle(), overrides=["training.epochs=1,2"]), "override_sweep")
    failed(compose(bundle(), overrides=["run=proposed-x", "wandb.entity=${oc.env:X}", 3]), "other")


# 6 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "a: [1\n",  # unclosed flow sequence
        "a: 1\na: 2\n",  # duplicate key (omegaconf's loader refuses it)
        "a:\n  b: 1\n c: 2\n",  # bad indentation
        "\tkey: 1\n",  # tab indentation
    ],
)
def test_broken_yaml_is_a_result_not_an_exception(text):
    error = failed(compose({"config/config.yaml": text}), "yaml")
    assert "config/config.yaml" in error


def test_broken_yaml_in_a_group_option():
    error = failed(compose(bundle("model: {backbone: bert\n"), overrides=["run=proposed-x"]), "yaml")
    assert "config/run/proposed-x.yaml" in error


def test_alias_bomb_is_refused_quickly():
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    start = time.perf_counter()
    error = failed(compose({"config/config.yaml": "\n".join(lines) + "\n"}), "yaml")
    assert time.perf_counter() - start < 2
    assert "expand" in error
    # ordinary anchors stay fine
    cfg = ok(compose({"config/config.yaml": "base: &b {lr: 1}\nrun: *b\n"}))
    assert cfg.run.lr == 1


def test_consecutive_bundles_do_not_see_each_other():
    first = {"config/config.yaml": CONFIG, "config/run/a.yaml": "only_in_first: 1\n"}
    second = {"config/config.yaml": CONFIG, "config/run/b.yaml": "only_in_second: 2\n"}
    assert ok(compose(first, overrides=["run=a"])).run.only_in_first == 1
    failed(compose(second, overrides=["run=a"]), "missing_group_option")
    assert ok(compose(second, overrides=["run=b"])).run.only_in_second == 2
    failed(compose(first, overrides=["run=b"]), "missing_group_option")
    # nothing is left registered once a call returns
    assert hydra_compose._hydra()["source"].bundles == {}


def test_concurrent_threads_each_see_their_own_bundle():
    def work(i: int):
        files = {"config/config.yaml": f"defaults:\n  - run: r{i}\nn: {i}\n", f"config/run/r{i}.yaml": f"i: {i}\n"}
        cfg = ok(compose(files))
        return cfg.n, cfg.run.i

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(work, range(12))) == [(i, i) for i in range(12)]


def test_separate_processes_compose_independently():
    script = textwrap.dedent(
        """\
        import sys
        from reviewer_audit.program.hydra_compose import compose
        i = sys.argv[1]
        files = {"config/config.yaml": "defaults:\\n  - run: r" + i + "\\n", "config/run/r" + i + ".yaml": "i: " + i + "\\n"}
        print(compose(files).config.run.i)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    procs = [
        subprocess.Popen([sys.executable, "-B", "-c", script, str(i)], env=env, stdout=subprocess.PIPE, text=True)
        for i in (1, 2)
    ]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert outs == ["1", "2"]


# 7 ------------------------------------------------------------------------------------------
def test_parse_override_matches_hydras_parser():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    accepted = ["run=abc", "results_dir=./r", "+training.max_train_batches=2", "run={run_id: x}", "a=[1,2]", "~a"]
    rejected = ["run={'run_id': 'x', 'model': {'a': 1}}", "a b", "a=int(abc)"]
    for text in accepted:
        assert parse_override(text) is None, text
        parser.parse_overrides([text])
    for text in rejected:
        error = parse_override(text)
        assert error and "\n" not in error, text
        with pytest.raises(Exception):
            parser.parse_overrides([text])
    assert "no viable alternative" in parse_override("run={'run_id': 'x', 'model': {'a': 1}}")
    assert parse_override(None) is not None  # type: ignore[arg-type]


# Other failure modes ------------------------------------------------------------------------
def test_missing_primary_config_and_folder():
    failed(compose(bundle(), config_name="nope"), "missing_config")
    failed(compose(bundle(), config_dir="conf"), "missing_config")
    failed(compose({}), "missing_config")
    failed(compose({"config/config.yaml": "defaults:\n  - extra\n"}), "missing_config")


def test_non_mapping_primary_config():
    failed(compose({"config/config.yaml": "- 1\n- 2\n"}), "other")


def test_unknown_hydra_key_is_reported():
    error = failed(compose({"config/config.yaml": "hydra:\n  nosuchkey: 1\n"}), "other")
    assert "nosuchkey" in error


def test_hydra_settings_and_overrides_in_the_bundle_compose():
    files = {
        "config/config.yaml": textwrap.dedent(
            """\
            defaults:
              - override hydra/job_logging: disabled
              - _self_
            hydra:
              run:
                dir: outputs/x
            a: ${hydra:runtime.cwd}
            """
        )
    }
    cfg = ok(compose(files, overrides=["hydra.job.chdir=true"]))
    assert OmegaConf.to_container(cfg) == {"a": "${hydra:runtime.cwd}"}  # left unresolved, as Hydra does


def test_searchpath_is_refused_not_followed():
    failed(compose({"config/config.yaml": "hydra:\n  searchpath: [pkg://os]\na: 1\n"}), "unsupported")
    failed(compose(bundle(), overrides=["hydra.searchpath=[file:///tmp]"]), "unsupported")


def test_paths_and_dirs_are_normalised_and_confined():
    files = {"./conf\\config.yaml": "a: 1\r\nb: 2\r\n", "conf/sub/x.yaml": "c: 3\n", "other.yaml": "d: 4\n"}
    assert OmegaConf.to_container(ok(compose(files, config_dir="./conf/"))) == {"a": 1, "b": 2}
    # A primary config in a subfolder is packaged by its path, exactly as @hydra.main does
    # (checked on disk, quirks included).
    assert OmegaConf.to_container(ok(compose(files, config_dir="conf", config_name="sub/x"))) == {"sub": {"c": 3}}
    # `..` may leave the config folder but never the bundle
    cfg = ok(compose(files, config_dir="conf", config_name="../other"))
    assert OmegaConf.to_container(cfg) == {"": {"": {"": {"d": 4}}}}
    failed(compose(files, config_dir="conf", config_name="../../etc/passwd"), "missing_config")
    assert ok(compose({"config.yaml": "a: 1\n"}, config_dir=".")).a == 1
    assert ok(compose({"config.yaml": "a: 1\n"}, config_dir="")).a == 1


def test_version_base_legacy_yml():
    from hydra import version

    before = version.VersionBase.instance().version_base
    files = {"config/config.yml": "a: 1\n"}
    failed(compose(files, config_name="config.yml"), "missing_config")
    assert ok(compose(files, config_name="config.yml", version_base="1.1")).a == 1
    # the process-wide version base is restored afterwards, and the next call is unaffected
    assert version.VersionBase.instance().version_base is before
    failed(compose(files, config_name="config.yml"), "missing_config")


def test_bad_arguments_never_raise():
    failed(compose(bundle(), overrides="run=proposed-x"), "other")  # type: ignore[arg-type]
    failed(compose(["config/config.yaml"]), "other")  # type: ignore[arg-type]
    failed(compose(bundle(), version_base="0.9"), "other")


def test_module_import_does_not_import_hydra():
    code = "import sys, reviewer_audit.program.hydra_compose; print('hydra' in sys.modules, 'omegaconf' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([sys.executable, "-B", "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False False", out.stderr
