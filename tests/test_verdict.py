"""Verdict diff: agreement classes, claim extraction, claim adjudication against real bundles."""
from __future__ import annotations

import pytest

from reviewer_audit.engine.findings import Finding, Related, Severity
from reviewer_audit.engine.rule import Case
from reviewer_audit.engine.runner import context_for_case, run_rules
from reviewer_audit.rules import all_rules
from reviewer_audit.spec.prompt import default_spec
from reviewer_audit.verdict.adjudicate import adjudicate
from reviewer_audit.verdict.claims import extract_claims, extract_targets, infer_criterion, stated_criteria
from reviewer_audit.verdict.diff import agreement, criterion_table, tool_verdict


def _finding(rule="RA301", path="src/preprocess.py", line=50, message="map(remove_columns=<all columns>) drops the label column", severity=Severity.blocker, topic="data", criterion="3", **kw):
    return Finding(rule=rule, name="x", criterion=criterion, topic=topic, severity=severity, message=message, path=path, line=line, **kw)


@pytest.mark.parametrize(
    ("reviewer", "tool", "expected"),
    [(True, True, "agree_ready"), (False, False, "agree_not_ready"), (True, False, "reviewer_false_positive"),
     (False, True, "reviewer_false_negative"), (None, True, "no_reviewer_verdict"), (None, False, "no_reviewer_verdict")],
)
def test_agreement_classes(reviewer, tool, expected):
    assert agreement(reviewer, tool) == expected


def test_tool_verdict_threshold_and_suppression():
    minor = _finding(severity=Severity.minor)
    major = _finding(severity=Severity.major)
    assert tool_verdict([minor], Severity.major).ready is True
    assert tool_verdict([minor], Severity.minor).ready is False
    assert tool_verdict([major], Severity.major).ready is False
    assert tool_verdict([major.model_copy(update={"suppressed": True})], Severity.major).ready is True
    assert tool_verdict([major, minor], Severity.blocker).counts == {"blocker": 0, "major": 1, "minor": 1}


# --------------------------------------------------------------------------- extraction


def _split(issue: str) -> list[tuple[str, str | None]]:
    return [(c.text, c.context) for c in extract_claims(issue)]


def test_numbered_headings_with_bullets_are_context_and_the_bullets_are_claims():
    issue = (
        "The project is NOT ready for execution. Critical blocking issues:\n\n"
        "1. Missing configuration files\n"
        "   • config/run/*.yaml files referenced by Hydra are absent – code cannot even start.\n\n"
        "2. Evaluation script incompleteness (Core criterion #8):\n"
        "   • Step-2 misses all statistical significance tests.\n"
        "   • evaluate.py treats the first positional argument as the path.\n\n"
        "Because of these issues the code is incomplete, not executable, and not publication-ready."
    )
    got = _split(issue)
    assert [reason for _, reason in got] == ["lead-in", "lead-in", "heading (its sub-points are the claims)", None,
                                             "heading (its sub-points are the claims)", None, None, "summary"]
    claims = [c for c in extract_claims(issue) if c.context is None]
    assert claims[1].stated == [8] and claims[2].stated == [8], "sub-points inherit their heading's criterion"
    for c in extract_claims(issue):
        assert issue[c.start:c.start + len(c.text)] == c.text, "claim text is a verbatim slice of the issue"


def test_prose_sentences_elaborating_one_defect_stay_one_claim_and_fixes_are_context():
    issue = ('Data preprocessing drops the supervision column. In src/preprocess.py `raw.map(..., remove_columns=raw["train"].column_names)` '
             'removes *all* original columns, including "label". Remove the `label` column from `remove_columns` so the dataset keeps its '
             "targets. Until this is fixed the experiment cannot run.")
    got = _split(issue)
    assert [r for _, r in got] == [None, "fix instruction", "summary"]
    assert got[0][0].endswith('including "label".')


def test_a_new_sentence_about_other_code_and_another_kind_of_defect_starts_a_claim():
    issue = ("Model placeholders have NOT been replaced. build_model() supports only SimpleCNN but full_experiment.yaml requests "
             "'mobilenet_v2_gn'. RMSNorm class imported in train.py is undefined. Hence train will crash with ImportError.")
    texts = [t for t, r in _split(issue) if r is None]
    assert len(texts) == 3
    assert texts[2].startswith("RMSNorm") and texts[2].endswith("ImportError."), "the 'Hence' sentence elaborates the RMSNorm claim"


