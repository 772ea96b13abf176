"""Hardening: reviewer-audit reads untrusted LLM output in CI and must never crash, hang, run
the audited code, or write where it was not asked to.

Every command runs as a separate process (the console script, as CI runs it) over hostile
input; the checks are the exit code (0/1 for a report, 2 for an input error), stderr (one line
for an input error, never a traceback), a time bound, the marker files of
`fixtures/hostile_bundle` (`/tmp/reviewer_audit_executed_*`, written if anything imports,
runs, builds or installs it) and a snapshot of every folder a command could write to.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from functools import lru_cache
from pathlib import Path

import pytest

from reviewer_audit.ingest.limits import MAX_BUNDLE_FILE_BYTES, MAX_BUNDLE_FILES, MAX_INPUT_BYTES
from tests.conftest import FIXTURES, run_cli
from tests.fuzz_strategies import deep_expr, hostile_bundle_files, markers, seed

HOSTILE = FIXTURES / "hostile_bundle"
TIMEOUT = 60  # seconds per command: "never a hang"


# --------------------------------------------------------------------------- helpers


@lru_cache(maxsize=None)
def has_command(name: str) -> bool:
    return run_cli(name, "--help").returncode == 0


def need(name: str) -> None:
    if not has_command(name):
        pytest.skip(f"`reviewer-audit {name} --help` fails: the {name} command does not exist yet")


def cli(*args: str, cwd: Path | None = None) -> "subprocess.CompletedProcess":  # noqa: F821
    started = time.monotonic()
    res = run_cli(*map(str, args), cwd=cwd, timeout=TIMEOUT)
    res.elapsed = time.monotonic() - started
    return res


def assert_clean_exit(res, allowed=(0, 1, 2)) -> None:
    """A report (0/1) or a one-line input error (2); never a traceback."""
    where = f"reviewer-audit {' '.join(res.args[1:])[:300]}"
    assert "Traceback" not in res.stderr, f"{where}: traceback\n{res.stderr[-3000:]}"
    assert "Warning" not in res.stderr, f"{where}: a warning (about the audited input?) leaked to stderr\n{res.stderr[-3000:]}"
    assert res.returncode in allowed, f"{where}: exit {res.returncode}\n{res.stderr[-2000:]}"
    if res.returncode == 2:
        lines = [line for line in res.stderr.splitlines() if line.strip() and not line.startswith("reviewer-audit: note:")]
        assert len(lines) == 1, f"{where}: input error is not one line:\n{res.stderr[-2000:]}"
        assert lines[0].startswith("reviewer-audit: "), lines[0]


def assert_input_error(res, *words: str) -> None:
    assert_clean_exit(res, allowed=(2,))
    for w in words:
        assert w.lower() in res.stderr.lower(), f"{w!r} not in {res.stderr!r}"


def snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """{path: (size, mtime_ns)} of every entry under `roots`, symlinks not followed."""
    out = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                st = p.lstat()
                out[str(p)] = (st.st_size if not p.is_dir() else 0, st.st_mtime_ns if not p.is_dir() else 0)
    return out


def transcript_with(bundle: dict | str, runs: list[str] | None = None, extra_lines: dict[int, str] | None = None) -> str:
    """seed_002 with its bundle line replaced (a dict, or raw JSON text) and, optionally, its run
    configs' YAML replaced and lines inserted."""
    doc = seed("seed_002")
    lines = list(doc.lines)
    lines[doc.bundle_index] = bundle if isinstance(bundle, str) else json.dumps(bundle)
    for (first, count), text in reversed(list(zip(doc.run_spans, runs or []))):
        lines[first:first + count] = text.split("\n")
    for at, line in sorted((extra_lines or {}).items(), reverse=True):
        lines.insert(at, line)
    return "\n".join(lines)


HOSTILE_RUN_YAML = (HOSTILE / "config" / "runs" / "hostile-run.yaml").read_text(encoding="utf-8")


