"""Adjudicate every reviewer claim: confirmed, refuted or unverified, with one line of evidence.

For each claim `reviewer_audit.verdict.claims` extracted:

* **confirmed** -- a finding reports the same kind of defect (its rule is in one of the claim's
  defect classes, `reviewer_audit.verdict.defects`) at the same place: a line the claim cites is
  within a few lines of the finding, or a name the claim uses (identifier, config key, API) is
  located by the program model within a few lines of it (a quotation of the code, a library's
  calls and a setting named in words count as places), or -- when the claim names no place in
  the finding's file -- the file agrees. A claim of an *absence* in the whole bundle (no
  significance test, no metrics.json, no Optuna study) is confirmed by its finding wherever it is
  anchored; a claim that names no place at all is confirmed by a finding of its class only when
  that class is a property of the whole bundle (trial mode not limiting batches).
* **refuted** -- no finding confirms it, and for every defect class the claim asserts the program
  model gives positive evidence that the point holds (the file exists, the import resolves, the
  key is in every run's composed config, the dependency is installed, the module parses,
  evaluate.py parses the prompt's command line) and no check finds the defect. A class no check
  covers keeps the claim from being refuted.
* An all-clear statement ("all other criteria are met") stays context: it raises no alarm, so it
  is no false alarm. When findings at threshold that no claim names contradict it, it lists them;
  they are counted once, as blockers the reviewer missed.
* **unverified** -- neither. The evidence says whether some rule covers the class (and did not
  fire) or none does: the tool's recall to-do list.

Findings at or above the threshold that no claim confirms are the blockers the reviewer missed.
"""
from __future__ import annotations

import re
from typing import Callable

from reviewer_audit.engine.findings import Finding, Severity, one_line
from reviewer_audit.verdict.claims import ALL_CLEAR_REASON, Claim, ClaimTargets, FileLine, RawClaim, extract_claims, infer_criterion
from reviewer_audit.verdict.defects import BY_NAME, classes_of_rule, covered
from reviewer_audit.verdict.evidence import NEARBY_LINES, Check, ProgramEvidence, Site

#: Topics of defects in how a library is used (where the bundle calls it is the claim's place);
#: Hydra's own calls are its entry points, which every configuration claim would otherwise reach.
_LIBRARY_TOPICS = frozenset({"exec", "data", "model"})

#: Classes whose findings describe the whole bundle (an absent output, a mode behaviour): a claim
#: that names no place is about the same thing as any finding of the class.
WHOLE_BUNDLE_TOPICS = frozenset({"modes", "evaluate", "logging", "completeness", "files"})


def adjudicate(issue: str, findings: list[Finding], ctx, fail_on: Severity, spec=None) -> tuple[list[Claim], list[int]]:
    """The reviewer's claims adjudicated against the findings and the program model, and the
    indexes of findings at threshold that no claim confirms."""
    ev = ProgramEvidence(ctx) if ctx is not None else None
    spec = spec if spec is not None else getattr(ctx, "spec", None)
    claims: list[Claim] = []
    linked: set[int] = set()
    for raw in extract_claims(issue):
        claim = _adjudicate_one(raw, findings, ev, spec)
        linked.update(claim.findings)
        claims.append(claim)
    missed = [i for i, f in enumerate(findings) if not f.suppressed and f.severity.at_least(fail_on) and i not in linked]
    if missed:
        claims = [_all_clear(c, findings, missed) if c.status == "context" and c.evidence == ALL_CLEAR_REASON else c for c in claims]
    return claims, missed


def _all_clear(claim: Claim, findings: list[Finding], missed: list[int]) -> Claim:
    """"All other criteria are met", contradicted by the findings at threshold that no claim names.
    It stays context: the reviewer approved too much (those findings are its missed blockers), it
    did not raise an alarm that costs a fixer iteration."""
    f = findings[missed[0]]
    more = f" and {len(missed) - 1} more" if len(missed) > 1 else ""
    return claim.model_copy(update=dict(
        findings=list(missed),
        evidence=f"all-clear statement, contradicted by what no claim names: {f.rule} at {f.where} ({one_line(f.message, 100)}){more}"))


