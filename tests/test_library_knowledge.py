"""Tests for reviewer_audit.knowledge.library and its data file (self-contained)."""

from __future__ import annotations

import re

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from reviewer_audit.knowledge.library import (
    KnowledgeDataError,
    by_symbol,
    entries_for,
    load_knowledge,
    load_knowledge_text,
)
from reviewer_audit.program.pyproject_check import admits, check_pyproject

KB = load_knowledge()


def test_loads_and_is_cached():
    assert len(KB) >= 15
    assert load_knowledge() is KB


def test_ids_are_unique():
    ids = [e.id for e in KB]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("entry", list(KB), ids=lambda e: e.id)
def test_every_entry_has_a_source_and_a_parseable_range(entry):
    assert re.search(r"https?://\S+|\bseed_\d{3}\b", entry.source)
    spec = SpecifierSet(entry.affected_range)
    assert str(spec)  # a real range, never "everything"
    if entry.removed_in is not None:
        assert admits(entry.affected_range, entry.removed_in)
        # just below the removal nothing is affected (the boundary is meaningful)
        assert not entry.affects(f"{entry.removed_in}.dev0")
    if entry.deprecated_in is not None:
        Version(entry.deprecated_in)
    assert "\n" not in entry.message and entry.message.strip()
    assert entry.replacement.strip()
    assert entry.severity in {"blocker", "major", "minor"}
    assert entry.kind in {"removed", "renamed", "signature", "behaviour"}
    assert canonicalize_name(entry.library) == entry.canonical_library


SEED_FACTS = {
    "scipy-stats-binom-test": ("scipy", "scipy.stats", "binom_test"),
    "peft-lora-a-moduledict": ("peft", "peft.tuners.lora", "LoraLayer.lora_A"),
    "peft-lora-b-moduledict": ("peft", "peft.tuners.lora", "LoraLayer.lora_B"),
    "peft-lora-update-layer-args": ("peft", "peft.tuners.lora", "LoraLayer.update_layer"),
    "peft-adalora-total-step": ("peft", "peft", "AdaLoraConfig"),
    "wandb-run-summary-dict": ("wandb", "wandb.apis.public", "Run.summary"),
    "wandb-run-get-url": ("wandb", "wandb.sdk.wandb_run", "Run.get_url"),
    "torch-cuda-amp-autocast": ("torch", "torch.cuda.amp", "autocast"),
    "torch-cuda-amp-gradscaler": ("torch", "torch.cuda.amp", "GradScaler"),
    "datasets-load-metric": ("datasets", "datasets", "load_metric"),
    "transformers-adamw": ("transformers", "transformers", "AdamW"),
    "evaluate-load-network": ("evaluate", "evaluate", "load"),
}


@pytest.mark.parametrize("entry_id", sorted(SEED_FACTS))
def test_seed_defect_facts_are_covered(entry_id):
    entry = KB.get(entry_id)
    assert entry is not None
    assert (entry.library, entry.module, entry.symbol) == SEED_FACTS[entry_id]


def test_version_boundaries():
    assert KB.get("scipy-stats-binom-test").affects("1.12.0")
    assert not KB.get("scipy-stats-binom-test").affects("1.11.4")
    assert KB.get("transformers-adamw").affects("4.50.0")
    assert not KB.get("transformers-adamw").affects("4.49.0")
    assert KB.get("datasets-load-metric").affects("3.0.0")
    assert not KB.get("datasets-load-metric").affects("2.21.0")
    assert KB.get("peft-adalora-total-step").affects("0.17.1")
    assert not KB.get("peft-adalora-total-step").affects("0.14.0")
    bool_alias = KB.get("numpy-alias-bool")
    assert bool_alias.affects("1.26.4") and not bool_alias.affects("2.1.0")
    for entry in KB:
        if entry.severity == "minor":
            assert entry.kind in {"renamed", "behaviour"}


def test_by_symbol_accepts_any_split_and_aliases():
    [entry] = by_symbol("scipy.stats", "binom_test")
    assert entry.id == "scipy-stats-binom-test"
    assert by_symbol("scipy", "stats.binom_test") == [entry]
    assert by_symbol("scipy.stats.binom_test") == [entry]
    assert [e.id for e in by_symbol("transformers.optimization", "AdamW")] == ["transformers-adamw"]
    assert {e.id for e in by_symbol("torch.cuda.amp", "autocast")} == {
        "torch-cuda-amp-autocast",
        "torch-cuda-amp-autocast-fp16-default",
    }
    assert by_symbol("scipy.stats", "binomtest") == []


