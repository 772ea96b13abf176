"""Transcript parser: the text a pipeline wrote -> a validated `Transcript`.

A transcript is: a blank first line, an optional `LLM Name: ...` line, `Input:`, the reviewer
prompt (criteria, hypothesis/method, run configs, the code bundle), then a line that is exactly
`Output:` and the reviewer's JSON verdict. Every part keeps its 1-based line span so findings
can point back into the transcript. Quirks handled here (see the corpus README):

- `## Output Format` inside the prompt is not the verdict; the verdict follows the line that is
  exactly `Output:` (the last such line).
- The bundle is one line of JSON with `\\u003c`-style escapes; it is decoded as JSON.
- In the Base/Derived family the judged bundle is the *Derived* one, never the Base one.
- Run-config YAML sits in ```yaml fences where only the first line is indented by two spaces,
  so a plain dedent would break it.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pydantic import BaseModel, Field

from reviewer_audit.ingest.bundle import Bundle
from reviewer_audit.ingest.errors import InputError

SCHEMA_VERSION = "1.0"

# No `.*?` followed by `\s*$`: on a long line of spaces that backtracks quadratically. The
# captured text is stripped in code instead.
_HEADING = re.compile(r"^# (?P<title>\S.*)")
# At most 9 digits: int() of a 5000-digit "number" raises ValueError (CPython's digit limit).
_CRITERION = re.compile(r"^(?P<num>\d{1,9})\.\s+\*\*(?P<title>.+?)\*\*")
_RUN_ID = re.compile(r"^- Run ID:(?P<id>.*)")
_RUN_FIELD = re.compile(r"^\s+(?P<key>Method|Model|Dataset):(?P<value>.*)")
_FENCE = re.compile(r"^\s*```")
_CODE_SECTION = re.compile(r"Experiment Code \(To be validated\)")


class Span(BaseModel):
    """1-based, inclusive line range in the transcript file."""

    start: int
    end: int


class Criterion(BaseModel):
    number: int
    title: str
    bullets: list[str] = Field(default_factory=list)
    span: Span

    @property
    def text(self) -> str:
        return "\n".join([self.title, *self.bullets])


class Section(BaseModel):
    title: str
    text: str
    span: Span


class RunConfig(BaseModel):
    """One entry of `# Experiment Runs`, with its YAML parsed (line numbers kept)."""

    run_id: str
    method: str | None = None
    model: str | None = None
    dataset: str | None = None
    yaml_text: str = ""
    #: Transcript line of the first YAML line; YAML line n sits at `yaml_line + n - 1`.
    yaml_line: int | None = None
    config: dict | None = None
    #: key path -> 1-based line inside the YAML text.
    config_lines: dict[str, int] = Field(default_factory=dict)
    package: str | None = None
    yaml_error: str | None = None
    span: Span

    def load_yaml(self) -> None:
        """Parse `yaml_text` into `config`/`config_lines`/`package`, or record why it failed.
        One place for transcripts and rule cases, so both read run configs the same way."""
        from reviewer_audit.ingest.yamlio import YamlError, load_yaml

        try:
            doc = load_yaml(self.yaml_text)
        except YamlError as exc:
            self.yaml_error = str(exc)
            return
        self.config = doc.data if isinstance(doc.data, dict) else None
        self.config_lines = doc.lines
        self.package = doc.package
        if doc.data is not None and not isinstance(doc.data, dict):
            self.yaml_error = f"run config is a YAML {type(doc.data).__name__}, expected a mapping"


class Verdict(BaseModel):
    """The reviewer's answer, normalised across prompt versions."""

    ready: bool | None
    issue: str = ""
    ready_key: str | None = None
    issue_key: str | None = None
    raw: dict = Field(default_factory=dict)
    span: Span


class Prompt(BaseModel):
    text: str
    span: Span
    criteria: list[Criterion] = Field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        """A stable id of the prompt version: a hash of its criteria titles and bullets."""
        body = "\n".join(c.text for c in self.criteria) if self.criteria else self.text
        return hashlib.sha256(" ".join(body.split()).encode()).hexdigest()[:12]


