"""Hydra's own node composed once and reused: the task's config is Hydra's, key for key.

`hydra_compose.compose` skips re-composing Hydra's `hydra` node when the bundle leaves it alone
(it is deleted from what the task receives). These tests compare `compose(..., reuse_hydra_node=
True)` with the full composition on every command line the run model builds for every corpus
transcript, and on bundles that do touch the node (which must take the full path).
"""
from __future__ import annotations

import textwrap
from typing import Any

import pytest
from omegaconf import DictConfig, ListConfig

from reviewer_audit.program import hydra_compose
from reviewer_audit.program.hydra_compose import compose
from tests.conftest import corpus_files, needs_corpus


def shape(node: Any) -> Any:
    """Everything observable of a composed node, in key order, without resolving anything:
    node classes, object and reference types, flags, keys, values, interpolation strings."""
    meta = node._metadata
    head = (type(node).__name__, repr(meta.object_type), repr(meta.ref_type), meta.optional,
            sorted((k, v) for k, v in (meta.flags or {}).items() if v is not None))
    if isinstance(node, DictConfig):
        if node._is_none() or node._is_missing() or node._is_interpolation():
            return head, node._value()
        return head, repr(meta.key_type), repr(meta.element_type), [(k, shape(node._get_node(k))) for k in node.keys()]
    if isinstance(node, ListConfig):
        if node._is_none() or node._is_missing() or node._is_interpolation():
            return head, node._value()
        return head, repr(meta.element_type), [shape(node._get_node(i)) for i in range(len(node))]
    return head, type(node._value()).__name__, node._value()


def same(a, b) -> bool:
    if (a.error, a.error_kind) != (b.error, b.error_kind):
        return False
    if a.config is None or b.config is None:
        return a.config is b.config
    return shape(a.config) == shape(b.config)


def test_shape_tells_configs_apart():
    """The comparison can fail: a value, a key order, a flag or a node type changes the shape."""
    files = {"config/config.yaml": "a: 1\nb: {c: x}\n"}
    base = compose(files)
    assert shape(base.config) == shape(compose(dict(files)).config)
    assert shape(base.config) != shape(compose({"config/config.yaml": "b: {c: x}\na: 1\n"}).config)
    assert shape(base.config) != shape(compose({"config/config.yaml": "a: '1'\nb: {c: x}\n"}).config)
    other = compose(files)
    other.config._set_flag("struct", False)
    assert shape(base.config) != shape(other.config)


TOUCHING = {
    "primary hydra key": ({"config/config.yaml": "hydra:\n  run:\n    dir: .\nx: 1\n"}, []),
    "unknown hydra key": ({"config/config.yaml": "hydra:\n  nope: 1\nx: 1\n"}, []),
    "hydra group override": ({"config/config.yaml": "defaults:\n  - _self_\n  - override hydra/job_logging: disabled\nx: 1\n"}, []),
    "missing hydra option": ({"config/config.yaml": "defaults:\n  - override hydra/launcher: joblib\nx: 1\n"}, []),
    "hydra override": ({"config/config.yaml": "x: 1\n"}, ["hydra.run.dir=out"]),
    "hydra env_copy": ({"config/config.yaml": "hydra:\n  job:\n    env_copy: [RA_SURELY_UNSET_VAR]\nx: 1\n"}, []),
    "escaped hydra key": ({"config/config.yaml": 'x: 1\n"\\x68ydra":\n  nope: 1\n'}, []),
    "global package": ({"config/config.yaml": "defaults:\n  - _self_\n  - extra: a\nx: 1\n",
                        "config/extra/a.yaml": "# @package _global_\nhydra:\n  job:\n    chdir: true\n"}, []),
}


@pytest.mark.parametrize("name", sorted(TOUCHING))
def test_bundles_touching_the_node_compose_as_hydra_does(name, monkeypatch):
    files, overrides = TOUCHING[name]
    full = compose(files, overrides=overrides, reuse_hydra_node=False)
    seen = []
    real = hydra_compose._compose
    monkeypatch.setattr(hydra_compose, "_compose", lambda *a, **k: seen.append(k["with_hydra_node"]) or real(*a, **k))
    reused = compose(files, overrides=overrides)
    assert same(full, reused), (full, reused)
    assert seen[-1] is True  # the full path decided


def test_neutral_bundle_skips_the_node_and_matches(monkeypatch):
    files = {
        "config/config.yaml": "defaults:\n  - _self_\n  - run: null\nmode: full\ntraining: {epochs: 3}\n",
        "config/run/a.yaml": "run_id: a\nlr: 1e-3\n",
    }
    for overrides in (["run=a", "mode=trial"], ["run=b"], ["+new=1", "run=a"], ["training.nope=1"], ["mode=a,b"], ["run=a", "lr=1"]):
        full = compose(files, overrides=overrides, reuse_hydra_node=False)
        seen = []
        real = hydra_compose._compose
        monkeypatch.setattr(hydra_compose, "_compose", lambda *a, **k: seen.append(k["with_hydra_node"]) or real(*a, **k))
        reused = compose(files, overrides=overrides)
        monkeypatch.setattr(hydra_compose, "_compose", real)
        assert seen == [False], overrides
        assert same(full, reused), (overrides, full, reused)


@needs_corpus
def test_every_corpus_command_line_composes_the_same_with_and_without_reuse(monkeypatch):
    """Every composition the run model asks for, over every corpus transcript: the reused
    result equals Hydra's full composition (config shape, or error and error kind)."""
    from reviewer_audit.engine.context import AuditContext
    from reviewer_audit.ingest.errors import InputError
    from reviewer_audit.ingest.transcript import load_transcript
    from reviewer_audit.program.runs import run_model
    from reviewer_audit.spec.prompt import spec_for_transcript

    calls: list[tuple] = []
    real = hydra_compose.compose

    def spy(files, config_dir="config", config_name="config", overrides=(), *, version_base=None, **kw):
        result = real(files, config_dir, config_name, overrides, version_base=version_base)
        calls.append((dict(files), config_dir, config_name, tuple(overrides), version_base, result))
        return result

    monkeypatch.setattr(hydra_compose, "compose", spy)
    transcripts = 0
    for path in corpus_files():
        try:
            t = load_transcript(path)
        except InputError:
            continue
        transcripts += 1
        ctx = AuditContext(t.bundle, spec_for_transcript(t), t.runs, t)
        run_model(ctx).runs
    monkeypatch.setattr(hydra_compose, "compose", real)
    assert transcripts >= 100 and len(calls) >= 300
    differ = []
    reused_node = 0
    for files, config_dir, name, overrides, vb, reused in calls:
        full = real(files, config_dir, name, overrides, version_base=vb, reuse_hydra_node=False)
        if not same(full, reused):
            differ.append((config_dir, name, overrides, vb, full.error, reused.error))
        reused_node += hydra_compose._node_left_alone(hydra_compose._BundleView(files, config_dir or "."), overrides)
    assert not differ, differ[:5]
    assert reused_node >= len(calls) // 2  # the reuse is really exercised
