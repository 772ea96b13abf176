"""Reviewer claims: the reviewer's issue text split into atomic claims, each with its targets.

Real verdicts come as numbered lists (`1.`, `1)`, `(1)`), bullets (`-`, `*`, `•`, `–`) nested under
numbered headings, prose paragraphs, clauses joined by semicolons, inline `(1) ... (2) ...`
enumerations, and now and then text whose line breaks are JSON escapes (a literal `\\n`). This
module turns that text into *units* (an item, a sentence, a clause) and groups them into claims:

* a unit that only introduces or wraps up (a lead-in ending with ":", a heading with sub-points
  under it, "Because of these issues the code is not production-ready", a fix instruction, the
  restated requirement) is `context`: it asserts nothing about the code;
* a unit that elaborates the claim before it ("This raises AttributeError", "Hence ...", or one
  about the same kind of defect) joins that claim;
* anything else starts a claim of its own.

Every claim keeps its text verbatim (a slice of the issue text), so a label written against the
reviewer's own words finds it. Each claim gets what it points at -- files and lines, identifiers,
config keys, library APIs -- its defect classes (`reviewer_audit.verdict.defects`), its kind
(crash, criterion violation, advice) and the criterion number it concerns, as stated or inferred
through the prompt's spec. Nothing here looks at the code; `reviewer_audit.verdict.adjudicate`
does, through `reviewer_audit.verdict.evidence`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from reviewer_audit.verdict.defects import BY_NAME, CLASSES, classify

CLASS_ORDER = [c.name for c in CLASSES]

STATUSES = ("confirmed", "refuted", "unverified", "context")
KINDS = ("crash", "criterion", "advice")


class FileLine(BaseModel):
    path: str
    line: int


class ClaimTargets(BaseModel):
    """What a claim points at in the bundle."""

    files: list[str] = Field(default_factory=list, description="Bundle paths (or the name as written when the bundle has no such file).")
    lines: list[FileLine] = Field(default_factory=list, description="File and line numbers the claim cites.")
    identifiers: list[str] = Field(default_factory=list, description="Functions, classes, variables named.")
    config_keys: list[str] = Field(default_factory=list, description="Config keys named (`cfg.a.b` or `a.b`), without the root name.")
    apis: list[str] = Field(default_factory=list, description="Library APIs named, qualified where the bundle's imports say how (wandb.Api, OmegaConf.merge).")

    def empty(self) -> bool:
        return not (self.files or self.lines or self.identifiers or self.config_keys or self.apis)


class Claim(BaseModel):
    text: str = Field(description="The claim, verbatim from the reviewer's issue text.")
    status: Literal["confirmed", "refuted", "unverified", "context"] = Field(
        description="confirmed: a finding reports the same defect at the same place; refuted: the tool has positive "
                    "evidence the point holds (a reviewer false alarm); unverified: neither (no rule covers it); "
                    "context: a lead-in, heading, summary, fix instruction or all-clear statement, not a claim of a defect.")
    evidence: str = Field(description="One line: what the tool checked and found.")
    kind: Literal["crash", "criterion", "advice"] | None = Field(default=None, description="None for context.")
    criterion: str | None = Field(default=None, description="Criterion number of the audited prompt the claim concerns ('exec' for execution), stated or inferred.")
    defects: list[str] = Field(default_factory=list, description="Defect classes the claim asserts (reviewer_audit.verdict.defects), most specific first.")
    targets: ClaimTargets = Field(default_factory=ClaimTargets)
    findings: list[int] = Field(default_factory=list, description="Indexes into the report's findings that confirm it; for an "
                                "all-clear statement, the findings at threshold no claim names, which contradict it.")
    start: int = Field(default=0, description="Offset of the claim in the issue text.")

    @property
    def defect(self) -> str | None:
        return self.defects[0] if self.defects else None


# --------------------------------------------------------------------------- raw claims


@dataclass
class RawTargets:
    files: list[str] = field(default_factory=list)
    lines: list[tuple[str | None, int]] = field(default_factory=list)  # (file as written or None, line)
    identifiers: list[str] = field(default_factory=list)
    config_keys: list[str] = field(default_factory=list)
    dotted: list[str] = field(default_factory=list)  # dotted names: an API or a config key, the bundle decides

    def names(self) -> set[str]:
        return {*self.files, *self.identifiers, *self.config_keys, *self.dotted}

    def merged(self, other: "RawTargets") -> "RawTargets":
        def union(a: list, b: list) -> list:
            return a + [x for x in b if x not in a]

        return RawTargets(union(self.files, other.files), union(self.lines, other.lines), union(self.identifiers, other.identifiers),
                          union(self.config_keys, other.config_keys), union(self.dotted, other.dotted))


@dataclass
class RawClaim:
    """A claim as read from the text alone."""

    start: int
    end: int
    text: str
    context: str | None  # why it is context, or None for a claim
    defects: list[str]
    targets: RawTargets
    kind: str | None
    stated: list[int]  # criterion numbers the text (or its heading) states
    inherited_files: list[str] = field(default_factory=list)  # files its heading names


# --------------------------------------------------------------------------- lines and blocks

_MARKER = re.compile(
    r"(?P<indent>[ \t]*)(?P<marker>\(\d{1,2}\)|\d{1,2}[.)](?=[ \t])|\d{1,2}\s*[:–-](?=[ \t])|#\d{1,2}[.:)]?(?=[ \t])|[a-h][.)](?=[ \t])|[-*•–·▪‣◦●○■□➤→](?=[ \t]))[ \t]+"
)


@dataclass
class _Block:
    start: int
    end: int
    item: bool
    numbered: bool
    indent: int
    level: int = 0
    children: bool = False


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line; a JSON-escaped text (`\\n` and no real newline) splits on the escapes."""
    sep = "\n" if "\n" in text or "\\n" not in text else "\\n"
    out, pos = [], 0
    while True:
        i = text.find(sep, pos)
        if i < 0:
            out.append((pos, len(text)))
            return out
        out.append((pos, i))
        pos = i + len(sep)


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    current: _Block | None = None
    for start, end in _lines(text):
        line = text[start:end]
        if not line.strip():
            current = None
            continue
        m = _MARKER.match(line)
        if m and m.end() < len(line):
            indent = len(m.group("indent").expandtabs(4))
            numbered = m.group("marker")[0].isdigit() or m.group("marker")[0] in "(#" or m.group("marker")[0].isalpha()
            current = _Block(start + m.end(), end, True, numbered, indent)
            blocks.append(current)
        elif current is not None:
            current.end = end
        else:
            current = _Block(start + len(line) - len(line.lstrip()), end, False, False, 0)
            blocks.append(current)
    _nest(blocks)
    return blocks


