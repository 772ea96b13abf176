"""The transcript parser on the seeds, the real corpus, and generated damage."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer_audit.ingest.errors import InputError
from reviewer_audit.ingest.transcript import load_transcript, parse_transcript

from .conftest import SEED_000, SEED_002, corpus_files, needs_corpus, run_cli


def test_seed_000_spot_values():
    t = load_transcript(SEED_000)
    assert t.llm_name == "o3-2025-04-16" and t.llm_name_line == 2
    assert t.verdict.ready is False and "remove_columns" in t.verdict.issue
    assert t.verdict.ready_key == "is_code_ready"
    assert [r.run_id for r in t.runs] == ["proposed-DeBERTa-v3-base-86M--GLUE-MNLI", "comparative-1-DeBERTa-v3-base-86M--GLUE-MNLI"]
    assert len(t.bundle.files) == 7 and "src/train.py" in t.bundle.files
    assert [c.number for c in t.prompt.criteria] == list(range(1, 10))
    assert t.prompt.criteria[8].title == "Mode-Based Implementation"
    run = t.runs[0]
    assert run.yaml_line == 161 and run.config["model"]["backbone"] == "microsoft/deberta-v3-base"
    assert run.config_lines["model.backbone"] == 5  # line 165 of the transcript
    assert t.hypothesis is not None and t.method is not None and t.experimental_design is not None


def test_seed_002_spot_values():
    from reviewer_audit.spec.prompt import spec_for_transcript

    t = load_transcript(SEED_002)
    assert t.verdict.ready is True and t.verdict.issue == ""
    assert spec_for_transcript(t).run_config_dir == "config/runs"
    assert spec_for_transcript(load_transcript(SEED_000)).run_config_dir == "config/run"
    assert t.bundle.files["pyproject.toml"].transcript_line == 294


def test_output_format_heading_is_not_the_verdict():
    text = SEED_002.read_text()
    assert "## Output Format" in text
    t = parse_transcript(text)
    assert t.verdict.span.start > t.prompt.span.end


def test_empty_bundle_is_valid_and_empty():
    text = "\nInput:\nprompt\n# Generated Experiment Code (To be validated)\n{}\nOutput:\n{\"is_code_ready\": true, \"code_issue\": \"\"}\n"
    t = parse_transcript(text)
    assert t.bundle.is_empty and t.verdict.ready is True


def test_unknown_bundle_keys_are_kept_under_a_clear_path():
    text = "\nInput:\n# Generated Experiment Code (To be validated)\n" + json.dumps({"utils_py": "x = 1\n"}) + "\nOutput:\n{\"is_code_ready\": false}\n"
    assert parse_transcript(text).bundle.paths() == ["unmapped/utils_py"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty transcript"),
        ("\nInput:\nno verdict here\n", "no 'Output:' line"),
        ("\nInput:\nx\nOutput:\nnot json\n", "is not JSON"),
        ("\nInput:\n# Generated Experiment Code (To be validated)\n{\"train_py\": \"abc\nOutput:\n{}\n", "truncated"),
        ("\nInput:\nx\nOutput:\n", "nothing after 'Output:'"),
        ("\nInput:\nx\nOutput:\n[1, 2]\n", "expected an object"),
    ],
)
def test_malformed_transcripts_give_one_line_errors(text, expected):
    with pytest.raises(InputError) as err:
        parse_transcript(text, source="t.txt")
    assert expected in str(err.value) and "\n" not in str(err.value) and str(err.value).startswith("t.txt: ")


@needs_corpus
def test_every_corpus_transcript_parses():
    files = corpus_files()
    assert len(files) == 112
    families = {"generated": 0, "derived": 0}
    for f in files:
        t = load_transcript(f)
        families[t.family] += 1
        assert t.prompt.criteria, f.name
        assert t.verdict.ready is not None, f.name
        if t.family == "generated":
            assert t.runs and all(r.config is not None for r in t.runs), f.name
        else:
            # the Derived bundle is judged, never the Base one
            assert t.base_bundle is not None and t.bundle_line > max(s.span.start for s in t.sections if s.title.startswith("Base Code"))
    assert families == {"generated": 94, "derived": 18}


def test_parse_cli_json_and_errors(tmp_path):
    ok = run_cli("parse", str(SEED_000), "--format", "json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["schema_version"] and data["llm_name"] == "o3-2025-04-16"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\nInput:\n\xff\xfe\nOutput:\n{}\n")
    res = run_cli("parse", str(bad))
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "UTF-8" in res.stderr and "Traceback" not in res.stderr
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(17 * 1024 * 1024)
    res = run_cli("parse", str(big))
    assert res.returncode == 2 and "limit" in res.stderr


# --------------------------------------------------------------------------- property tests

SEED_TEXT = SEED_000.read_text(encoding="utf-8")
SEED_LINES = SEED_TEXT.split("\n")


def _parse_or_input_error(text: str) -> None:
    try:
        t = parse_transcript(text, source="fuzz.txt")
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz.txt: ")
    else:
        assert t.verdict is not None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0, max_value=len(SEED_TEXT)))
def test_truncated_transcripts(cut):
    _parse_or_input_error(SEED_TEXT[:cut])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(list(range(len(SEED_LINES)))))
def test_shuffled_transcripts(order):
    _parse_or_input_error("\n".join(SEED_LINES[i] for i in order))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corrupted_transcripts(data):
    chars = list(SEED_TEXT)
    for _ in range(data.draw(st.integers(1, 20))):
        i = data.draw(st.integers(0, len(chars) - 1))
        chars[i] = data.draw(st.characters())
    _parse_or_input_error("".join(chars))
