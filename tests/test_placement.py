"""Where findings hold: reach per command, latent code, consequences, the first crash per command.

Each test is a small real bundle checked end to end (`check_bundle`), so what is asserted is what
a user sees in the report, the JSON and the SARIF.
"""
from __future__ import annotations

import json

from reviewer_audit.api import check_bundle
from reviewer_audit.ingest.bundle import Bundle
from reviewer_audit.spec.prompt import default_spec

from .conftest import FIXTURES

HEADER = ("import hydra\nfrom omegaconf import OmegaConf\n\n"
          "@hydra.main(config_path='../config', config_name='config', version_base=None)\ndef main(cfg):\n")
FOOTER = "\n\nif __name__ == '__main__':\n    main()\n"
CLEAN = FIXTURES / "clean_bundle"


def _check(files: dict[str, str]):
    """The clean fixture bundle (it passes every rule) with some files replaced or removed (None)."""
    base = {p.relative_to(CLEAN).as_posix(): p.read_text() for p in CLEAN.rglob("*") if p.is_file()}
    merged = {k: v for k, v in {**base, **files}.items() if v is not None}
    return check_bundle(Bundle.from_mapping(merged, source="<test>"), spec=default_spec())


def _line(files: dict[str, str], path: str, text: str) -> int:
    return next(i for i, line in enumerate(files[path].splitlines(), 1) if text in line)


def test_reach_names_the_commands_that_run_the_code_and_their_modes():
    files = {"src/main.py": HEADER + "    if cfg.mode == 'trial':\n        cfg.epochs_override = 1\n" + FOOTER}
    report = _check(files)
    f = next(f for f in report.findings if f.rule == "RA206")
    assert f.severity.value == "blocker" and f.line == _line(files, "src/main.py", "epochs_override")
    assert f.reach is not None and not f.reach.latent
    assert f.reach.commands and all("mode=trial" in c for c in f.reach.commands)  # only the trial commands take that branch
    assert {c.mode for c in report.commands if c.kind == "main"} == {"trial", "full"}


def test_code_no_command_runs_is_latent_and_at_most_minor():
    files = {"src/main.py": HEADER + "    return helper(1, 2)\n\n\ndef helper(a, b):\n    return a\n\n\ndef never_called():\n    return helper(1)\n" + FOOTER}
    report = _check(files)
    f = next(f for f in report.findings if f.rule == "RA904")
    assert f.reach.latent and f.severity.value == "minor" and f.demoted_from.value == "blocker"
    assert "latent" in f.message
    assert report.tool_verdict.ready, [(g.rule, g.where, g.message) for g in report.findings if g.severity.value != "minor"]


def test_a_consequence_points_at_its_cause_and_does_not_decide_the_verdict():
    # src/model.py is required; a bundle without it makes the import of it fail, and only because of that
    files = {"src/model.py": None, "src/main.py": HEADER + "    from src.model import build\n    build(cfg)\n" + FOOTER}
    report = _check(files)
    cause = next(i for i, f in enumerate(report.findings) if f.rule == "RA501" and f.path == "src/model.py")
    consequence = next(i for i, f in enumerate(report.findings) if f.rule == "RA902")
    assert report.findings[consequence].consequence_of == cause
    assert report.tool_verdict.counts["blocker"] == sum(
        1 for f in report.findings if f.severity.value == "blocker" and f.consequence_of is None and not f.suppressed)
    for cmd in report.commands:
        assert consequence not in cmd.blockers
        if cmd.first_blocker == cause:
            assert consequence in cmd.consequences


def test_first_blocker_per_command_follows_execution_order_not_file_order():
    files = {"src/main.py": "import hydra\n\n\ndef late(cfg):\n    return cfg.model.absent\n\n\n" + HEADER.replace("import hydra\n", "")
             + "    cfg.brand_new = 1\n    late(cfg)\n" + FOOTER}
    report = _check(files)
    write = next(i for i, f in enumerate(report.findings) if f.rule == "RA206")
    read = next(i for i, f in enumerate(report.findings) if f.rule == "RA205")
    assert report.findings[read].line < report.findings[write].line  # the read comes first in the file...
    mains = [c for c in report.commands if c.kind == "main"]
    assert mains and all(c.first_blocker == write and read in c.consequences for c in mains)  # ...but runs later,
    # so every command that reaches it has crashed first: a consequence, not a second blocker
    assert report.findings[read].consequence_of == write and report.findings[read].after_crash
    assert report.tool_verdict.counts["blocker"] == 1


def test_a_blocker_some_command_reaches_before_any_crash_stays_a_blocker():
    """Only a blocker that every command reaching it meets after a crash is a consequence: here
    the evaluate-free child reads the missing key first, so it is its own first crash."""
    files = {"src/main.py": HEADER + "    if cfg.mode == 'trial':\n        cfg.brand_new = 1\n    print(cfg.model.absent)\n" + FOOTER}
    report = _check(files)
    read = next(i for i, f in enumerate(report.findings) if f.rule == "RA205")
    assert report.findings[read].consequence_of is None and not report.findings[read].after_crash
    firsts = {c.mode: c.first_blocker for c in report.commands if c.kind == "main"}
    assert firsts.get("full") == read and firsts.get("trial") != read