def _adjudicate_one(raw: RawClaim, findings: list[Finding], ev: ProgramEvidence | None, spec) -> Claim:
    if raw.context is not None:
        return Claim(text=raw.text, status="context", evidence=raw.context, start=raw.start,
                     criterion=None)
    targets, sites = _resolve(raw, ev)
    criterion = infer_criterion(spec, raw.stated, raw.defects, raw.kind)
    base = dict(text=raw.text, kind=raw.kind, criterion=criterion, defects=raw.defects, targets=targets, start=raw.start)
    hits = [i for i, f in enumerate(findings) if not f.suppressed and _confirms(raw, targets, sites, f)]
    hits.sort(key=lambda i: _distance(findings[i], targets, sites))  # the evidence names the nearest
    if hits:
        f = findings[hits[0]]
        more = f" (+{len(hits) - 1} more)" if len(hits) > 1 else ""
        return Claim(**base, status="confirmed", findings=hits, evidence=f"{f.rule} at {f.where}: {one_line(f.message, 160)}{more}")
    checks = _checks(raw, targets, ev) if ev is not None else {}
    asserted = _asserted(raw)
    refuted, evidence = _refutation(asserted, {d: cs for d, cs in checks.items() if d in asserted})
    if refuted:
        broken = next((f for f in findings if not f.suppressed and classes_of_rule(f.rule) & _API_FAILS and _at_named_place(targets, ev, f)), None)
        if broken is None:
            return Claim(**base, status="refuted", evidence=evidence)
        # the claim says what a call does; the call itself fails: the reviewer named the wrong
        # mechanism of a real defect, which is not a false alarm
        return Claim(**base, status="unverified", evidence=(
            f"{evidence}; but {broken.rule} at {broken.where} reports that the code the claim names fails ({one_line(broken.message, 100)})"))
    return Claim(**base, status="unverified", evidence=_unverified_evidence(raw.defects, checks))


# --------------------------------------------------------------------------- targets


def _resolve(raw: RawClaim, ev: ProgramEvidence | None) -> tuple[ClaimTargets, list[Site]]:
    t = raw.targets
    out = ClaimTargets()
    sites: list[Site] = []
    if ev is None:
        out.files = list(t.files)
        out.identifiers = list(t.identifiers)
        out.config_keys = list(t.config_keys)
        out.apis = list(t.dotted)
        out.lines = [FileLine(path=p, line=n) for p, n in t.lines if p]
        return out, sites
    for name in t.files:
        found = ev.resolve_file(name)
        for p in found or [name]:
            if p not in out.files:
                out.files.append(p)
    for written, line in t.lines:
        paths = ev.resolve_file(written) if written else [p for p in out.files if p.endswith(".py")]
        for p in paths[:1] if written else paths[:1]:
            out.lines.append(FileLine(path=p, line=line))
    for key in t.config_keys:
        out.config_keys.append(key)
        sites += ev.config_sites(key)
    for name in t.dotted:
        api = ev.qualify(name)
        if api is not None:
            out.apis.append(api)
            sites += ev.sites(name) or ev.sites(api)
        elif ev.is_config_key(name):
            out.config_keys.append(name)
            sites += ev.config_sites(name)
        else:
            out.identifiers.append(name)
            sites += ev.sites(name)
    for lib in ev.libraries_named(raw.text):
        if lib not in out.apis:
            out.apis.append(lib)
            if any(BY_NAME[d].topic in _LIBRARY_TOPICS for d in raw.defects):
                sites += ev.library_calls(lib)  # "loaded through timm": the place is where the bundle calls it
    for name in t.identifiers:
        if name in out.identifiers:
            continue
        out.identifiers.append(name)
        sites += ev.sites(name)
    sites += ev.quoted_sites(raw.text)
    if "config-ignored" in raw.defects and not t.config_keys:
        # "the normalisation flag is ignored": the setting is named in words, not as a key
        for key in ev.config_keys_in_prose(raw.text):
            if key not in out.config_keys:
                out.config_keys.append(key)
                sites += ev.config_sites(key)
    return out, sites


