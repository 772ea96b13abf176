"""AuditSpec: what this reviewer prompt demands, read from the prompt itself.

Prompt versions differ (9 or 10 criteria, `config/run/` vs `config/runs/`, a `mode=` flag or a
`trial_mode=true` flag, a structured-logging criterion that *requires* `print(json.dumps(...))`
where later versions *forbid* it). So nothing here is hard-coded to one version: each
requirement is detected in the criterion text that states it, and a rule runs only when its
requirement is present. The criterion number a finding carries is the number of the criterion
whose text stated the requirement, in that very prompt.

Without a transcript (a bundle in CI), the default spec is read the same way from the newest
prompt version, shipped as `reviewer_audit/data/default_prompt.md`.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

#: Config groups the prompt versions put run configs in (`config/<group>/<run_id>.yaml`).
RUN_CONFIG_GROUPS = ("run", "runs", "experiment", "experiments")

#: Criterion topics, and the title words that identify each one across prompt versions.
TOPIC_TITLES: dict[str, tuple[str, ...]] = {
    "completeness": ("Complete Implementation", "Placeholder", "Code Completeness"),
    "hydra": ("Hydra",),
    "data": ("Data Pipeline",),
    "model": ("Model Implementation", "Functional Enhancement"),
    "files": ("File Structure", "Consistency with Base"),
    "logging": ("Structured Logging",),
    "wandb": ("WandB",),
    "config": ("Configuration Files",),
    "evaluate": ("Evaluation",),
    "modes": ("Trial Mode", "Mode-Based"),
    "exec": ("Executability",),
}

#: Requirements a prompt can state, each recognised by a pattern in its criterion text.
#: name -> (pattern, what the requirement means). Rules name the requirement they enforce.
REQUIREMENT_PATTERNS: dict[str, tuple[str, str]] = {
    "no_placeholders": (r"TODO|PLACEHOLDER|omitted for brevity", "no placeholder or truncated code"),
    "exact_file_set": (r"EXACTLY these required files|Same file structure", "exactly the required files"),
    "hydra_run_configs": (r"Uses Hydra to manage all experiment configurations", "run configs composed by Hydra"),
    "mode_flag": (r"mode=(?:full|trial)\b|`mode` parameter", "a required `mode=trial|full` parameter"),
    "trial_mode_flag": (r"trial_mode=true", "a `trial_mode=true` flag"),
    "trial_wandb_disabled": (r"wandb\.mode\s*=\s*\"?disabled|disables WandB|WandB automatically disabled", "trial mode disables WandB"),
    "trial_epochs_1": (r"epochs\s*=\s*1", "trial mode runs one epoch"),
    "trial_optuna_off": (r"n_trials\s*=\s*0", "trial mode disables Optuna"),
    "trial_limit_batches": (r"batches limited to 1-2", "trial mode limits batches to 1-2"),
    "full_wandb_online": (r"wandb\.mode\s*=\s*\"online\"", "full mode sets WandB online"),
    "cache_dir": (r"`\.cache/` as the cache directory", "`.cache/` is the cache directory"),
    "wandb_log": (r"train\.py initializes WandB and logs", "train.py logs metrics with wandb.log"),
    "wandb_keys_match": (r"MUST exactly match the keys used in evaluate\.py", "logged keys match the keys evaluate.py reads"),
    "wandb_no_optuna_trials": (r"DO NOT log intermediate trial results", "no WandB logging inside Optuna trials"),
    "no_train_json_dump": (r"NO results\.json or stdout JSON dumps in train\.py", "no results.json / stdout JSON in train.py"),
    "train_json_print": (r"train\.py prints JSON-formatted metrics", "train.py prints JSON metrics to stdout"),
    "wandb_entity_project": (r"WandB settings \(entity/project\)|entity/project from config", "config.yaml has wandb entity and project"),
    "evaluate_run_ids": (r"run_ids='\[", "evaluate.py takes `results_dir=` and `run_ids='[...]'`"),
    "evaluate_key_value": (r"src\.evaluate\s+results_dir=", "evaluate.py is called with `key=value` arguments (`results_dir=...`)"),
    "evaluate_json_loads": (r"json\.loads\(args\.run_ids\)", "run_ids parsed with json.loads"),
    "main_not_call_evaluate": (r"main\.py DOES NOT call evaluate\.py", "main.py does not call evaluate.py"),
    "evaluate_wandb_api": (r"wandb\.Api\(\)", "evaluate.py reads runs with wandb.Api()"),
    "evaluate_summary_json_dict": (r"run\.summary\._json_dict", "summary read as run.summary._json_dict"),
    "evaluate_metrics_json": (r"\{results_dir\}/\{run_id\}/metrics\.json", "per-run metrics.json"),
    "evaluate_aggregated_json": (r"comparison/aggregated_metrics\.json", "comparison/aggregated_metrics.json"),
    "evaluate_derived_metric": (r"derived metrics", "a derived metric such as the improvement rate"),
    "evaluate_significance": (r"[Ss]tatistical significance", "a statistical significance test"),
    "evaluate_run_figures": (r"run-specific figures \(learning curves", "per-run figures: learning curves and confusion matrices"),
    "figure_names_run": (r"\{run_id\}_\{figure_topic\}", "per-run figures named {run_id}_..."),
    "config_lists_run_ids": (r"config\.yaml contains list of all experiment run_ids", "config/config.yaml lists every run_id"),
    "figures_pdf": (r"PDF output|PDF figures|\]\.pdf`", "figures are saved as PDF"),
    "figure_names_comparison": (r"comparison_\{figure_topic\}", "comparison figures named comparison_..."),
    "no_figures_in_train": (r"train\.py and main\.py generate NO figures", "no figures from train.py/main.py"),
    "derived_variations_in_configs": (r"run_variations are defined in both", "every run variation in smoke_test and full_experiment configs"),
}

# Bounded repeats: with `[^`]*?...[^`]*` a long backtick-free criterion line full of "-m src.x"
# backtracks quadratically (176 KB: 10 s). Real commands: <= 20 characters before `-m`, <= 60 after.
_CLI = re.compile(r"`(?P<cmd>(?:uv run )?python[^`]{0,200}?-m (?P<module>src\.\w{1,100})(?P<args>[^`]{0,500}))`")
_FILE_ITEM = re.compile(r"^\*\s+`(?P<path>[^`]+)`")
_RUN_DIR = re.compile(r"`(?P<dir>config/[\w.-]+)/(?:\*|\{run_id\})\.yaml`")
_VERDICT_KEY = re.compile(r"^-\s+`(?P<key>\w+)`:\s*(?P<type>\w+)", re.M)


class CliArg(BaseModel):
    name: str
    value: str


class CliForm(BaseModel):
    """One command line the prompt prescribes, e.g. `python -u -m src.main run={run_id} ... mode=full`."""

    command: str
    module: str
    args: list[CliArg] = Field(default_factory=list)

    @property
    def arg_names(self) -> list[str]:
        return [a.name for a in self.args]


class CriterionRef(BaseModel):
    number: int
    title: str
    topic: str | None


class AuditSpec(BaseModel):
    """Everything the rules need to know about what the prompt asked for."""

    version: str = Field(description="Fingerprint of the prompt's criteria text.")
    family: str = Field(default="generated", description="'generated' or 'derived' (Base/Derived prompts).")
    criteria: list[CriterionRef] = Field(default_factory=list)
    required_files: list[str] = Field(default_factory=list)
    forbid_extra_files: bool = True
    run_config_dir: str | None = Field(default=None, description="Folder of run configs, e.g. 'config/runs'.")
    run_config_files: list[str] = Field(default_factory=list, description="Named run-config files (Base/Derived family).")
    cli: list[CliForm] = Field(default_factory=list)
    #: requirement name -> numbers of the criteria whose text states it.
    requirements: dict[str, list[int]] = Field(default_factory=dict)
    verdict_keys: list[str] = Field(default_factory=list)
    run_variations: list[str] = Field(default_factory=list, description="The experiment's run variations, from the prompt's hypothesis section.")

    def has(self, requirement: str) -> bool:
        return requirement in self.requirements

    def criterion_for(self, topic: str, requirement: str | None = None) -> str:
        """The criterion a finding belongs to in this prompt: the one stating `requirement`
        (preferring the one whose topic matches), else the one of `topic`, else "exec"."""
        stated = self.requirements.get(requirement or "", [])
        by_topic = [c.number for c in self.criteria if c.topic == topic]
        for number in stated:
            if number in by_topic:
                return str(number)
        if stated:
            return str(stated[0])
        return str(by_topic[0]) if by_topic else "exec"

    def cli_for(self, module: str) -> list[CliForm]:
        return [c for c in self.cli if c.module == module]


def topic_of(title: str) -> str | None:
    for topic, words in TOPIC_TITLES.items():
        if any(w.lower() in title.lower() for w in words):
            return topic
    return None


def spec_from_prompt(prompt, family: str = "generated", base_files: list[str] | None = None) -> AuditSpec:
    """Read an `AuditSpec` from a parsed `Prompt` (see `reviewer_audit.ingest.transcript`)."""
    criteria = prompt.criteria
    spec = AuditSpec(
        version=prompt.fingerprint,
        family=family,
        criteria=[CriterionRef(number=c.number, title=c.title, topic=topic_of(c.title)) for c in criteria],
    )
    for c in criteria:
        text = c.text
        for name, (pattern, _meaning) in REQUIREMENT_PATTERNS.items():
            if re.search(pattern, text):
                spec.requirements.setdefault(name, []).append(c.number)
        if topic_of(c.title) == "files":
            spec.required_files += [m.group("path") for m in map(_FILE_ITEM.match, c.bullets) if m]
        if spec.run_config_dir is None and (m := _RUN_DIR.search(text)):
            spec.run_config_dir = m.group("dir")
        for m in _CLI.finditer(text):
            form = _cli_form(m)
            if form.command not in {f.command for f in spec.cli}:
                spec.cli.append(form)
        for path in re.findall(r"`(config/[\w.-]+\.yaml)`", text):
            if path != "config/config.yaml" and path not in spec.run_config_files:
                spec.run_config_files.append(path)
    if family == "derived" and base_files and not spec.required_files:
        spec.required_files = sorted(base_files)
    spec.verdict_keys = _verdict_keys(prompt.text)
    return spec


def _verdict_keys(text: str) -> list[str]:
    section = text.split("## Output Format", 1)[1] if "## Output Format" in text else ""
    return [m.group("key") for m in _VERDICT_KEY.finditer(section)]


def _cli_form(m: re.Match) -> CliForm:
    args = []
    # keys are whole tokens: `wandb.mode=online` is the key `wandb.mode`, not `mode`
    for token in re.findall(r"(?:^|\s)\+{0,2}([\w.]+)=('[^']*'|\"[^\"]*\"|\S+)", m.group("args")):
        args.append(CliArg(name=token[0], value=token[1]))
    return CliForm(command=" ".join(m.group("cmd").split()), module=m.group("module"), args=args)


def spec_for_transcript(transcript) -> AuditSpec:
    base = transcript.base_bundle.paths() if transcript.base_bundle is not None else None
    spec = spec_from_prompt(transcript.prompt, family=transcript.family, base_files=base)
    spec.run_variations = list(transcript.run_variations)
    return spec


@lru_cache(maxsize=1)
def default_spec() -> AuditSpec:
    """The spec of the newest known prompt version, for bundles checked without a transcript."""
    from reviewer_audit.ingest.transcript import parse_transcript

    text = (Path(__file__).parents[1] / "data" / "default_prompt.md").read_text(encoding="utf-8")
    transcript = parse_transcript(f"\nInput:\n{text}\nOutput:\n{{}}\n", source="<default prompt>")
    return spec_for_transcript(transcript)


def with_trial_mode_flag(spec: AuditSpec) -> AuditSpec:
    """The same prompt in its `trial_mode=true` generation (October 2025): the run command has no
    `mode=` parameter, full mode is the plain command and trial mode adds `trial_mode=true`.

    `check` uses it for a bundle written for that generation (its config declares `trial_mode`
    and no `mode`): judged against the newest prompt's `mode=full`, every such bundle would
    "fail to compose", which says which prompt it was written for, not whether it runs."""
    cli: list[CliForm] = []
    seen: set[str] = set()
    for form in spec.cli:
        if form.module == "src.main":
            command = " ".join(re.sub(r"(?<![\w.])mode=\w+", "", form.command).split())
            if command in seen:
                continue
            seen.add(command)
            form = form.model_copy(update={"command": command, "args": [a for a in form.args if a.name != "mode"]})
        cli.append(form)
    requirements = dict(spec.requirements)
    if "mode_flag" in requirements:
        requirements["trial_mode_flag"] = requirements.pop("mode_flag")
    return spec.model_copy(update={"cli": cli, "requirements": requirements, "version": f"{spec.version}+trial_mode"})