def hostile_transcript(tmp: Path) -> Path:
    """The hostile bundle embedded as the transcript's JSON bundle, its run config as a run."""
    path = tmp / "hostile_transcript.txt"
    path.write_text(transcript_with(hostile_bundle_files(), runs=[HOSTILE_RUN_YAML]), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_markers():
    """No marker before (stale ones are removed), none after."""
    for m in markers():
        m.unlink()
    yield
    found = markers()
    for m in found:
        m.unlink()
    assert not found, f"bundle code was executed: {[str(m) for m in found]}"


# --------------------------------------------------------------------------- never execute


def test_hostile_fixture_is_intact():
    """The never-execute tests are only as good as the fixture."""
    names = {p.relative_to(HOSTILE).as_posix() for p in HOSTILE.rglob("*") if p.is_file()}
    assert {"conftest.py", "setup.py", "sitecustomize.py", "usercustomize.py", "x.pth", "hostile_backend.py",
            "src/__init__.py", "src/main.py", "src/train.py", "config/config.yaml", "config/runs/hostile-run.yaml"} <= names
    assert "!!python/object/apply:os.system" in (HOSTILE / "config" / "config.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("where", ["hostile_dir", "tmp"])
def test_no_command_executes_the_bundle(where, tmp_path):
    """Every command over the hostile bundle (as a folder, a JSON bundle and a transcript), run
    from inside the bundle and from elsewhere: a report or a clean error, and no marker."""
    cwd = HOSTILE if where == "hostile_dir" else tmp_path
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    transcript = hostile_transcript(inputs)
    bundle_json = inputs / "hostile_bundle.json"
    bundle_json.write_text(json.dumps(hostile_bundle_files()), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    runs = [
        ("parse", transcript), ("parse", transcript, "--format", "json"),
        ("audit-review", transcript), ("audit-review", transcript, "--format", "json"),
    ]
    if has_command("check"):
        runs += [  # one process, all three inputs, every output format
            ("check", HOSTILE, bundle_json, transcript, "--output", "text", "--output", f"json:{out / 'r.json'}", "--output", f"sarif:{out / 'r.sarif'}",
             "--output", f"junit:{out / 'r.xml'}", "--output", "github"),
        ]
    if has_command("report"):
        runs += [("report", inputs, "--jobs", "1"), ("report", inputs, "--jobs", "2", "--format", "json", "--output", out / "report.json")]
    for args in runs:
        res = cli(*args, cwd=cwd)
        assert_clean_exit(res, allowed=(0, 1))
        assert not markers(), f"reviewer-audit {args[0]} executed bundle code: {markers()}"
    if not has_command("check") or not has_command("report"):
        pytest.skip("ran parse and audit-review; check and/or report do not exist yet")


def test_console_script_ignores_modules_in_the_audited_folder(tmp_path):
    """Run from inside a bundle that ships modules named like the tool's own dependencies: the
    console script must import the real ones (the folder is not on sys.path)."""
    need("check")
    repo = tmp_path / "repo"
    shutil.copytree(HOSTILE, repo)
    for name in ("typer", "rich", "libcst", "pydantic", "yaml", "ruamel", "hydra", "omegaconf", "jsonschema", "packaging", "json", "re", "ast"):
        (repo / f"{name}.py").write_text(f"import pathlib\npathlib.Path('/tmp/reviewer_audit_executed_shadow_{name}').write_text('x')\n", encoding="utf-8")
    res = cli("check", ".", cwd=repo)
    assert_clean_exit(res, allowed=(0, 1))


# --------------------------------------------------------------------------- paths never escape

BAD_KEYS = ["../x.py", "/etc/passwd", "C:\\x", "a\x00b", "src/../../x", "\\\\host\\share\\x.py", "C:x",
            "evil\n::error file=x.py::injected", "src/\x1b[2Jx.py", "src/\u202etxt.py"]


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_path_escaping_keys_are_input_errors(key, tmp_path):
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"train_py": "x = 1\n", key: "secret = 1\n"}), encoding="utf-8")
    from reviewer_audit.ingest.bundle import Bundle
    from reviewer_audit.ingest.errors import InputError
    from reviewer_audit.ingest.transcript import parse_transcript

    with pytest.raises(InputError) as err:
        Bundle.from_json_file(bundle)
    assert "\n" not in str(err.value) and str(err.value).startswith(f"{bundle}: ")
    with pytest.raises(InputError) as err:  # the same keys inside a transcript
        parse_transcript(transcript_with({"train_py": "x = 1\n", key: "secret = 1\n"}), source="t.txt")
    assert "\n" not in str(err.value) and str(err.value).startswith("t.txt: ")
    if has_command("check"):
        assert_input_error(cli("check", bundle))
    else:
        transcript = tmp_path / "t.txt"
        transcript.write_text(transcript_with({"train_py": "x = 1\n", key: "secret = 1\n"}), encoding="utf-8")
        assert_input_error(cli("parse", transcript))


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlinks_are_never_followed(tmp_path):
    """A bundle folder with a symlinked file and a symlinked folder pointing outside it: the
    targets are not read, and nothing crashes."""
    secret = "SECRET_OUTSIDE_THE_BUNDLE_5f1c"
    outside = tmp_path / "outside"
    (outside / "pkg").mkdir(parents=True)
    (outside / "secret.py").write_text(f"TOKEN = '{secret}'\n", encoding="utf-8")
    (outside / "pkg" / "model.py").write_text(f"TOKEN = '{secret}'\n", encoding="utf-8")
    (outside / "config.yaml").write_text(f"token: {secret}\n", encoding="utf-8")
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "clean_bundle", repo)
    (repo / "src" / "evaluate.py").unlink()
    (repo / "src" / "evaluate.py").symlink_to(outside / "secret.py")
    (repo / "src" / "linked").symlink_to(outside / "pkg", target_is_directory=True)
    (repo / "config" / "extra.yaml").symlink_to(outside / "config.yaml")
    (repo / "dangling.py").symlink_to(tmp_path / "does-not-exist.py")

    from reviewer_audit.api import check_bundle

    report = check_bundle(repo)
    dumped = report.model_dump_json()
    assert secret not in dumped
    assert not any(p.startswith("src/linked") or p in ("dangling.py", "config/extra.yaml") for p in [f.path or "" for f in report.findings])
    if has_command("check"):
        res = cli("check", repo, "--output", "json", cwd=tmp_path)
        assert_clean_exit(res, allowed=(0, 1))
        assert secret not in res.stdout and secret not in res.stderr
    from reviewer_audit.ingest.bundle import Bundle

    paths = Bundle.from_directory(repo).paths()
    assert "src/train.py" in paths and not {"src/evaluate.py", "dangling.py", "config/extra.yaml"} & set(paths)
    assert not any(p.startswith("src/linked") for p in paths)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifos_and_devices_are_refused_not_waited_on(tmp_path):
    """Reading a FIFO (or a device) named like an input blocks forever; such paths are input
    errors, and a folder scan (`report`) lists them and goes on."""
    os.mkfifo(tmp_path / "pipe.txt")
    shutil.copy(FIXTURES / "seed_002_fwlora_o3_ready.txt", tmp_path / "ok.txt")
    assert_input_error(cli("parse", tmp_path / "pipe.txt"), "regular file")
    assert_input_error(cli("audit-review", "/dev/zero"), "regular file")
    if has_command("check"):
        os.mkfifo(tmp_path / "pipe.json")
        assert_input_error(cli("check", tmp_path / "pipe.json"), "regular file")
    if has_command("report"):
        assert_clean_exit(cli("report", tmp_path, "--jobs", "1"), allowed=(0,))