# --------------------------------------------------------------------------- linking


def _confirms(raw: RawClaim, targets: ClaimTargets, sites: list[Site], f: Finding) -> bool:
    """The finding reports the same kind of defect as the claim, at the place the claim points at."""
    shared = classes_of_rule(f.rule) & set(raw.defects)
    if not shared:
        return False
    if any(BY_NAME[c].absence for c in shared):
        return True  # an absence in the whole bundle: the finding's line is only an anchor
    locs = _locations(f)
    if targets.lines:
        if any(_same_file(p, c.path) and line and abs(line - c.line) <= NEARBY_LINES for p, line in locs for c in targets.lines):
            return True
    near = [s for s in sites if any(s.near(p, line, NEARBY_LINES) for p, line in locs)]
    if near:
        return True
    finding_files = {p for p, _ in locs if p}
    files = {p for p in finding_files if any(_same_file(p, t) for t in targets.files)}
    if files:
        # the claim names the finding's file; if it also names code located in that file, that code has to be the finding's
        located_there = {s.path for s in sites} & files
        whole = any(BY_NAME[c].absence or BY_NAME[c].topic in WHOLE_BUNDLE_TOPICS for c in shared)
        return not located_there or whole or not any(line for _, line in locs)
    if targets.empty() and not sites:
        return any(BY_NAME[c].absence or BY_NAME[c].topic in WHOLE_BUNDLE_TOPICS for c in shared)
    if not targets.files and not targets.lines:
        # names only, none located near the finding: whole-bundle classes still agree
        return any(BY_NAME[c].absence or BY_NAME[c].topic in WHOLE_BUNDLE_TOPICS for c in shared) and not sites
    return False


#: Classes of findings that say a call cannot run at all (the API is missing, rejects the
#: arguments, the name is unbound or the module does not import).
_API_FAILS = frozenset({"removed-api", "call-signature", "undefined-name", "bundle-import"})


def _at_named_place(targets: ClaimTargets, ev: ProgramEvidence | None, f: Finding) -> bool:
    """The finding sits on a line the claim cites or on a call of an API the claim names
    (`hydra.utils.get_args()`): names in prose and whole files are too loose to say that."""
    points = [(c.path, c.line) for c in targets.lines]
    if ev is not None:
        points += [(s.path, s.line) for api in targets.apis if "." in api for s in ev.sites(api)]
    return any(line and at and _same_file(p, q) and abs(line - at) <= 1 for p, line in _locations(f) for q, at in points)


def _locations(f: Finding) -> list[tuple[str | None, int | None]]:
    """Where a finding is: its own place and its related ones (the cause, the line it reads)."""
    return [(f.path, f.line)] + [(r.path, r.line) for r in f.related]


def _distance(f: Finding, targets: ClaimTargets, sites: list[Site]) -> int:
    """Lines between a finding and the nearest place the claim points at (large when none is in its file)."""
    locs = _locations(f)
    points = [(c.path, c.line) for c in targets.lines] + [(s.path, s.line) for s in sites]
    return min((abs(line - at) for p, line in locs if line for q, at in points if at and _same_file(p, q)), default=10**6)


def _same_file(path: str | None, named: str) -> bool:
    """A bundle path and a file as a claim names it (resolved, or a bare name without a bundle)."""
    return bool(path) and (path == named or path.endswith("/" + named.lstrip("./")))


# --------------------------------------------------------------------------- refutation

_MISSING_FILE = r"[^.;:\n]{0,40}?\b(?:is|are|were|was)\s+(?:all\s+|also\s+|still\s+)?(?:missing|absent|empty|not (?:provided|included|present|shipped))"


def _claims_file_missing(text: str, written: str) -> bool:
    w = re.escape(written)
    return bool(re.search(w + _MISSING_FILE, text, re.I) and not re.search(w + r"[^.;:\n]{0,25}?\b(?:section|key|field|entry|column|function|class|method|argument|import|list)", text, re.I)
                or re.search(rf"(?:missing|absent|no|without)\s+(?:the\s+)?(?:file\s+)?`?{w}", text, re.I)
                or re.search(rf"{w}`?\s+(?:file\s+)?(?:does not|doesn't|do not) exist", text, re.I))