def test_a_titled_restatement_of_a_requirement_is_context_and_the_next_sentence_the_claim():
    issue = ("2. Evaluation figures (Req. 8) – figures must be stored in {results_dir}/images/ and include legends.  "
             "evaluate.py saves comparison_accuracy.png directly in results_dir and does not add a legend.\n"
             "3. WandB integration (Req. 9) – project/entity are hard-coded in train.py instead of being read from the config.")
    got = _split(issue)
    assert [r for _, r in got] == ["restates the requirement", None, None]
    assert got[1][0].startswith("evaluate.py saves"), "what the code does instead is the claim"


def test_a_semicolon_clause_naming_new_things_in_an_item_is_its_own_claim_about_the_same_file():
    issue = ("1. Logging: evaluate.py does not satisfy the structured logging requirement and lacks a run_id field; "
             "also the figure upload path uses os without importing it.\n2. Other point here about train.py.")
    claims = [c for c in extract_claims(issue) if c.context is None]
    assert claims[1].text.startswith("also the figure upload path")
    assert claims[1].targets.files == ["evaluate.py"], "it inherits the file of the clause before it"


def test_json_escaped_line_breaks_split_like_real_ones():
    issue = "Problems:\\n1. evaluate.py uses argparse positionals.\\n2. pyproject.toml does not list pandas as a dependency."
    got = _split(issue)
    assert [r for _, r in got] == ["lead-in", None, None]
    assert got[2][0] == "pyproject.toml does not list pandas as a dependency."


def test_semicolon_clauses_and_inline_enumerations():
    issue = ("src/evaluate.py uses os.environ but never imports os; src/model.py reads cfg.model.depth, which no run config defines.\n\n"
             "To make the code executable:  1) rename the group to `runs`, 2) move the run files under `config/runs/`.")
    got = _split(issue)
    assert got[0][1] is None and got[1][1] is None and got[1][0].startswith("src/model.py")
    assert [r for _, r in got[2:]] == ["lead-in", "fix instruction", "fix instruction"]


def test_issue_text_beyond_the_limit_is_one_context_entry():
    from reviewer_audit.verdict.claims import MAX_ISSUE_CHARS

    issue = "1. evaluate.py uses argparse positionals.\n" + "x " * MAX_ISSUE_CHARS
    got = extract_claims(issue)
    assert got[0].context is None and got[-1].context.startswith("not read")
    assert got[-1].start == MAX_ISSUE_CHARS and got[-1].text == issue[MAX_ISSUE_CHARS:]


def test_all_clear_statements_are_recognised():
    got = _split("1. evaluate.py uses argparse positionals.\n\nAll other core requirements are satisfied.")
    assert got[-1][1] == "all-clear statement"


def test_targets_files_lines_config_keys_apis_identifiers():
    t = extract_targets("train.py line 98 reads `cfg.model.lr` and calls `OmegaConf.merge(cfg, run_cfg)`; "
                        "preprocess._tok_summarisation and HESTAdapter misuse `training.lr_scheduler.total_steps`.")
    assert "train.py" in t.files and "preprocess.py" in t.files
    assert ("train.py", 98) in t.lines
    assert "model.lr" in t.config_keys
    assert "OmegaConf.merge" in t.dotted and "training.lr_scheduler.total_steps" in t.dotted
    assert {"_tok_summarisation", "HESTAdapter"} <= set(t.identifiers)
    # a module written as a path, then the function: the file and the function
    t = extract_targets("src/preprocess._dataset_factory still only supports the synthetic placeholder")
    assert t.files == ["preprocess.py"] and t.identifiers == ["_dataset_factory"]


def test_stated_and_inferred_criteria():
    spec = default_spec()
    assert stated_criteria("violates Core criterion 2 & 8 (see Req. 7)") == [2, 8, 7]
    assert stated_criteria("criteria 1–4 are not met") == [1, 2, 3, 4]
    assert stated_criteria("because of #2 the subprocess fails") == []
    evaluate = next(c.number for c in spec.criteria if c.topic == "evaluate")
    hydra = next(c.number for c in spec.criteria if c.topic == "hydra")
    # a stated number wins; among several, the one whose topic is the claim's
    assert infer_criterion(spec, [hydra, evaluate], ["significance"], "criterion") == str(evaluate)
    assert infer_criterion(spec, [], ["significance"], "criterion") == str(evaluate)
    assert infer_criterion(spec, [], [], "advice") is None


# --------------------------------------------------------------------------- adjudication on real bundles

_PYPROJECT = ('[project]\nname = "x"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
              'dependencies = ["seaborn>=0.13", "wandb>=0.16", "hydra-core>=1.3", "omegaconf>=2.3"]\n')
_EVAL_POSITIONAL = ('import argparse\nimport json\n\nimport pandas as pd\n\n\ndef main():\n    parser = argparse.ArgumentParser()\n'
                    '    parser.add_argument("results_dir", type=str)\n    parser.add_argument("run_ids", type=str)\n'
                    '    args = parser.parse_args()\n    return pd.DataFrame(json.loads(args.run_ids))\n')