class Transcript(BaseModel):
    schema_version: str = SCHEMA_VERSION
    source: str
    llm_name: str | None = None
    llm_name_line: int | None = None
    prompt: Prompt
    prompt_version: str
    family: str = Field(description="'generated' or 'derived' (Base/Derived prompt family)")
    sections: list[Section] = Field(default_factory=list)
    hypothesis: Section | None = None
    method: Section | None = None
    experimental_design: Section | None = None
    runs: list[RunConfig] = Field(default_factory=list)
    run_variations: list[str] = Field(default_factory=list)
    bundle: Bundle
    bundle_line: int | None = None
    base_bundle: Bundle | None = None
    verdict: Verdict

    def section(self, prefix: str) -> Section | None:
        return next((s for s in self.sections if s.title.startswith(prefix)), None)


def load_transcript(path: Path | str) -> Transcript:
    """Read and parse a transcript file; any problem is an `InputError` naming the file."""
    from reviewer_audit.ingest.textio import read_text

    path = Path(path)
    return parse_transcript(read_text(path), source=str(path))


def parse_transcript(text: str, source: str = "<transcript>") -> Transcript:
    from reviewer_audit.ingest.textio import check_text

    if not text.strip():
        raise InputError(source, "empty transcript")
    check_text(text, source, "transcript")
    lines = text.split("\n")
    output_idx = _last_index(lines, lambda s: s.rstrip("\r") == "Output:")
    if output_idx is None:
        raise InputError(source, "no 'Output:' line, so there is no reviewer verdict to audit")
    input_idx = _first_index(lines[:output_idx], lambda s: s.rstrip("\r") == "Input:")
    llm_name, llm_line = _llm_name(lines[: input_idx if input_idx is not None else output_idx])
    start = (input_idx + 1) if input_idx is not None else (llm_line or 0)
    prompt_lines = lines[start:output_idx]
    if not any(s.strip() for s in prompt_lines):
        raise InputError(source, "no reviewer prompt before 'Output:'")

    sections = _sections(prompt_lines, first_line=start + 1, source=source)
    instructions = next((s for s in sections if s.title == "Instructions"), None)
    criteria = _criteria(instructions or Section(title="", text="\n".join(prompt_lines), span=Span(start=start + 1, end=output_idx)), source)
    prompt = Prompt(text="\n".join(prompt_lines), span=Span(start=start + 1, end=output_idx), criteria=criteria)

    code_sections = [s for s in sections if _CODE_SECTION.search(s.title)]
    family = "derived" if any(s.title.startswith("Derived") for s in code_sections) else "generated"
    judged = next((s for s in code_sections if s.title.startswith("Derived")), code_sections[0] if code_sections else None)
    bundle, bundle_line = _bundle(judged, source)
    base_section = next((s for s in sections if s.title.startswith("Base Code")), None)
    base_bundle = _bundle(base_section, source)[0] if base_section is not None else None

    runs_section = next((s for s in sections if s.title == "Experiment Runs"), None)
    current = next((s for s in sections if s.title.startswith("Current Experiment")), None)

    return Transcript(
        source=source,
        llm_name=llm_name,
        llm_name_line=llm_line,
        prompt=prompt,
        prompt_version=prompt.fingerprint,
        family=family,
        sections=sections,
        hypothesis=next((s for s in sections if s.title == "Hypothesis"), None),
        method=next((s for s in sections if s.title == "Current Research Method"), None),
        experimental_design=next((s for s in sections if s.title == "Experimental Design"), None),
        runs=_runs(runs_section, source) if runs_section else [],
        run_variations=_run_variations(current) if current else [],
        bundle=bundle,
        bundle_line=bundle_line,
        base_bundle=base_bundle,
        verdict=_verdict(lines, output_idx, source),
    )


# --------------------------------------------------------------------------- helpers


def _first_index(lines: list[str], pred) -> int | None:
    return next((i for i, s in enumerate(lines) if pred(s)), None)


def _last_index(lines: list[str], pred) -> int | None:
    return next((i for i in range(len(lines) - 1, -1, -1) if pred(lines[i])), None)


def _llm_name(head: list[str]) -> tuple[str | None, int | None]:
    for i, line in enumerate(head):
        if line.startswith("LLM Name:"):
            name = line[len("LLM Name:"):].strip()
            return (name or None), i + 1
    return None, None