def _checks(raw: RawClaim, targets: ClaimTargets, ev: ProgramEvidence) -> dict[str, list[Check]]:
    """Per defect class of the claim, what the program model says about the claim's point."""
    py = [p for p in targets.files if p.endswith(".py") and p in ev.ctx.bundle.files]
    out: dict[str, list[Check]] = {}
    verifiers: dict[str, Callable[[], list[Check]]] = {
        "python-syntax": lambda: [ev.parses(py)],
        "namespace-package": lambda: [ev.package_imports(py)],
        "bundle-import": lambda: [ev.import_of(n, py) for n in targets.identifiers] + [ev.package_imports(py)],
        "undefined-name": lambda: [ev.bound(n, py) for n in _unbound_names(raw.text, targets)],
        "dependency": lambda: [ev.installed(lib) for lib in targets.apis if "." not in lib],
        "file-missing": lambda: _file_checks(raw, targets, ev),
        "run-config-files": lambda: [ev.run_configs()] if _names_run_configs(raw.text) else [],
        "transport-key": lambda: [_transport(n, ev) for n in raw.targets.files],
        "config-key": lambda: _config_key_checks(targets, ev),
        "evaluate-cli": lambda: [ev.evaluate_cli()],
        "hydra-compose": lambda: [ev.composes()],
        "child-override": lambda: [ev.child_composes()],
        "wandb-keys": lambda: [ev.wandb_keys()],
        "wandb-not-used": lambda: [ev.wandb_logs()],
        "figure-names": lambda: [ev.figure_names()],
        "extra-file": lambda: [ev.file_set()],
        "metrics-not-logged": lambda: [ev.logged_keys(raw.text, targets.identifiers + targets.config_keys)],
        "wandb-mode": lambda: [ev.trial_behaviour("wandb_online" if re.search(r"\bonline\b", raw.text, re.I) and not re.search(r"disabl", raw.text, re.I) else "wandb_disabled", py,
                                                  before_init=bool(re.search(r"\b(?:before|after|order)\b", raw.text, re.I)))],
        "hydra-config-path": lambda: [ev.config_dir()],
        "hydra-chdir": lambda: [ev.keeps_working_dir()],
    }
    for d in raw.defects:
        fn = verifiers.get(d)
        if fn is not None:
            out[d] = [c for c in fn() if c.holds is not None]
    return out


_SYNTAX_HEADLINE = re.compile(r"syntax ?error|invalid syntax|does not parse|fails to parse", re.I)


def _asserted(raw: RawClaim) -> list[str]:
    """The classes whose point the claim asserts. "src/__init__.py is missing, so the relative
    imports fail" asserts that the imports fail (namespace-package): the file's absence, true
    and required by the file set, is its premise, not a second claim to check. What a change
    *would* do to the file set is not a claim about the file set."""
    files = raw.targets.files
    if "namespace-package" in raw.defects and any(f.rsplit("/", 1)[-1] == "__init__.py" for f in files):
        return [d for d in raw.defects if d not in ("file-missing", "extra-file")]
    if "hydra-compose" in raw.defects:
        # "config/run/default.yaml is not included, so Hydra raises ConfigNotFoundError": whether
        # Hydra composes with the prompt's command line decides it; the file is its premise
        return [d for d in raw.defects if d not in ("file-missing", "extra-file")]
    if "python-syntax" in raw.defects and _SYNTAX_HEADLINE.search(raw.text[:80]):
        # "Syntax error in preprocess.py: the keyword-only cache_dir ...": the rest explains the
        # syntax error the claim is about; whether the module parses decides it
        return ["python-syntax"]
    if "extra-file" in raw.defects and re.search(r"\bwould\b", raw.text, re.I):
        # "adding the module it imports would violate the file rule": a counterfactual, not the file set as it is
        return [d for d in raw.defects if d != "extra-file"]
    return list(raw.defects)


