"""AuditContext: the inputs of one audit and every shared fact, each computed at most once.

Rules receive the context and ask it for what they need (`ctx.module("src/train.py")`,
`ctx.config_doc`, `ctx.composed(run_id)`, ...). Everything is computed lazily and cached, so a
rule that is not selected costs nothing and two rules needing the same fact share one
computation (repo-review's "fixtures injected by name", as cached properties).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from reviewer_audit.ingest.bundle import Bundle
from reviewer_audit.program.facts import ModuleFacts, SyntaxProblem
from reviewer_audit.spec.prompt import RUN_CONFIG_GROUPS, AuditSpec
from reviewer_audit.ingest.yamlio import YamlDoc, YamlError, load_yaml

if TYPE_CHECKING:
    from reviewer_audit.ingest.transcript import RunConfig, Transcript

#: Short names rules use for the prompt's standard modules.
STANDARD_MODULES = {
    "main": "src/main.py",
    "train": "src/train.py",
    "evaluate": "src/evaluate.py",
    "preprocess": "src/preprocess.py",
    "model": "src/model.py",
}


@dataclass
class RunFile:
    """A run config provided next to the bundle (by the transcript, or found in the directory)."""

    run_id: str
    path: str  # where Hydra would find it, e.g. "config/runs/<run_id>.yaml"
    text: str
    doc: YamlDoc | None
    error: str | None
    #: transcript line of the YAML's first line, when it came from a transcript
    transcript_line: int | None = None


class AuditContext:
    def __init__(self, bundle: Bundle, spec: AuditSpec, runs: "list[RunConfig] | None" = None, transcript: "Transcript | None" = None,
                 exclude_newer: "dt.date | None" = None) -> None:
        self.bundle = bundle
        self.spec = spec
        self.transcript = transcript
        self._run_configs = runs or []
        #: Library releases published on or after this date do not count (uv's --exclude-newer):
        #: the audit judges the code by the libraries of its day. None: every release, as today.
        self.exclude_newer = exclude_newer

    # ------------------------------------------------------------------ python modules

    @cached_property
    def _parsed(self) -> dict[str, ModuleFacts | SyntaxProblem]:
        """Every .py file parsed once, in path order. The bundle's analysis budget
        (`reviewer_audit.program.pyguard`) goes to the standard modules first, then by path; a module
        past a limit is a `SyntaxProblem` saying it was not analysed."""
        from reviewer_audit.program.pyguard import PythonBudget, analyse

        standard = set(STANDARD_MODULES.values())
        paths = sorted((p for p in self.bundle.files if p.endswith(".py")), key=lambda p: (p not in standard, p))
        budget = PythonBudget()
        parsed: dict[str, ModuleFacts | SyntaxProblem] = {}
        for path in paths:
            parsed[path] = analyse(path, self.bundle.files[path].text, budget)
        return dict(sorted(parsed.items()))

    @property
    def modules(self) -> dict[str, ModuleFacts]:
        """Every Python module that parsed."""
        return {p: m for p, m in self._parsed.items() if isinstance(m, ModuleFacts)}

    @property
    def syntax_problems(self) -> list[SyntaxProblem]:
        return [m for m in self._parsed.values() if isinstance(m, SyntaxProblem)]

    def module(self, path_or_name: str) -> ModuleFacts | None:
        """A parsed module by bundle path or standard short name ("train"); None if absent or broken."""
        path = STANDARD_MODULES.get(path_or_name, path_or_name)
        m = self._parsed.get(path)
        return m if isinstance(m, ModuleFacts) else None

    def is_broken(self, path: str) -> bool:
        return isinstance(self._parsed.get(STANDARD_MODULES.get(path, path)), SyntaxProblem)

    def module_by_name(self, dotted: str) -> ModuleFacts | None:
        """The bundle module importable as `dotted` ("src.model"), if any."""
        for m in self.modules.values():
            if m.module_name == dotted:
                return m
        return None

    # ------------------------------------------------------------------ config files

    @cached_property
    def config_doc(self) -> YamlDoc | None:
        """config/config.yaml parsed with line numbers; None when absent or broken."""
        return self.yaml_doc("config/config.yaml")

    def yaml_doc(self, path: str) -> YamlDoc | None:
        return self._yaml_docs.get(path)

    @cached_property
    def _yaml_loaded(self) -> dict[str, YamlDoc | YamlError]:
        """Every YAML file of the bundle parsed once (a large file costs seconds to parse)."""
        out: dict[str, YamlDoc | YamlError] = {}
        for path, f in self.bundle.files.items():
            if path.endswith((".yaml", ".yml")):
                try:
                    out[path] = load_yaml(f.text)
                except YamlError as exc:
                    out[path] = exc
        return out

    @cached_property
    def _yaml_docs(self) -> dict[str, YamlDoc]:
        return {p: d for p, d in self._yaml_loaded.items() if isinstance(d, YamlDoc)}

    @cached_property
    def yaml_errors(self) -> dict[str, YamlError]:
        return {p: e for p, e in self._yaml_loaded.items() if isinstance(e, YamlError)}

    @cached_property
    def run_config_folder(self) -> str:
        """Where the run configs are: the prompt's folder; in a repository checked without a
        transcript whose prompt folder holds none, the config group the pipeline did put them in
        (an older prompt's `config/run/` when the newest prompt says `config/runs/`)."""
        folder = self.spec.run_config_dir or "config/run"
        if self._run_configs or self.bundle.origin != "directory":
            return folder

        def holds_yaml(f: str) -> bool:
            return any(p.startswith(f + "/") and p.endswith((".yaml", ".yml")) for p in self.bundle.files)

        if holds_yaml(folder):
            return folder
        return next((f for f in (f"config/{d}" for d in RUN_CONFIG_GROUPS) if holds_yaml(f)), folder)

    @cached_property
    def run_files(self) -> list[RunFile]:
        """Run configs where Hydra would look for them (`{run_config_folder}/{run_id}.yaml`)."""
        folder = self.run_config_folder
        out: list[RunFile] = []
        for run in self._run_configs:
            doc = None
            if run.config is not None:
                doc = YamlDoc(data=run.config, lines=dict(run.config_lines), package=run.package)
            out.append(RunFile(run.run_id, f"{folder}/{run.run_id}.yaml", run.yaml_text, doc, run.yaml_error, run.yaml_line))
        # run configs shipped inside a directory bundle count too
        known = {r.path for r in out}
        for path, f in sorted(self.bundle.files.items()):
            if path.startswith(folder + "/") and path.endswith(".yaml") and path not in known:
                doc = self.yaml_doc(path)
                err = self.yaml_errors.get(path)
                out.append(RunFile(path.rsplit("/", 1)[1][:-5], path, f.text, doc, str(err) if err else None))
        return out

    @cached_property
    def pyproject(self):
        from reviewer_audit.program.pyproject_check import check_pyproject

        text = self.bundle.text("pyproject.toml")
        return check_pyproject(text) if text is not None else None

    # ------------------------------------------------------------------ locations

    def transcript_line(self, path: str, line: int | None) -> int | None:
        """The line in the transcript file where `path:line` sits (JSON bundles are one line)."""
        f = self.bundle.files.get(path)
        if f is not None:
            return f.transcript_line
        for run in self.run_files:
            if run.path == path and run.transcript_line is not None:
                return run.transcript_line + (line or 1) - 1
        return None

    def line_text(self, path: str, line: int | None) -> str | None:
        if not line:
            return None
        text = self.bundle.text(path)
        if text is None:
            text = next((r.text for r in self.run_files if r.path == path), None)
        if text is None:
            return None
        lines = text.splitlines()
        return lines[line - 1].strip() if 0 < line <= len(lines) else None