def _sections(prompt_lines: list[str], first_line: int, source: str = "<transcript>") -> list[Section]:
    """Split the prompt at `# Title` headings that sit outside code fences.

    Lines before the first heading form a section titled "" (the preamble).
    """
    from reviewer_audit.ingest.limits import MAX_PROMPT_SECTIONS

    sections: list[Section] = []
    title, body, body_start = "", [], first_line
    in_fence = False
    for offset, line in enumerate(prompt_lines):
        lineno = first_line + offset
        if _FENCE.match(line):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if m:
            if len(sections) >= MAX_PROMPT_SECTIONS:
                raise InputError(source, f"the prompt has more than {MAX_PROMPT_SECTIONS} '# ' sections (line {lineno})")
            if title or any(s.strip() for s in body):
                sections.append(Section(title=title, text="\n".join(body), span=Span(start=body_start, end=max(body_start, lineno - 1))))
            title, body, body_start = m.group("title").rstrip(), [], lineno
            continue
        body.append(line)
    sections.append(Section(title=title, text="\n".join(body), span=Span(start=body_start, end=first_line + max(0, len(prompt_lines) - 1))))
    return sections


def _criteria(section: Section, source: str = "<transcript>") -> list[Criterion]:
    """Numbered `N. **Title**:` items and their bullet lines, stopping at the next `## ` heading."""
    from reviewer_audit.ingest.limits import MAX_CRITERIA

    criteria: list[Criterion] = []
    current: Criterion | None = None
    in_list = False
    for offset, line in enumerate(section.text.split("\n")):
        lineno = section.span.start + 1 + offset
        if line.startswith("## "):
            in_list = "Criteria" in line or "Requirements" in line
            current = None
            continue
        m = _CRITERION.match(line)
        if m and in_list:
            if len(criteria) >= MAX_CRITERIA:
                raise InputError(source, f"the prompt has more than {MAX_CRITERIA} numbered criteria (line {lineno})")
            current = Criterion(number=int(m.group("num")), title=m.group("title").strip().rstrip(":"), span=Span(start=lineno, end=lineno))
            criteria.append(current)
            continue
        if current is not None and line.strip():
            current.bullets.append(line.strip())
            current.span.end = lineno
    return criteria