def test_suppressing_the_first_crash_frees_what_followed_it():
    from reviewer_audit.engine.placement import link_after_first_crash

    files = {"src/main.py": "import hydra\n\n\ndef late(cfg):\n    return cfg.model.absent\n\n\n" + HEADER.replace("import hydra\n", "")
             + "    cfg.brand_new = 1\n    late(cfg)\n" + FOOTER}
    findings = _check(files).findings
    write = next(i for i, f in enumerate(findings) if f.rule == "RA206")
    read = next(i for i, f in enumerate(findings) if f.rule == "RA205")
    assert findings[read].after_crash
    findings[write].suppressed = True
    link_after_first_crash(findings)
    assert findings[read].consequence_of is None and not findings[read].after_crash


def test_json_and_sarif_carry_reach_consequences_and_commands(tmp_path):
    from reviewer_audit.gate.check import run_check
    from reviewer_audit.output.sarif import sarif_log

    bundle = tmp_path / "b"
    for p in CLEAN.rglob("*"):
        if p.is_file() and p.name != "model.py":
            (bundle / p.relative_to(CLEAN)).parent.mkdir(parents=True, exist_ok=True)
            (bundle / p.relative_to(CLEAN)).write_text(p.read_text())
    (bundle / "src" / "main.py").write_text(HEADER + "    from src.model import build\n    build(cfg)\n" + FOOTER)
    result = run_check([bundle], cwd=tmp_path)
    report = result.reports[-1].report
    doc = json.loads(report.model_dump_json())
    assert doc["commands"] and {"command", "run_id", "mode", "first_blocker", "consequences"} <= set(doc["commands"][0])
    assert any(f["consequence_of"] is not None for f in doc["findings"])
    assert any(f["reach"] and f["reach"]["commands"] for f in doc["findings"])
    results = sarif_log(result, tmp_path)["runs"][0]["results"]
    cause = next(r for r in results if r["ruleId"] == "RA501")
    assert any("consequence of this crash" in rel["message"]["text"] for rel in cause.get("relatedLocations", []))
    assert next(r for r in results if r["ruleId"] == "RA902")["properties"]["consequenceOf"] == "RA501"


def test_code_behind_a_composition_failure_is_followed_as_meant_and_is_its_consequence():
    # `run=<id>` fails: the defaults list has no run group. With `+run=<id>` (what the author
    # meant) the run file lands under cfg.run, so the root read of cfg.training fails next
    files = {"src/main.py": HEADER + "    print(cfg.run.model.name, cfg.training.epochs)\n" + FOOTER,
             "config/config.yaml": "defaults:\n  - _self_\nresults_dir: results\nmode: full\n",
             "config/run/proposed-bert-tiny--sst2.yaml": "run_id: proposed-bert-tiny--sst2\nmodel:\n  name: bert-tiny\n",
             "config/run/comparative-1-bert-tiny--sst2.yaml": "run_id: comparative-1-bert-tiny--sst2\nmodel:\n  name: bert-tiny\n"}
    report = _check(files)
    cause = next(i for i, f in enumerate(report.findings) if f.rule == "RA203")
    missing = next(f for f in report.findings if f.rule == "RA205" and "cfg.training" in f.message)
    assert missing.consequence_of == cause and "assumed" in missing.message
    assert not any(f.rule == "RA205" and "cfg.run.model" in f.message for f in report.findings)
    mains = [c for c in report.commands if c.kind == "main"]
    assert mains and all(c.first_blocker == cause for c in mains)


def test_what_a_command_whose_config_does_not_compose_would_start_is_its_consequence():
    # `run: ???` is a plain key, but config/run/ makes `run=<id>` a group override Hydra rejects
    # (RA203). Followed as meant (run is the id string), main would start src.train with
    # `run_id=<id>`, a key src.train's config lacks (RA209): that child never starts
    main = HEADER + ("    import subprocess, sys\n"
                     "    subprocess.run([sys.executable, '-m', 'src.train', f'run_id={cfg.run}'], check=True)\n") + FOOTER
    train = HEADER + "    print(cfg.run)\n" + FOOTER
    files = {"src/main.py": main, "src/train.py": train,
             "config/config.yaml": "defaults:\n  - _self_\nrun: ???\nresults_dir: results\nmode: full\n",
             "config/run/proposed-bert-tiny--sst2.yaml": "run_id: proposed-bert-tiny--sst2\n",
             "config/run/comparative-1-bert-tiny--sst2.yaml": "run_id: comparative-1-bert-tiny--sst2\n"}
    report = _check(files)
    cause = next(i for i, f in enumerate(report.findings) if f.rule == "RA203")
    child = next(f for f in report.findings if f.rule == "RA209")
    assert child.consequence_of == cause
    children = [c for c in report.commands if c.kind == "child"]
    assert children and all(c.first_blocker == cause for c in children)