def _config_key_checks(targets: ClaimTargets, ev: ProgramEvidence) -> list[Check]:
    """The deepest keys the claim names ("cfg.run.run_id", not "cfg.run" too), each checked; one
    the program model cannot settle leaves the whole point unsettled (no refutation on the rest)."""
    keys = [k for k in targets.config_keys if not any(o != k and o.startswith(k + ".") for o in targets.config_keys)]
    checks = [ev.config_key(k) for k in keys]
    return [] if any(c.holds is None for c in checks) else checks


def _file_checks(raw: RawClaim, targets: ClaimTargets, ev: ProgramEvidence) -> list[Check]:
    if not raw.targets.files:
        # "the required file is not included": every file the prompt requires is the evidence
        required = ev.ctx.spec.required_files
        absent = [p for p in required if not ev.present(p)]
        if not required:
            return []
        return [Check(not absent, f"the bundle has no {_join(absent)}" if absent else
                      f"every file the prompt requires is in the bundle and not empty ({len(required)})")]
    out = []
    for written in raw.targets.files:
        if not _claims_file_missing(raw.text, written):
            continue
        if re.search(r"config/runs?/", written) and ev.run_configs().holds:
            out.append(ev.run_configs())
            continue
        found = [p for p in ev.resolve_file(written) if ev.present(p)]
        if found:
            out.append(Check(True, f"{_join(found)} {'is' if len(found) == 1 else 'are'} in the bundle and not empty"))
        elif not any(ch in written for ch in "*{<"):
            out.append(Check(False, f"the bundle has no {written}"))
    return out


def _names_run_configs(text: str) -> bool:
    return bool(re.search(r"config/runs?/|run (?:config|yaml)|run group|group director|config group", text, re.I))


def _transport(name: str, ev: ProgramEvidence) -> Check:
    from reviewer_audit.ingest.bundle import KEY_TO_PATH

    path = KEY_TO_PATH.get(name)
    if path is None:
        return Check(None, "")
    if ev.present(path):
        return Check(True, f"`{name}` is the transcript's transport key for {path}, which the bundle has")
    return Check(False, f"the bundle's {path} is empty")


_IMPORT_NAME = re.compile(r"(?:never imports?|without importing|not import(?:ed|ing)?|missing import(?: of)?|misses `?from [\w.]+ import|imports?)\s+`?([A-Za-z_]\w*)`?|`?([A-Za-z_]\w*)`?\s+(?:is|was|are)\s+(?:never |not )imported")


def _unbound_names(text: str, targets: ClaimTargets) -> list[str]:
    names = []
    for m in _IMPORT_NAME.finditer(text):
        n = m.group(1) or m.group(2)
        if n and n.lower() not in ("it", "the", "them", "from", "is", "of", "a") and n not in names:
            names.append(n)
    return names


def _refutation(defects: list[str], checks: dict[str, list[Check]]) -> tuple[bool, str]:
    """Refuted when every specific class the claim asserts has positive evidence and nothing
    supports it (generic classes, "incomplete" or "shape", name no checkable point of their own)."""
    specific = [d for d in defects if not BY_NAME[d].generic]
    if not specific or any(c.holds is False for cs in checks.values() for c in cs):
        return False, ""
    evidence = []
    for d in specific:
        cs = checks.get(d, [])
        if not cs or any(c.holds is False for c in cs):
            return False, ""
        evidence.extend(c.evidence for c in cs if c.holds and c.evidence not in evidence)
    return bool(evidence), "; ".join(evidence)


def _unverified_evidence(defects: list[str], checks: dict[str, list[Check]]) -> str:
    against = [c.evidence for cs in checks.values() for c in cs if c.holds is False]
    if not defects:
        return "no defect class recognised: no rule checks this claim"
    rules = sorted({r for d in defects for r in BY_NAME[d].rules})
    if rules:
        text = f"{', '.join(rules)} check{'s' if len(rules) == 1 else ''} {', '.join(d for d in defects if covered(d))} and did not fire here"
    else:
        text = f"no rule covers {defects[0]}"
    if against:
        text += f"; the program model agrees with the claim: {against[0]}"
    return text


def _join(items: list[str]) -> str:
    return ", ".join(items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")