def _nest(blocks: list[_Block]) -> None:
    """Levels: numbered items above bullets, deeper indentation below; an item followed by
    deeper items is a heading."""
    any_numbered = any(b.numbered for b in blocks if b.item)
    for b in blocks:
        if b.item:
            b.level = 1 + b.indent // 2 + (1 if any_numbered and not b.numbered else 0)
    for i, b in enumerate(blocks):
        if not b.item:
            continue
        for nxt in blocks[i + 1:]:
            if not nxt.item:
                break
            if nxt.level > b.level:
                b.children = True
            break


# --------------------------------------------------------------------------- units

_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|approx|req|no|incl|resp|fig|eq|sec|min|max|avg|std)\.|\b[A-Z]\.|\.\.\.?)$", re.I)
_CODE_START = re.compile(r"[a-z_][\w]*(?:\(|\.[a-z_]|_\w|\.py\b)")
_INLINE_ENUM = re.compile(r"(?:(?<=\s)|^)(?:\((\d)\)|(\d)\))\s+")


def _protected(text: str) -> list[bool]:
    """Characters inside backticks or parentheses (no sentence ends there)."""
    out = [False] * len(text)
    tick = False
    depth = 0
    for i, ch in enumerate(text):
        if ch == "`":
            tick = not tick
        elif not tick and ch == "(":
            depth = min(depth + 1, 3)
        elif not tick and ch == ")" and depth:
            depth -= 1
        out[i] = tick or depth > 0
    return out


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence (and semicolon-clause, and inline-enumeration) spans of text[start:end]."""
    chunk = text[start:end]
    prot = _protected(chunk)
    cuts = [0]
    i = 0
    n = len(chunk)
    while i < n:
        ch = chunk[i]
        if prot[i]:
            i += 1
            continue
        if ch in ".!?" or (ch == ":" and i + 1 < n and chunk[i + 1] == "\n") or ch == ";":
            j = i + 1
            while j < n and chunk[j] in "\"'”’)*":
                j += 1
            if j < n and chunk[j] in " \t\n" or j >= n:
                k = j
                while k < n and chunk[k] in " \t\n":
                    k += 1
                nxt = chunk[k] if k < n else ""
                before = chunk[cuts[-1]:i + 1]
                ok = k >= n or nxt.isupper() or nxt.isdigit() or nxt in "`\"'“(*•–-[" or ch in ";:" or bool(_CODE_START.match(chunk, k))
                if ch == "." and _ABBREV.search(before[-16:]):
                    ok = False
                if ch == ";" and (len(before.split()) < _CLAUSE_WORDS or len(_clause_after(chunk, k).split()) < _CLAUSE_WORDS):
                    ok = False  # a short clause ("NotImplementedError will be raised") belongs to its sentence
                if ok and k < n:
                    cuts.append(k)
                i = j
                continue
        i += 1
    spans = []
    for a, b in zip(cuts, cuts[1:] + [n]):
        seg = chunk[a:b]
        # inline "(1) ... (2) ..." enumerations: cut before each marker when there are at least two
        prot_seg = prot[a:b]
        marks = [m for m in _INLINE_ENUM.finditer(seg) if not prot_seg[m.start()]]
        pieces = [0] + [m.start() for m in marks] if len(marks) >= 2 else [0]
        for p, q in zip(pieces, pieces[1:] + [len(seg)]):
            if seg[p:q].strip():
                lead = len(seg[p:q]) - len(seg[p:q].lstrip())
                spans.append((start + a + p + lead, start + a + q))
    return [(s, _rstrip(text, s, e)) for s, e in spans if text[s:e].strip()]


#: A semicolon separates claims only between clauses at least this long.
_CLAUSE_WORDS = 6


def _clause_after(chunk: str, k: int) -> str:
    m = re.search(r"[.;!?](?:\s|$)", chunk[k:])
    return chunk[k:k + m.start()] if m else chunk[k:]


def _rstrip(text: str, s: int, e: int) -> int:
    while e > s and text[e - 1] in " \t\n":
        e -= 1
    return e


# --------------------------------------------------------------------------- context

_GENERIC = re.compile(
    r"not (?:yet )?(?:ready|production[- ]ready|execution[- ]ready|immediately executable|executable|publication[- ](?:ready|worthy))|"
    r"cannot (?:yet )?(?:be )?(?:run|execut\w*)(?: as[- ]is| successfully| immediately)?|will not (?:run|execute)(?: successfully)?|"
    r"(?:violat\w+|fail\w*|(?:does|do) not satisfy) (?:several|multiple|the following|a few|some|mandatory|core|hard|all)|"
    r"violat\w+ (?:the )?(?:core |mandatory )?(?:[\w-]+ ){0,4}(?:criteri|requirement|rule)|"
    r"(?:several|multiple|the following|these|the above) (?:critical |blocking |mandatory |core |major |hard )*(?:issues|problems|requirements|criteria|errors)|"
    r"because of (?:these|the above|this|1|\(\d)|until (?:these|this|they)|criteri(?:a|on)\s*[#\d, &and–-]*\s*(?:\([^)]*\)\s*)?(?:is |are )?(?:not (?:met|satisfied)|unmet|violated)|"
    r"once fixed|re-?run|resubmit|production[- ]ready|publication[- ](?:ready|quality|worthy)|important functionality|"
    r"(?:inconsistent|non-?compliant|not compliant) with (?:both |all )?(?:the )?(?:[\w-]+ )?(?:and (?:the )?[\w-]+ )?(?:constraints|requirements|criteria|specification)",
    re.I,
)
#: "All other criteria are met": the reviewer vouches for everything it did not name.
ALL_CLEAR = re.compile(
    r"(?:all|every|the) other .{0,40}(?:satisfied|are met|is met|correct|fine|compliant|complete|look good|look correct|ok\b)|"
    r"remaining (?:criteria|requirements|items|checks) .{0,30}(?:satisfied|met|fine|correct)|everything else .{0,30}(?:compl|correct|fine|satisf|ok\b|looks?)|"
    r"no other (?:blocking |major |critical )?(?:issues|problems|errors)|run without (?:any )?(?:further|other) (?:issues|problems|errors)|"
    r"otherwise,? (?:the code|it|everything) (?:is|looks|seems) (?:correct|fine|ok|good)",
    re.I,
)
_SUMMARY_START = re.compile(r"^(?:because|therefore|hence|thus|overall|until|due to|as a result|consequently|so\b|in summary|summary|once|after this|with these|for these)", re.I)
_AFTER_FIX = re.compile(r"^(?:after|once|when|if|with) (?:this|these|that|the|those|all|such)\b[^,.]{0,40}(?:change|fix|correct|modif|adjust)", re.I)
_CONSEQUENCE = re.compile(r"\b(?:therefore|hence|thus|consequently)\b", re.I)
_FIX = re.compile(
    r"^(?:(?:alternatively|additionally|also|then|finally|first|second|third|ideally|preferably|optionally|otherwise|instead|"
    r"at the (?:end|start|beginning) of [\w ]{1,30}|in [\w./`]{1,40}|for [\w ]{1,30}|to (?:fix|resolve|make|avoid|address) [\w ]{1,40}),\s*)?(?:always\s+|simply\s+|just\s+)?"
    r"(?:fix(?:es)?\b|to fix|to make|fix:|remove|replace|add|move|rename|change|update|use|pass|provide|ensure|align|either|consider|switch|set|"
    r"implement|include|please|make sure|correct|wrap|convert|define|guard|expose|reorder|supply|inline|keep|drop|flatten|omit|let|recommend\w*|"
    r"dump|load|write|save|call|create|introduce|refactor|restructure|read|wrap|delete|strip|cast|register|rewrite|re-?export|"
    r"suggest\w*|you (?:must|should)|a (?:proper|safe) |safer to|otherwise,? the fix)(?![a-z])",
    re.I,
)
#: "X should instead define `--results_dir` (or strip the prefix)": a prescription that states
#: nothing about the code as it is (the assertion, if any, is in the sentence before it).
_PRESCRIPTION = re.compile(
    r"\b(?:should|must|needs? to|ought to)\s+(?:instead|rather)\b|\bshould (?:be|get) (?:preserved|replaced|changed|moved|renamed|invoked|wrapped|inserted|kept)\b|"
    r"\b(?:should|must)\b.{0,80}?\bor (?:strip|omit|use|add|remove|wrap|set|define|inline|pass|rename|move)\b", re.I)
#: "Evaluate.py must accept the `results_dir` override": a subject, then what it must do. After a
#: claim, such a sentence is the reviewer's fix for it; alone, it may be the only statement of a
#: violation, so it is read this way only after a claim.
_MODAL_START = re.compile(r"^[\w.`/'\- ]{1,40}?\b(?:must|should|needs? to|has to|have to)\b|^[\w.`/'\- ]{1,80}?\b(?:is|are) (?:required|needed|necessary)\W*$", re.I)
_ASSERTS = re.compile(r"\bnot\b|n't\b|\bnever\b|\bno\b|\bmissing\b|\babsent\b|crash|error|\bfails?\b|violat|\bbroken\b|\bwrong\b|\bincorrect", re.I)
#: "Evaluation figures (Req. 8) – figures must be stored in images/": a titled restatement of a
#: requirement (what the code must do), before the sentence saying what the code does instead.
_TITLED_REQUIREMENT = re.compile(
    r"^[^.:;()]{1,60}\((?:req(?:uirement)?s?\.?|criteri(?:on|a)|rule)\s*#?\d[^)]{0,20}\)\s*[–—:-]\s*"
    r"[\w.`/'{} -]{1,60}?\b(?:must|should|needs? to|has to|have to|(?:is|are) required to)\b", re.I)
#: markdown emphasis around words ("the code is **not** ready"): the words are what is said
_EMPHASIS = re.compile(r"(?<!\w)(?:\*\*|__|\*|_)(?=\S)([^*_\n]{1,80}?)(?<=\S)(?:\*\*|__|\*|_)(?!\w)")
_ENUM_PREFIX = re.compile(r"^\s*(?:\(\d{1,2}\)|\d{1,2}\))\s*")
_RESTATED = re.compile(
    r"^(?:requirement|specified interface|spec(?:ification)?|expected|mandated|required)\b(?:(?!violat|not |unmet|broken|fail)[^:]){0,40}:|"
    r"^(?:the |as the )?(?:spec(?:ification)?s?|requirements?|prompt|guidelines?|instructions?|checklist|criterion \d+) (?:explicitly )?"
    r"(?:states?|says?|demands?|requires?|mandates?|asks?|forbids?)\b", re.I)
_CONNECTIVE = re.compile(
    r"^(?:hence|therefore|thus|consequently|as a (?:result|consequence)|so\b|this\b|that\b|these\b|those\b|it\b|they\b|which|any\b|"
    r"at (?:execution|run) ?time|even\b|otherwise|i\.e\.|because of (?:this|that)|in (?:that|this|both) cases?|the (?:resulting|result)|"
    r"when\b|then\b|with the current|subsequent|example|e\.g\.|for example|for instance|note\b|moreover|in addition|additionally|"
    r"the (?:same|required|recommended|provided|specified)|current(?:ly)?\b|instead\b|but\b|however|yet\b|and\b|or\b|only\b|both\b|each\b|every\b|all\b)",
    re.I,
)


def _strip_label(unit: str) -> str:
    """'Minor: x' / '**Syntax errors**: x' -> 'x' for the checks below."""
    return re.sub(r"^[*_\s]*(?:minor|major|critical|blocking|blocker|note|issue)\b[^:]{0,20}:\s*", "", unit, flags=re.I).strip("*_ ")


def context_reason(unit: str, targets: RawTargets, first: bool, heading: bool, after_claim: bool = False) -> str | None:
    text = unit.strip()
    if heading:
        return "heading (its sub-points are the claims)"
    if text.endswith(":"):
        return "lead-in"
    body = _EMPHASIS.sub(r"\1", _ENUM_PREFIX.sub("", _strip_label(text)))
    if ALL_CLEAR.search(body):
        # "after this change ... will run without further issues" predicts the fixed code: not about this code
        return "prediction after the fix" if _AFTER_FIX.match(body) else ALL_CLEAR_REASON
    if _RESTATED.match(body) or (_TITLED_REQUIREMENT.match(body) and not _ASSERTS.search(body)):
        return RESTATED_REASON
    specific = bool(targets.files or targets.identifiers or targets.config_keys or targets.dotted or targets.lines)
    if _FIX.match(body) or (_PRESCRIPTION.search(body) and not _ASSERTS.search(body)):
        return "fix instruction"
    if _GENERIC.search(body) and not specific and not classify(body):
        return "lead-in" if first else "summary"
    if (_SUMMARY_START.match(body) or _CONSEQUENCE.search(body)) and _GENERIC.search(body) and not specific:
        return "summary"
    if first and len(body) < 120 and _GENERIC.search(body) and not targets.lines and not targets.identifiers and not targets.config_keys:
        return "lead-in"
    if after_claim and _MODAL_START.match(body) and not _ASSERTS.search(body):
        return "fix instruction"
    return None


ALL_CLEAR_REASON = "all-clear statement"
RESTATED_REASON = "restates the requirement"


# --------------------------------------------------------------------------- targets

_FILE = re.compile(r"(?<![\w/.])((?:[\w.*{}<>$-]+/)*[\w*{}<>$-]+(?:\.[\w-]+)*\.(?:py|yaml|yml|toml|json|pdf|png|csv|txt))(?![\w])")
_FILE_LINE = re.compile(r"(?<![\w/.])((?:[\w.-]+/)*[\w-]+\.(?:py|yaml|yml|toml)):(\d{1,5})(?:[-–](\d{1,5}))?")
_LINE = re.compile(r"\blines?\s+(\d{1,5})(?:\s*[-–]\s*(\d{1,5}))?\b|\bL(\d{1,5})\b")
_MODULE_ATTR = re.compile(r"(?<![\w./])(?:src[./])?(main|train|evaluate|preprocess|model)\.(?!(?:py|ya?ml|toml|json)\b)(_?[A-Za-z]\w*)(?![\w])")
_SRC_MODULE = re.compile(r"(?<![\w.])src\.(main|train|evaluate|preprocess|model)\b")
#: an experiment config named in words ("the smoke-test configuration", "full experiment yaml")
_CONFIG_IN_WORDS = re.compile(r"\b(smoke|full)[- _](?:test|experiment)s?[- _](?:config(?:uration)?|ya?ml|file)s?\b", re.I)
_TRANSPORT = re.compile(r"\b(main_py|train_py|evaluate_py|preprocess_py|model_py|config_yaml|pyproject_toml|full_experiment_yaml|smoke_test_yaml)\b")
_BACKTICK = re.compile(r"`([^`\n]{1,200})`")
_QUOTED = re.compile(r"[\"“'‘]([A-Za-z_][\w.]{1,80})[\"”'’]")
_DOTTED = re.compile(r"(?<![\w./-])([A-Za-z_]\w*(?:\.(?:_?[A-Za-z]\w*|\*))+)(?:\(\))?(?![\w/-])")
_CALLED = re.compile(r"(?<![\w.])([A-Za-z_]\w+)\(")
_SNAKE = re.compile(r"(?<![\w.-])(_?[a-z][a-z0-9]*(?:_[a-z0-9]+)+_?)(?![\w-])")
_CAMEL = re.compile(r"(?<![\w.])([A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+|[A-Z]{2,}[a-z][A-Za-z0-9]*)(?![\w])")
_CONFIG_ROOT = re.compile(r"^(?:self\.)?(?:cfg|config|conf|run_cfg|cfg_run|cfg_cli|hydra_cfg|exp_cfg|run_config|trial_cfg|base_cfg)$")
_NOT_NAMES = frozenset({
    "e.g", "i.e", "etc", "run_id", "run_ids", "results_dir", "trial_mode", "n_trials", "mode", "uv", "python",
    "json", "yaml", "cfg", "config", "src", "hydra", "wandb", "optuna", "torch", "numpy", "pandas", "scipy",
    "step_2", "step_1", "core_validation", "production_ready", "publication_ready",
})
#: Extensions that are outputs the code writes, not bundle files.
_OUTPUT_EXT = (".pdf", ".png", ".csv", ".txt")


def extract_targets(text: str) -> RawTargets:
    t = RawTargets()

    def add(lst: list[str], value: str) -> None:
        if value and value not in lst:
            lst.append(value)

    for m in _FILE_LINE.finditer(text):
        a = int(m.group(2))
        b = int(m.group(3)) if m.group(3) else a
        for line in range(a, min(b, a + 50) + 1):
            t.lines.append((m.group(1), line))
    for m in _FILE.finditer(text):
        name = m.group(1)
        if name.lower().endswith(_OUTPUT_EXT) or "{" in name and name.endswith(".json") or name.startswith("$"):
            continue
        add(t.files, name)
    for m in _SRC_MODULE.finditer(text):
        add(t.files, f"{m.group(1)}.py")
    for m in _MODULE_ATTR.finditer(text):
        add(t.files, f"{m.group(1)}.py")
        add(t.identifiers, m.group(2))
    for m in _TRANSPORT.finditer(text):
        add(t.files, m.group(1))
    for m in _CONFIG_IN_WORDS.finditer(text):
        add(t.files, "smoke_test.yaml" if m.group(1).lower() == "smoke" else "full_experiment.yaml")
    mentions = [(m.start(), m.group(1)) for m in _FILE.finditer(text) if m.group(1).endswith((".py", ".yaml", ".yml", ".toml"))]
    for m in _LINE.finditer(text):
        a = int(m.group(1) or m.group(3))
        b = int(m.group(2)) if m.group(2) else a
        before = [name for pos, name in mentions if pos < m.start()]
        after = [name for pos, name in mentions if pos > m.start()]
        near = before[-1] if before else (after[0] if after else None)  # the file the line number belongs to
        for line in range(a, min(b, a + 50) + 1):
            t.lines.append((near, line))
    spans: list[str] = [m.group(1) for m in _BACKTICK.finditer(text)]
    plain = _BACKTICK.sub(" ", text)
    for chunk in [*spans, plain]:
        for m in _DOTTED.finditer(chunk):
            name = m.group(1).rstrip(".*").rstrip(".")
            if "." not in name or re.search(r"\.(?:py|ya?ml|toml|json|pdf|png)$", name) or name.lower() in _NOT_NAMES:
                continue
            if re.match(r"^(?:e\.g|i\.e|etc|vs|src\.(?:main|train|evaluate|preprocess|model))\b", name, re.I):
                continue
            head, _, rest = name.partition(".")
            if _CONFIG_ROOT.match(head) and rest:
                add(t.config_keys, rest)
            elif head in ("main", "train", "evaluate", "preprocess", "model"):
                continue  # handled by _MODULE_ATTR
            else:
                add(t.dotted, name)
        for m in _CALLED.finditer(chunk):
            add(t.identifiers, m.group(1))
        for m in _SNAKE.finditer(chunk):
            add(t.identifiers, m.group(1))
        for m in _CAMEL.finditer(chunk):
            add(t.identifiers, m.group(1))
    for s in spans:  # a backticked bare name is an identifier even without an underscore
        if re.fullmatch(r"_?[A-Za-z]\w*", s.strip()):
            add(t.identifiers, s.strip())
    for m in _QUOTED.finditer(plain):
        v = m.group(1)
        if "." in v and not re.search(r"\.(?:py|ya?ml|toml|json)$", v):
            head, _, rest = v.partition(".")
            if _CONFIG_ROOT.match(head):
                add(t.config_keys, rest)
            else:
                add(t.dotted, v)
        elif "_" in v or any(c.isupper() for c in v[1:]):
            add(t.identifiers, v)
    # exception names say what happens, not where: `AttributeError` is no place in the code
    t.identifiers = [i for i in t.identifiers if i.lower() not in _NOT_NAMES and len(i) > 2 and not re.search(r"(?:Error|Exception|Warning)$", i)
                     and not i.endswith(("_py", "_yaml", "_toml")) and not re.fullmatch(r"[a-z]+_\d+", i)]
    return t


# --------------------------------------------------------------------------- kind and criterion

_CRASH = re.compile(
    r"\b(?:\w+error|\w+exception)\b|crash|raises?\b|raising|will (?:not (?:run|start|compile|work)|fail|break|abort)|fails? (?:at|to|with|when|immediately|before|on)|"
    r"cannot (?:run|start|import|be (?:imported|executed|run|parsed)|find|locate|parse|compose)|(?:can ?not|unable to) (?:load|find)|abort|traceback|broken|non-functional|"
    r"not executable|uncompilable|not compile|breaks?\b|blocks? (?:execution|every|all)|before (?:training|any|the first)|runtime error|run-?time failure",
    re.I,
)
_ADVICE = re.compile(
    r"^\W*minor\b|\bnot blocking\b|\bnon-blocking\b|\bshould\b|\brecommend|\bconsider\b|\bsafer\b|\bbetter\b|\bnice to have|\bhampering|"
    r"\bmay\b|\bmight\b|\bpotential(?:ly)?\b|\bcould\b|\berror-prone\b|\bdeprecated\b|\bhelpful\b|\bproduction-safe\b|\bharder\b|\bstill okay\b|\bno effect\b",
    re.I,
)
_STATED = re.compile(
    r"(?:criteri(?:on|a)|requirements?|req\.?|rules?|core(?:\s+validation)?(?:\s+criteri(?:on|a))?)[\s#-]*"
    r"(\d{1,2}(?:\s*(?:,|&|and|/|or|–|-)\s*#?\d{1,2})*)(?!\s*(?:runs?|files?|batches|epochs|tasks?|%|\.\d))",
    re.I,
)


def stated_criteria(text: str) -> list[int]:
    out: list[int] = []
    for m in _STATED.finditer(text):
        if re.match(r"step", text[max(0, m.start() - 5):m.start()], re.I):
            continue
        nums = re.findall(r"\d{1,2}", m.group(1))
        if re.search(r"\d\s*[–-]\s*\d", m.group(1)) and len(nums) == 2 and int(nums[0]) < int(nums[1]) <= 20:
            nums = [str(n) for n in range(int(nums[0]), int(nums[1]) + 1)]
        for n in nums:
            if int(n) not in out:
                out.append(int(n))
    return out


def claim_kind(text: str) -> str:
    body = text.strip()
    advice = bool(_ADVICE.search(body))
    if re.match(r"^\W*minor\b", body, re.I) and not re.search(r"\bblocking\b", body[:40], re.I):
        return "advice" if not _CRASH.search(body) else "crash"
    if _CRASH.search(body) and not re.search(r"\bnot blocking\b|\bnon-blocking\b", body, re.I):
        return "crash"
    return "advice" if advice and not re.search(r"\b(?:must|required|requires|mandatory|demands?|violat\w+|missing|absent|not implemented)\b", body, re.I) else "criterion"


def infer_criterion(spec, stated: list[int], defects: list[str], kind: str | None) -> str | None:
    """The prompt's criterion a claim concerns: a stated number that is a criterion of this
    prompt (the one whose topic is the claim's, when several are stated), else the criterion of
    the claim's defect class, else the execution criterion for a crash."""
    numbers = {c.number: c.topic for c in (spec.criteria if spec else [])}
    stated = [n for n in stated if n in numbers]
    topics = [BY_NAME[d].topic for d in defects if d in BY_NAME]
    for topic in topics:
        for n in stated:
            if numbers[n] == topic:
                return str(n)
    if stated:
        return str(stated[0])
    if spec is None:
        return None
    for d in defects:
        c = BY_NAME.get(d)
        if c is None:
            continue
        if c.requirement and spec.has(c.requirement) or c.topic in numbers.values():
            found = spec.criterion_for(c.topic, c.requirement)
            if found != "exec" or c.topic == "exec":
                return found
    if kind == "crash":
        return spec.criterion_for("exec")
    return None


# --------------------------------------------------------------------------- grouping


#: Issue text read for claims; real verdicts are a few KB. The rest is one context entry.
MAX_ISSUE_CHARS = 50_000


def extract_claims(issue: str) -> list[RawClaim]:
    """Split the reviewer's issue text into claims and context (in text order)."""
    if not issue or not issue.strip():
        return []
    if len(issue) > MAX_ISSUE_CHARS:
        tail = RawClaim(start=MAX_ISSUE_CHARS, end=len(issue), text=issue[MAX_ISSUE_CHARS:], context=f"not read: issue text beyond {MAX_ISSUE_CHARS} characters",
                        defects=[], targets=RawTargets(), kind=None, stated=[])
        return _extract(issue[:MAX_ISSUE_CHARS]) + [tail]
    return _extract(issue)


def _extract(issue: str) -> list[RawClaim]:
    blocks = _blocks(issue)
    out: list[RawClaim] = []
    heading_stated: dict[int, list[int]] = {}  # level -> criteria stated by the open heading
    heading_files: dict[int, list[str]] = {}  # level -> files the open heading names
    first = True
    for b in blocks:
        if b.item:
            for lvl in [k for k in heading_stated if k >= b.level]:
                del heading_stated[lvl]
                heading_files.pop(lvl, None)
        inherited = [n for lvl in sorted(heading_stated) for n in heading_stated[lvl]]
        inherited_files = [f for lvl in sorted(heading_files) for f in heading_files[lvl]]
        if b.item and b.children:
            text = issue[b.start:b.end].strip()
            stated = stated_criteria(text)
            heading_stated[b.level] = stated
            heading_files[b.level] = extract_targets(text).files
            if _is_heading(text):
                out.append(_raw(issue, b.start, _rstrip(issue, b.start, b.end), "heading (its sub-points are the claims)", stated + inherited))
                first = False
                continue
            # an item that asserts in sentences of its own, its sub-points giving examples: a claim
        current: RawClaim | None = None
        units = _sentences(issue, b.start, b.end)
        if not b.item and len(units) == 1 and first and _next_is_item(blocks, b) and len(issue[b.start:b.end]) < 160:
            out.append(_raw(issue, b.start, _rstrip(issue, b.start, b.end), "lead-in", stated_criteria(issue[b.start:b.end])))
            first = False
            continue
        for s, e, half in (span for u in units for span in _conjoined(issue, *u)):
            unit = issue[s:e]
            targets = extract_targets(unit)
            reason = context_reason(unit, targets, first, False, after_claim=current is not None)
            first = False
            if reason is not None:
                out.append(_raw(issue, s, e, reason, stated_criteria(unit) + inherited))
                if reason == RESTATED_REASON and current is not None:
                    # "...; the spec demands significance tests": the claim is about what the requirement names
                    current.defects = [c for c in CLASS_ORDER if c in current.defects or c in classify(unit)]
                    current.stated = _merge(current.stated, stated_criteria(unit))
                else:
                    current = None
                continue
            defects = classify(unit)
            after_semicolon = _char_before(issue, s) == ";"
            if current is not None and not half and _joins(unit, defects, targets, current, b.item and not after_semicolon):
                # merged part by part (re-reading the whole claim at each join would be quadratic)
                current.end = e
                current.text = issue[current.start:e]
                current.defects = [c for c in CLASS_ORDER if c in current.defects or c in defects]
                current.targets = current.targets.merged(targets)
                current.stated = _merge(current.stated, stated_criteria(unit))
                continue
            before = current
            current = _raw(issue, s, e, None, stated_criteria(unit) + inherited)
            out.append(current)
            if inherited_files and not current.targets.files:
                current.inherited_files = list(inherited_files)
            elif after_semicolon and before is not None and not current.targets.files:
                current.inherited_files = list(before.targets.files)  # "x.py does A; also B": B is about x.py too
    for c in out:
        if c.context is None:
            c.kind = claim_kind(c.text)
            if not c.targets.files and c.inherited_files:
                c.targets.files = list(c.inherited_files)  # "1. train.py breaks:" names the file of its sub-points
    return out


_AND = re.compile(r",?\s+and\s+(?=(?:the|a|an|no|its?|this|these|there)\b)", re.I)


def _conjoined(issue: str, s: int, e: int, half: bool = False) -> list[tuple[int, int, bool]]:
    """One sentence that joins two assertions of different kinds with "and" ("No confusion
    matrices are generated and the naming convention is not respected") is two claims: each
    half is checked, confirmed or refuted on its own (a later half never joins the one before)."""
    text = issue[s:e]
    for m in _AND.finditer(text):
        left, right = text[: m.start()], text[m.end():]
        if len(left.split()) < 5 or len(right.split()) < 5:
            continue
        a, b = set(classify(left)), set(classify(right))
        if a and b and not a & b:
            return [(s, s + m.start(), half)] + _conjoined(issue, s + m.end(), e, True)
    return [(s, e, half)]


def _char_before(text: str, at: int) -> str:
    """The last character before `at` that is not white space ("" at the start)."""
    while at > 0 and text[at - 1].isspace():
        at -= 1
    return text[at - 1] if at else ""


def _is_heading(text: str) -> bool:
    """An item with sub-points is their heading when it is a title ("Hydra / CLI mismatch",
    "Missing files:"), not when it makes its own assertions in full sentences."""
    body = text.rstrip()
    return body.endswith(":") or len(body) < 120 and not re.search(r"[a-z)][.!?]\s+[A-Z]", body)


def _next_is_item(blocks: list[_Block], b: _Block) -> bool:
    i = blocks.index(b)
    return i + 1 < len(blocks) and blocks[i + 1].item


def _joins(unit: str, defects: list[str], targets: RawTargets, current: RawClaim, in_item: bool) -> bool:
    """Does this unit elaborate the claim before it rather than assert something new?"""
    body = _strip_label(unit)
    if _CONNECTIVE.match(body):
        return True
    own = targets.names() - current.targets.names()
    if in_item:
        # an item is one claim unless a later sentence names new things *and* a different kind of defect
        return not (own and defects and not set(defects) & set(current.defects))
    if defects and set(defects) & set(current.defects):
        return True
    return not defects and not own


def _merge(a: list[int], b: list[int]) -> list[int]:
    return a + [n for n in b if n not in a]


def _raw(issue: str, s: int, e: int, context: str | None, stated: list[int]) -> RawClaim:
    text = issue[s:e]
    return RawClaim(start=s, end=e, text=text, context=context, defects=classify(text) if context is None else [],
                    targets=extract_targets(text) if context is None else RawTargets(), kind=None, stated=_merge([], stated))
