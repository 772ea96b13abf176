"""Claim adjudication measured against reviewer claims labelled by reading the code.

tests/data/claims_labelled.tsv is project data: readers read dev-corpus transcripts and their
bundles (never running the code) and labelled every claim of the reviewer's verdict
`real_defect`, `false_alarm` or `not_a_claim`, with the file:line evidence for the label. It
names transcripts of ../shared/corpus by file name and quotes the reviewer's words; the
transcripts themselves are not copied.

Readers A and B labelled 23 transcripts that the adjudication was then developed against.
Readers C, D and E labelled 12 further transcripts *blind* (without running reviewer-audit) at
commit f75fabd; the development that followed read their errors. Readers F, G and H labelled 12
more blind at commit 610d132 and were scored once before anything was changed for them. Readers
I, J and K labelled 15 more blind at 0b19703; I and J's errors were then read, K's were scored
only at 0b19703 and after the change that followed, before being read. Readers L, M and N
labelled 12 more blind (12 transcripts, 71 claims) and were scored once at d56f109 before their
errors were read; one change followed (the phrasing of a truncated file). Readers O, P and Q
labelled 12 more blind (76 claims), scored once at ffd90c4; their errors were then read. Readers
R and S labelled 8 more blind (47 claims), scored once at 657ae57. Readers T and U labelled the
last 6 transcripts with reasons (32 claims) blind, scored once at 1295c0a. Each
group is scored on its own too (`GROUPS`), because figures on data a mechanism was tuned against
overstate it.

One labelling rule was settled after the fact. An all-clear statement ("all other criteria are
met") denies defects; it raises no alarm and costs no fixer iteration. Readers B, M and S labelled
such statements `not_a_claim`, reader A `false_alarm` (4 rows). The rows of reader A are
relabelled `not_a_claim`, and their evidence keeps the original label. The blockers such a
statement denies are counted once, as blockers the reviewer missed.

Each labelled claim is matched to the claim `audit-review` extracted that overlaps its excerpt
most, and the statuses are scored:

* `confirmed` against `real_defect` (precision: confirmed claims that are real defects; recall:
  real defects confirmed),
* `refuted` against `false_alarm`,
* `context` against `not_a_claim`.

The floors asserted are the figures reached when this test was written, so a regression fails;
raise them when the adjudication improves. Run with `-s` to see the figures:

    pytest tests/test_claims_labelled.py -s
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from reviewer_audit.api import audit_transcript

from .conftest import CORPUS

DATA = Path(__file__).parent / "data" / "claims_labelled.tsv"
COLUMNS = ["transcript", "claim_id", "excerpt", "label", "kind", "criterion", "evidence", "reader"]
LABELS = {"real_defect", "false_alarm", "not_a_claim"}

#: (status, label) -> (precision floor, recall floor), the figures reached (rounded down), on
#: every labelled row and on each group of readers alone.
FLOORS = {
    ("confirmed", "real_defect"): (0.94, 0.60),
    ("refuted", "false_alarm"): (0.97, 0.32),
    ("context", "not_a_claim"): (0.93, 0.92),
}
GROUPS = {
    "AB": {("confirmed", "real_defect"): (0.97, 0.57), ("refuted", "false_alarm"): (1.00, 0.51), ("context", "not_a_claim"): (0.95, 0.96)},
    "CDE": {("confirmed", "real_defect"): (0.96, 0.46), ("refuted", "false_alarm"): (1.00, 0.34), ("context", "not_a_claim"): (0.98, 0.96)},
    "FGH": {("confirmed", "real_defect"): (0.93, 0.52), ("refuted", "false_alarm"): (1.00, 0.10), ("context", "not_a_claim"): (0.96, 1.00)},
    # labelled blind at 0b19703; I and J read for errors, K scored only before and after (see README)
    "IJK": {("confirmed", "real_defect"): (0.87, 0.64), ("refuted", "false_alarm"): (1.00, 0.13), ("context", "not_a_claim"): (0.91, 0.81)},
    # labelled blind at d56f109 and scored once there (0.96 / 0.58, refuted 0.67 / 0.40) before their errors were read
    "LMN": {("confirmed", "real_defect"): (0.96, 0.78), ("refuted", "false_alarm"): (1.00, 0.40), ("context", "not_a_claim"): (1.00, 0.85)},
    # labelled blind at ffd90c4 and scored once there (0.84 / 0.43, refuted 1.00 / 0.14) before their errors were read
    "OPQ": {("confirmed", "real_defect"): (0.95, 0.59), ("refuted", "false_alarm"): (1.00, 0.14), ("context", "not_a_claim"): (0.90, 0.87)},
    # labelled blind at 657ae57 and scored once there (1.00 / 0.48; its one refutation was of "Everything else complies",
    # an all-clear statement, which the reader counted as no claim and the tool now keeps as context)
    # labelled blind at 1295c0a and scored once there (0.83 / 0.62, refuted 0.67 / 0.22) before their errors were read
    "TU": {("confirmed", "real_defect"): (0.85, 0.75), ("refuted", "false_alarm"): (0.85, 0.66), ("context", "not_a_claim"): (1.00, 0.80)},
    "RS": {("confirmed", "real_defect"): (1.00, 0.70), ("refuted", "false_alarm"): (0.00, 0.00), ("context", "not_a_claim"): (0.70, 0.85)},
}


def load_labels() -> list[dict[str, str]]:
    """Tab-separated, no quoting (excerpts quote the reviewer, quotes included)."""
    lines = DATA.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == COLUMNS
    rows = []
    for n, line in enumerate(lines[1:], 2):
        parts = line.split("\t")
        assert len(parts) == len(COLUMNS), f"{DATA.name}:{n}: {len(parts)} fields"
        rows.append(dict(zip(COLUMNS, parts)))
    return rows


def test_label_file_is_well_formed():
    rows = load_labels()
    assert len(rows) >= 150
    transcripts = {r["transcript"] for r in rows}
    assert len(transcripts) >= 25
    assert {r["reader"] for r in rows} == set("".join(GROUPS))
    assert {r["label"] for r in rows} == LABELS
    seen = set()
    for r in rows:
        key = (r["transcript"], r["claim_id"])
        assert key not in seen, key
        seen.add(key)
        assert r["transcript"].endswith(".txt") and "/" not in r["transcript"], "transcripts are named, never copied"
        assert r["kind"] in ({"-"} if r["label"] == "not_a_claim" else {"crash", "criterion", "advice"}), key
        assert r["evidence"].strip(), key
        assert 5 <= len(r["excerpt"]) <= 400, key


@dataclass
class Pair:
    transcript: str
    label: str
    excerpt: str
    status: str | None
    claim: str | None
    reader: str = ""


def _locate(issue: str, excerpt: str) -> tuple[int, int] | None:
    i = issue.find(excerpt)
    if i >= 0:
        return i, i + len(excerpt)
    m = re.search(r"\s+".join(map(re.escape, excerpt.split())), issue)
    return (m.start(), m.end()) if m else None


def match_labels(rows: list[dict[str, str]]) -> tuple[list[Pair], list[str]]:
    """Each labelled claim paired with the extracted claim overlapping its excerpt most."""
    pairs, missing = [], []
    by_transcript: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_transcript.setdefault(r["transcript"], []).append(r)
    for name, labels in sorted(by_transcript.items()):
        report = audit_transcript(CORPUS / "transcripts" / name)
        issue = report.reviewer_verdict.issue if report.reviewer_verdict else ""
        for lab in labels:
            loc = _locate(issue, lab["excerpt"])
            if loc is None:
                missing.append(f"{name} #{lab['claim_id']}: {lab['excerpt'][:60]}")
                continue
            best, overlap = None, 0
            for c in report.claims:
                o = min(c.start + len(c.text), loc[1]) - max(c.start, loc[0])
                if o > overlap:
                    best, overlap = c, o
            pairs.append(Pair(name, lab["label"], lab["excerpt"], best.status if best else None, best.text if best else None, lab["reader"]))
    return pairs, missing


def _scored(title: str, pairs: list[Pair], floors: dict) -> list[str]:
    """Print the figures of `pairs` and return the floors they fall below."""
    print(f"\n{title}: {len(pairs)} labelled claims from {len({p.transcript for p in pairs})} transcripts "
          f"({', '.join(f'{k} {v}' for k, v in sorted(Counter(p.label for p in pairs).items()))})")
    failures = []
    for (status, label), (p_floor, r_floor) in floors.items():
        tp, predicted, gold = score(pairs, status, label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / gold if gold else 0.0
        print(f"  {status:>9} vs {label:<11}: precision {tp}/{predicted} = {precision:.2f}   recall {tp}/{gold} = {recall:.2f}")
        if precision < p_floor or recall < r_floor:
            failures.append(f"{title}: {status} vs {label}: precision {precision:.2f} (floor {p_floor}), recall {recall:.2f} (floor {r_floor})")
    table = Counter((p.label, p.status) for p in pairs)
    print("  label x status: " + ", ".join(f"{lab}/{st} {n}" for (lab, st), n in sorted(table.items())))
    return failures


def score(pairs: list[Pair], status: str, label: str) -> tuple[int, int, int]:
    """(true positives, predicted, gold)."""
    tp = sum(1 for p in pairs if p.status == status and p.label == label)
    return tp, sum(1 for p in pairs if p.status == status), sum(1 for p in pairs if p.label == label)


@pytest.mark.skipif(not (CORPUS / "transcripts").is_dir(), reason=f"the shared corpus is not at {CORPUS} (CI places ../shared beside the checkout)")
def test_adjudication_precision_and_recall_on_labelled_claims():
    rows = load_labels()
    pairs, missing = match_labels(rows)
    assert not missing, "labelled excerpts not found verbatim in the reviewer's issue text:\n" + "\n".join(missing)
    assert all(p.status is not None for p in pairs), "every labelled claim overlaps an extracted claim or context"
    failures = _scored("all readers", pairs, FLOORS)
    for readers, floors in GROUPS.items():
        failures += _scored(f"readers {readers}", [p for p in pairs if p.reader in readers], floors)
    assert not failures, "\n".join(failures)


def test_headings_and_lead_ins_the_labels_name_are_context():
    """Headings and lead-ins are recognised from the text alone (no corpus needed): every
    `not_a_claim` excerpt that ends with ':' is context when extracted on its own."""
    from reviewer_audit.verdict.claims import extract_claims

    heads = [r["excerpt"] for r in load_labels() if r["label"] == "not_a_claim" and r["excerpt"].rstrip().endswith(":")]
    assert heads
    for text in heads:
        assert all(c.context is not None for c in extract_claims(text)), text
