"""What an AIRAS CI log and commit message say: run markers, attempts, the recorded error.

Pure functions over text; `history_runs` feeds them the lines each commit added to a log.

The pipeline's CI runs `python -m src.main run=<run_id> mode=trial|full` under `set -e` and
prints `=== [TRIAL RUN] PASSED for <run_id> at <date> ===` (`=== [FULL EXPERIMENT] PASSED ...`)
only when that command exits 0. Before 2025-10-17 the same line said `END` instead of `PASSED`
(same `set -e`, same meaning). Some workflow versions print the markers without `for <run_id>`.
Each command is preceded by `=== [... ] Start for <run_id> at <date> ===`, and by
`=== [UV SYNC] Start` / `Finished successfully` around the install; a Start with no PASSED
before the next Start (or the end of what the commit added) is a run that did not exit 0.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

_MARKER = re.compile(
    r"^=== \[(?P<stage>TRIAL RUN|FULL EXPERIMENT|UV SYNC)\] (?P<what>Start|PASSED|END|Finished successfully)"
    r"(?: for (?P<run_id>\S.*?))? at (?P<at>.+?) ===\s*$")
_MODES = {"TRIAL RUN": "trial", "FULL EXPERIMENT": "full"}
_DATE_FORMATS = ("%a %b %d %I:%M:%S %p UTC %Y", "%a %b %d %H:%M:%S UTC %Y", "%a %d %b %Y %I:%M:%S %p UTC", "%a %d %b %Y %H:%M:%S UTC")

_FIX = re.compile(r"^\[CI\] Automated fix for run_id=(?P<run_id>.*)$")
_APPLY_FIXES = re.compile(r"^\[CI\] Apply fixes for run_id: ?(?P<run_id>.*)$")
_TRIAL_PASSED = re.compile(r"^\[CI\] Add successful trial results for run_id=(?P<run_id>.*)$")
_FULL_RUN = re.compile(r"^\[CI\] Commit all changes from autonomous run \(iteration (?P<iteration>\d+)\)")

#: Run branches: `main-retry-<n>-<run_id>`, `research-<n>-<run_id>`, `main-<run_id>`. Plain
#: `main-retry-<n>` and `research` hold the pipeline itself (trial runs), not one run id.
_RUN_BRANCH = re.compile(r"^(?:main-retry-\d+-|research-\d+-|main-(?!retry-\d+$))(?P<run_id>.+)$")

_TRACEBACK = "Traceback (most recent call last):"
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)')
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Fault|Failure)|[A-Za-z_][\w.]*\.[A-Z]\w*)(?::\s?(?P<msg>.*))?$")
_WRAPPERS = ("subprocess.CalledProcessError", "CalledProcessError")
#: An exception named inside a line: `... (ModuleNotFoundError: No module named 'src')`.
_EMBEDDED = re.compile(r"(?:^|[\s(])([A-Za-z_][\w.]*(?:Error|Exception)): (.+?)\)?\s*$")
_NOT_ERRORS = ("UserWarning", "FutureWarning", "DeprecationWarning")
_HYDRA_FOOTER = "Set the environment variable HYDRA_FULL_ERROR=1"
_WARNING = re.compile(r"(?i)\bwarning\b|^\s*warnings\.warn")
_PLAIN_ERROR = re.compile(r"^\s*(?:error(?:\[[^\]]*\])?:|ERROR:|fatal:|×|\[Errno \d+\]|RuntimeError:|Killed\b|.*\bCUDA out of memory\b)", re.I)
_NAN_LOSS = re.compile(r"(?i)loss[^\n]{0,40}?(?<![\w.])-?nan(?![\w])")


@dataclass(frozen=True)
class CIMessage:
    """A commit message the pipeline's CI writes, classified."""

    kind: str  # 'fix' | 'apply_fixes' | 'trial_passed' | 'full_run' | 'other'
    run_id: str | None = None
    iteration: int | None = None


def classify_message(summary: str) -> CIMessage:
    s = summary.strip()
    for kind, pattern in (("fix", _FIX), ("apply_fixes", _APPLY_FIXES), ("trial_passed", _TRIAL_PASSED)):
        m = pattern.match(s)
        if m:
            return CIMessage(kind, m.group("run_id").strip() or None)
    m = _FULL_RUN.match(s)
    if m:
        return CIMessage("full_run", iteration=int(m.group("iteration")))
    return CIMessage("other")