def _bundle(section: Section | None, source: str) -> tuple[Bundle, int | None]:
    """Decode the JSON object in a code section. No JSON at all is a valid, empty bundle."""
    if section is None:
        return Bundle(source=source), None
    lines = section.text.split("\n")
    idx = _first_index(lines, lambda s: s.lstrip().startswith("{"))
    if idx is None:
        return Bundle(source=source), None
    lineno = section.span.start + 1 + idx
    blob = "\n".join(lines[idx:])
    try:
        data, _end = json.JSONDecoder().raw_decode(blob.lstrip())
    except json.JSONDecodeError as exc:
        if exc.pos >= len(blob.strip()) - 1 or "Unterminated" in exc.msg:
            raise InputError(source, f"code bundle JSON at line {lineno} is truncated ({exc.msg})") from None
        raise InputError(source, f"code bundle JSON at line {lineno} is invalid: {exc.msg} (char {exc.pos})") from None
    except (RecursionError, ValueError) as exc:
        raise InputError(source, f"code bundle JSON at line {lineno} is unusable: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise InputError(source, f"code bundle at line {lineno} is JSON {type(data).__name__}, expected an object")
    return Bundle.from_mapping(data, source=source, transcript_line=lineno), lineno


def _runs(section: Section, source: str = "<transcript>") -> list[RunConfig]:
    from reviewer_audit.ingest.limits import MAX_BUNDLE_YAML_BYTES, MAX_RUN_CONFIGS
    from reviewer_audit.ingest.yamlio import yaml_limit_problem

    runs: list[RunConfig] = []
    yaml_bytes = 0
    lines = section.text.split("\n")
    first = section.span.start + 1
    i = 0
    while i < len(lines):
        m = _RUN_ID.match(lines[i])
        if not m:
            i += 1
            continue
        run = RunConfig(run_id=m.group("id").strip(), span=Span(start=first + i, end=first + i))
        if len(runs) >= MAX_RUN_CONFIGS:
            raise InputError(source, f"more than {MAX_RUN_CONFIGS} experiment runs (line {first + i})")
        _check_run_id(run.run_id, source, first + i)
        i += 1
        while i < len(lines) and not _RUN_ID.match(lines[i]):
            fm = _RUN_FIELD.match(lines[i])
            if fm and run.yaml_line is None:
                setattr(run, fm.group("key").lower(), fm.group("value").strip())
            elif lines[i].strip().startswith("```") and run.yaml_line is None:
                body_start = i + 1
                j = body_start
                while j < len(lines) and not lines[j].strip().startswith("```"):
                    j += 1
                body = lines[body_start:j]
                if body:
                    # Fence quirk: only the first YAML line carries the 2-space list indent.
                    indent = len(body[0]) - len(body[0].lstrip(" "))
                    body[0] = body[0][indent:]
                run.yaml_text = "\n".join(body)
                run.yaml_line = first + body_start
                problem = yaml_limit_problem(run.yaml_text)
                if problem is not None:
                    raise InputError(source, f"run config of {run.run_id!r} at line {run.yaml_line}: {problem}")
                yaml_bytes += len(run.yaml_text.encode("utf-8"))
                if yaml_bytes > MAX_BUNDLE_YAML_BYTES:
                    raise InputError(source, f"the run configs hold more than {MAX_BUNDLE_YAML_BYTES} bytes of YAML in all (line {run.yaml_line})")
                run.load_yaml()
                i = j
            run.span.end = first + i
            i += 1
        runs.append(run)
    return runs


def _check_run_id(run_id: str, source: str, line: int) -> None:
    """A run id names a file (`config/runs/<run_id>.yaml`) and a Hydra choice: one plain path
    component, so no id can point outside the run-config folder."""
    from reviewer_audit.ingest.bundle import _UNPRINTABLE

    if not run_id or run_id in (".", "..") or any(c in run_id for c in "/\\") or (len(run_id) > 1 and run_id[1] == ":") or _UNPRINTABLE(run_id):
        raise InputError(source, f"run id {run_id!r} at line {line} is not a plain file name")


def _run_variations(section: Section) -> list[str]:
    import ast

    for line in section.text.split("\n"):
        if line.startswith("- Run Variations:"):
            value = line.split(":", 1)[1].strip()
            try:
                parsed = ast.literal_eval(value)  # a Python list literal of strings, data only
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):  # TypeError: `[{[]: 1}]`
                return [v.strip(" '\"") for v in value.strip("[]").split(",") if v.strip()]
            if isinstance(parsed, (list, tuple)):
                return [str(v) for v in parsed]
    return []


def _verdict(lines: list[str], output_idx: int, source: str) -> Verdict:
    body_lines = lines[output_idx + 1:]
    text = "\n".join(body_lines).strip()
    if not text:
        raise InputError(source, f"nothing after 'Output:' (line {output_idx + 1}); expected the reviewer's JSON verdict")
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    try:
        data, _ = json.JSONDecoder().raw_decode(text.strip())
    except json.JSONDecodeError as exc:
        raise InputError(source, f"verdict after 'Output:' (line {output_idx + 1}) is not JSON: {exc.msg}") from None
    except (RecursionError, ValueError) as exc:
        raise InputError(source, f"verdict after 'Output:' (line {output_idx + 1}) is unusable: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise InputError(source, f"verdict after 'Output:' is JSON {type(data).__name__}, expected an object")
    from reviewer_audit.ingest.textio import check_json

    check_json(data, source, f"verdict after 'Output:' (line {output_idx + 1})")
    ready_key = next((k for k in data if k.startswith("is_") and k.endswith("ready")), None)
    issue_key = next((k for k in data if k.endswith("issue") or k.endswith("issues")), None)
    last = output_idx + 1 + max(i for i, s in enumerate(body_lines) if s.strip()) + 1 if any(s.strip() for s in body_lines) else output_idx + 1
    issue = data.get(issue_key, "") if issue_key else ""
    if isinstance(issue, list):
        issue = "\n".join(str(x) for x in issue)
    return Verdict(
        ready=_as_bool(data.get(ready_key)) if ready_key else None,
        issue=str(issue or ""),
        ready_key=ready_key,
        issue_key=issue_key,
        raw=data,
        span=Span(start=output_idx + 2, end=last),
    )


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None