def _audit(files: dict[str, str], issue: str, runs: dict[str, str] | None = None):
    ctx = context_for_case(Case(files=files, runs=runs or {}))
    findings = run_rules(ctx, all_rules()).findings
    claims, missed = adjudicate(issue, findings, ctx, Severity.major)
    return [c for c in claims if c.status != "context"], findings, missed


def _bundle(**over):
    files = {"pyproject.toml": _PYPROJECT, "src/evaluate.py": _EVAL_POSITIONAL,
             "src/train.py": "from .model import build\n\n\ndef run(cfg) -> int:\n    return build(cfg)\n",
             "src/model.py": "def build(cfg) -> int:\n    return 1\n"}
    files.update(over)
    return files


def test_claim_confirmed_by_a_finding_of_its_kind_at_its_place():
    claims, findings, missed = _audit(_bundle(), "1. evaluate.py declares `results_dir` and `run_ids` as argparse positionals, so the "
                                                 "prompt's `results_dir=... run_ids=...` command line fails.")
    (claim,) = claims
    assert claim.status == "confirmed", claim.evidence
    assert {findings[i].rule for i in claim.findings} == {"RA801"}
    assert claim.targets.files == ["src/evaluate.py"] and claim.evidence.startswith("RA801 at src/evaluate.py:")
    assert not any(findings[i].rule == "RA801" for i in missed)


def test_shared_words_without_the_same_kind_of_defect_do_not_confirm():
    # names evaluate.py and run_ids like RA801's finding, but claims a missing metrics.json
    claims, findings, _ = _audit(_bundle(), "evaluate.py never writes metrics.json for each of the run_ids.")
    assert any(f.rule == "RA801" for f in findings)
    assert all(findings[i].rule != "RA801" for c in claims for i in c.findings)


def test_a_claim_about_another_file_is_not_confirmed_by_a_finding_elsewhere():
    f = _finding(rule="RA401", path="src/model.py", line=28, message="lora_B.register_hook", topic="model", criterion="4")
    claims, _ = adjudicate("train.py calls `lora_B.register_hook`, which does not exist on a ModuleDict.", [f], None, Severity.major)
    assert claims[0].status == "unverified"


def test_related_end_of_a_cross_file_finding_counts():
    f = _finding(rule="RA601", path="src/evaluate.py", line=30, message="evaluate.py reads history key 'val_accuracy' that train.py never logs",
                 topic="wandb", related=[Related(label="logged in", path="src/train.py", line=12, snippet='wandb.log({"val_acc": acc})')])
    claims, _ = adjudicate("train.py logs `val_acc` at line 12, but the key evaluate.py reads is never logged.", [f], None, Severity.major)
    assert claims[0].status == "confirmed"


def test_a_configured_name_the_code_rejects_is_confirmed_at_the_config_line_that_sets_it():
    from rules.exec_runtime import RunReachesRaise as R

    files = {"src/main.py": R._ARGPARSE_MAIN, "src/train.py": R._ARGPARSE_TRAIN, "src/model.py": R._MODEL,
             "config/smoke_test.yaml": R._EXPERIMENTS.format(smoke="cnn"), "config/full_experiment.yaml": R._EXPERIMENTS.format(smoke="resnet20_gn")}
    claims, findings, _ = _audit(files, "1. The full experiment config requests 'resnet20_gn', which is unsupported: build() only knows cnn and mlp.\n"
                                        "2. The smoke-test configuration uses names the code does not recognise.")
    raised = next(i for i, f in enumerate(findings) if f.rule == "RA915")
    assert [r.path for r in findings[raised].related] == ["config/full_experiment.yaml"]
    assert claims[0].status == "confirmed" and claims[0].findings == [raised], claims[0].evidence
    assert claims[1].status != "confirmed"  # the smoke test's `cnn` is built: its config is not the finding's place


def test_namespace_package_claim_refuted():
    claims, _, _ = _audit(_bundle(), "train.py uses relative imports (from .model import build), but without src/__init__.py Python cannot "
                                     "treat src as a package, so python -m src.train raises ImportError.")
    (claim,) = claims
    assert claim.status == "refuted", claim.evidence
    assert "namespace package" in claim.evidence and "src/train.py:1" in claim.evidence


def test_missing_dependency_claim_refuted_through_a_declared_one():
    claims, _, _ = _audit(_bundle(), "Missing dependency: evaluate.py imports pandas but pyproject.toml does not list it.")
    (claim,) = claims
    assert claim.status == "refuted", claim.evidence
    assert "seaborn" in claim.evidence