def branch_run_id(branch: str) -> str | None:
    """The run id a run branch is named after (remote prefix `origin/` ignored), else None."""
    name = branch.split("/", 1)[1] if "/" in branch else branch
    m = _RUN_BRANCH.match(name)
    return m.group("run_id") if m else None


def parse_log_date(text: str | None) -> str | None:
    """`Fri Oct 17 08:22:01 AM UTC 2025` (what `date -u` prints) -> ISO 8601 in UTC."""
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).replace(tzinfo=dt.timezone.utc).isoformat()
        except ValueError:
            continue
    return None


@dataclass
class Attempt:
    """One command the CI ran, as the added log lines show it."""

    mode: str | None  # 'trial' | 'full' | None (an install that failed before any run started)
    run_id: str | None
    passed: bool
    marker: str | None = None  # 'PASSED' or 'END' when passed
    started_at: str | None = None
    ended_at: str | None = None
    stage: str = "run"  # 'run' or 'install' (uv sync did not finish)
    lines: list[str] = field(default_factory=list)  # the stdout lines of this attempt

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def attempts(stdout_added: str) -> list[Attempt]:
    """Split the stdout lines one commit added into the commands that ran, in order."""
    out: list[Attempt] = []
    current: Attempt | None = None
    sync: Attempt | None = None  # an install in progress (no run has started since)
    for raw in stdout_added.splitlines():
        m = _MARKER.match(raw.strip())
        if m is None:
            holder = current or sync
            if holder is not None:
                holder.lines.append(raw)
            continue
        stage, what, run_id, at = m.group("stage"), m.group("what"), m.group("run_id"), m.group("at")
        if stage == "UV SYNC":
            if what == "Start":
                current = None
                sync = Attempt(mode=None, run_id=None, passed=False, stage="install", started_at=parse_log_date(at), lines=[raw])
                out.append(sync)
            elif sync is not None:  # finished: the run that follows is what counts
                out.remove(sync)
                sync = None
            continue
        mode = _MODES[stage]
        if what == "Start":
            if sync is not None:  # the install finished without saying so (older logs)
                out.remove(sync)
                sync = None
            current = Attempt(mode=mode, run_id=run_id, passed=False, started_at=parse_log_date(at), lines=[raw])
            out.append(current)
            continue
        # PASSED / END: closes the open attempt of that mode, or stands alone (its Start was
        # committed earlier, or the log was trimmed).
        if current is not None and current.mode == mode and (run_id is None or current.run_id in (None, run_id)):
            current.passed, current.marker, current.ended_at = True, what, parse_log_date(at)
            current.run_id = current.run_id or run_id
            current.lines.append(raw)
        else:
            out.append(Attempt(mode=mode, run_id=run_id, passed=True, marker=what, ended_at=parse_log_date(at), lines=[raw]))
        current = None
    return out


def passed_lines(stdout_added: str) -> int:
    """How many PASSED (or END) lines a commit added: one per command that exited 0."""
    return sum(1 for raw in stdout_added.splitlines()
               if (m := _MARKER.match(raw.strip())) and m.group("what") in ("PASSED", "END"))


# --------------------------------------------------------------------------- the recorded error


@dataclass(frozen=True)
class RecordedError:
    """The error a log recorded: the exception line and where in the project it surfaced."""

    text: str
    path: str | None = None  # repository-relative (`src/train.py`) when a frame is in the project
    line: int | None = None


def project_path(frame_path: str) -> str | None:
    """`/home/ci/_work/x/x/src/train.py` -> `src/train.py`; None for library and frozen frames."""
    p = frame_path.replace("\\", "/")
    if "site-packages/" in p or "dist-packages/" in p or "/lib/python" in p or p.startswith("<"):
        return None
    if p.startswith("src/"):
        return p
    i = p.rfind("/src/")
    return p[i + 1:] if i >= 0 else None


def _tracebacks(lines: list[str]) -> list[tuple[str, list[tuple[str, int]]]]:
    """(exception line, [(frame path, line)]) of every traceback in `lines`."""
    out = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != _TRACEBACK:
            i += 1
            continue
        frames: list[tuple[str, int]] = []
        j = i + 1
        while j < len(lines):
            s = lines[j]
            fm = _FRAME.match(s)
            if fm:
                frames.append((fm.group("path"), int(fm.group("line"))))
            elif s and not s[0].isspace() and s.strip() and not s.startswith("Traceback"):
                break
            j += 1
        exc = lines[j].strip() if j < len(lines) else ""
        out.append((exc, frames))
        i = j + 1
    return out