def test_entries_for_normalises_library_names():
    assert [e.id for e in entries_for("scikit_learn")] == ["sklearn-mean-squared-error-squared"]
    assert {e.id for e in entries_for("PEFT")} >= {"peft-adalora-total-step", "peft-lora-a-moduledict"}
    assert entries_for("no-such-lib") == []


@pytest.mark.parametrize(
    ("specifier", "reachable"),
    [(">=1.11.0", True), ("==1.11.4", False), ("", True), (None, True), ("<1.12", False), ("~=1.11.0", False)],
)
def test_binom_test_reachability(specifier, reachable):
    assert KB.get("scipy-stats-binom-test").admitted_by(specifier) is reachable


def test_seed_002_pyproject_reaches_binom_test_removal():
    text = (
        '[project]\nname = "fw-lora-experiments"\nversion = "0.1.0"\n\n'
        '[project.dependencies]\npeft = "^0.6.2"\nscipy = "^1.11.3"\n'
    )
    report = check_pyproject(text)
    scipy = report.dependency("scipy")
    assert KB.get("scipy-stats-binom-test").admitted_by(scipy.specifier)
    # ^0.6.2 caps peft below 0.7, before AdaLoRA started demanding total_step
    assert not KB.get("peft-adalora-total-step").admitted_by(report.dependency("peft").specifier)
    assert KB.get("peft-lora-a-moduledict").admitted_by(report.dependency("peft").specifier)


# ---------------------------------------------------------------- malformed data

GOOD_ENTRY = """\
  - id: x-y
    library: scipy
    module: scipy.stats
    symbol: binom_test
    kind: removed
    removed_in: "1.12.0"
    replacement: "binomtest"
    message: "gone"
    severity: blocker
    source: "seed_002 D-13"
"""


def _doc(entry: str = GOOD_ENTRY) -> str:
    return "version: 1\nentries:\n" + entry


def test_minimal_document_is_valid():
    kb = load_knowledge_text(_doc())
    assert [e.id for e in kb] == ["x-y"]
    assert kb.get("x-y").affected_range == ">=1.12.0"


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda s: s.replace('    source: "seed_002 D-13"\n', ""), "source"),
        (lambda s: s.replace("seed_002 D-13", "trust me"), "source"),
        (lambda s: s.replace('"1.12.0"', '"one point twelve"'), "removed_in"),
        (lambda s: s.replace('removed_in: "1.12.0"', 'affected: ">>1.12"'), "affected"),
        (lambda s: s.replace('removed_in: "1.12.0"', 'note: "x"'), "removed_in and/or affected"),
        (lambda s: s.replace('removed_in: "1.12.0"', 'removed_in: "1.12.0"\n    affected: "<1.0"'), "outside"),
        (lambda s: s.replace("kind: removed", "kind: vanished"), "kind"),
        (lambda s: s.replace("severity: blocker", "severity: fatal"), "severity"),
        (lambda s: s.replace('message: "gone"', 'message: "gone\\nreally"'), "one line"),
        (lambda s: s + "    colour: red\n", "colour"),
        (lambda s: s.replace("module: scipy.stats", "module: scipy stats"), "module"),
    ],
)
def test_malformed_entries_raise_clear_errors(mutate, needle):
    with pytest.raises(KnowledgeDataError) as info:
        load_knowledge_text(_doc(mutate(GOOD_ENTRY)), "test.yaml")
    text = str(info.value)
    assert "test.yaml" in text and needle in text
    assert "entry #0" in text and "x-y" in text


def test_malformed_file_level_errors():
    with pytest.raises(KnowledgeDataError, match="duplicate entry id"):
        load_knowledge_text(_doc(GOOD_ENTRY + GOOD_ENTRY))
    with pytest.raises(KnowledgeDataError, match="not valid YAML"):
        load_knowledge_text("version: 1\nentries: [\n")
    with pytest.raises(KnowledgeDataError, match="mapping"):
        load_knowledge_text("- just a list\n")
    with pytest.raises(KnowledgeDataError, match="version"):
        load_knowledge_text(_doc().replace("version: 1", "version: 2"))
    with pytest.raises(KnowledgeDataError, match="cannot read"):
        load_knowledge("/nonexistent/knowledge.yaml")


def test_safe_loader_rejects_python_tags():
    with pytest.raises(KnowledgeDataError):
        load_knowledge_text("version: 1\nentries: !!python/object/apply:os.system ['true']\n")