def test_undeclared_dependency_claim_is_not_refuted():
    files = _bundle(**{"src/model.py": "import timm\n\n\ndef build(cfg) -> int:\n    return 1\n"})
    claims, _, _ = _audit(files, "model.py imports timm but timm is not listed in the pyproject dependencies.")
    assert claims[0].status == "confirmed", claims[0].evidence  # RA903: import without dependency


def test_syntax_error_claims_refuted_when_the_module_parses_and_confirmed_when_not():
    issue = 'model.py contains a syntax error: "def build(cfg) -\\u003e int:" is not valid Python syntax.'
    claims, _, _ = _audit(_bundle(), issue)
    assert claims[0].status == "refuted" and "src/model.py parses" in claims[0].evidence
    claims, findings, _ = _audit(_bundle(**{"src/model.py": "def build(cfg) -\\u003e int:\n    return 1\n"}), issue)
    assert claims[0].status == "confirmed" and findings[claims[0].findings[0]].rule == "RA001"


def test_the_explanation_of_a_syntax_error_is_its_premise():
    # the parameter named cache_dir is why the reviewer thinks it does not parse, not a cache claim
    issue = ("Syntax error in src/model.py: build defines a keyword-only argument without a default (cache_dir) "
             "after arguments that have defaults.")
    claims, _, _ = _audit(_bundle(**{"src/model.py": "def build(cfg, *, depth=2, cache_dir) -> int:\n    return 1\n"}), issue)
    assert claims[0].status == "refuted" and "src/model.py parses" in claims[0].evidence


def test_a_missing_config_file_is_the_premise_of_a_composition_claim():
    from rules.hydra import _CONFIG, _RUN, _main

    files = {"src/main.py": _main("    print(cfg.run.model.name)\n"), "config/config.yaml": _CONFIG.replace("run: ???", "run: default")}
    ctx = context_for_case(Case(files=files, runs={"r1": _RUN}, spec={"run_config_dir": "config/run"}))
    findings = run_rules(ctx, all_rules()).findings
    claims, _ = adjudicate("config/config.yaml contains `- run: default`, and config/run/default.yaml is not included, so Hydra "
                           "raises ConfigNotFoundError before any run starts.", findings, ctx, Severity.major)
    assert claims[0].status == "refuted" and "Hydra composes the config of src/main.py for every run" in claims[0].evidence, claims[0].evidence


def test_transport_key_claim_refuted():
    claims, _, _ = _audit(_bundle(**{"config/config.yaml": "a: 1\n"}),
                          "File structure: the JSON bundle exposes keys (config_yaml, model_py) instead of real files such as config/config.yaml.")
    assert claims[0].status == "refuted", claims[0].evidence
    assert "transport key" in claims[0].evidence


def test_claim_no_rule_covers_is_unverified_and_says_so():
    claims, _, _ = _audit(_bundle(), "build() returns a float tensor but the classifier expects integer token ids: shape mismatch at run time.")
    assert claims[0].status == "unverified"
    assert claims[0].evidence == "no rule covers shape-or-type"


def test_all_clear_statement_is_no_false_alarm_but_lists_the_missed_blockers_against_it():
    ctx = context_for_case(Case(files=_bundle()))
    findings = run_rules(ctx, all_rules()).findings
    claims, missed = adjudicate("config.yaml lacks a wandb section.\n\nAll other core criteria are met.", findings, ctx, Severity.major)
    clear = [c for c in claims if c.text.startswith("All other")]
    assert clear and clear[0].status == "context"
    assert any(findings[i].rule == "RA801" for i in missed)
    assert clear[0].evidence.startswith("all-clear statement, contradicted by what no claim names") and set(clear[0].findings) == set(missed)


def test_criterion_table_reviewer_column_uses_the_claims_criteria():
    spec = default_spec()
    data = next(c.number for c in spec.criteria if c.topic == "data")
    f = _finding(criterion=str(data))
    claims, _ = adjudicate("preprocess.py drops the label column (remove_columns).", [f], None, Severity.major, spec=spec)
    assert claims[0].criterion == str(data)
    rows = {r.criterion: r for r in criterion_table(spec, [f], False, claims, Severity.major)}
    assert rows[str(data)].tool == "fail" and rows[str(data)].reviewer == "fail" and rows[str(data)].findings == 1
    others = [r for n, r in rows.items() if n != str(data)]
    assert others and all(r.reviewer == "unstated" for r in others)
    approved = {r.criterion: r for r in criterion_table(spec, [f], True, [], Severity.major)}
    assert approved[str(data)].reviewer == "pass" and approved[str(data)].tool == "fail"