def test_writes_go_only_where_asked(tmp_path):
    """Commands write their --output files and nothing else: not in the cwd, not next to the
    inputs, not in the fixtures."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    transcript = hostile_transcript(inputs)
    out = tmp_path / "out"
    out.mkdir()
    watched = (tmp_path, HOSTILE)
    steps = [(("parse", transcript, "--format", "json"), set()), (("audit-review", transcript, "--format", "json"), set())]
    if has_command("check"):
        steps.append((("check", HOSTILE, transcript, "--output", f"json:{out / 'check.json'}", "--output", f"sarif:{out / 'check.sarif'}",
                       "--output", f"junit:{out / 'check.xml'}"), {out / "check.json", out / "check.sarif", out / "check.xml"}))
    if has_command("report"):
        steps.append((("report", inputs, "--jobs", "1", "--format", "json", "--output", out / "report.json", "--jsonl", out / "rows.jsonl"),
                      {out / "report.json", out / "rows.jsonl"}))
    for args, expected in steps:
        before = snapshot(*watched)
        res = cli(*args, cwd=cwd)
        assert_clean_exit(res, allowed=(0, 1))
        after = snapshot(*watched)
        changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
        assert changed == {str(p) for p in expected}, f"reviewer-audit {args[0]} changed {sorted(changed)}"
        for p in expected:
            assert p.stat().st_size > 0


# --------------------------------------------------------------------------- YAML safety

BILLION_LAUGHS = "\n".join(
    ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
) + "\n"
PYTHON_TAGS = (
    "defaults:\n  - _self_\nrun: null\nmode: full\n"
    "hook: !!python/object/apply:os.system [\"touch /tmp/reviewer_audit_executed_yaml_test\"]\n"
    "other: !!python/object/new:subprocess.Popen [[\"touch\", \"/tmp/reviewer_audit_executed_yaml_test2\"]]\n"
    "mod: !!python/name:os.system\n"
)


@pytest.mark.parametrize("kind", ["python_tags", "billion_laughs", "recursive_alias"])
def test_hostile_yaml(kind, tmp_path):
    text = {"python_tags": PYTHON_TAGS, "billion_laughs": BILLION_LAUGHS, "recursive_alias": "a: &a [*a]\nmode: full\n"}[kind]
    bundle = dict(seed("small").bundle)
    bundle["config_yaml"] = text
    transcript = tmp_path / "t.txt"
    transcript.write_text(transcript_with(bundle, runs=[text, text]), encoding="utf-8")
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "clean_bundle", repo)
    (repo / "config" / "config.yaml").write_text(text, encoding="utf-8")
    for run in (repo / "config" / "runs").glob("*.yaml"):
        run.write_text(text, encoding="utf-8")
    results = [cli("audit-review", transcript), cli("parse", transcript, "--format", "json")]
    if has_command("check"):
        results.append(cli("check", repo))
    for res in results:
        assert_clean_exit(res)
        assert res.elapsed < 30, f"took {res.elapsed:.1f} s"


# --------------------------------------------------------------------------- resource limits


def _big_file(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def test_input_over_the_size_limit(tmp_path):
    big = _big_file(tmp_path / "big.txt", MAX_INPUT_BYTES + 1)
    big_json = _big_file(tmp_path / "big.json", MAX_INPUT_BYTES + 1)
    assert_input_error(cli("parse", big), "limit")
    assert_input_error(cli("audit-review", big), "limit")
    if has_command("check"):
        assert_input_error(cli("check", big_json), "limit")


def test_too_many_bundle_files(tmp_path):
    files = {f"src/gen/m{i}.py": "x = 1\n" for i in range(MAX_BUNDLE_FILES + 1)}
    bundle = tmp_path / "many.json"
    bundle.write_text(json.dumps(files), encoding="utf-8")
    transcript = tmp_path / "many.txt"
    transcript.write_text(transcript_with(files), encoding="utf-8")
    assert_input_error(cli("audit-review", transcript), str(MAX_BUNDLE_FILES))
    if has_command("check"):
        assert_input_error(cli("check", bundle), str(MAX_BUNDLE_FILES))
        repo = tmp_path / "repo"
        for rel in files:
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text("x = 1\n", encoding="utf-8")
        assert_input_error(cli("check", repo), str(MAX_BUNDLE_FILES))


def test_bundle_file_over_the_size_limit(tmp_path):
    files = {"train_py": "# " + "x" * MAX_BUNDLE_FILE_BYTES + "\n"}
    transcript = tmp_path / "t.txt"
    transcript.write_text(transcript_with(files), encoding="utf-8")
    assert_input_error(cli("audit-review", transcript), str(MAX_BUNDLE_FILE_BYTES))
    if has_command("check"):
        bundle = tmp_path / "b.json"
        bundle.write_text(json.dumps(files), encoding="utf-8")
        assert_input_error(cli("check", bundle), str(MAX_BUNDLE_FILE_BYTES))


PATHOLOGICAL_PYTHON = {
    "parens_5000": deep_expr("paren", 5000),
    "lists_5000": deep_expr("list", 5000),
    "lambdas_5000": deep_expr("lambda", 5000),
    "attrs_5000": deep_expr("attr", 5000),
    "plus_100k": deep_expr("plus", 100_000),
    "plus_20k": deep_expr("plus", 20_000),
    "nested_ifs_200": deep_expr("if_nest", 200),
    "one_line_5mb": "x = '" + "a" * 1_900_000 + "'\n",
}


def test_pathological_python_is_reported_not_crashed_on(tmp_path):
    """libcst segfaults or stalls on some of these; each bundle must still get a report, with
    the module named by RA001, within the time limit."""
    bundles = []
    for name, code in PATHOLOGICAL_PYTHON.items():
        files = dict(seed("small").bundle, train_py=code)
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(files), encoding="utf-8")
        bundles.append(path)
    from reviewer_audit.api import check_bundle

    for path in bundles:  # in-process too: no exception, RA001 on src/train.py, no RA000
        report = check_bundle(path)
        rules = {(f.rule, f.path) for f in report.findings}
        assert ("RA001", "src/train.py") in rules, (path.name, sorted(rules))
        assert not any(f.rule == "RA000" for f in report.findings), [f.message for f in report.findings if f.rule == "RA000"]
    transcript = tmp_path / "deep.txt"
    transcript.write_text(transcript_with(dict(seed("small").bundle, train_py=PATHOLOGICAL_PYTHON["parens_5000"],
                                               model_py=PATHOLOGICAL_PYTHON["lambdas_5000"])), encoding="utf-8")
    res = cli("audit-review", transcript, "--format", "json")
    assert_clean_exit(res, allowed=(1,))
    assert "RA001" in res.stdout
    if has_command("check"):
        res = cli("check", *bundles, "--output", "json")
        assert_clean_exit(res, allowed=(1,))
        assert res.elapsed < TIMEOUT


def test_five_megabyte_line(tmp_path):
    """A 5 MB line in the prompt, of the shapes that made regexes backtrack."""
    for i, line in enumerate(["# x" + " " * 5_000_000 + "y", "- Run ID: x" + " " * 5_000_000 + "y",
                              "* `python " + "-m src.a x " * 450_000]):
        transcript = tmp_path / f"line{i}.txt"
        transcript.write_text(transcript_with(seed("small").bundle, extra_lines={20: line}), encoding="utf-8")
        res = cli("audit-review", transcript)
        assert_clean_exit(res)
        assert res.elapsed < 30, f"line {i}: {res.elapsed:.1f} s"


@pytest.mark.parametrize("raw", ["9" * 100_000, "[" * 10_000 + "]" * 10_000, "{\"a\":" * 10_000 + "1" + "}" * 10_000],
                         ids=["100k_digit_number", "10k_deep_list", "10k_deep_object"])
def test_hostile_json(raw, tmp_path):
    """In a JSON bundle, as a bundle value and as the whole document; and as the verdict."""
    value = tmp_path / "value.json"
    value.write_text('{"train_py": ' + raw + "}", encoding="utf-8")
    whole = tmp_path / "whole.json"
    whole.write_text(raw, encoding="utf-8")
    transcript = tmp_path / "t.txt"
    transcript.write_text(transcript_with('{"train_py": ' + raw + "}"), encoding="utf-8")
    verdict = tmp_path / "v.txt"
    verdict.write_text(transcript_with(seed("small").bundle).rsplit("Output:", 1)[0] + "Output:\n" + '{"is_code_ready": ' + raw + "}\n", encoding="utf-8")
    assert_input_error(cli("parse", transcript))
    assert_input_error(cli("audit-review", verdict))
    if has_command("check"):
        assert_input_error(cli("check", value))
        assert_input_error(cli("check", whole))


def test_yaml_and_toml_limits(tmp_path):
    """Costly YAML (deep flows, size) and TOML (dotted-key blow-up, deep nesting) end in a
    report or a one-line error, quickly."""
    cases = {
        "yaml_flow_depth": dict(seed("small").bundle, config_yaml="x: " + "[" * 1000 + "]" * 1000 + "\n"),
        "yaml_size": dict(seed("small").bundle, config_yaml="".join(f"k{i}: {i}\n" for i in range(100_000))),
        "toml_dotted_key": dict(seed("small").bundle, pyproject_toml="a" + ".a" * 30_000 + " = 1\n"),
        "toml_nesting": dict(seed("small").bundle, pyproject_toml="x = " + "[" * 600 + "]" * 600 + "\n"),
        "toml_big_int": dict(seed("small").bundle, pyproject_toml="x = " + "9" * 5000 + "\n"),
    }
    for name, files in cases.items():
        transcript = tmp_path / f"{name}.txt"
        transcript.write_text(transcript_with(files), encoding="utf-8")
        res = cli("audit-review", transcript)
        assert_clean_exit(res)
        assert res.elapsed < 30, f"{name}: {res.elapsed:.1f} s"