def find_error(text: str) -> RecordedError | None:
    """The error a run's log recorded, or None. Best evidence first:

    1. a traceback's exception line -- of several (a child process's traceback and the
       `CalledProcessError` of the parent that launched it, or a chain of "during handling"),
       the first that is not a subprocess wrapper is the root cause; its place is the innermost
       frame inside the project (`src/...`);
    2. an exception named inside a line (`python3: Error while finding module specification for
       'src.train' (ModuleNotFoundError: No module named 'src')`);
    3. Hydra's short report (no traceback without HYDRA_FULL_ERROR): the message above its
       "Set the environment variable HYDRA_FULL_ERROR=1" footer;
    4. a wrapper's traceback alone; 5. a line that reads as an error (`error:` from uv, `ERROR:`,
       `Killed`, CUDA out of memory)."""
    lines = text.splitlines()
    tbs = [(exc, frames) for exc, frames in _tracebacks(lines) if exc]
    root = next(((e, f) for e, f in tbs if not e.startswith(_WRAPPERS)), None)
    if root is not None:
        return _from_traceback(*root)
    for raw in lines:
        if _is_traceback_line(raw):
            continue
        m = _EMBEDDED.search(raw)
        if m and not m.group(1).startswith(_WRAPPERS) and m.group(1).rsplit(".", 1)[-1] not in _NOT_ERRORS:
            return RecordedError(text=_clip(f"{m.group(1)}: {m.group(2)}".rstrip(")")))
    hydra = _hydra_message(lines)
    if hydra:
        return RecordedError(text=_clip(hydra))
    if tbs:
        return _from_traceback(*tbs[0])
    for raw in lines:
        if _PLAIN_ERROR.match(raw):
            return RecordedError(text=_clip(raw.strip()))
    return None


def first_episode(text: str) -> str:
    """The stderr of the first failing process: everything up to Hydra's HYDRA_FULL_ERROR
    footer or the end of the first traceback, whichever comes first. When one job ran the
    command several times, the first failure is the first thing it printed."""
    lines = text.splitlines()
    for i, raw in enumerate(lines):
        if _HYDRA_FOOTER in raw:
            return "\n".join(lines[: i + 1])
        if raw.strip() == _TRACEBACK:
            tb = _tracebacks(lines[i:])
            if tb and tb[0][0] and not tb[0][0].startswith(_WRAPPERS):
                end = next(j for j in range(i, len(lines)) if lines[j].strip() == tb[0][0])
                return "\n".join(lines[: end + 1])
    return text


def _from_traceback(exc: str, frames: list[tuple[str, int]]) -> RecordedError:
    where = next(((project_path(p), n) for p, n in reversed(frames) if project_path(p)), (None, None))
    return RecordedError(text=_clip(exc), path=where[0], line=where[1])


def _is_traceback_line(raw: str) -> bool:
    return raw.startswith((" ", "\t")) or raw.strip() == _TRACEBACK


def _hydra_message(lines: list[str]) -> str | None:
    """The top line of the message block Hydra printed above its footer."""
    for i, raw in enumerate(lines):
        if _HYDRA_FOOTER not in raw:
            continue
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        block: list[str] = []
        while j >= 0 and lines[j].strip() and not lines[j][0].isspace() and not _WARNING.search(lines[j]) \
                and not lines[j].startswith(("Error executing job", "Traceback", "=== [")):
            block.append(lines[j].strip())
            j -= 1
        if block:
            return block[-1]
    return None


def nan_loss(text: str) -> str | None:
    """The first line showing a NaN loss: the run completed, its result is not correct."""
    m = _NAN_LOSS.search(text)
    if m is None:
        return None
    start = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.end())
    return _clip(text[start:end if end >= 0 else len(text)].strip())


def exception_type(error_text: str) -> str | None:
    m = _EXCEPTION.match(error_text.strip())
    return m.group("type").rsplit(".", 1)[-1] if m else None


def _clip(s: str, limit: int = 300) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"
