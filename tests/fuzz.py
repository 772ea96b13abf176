"""Long fuzz run over reviewer-audit's untrusted-input paths.

    python -m tests.fuzz --cases 10000            # the full run (8-10 minutes on 2 CPUs)
    python -m tests.fuzz --cases 500 --jobs 1     # a quick one
    python -m tests.fuzz --cases 2000 --only audit,parse --seed 7
    python -m tests.fuzz --replay /tmp/ra-fuzz-run-XXXX/failures/case-1234-0003.json

Cases come from the hypothesis strategies in `tests/fuzz_strategies.py` (mutated seed
transcripts for the parser and the whole audit, mutated JSON bundles, YAML and TOML bombs);
each must end in a result or a one-line `InputError` (`YamlError` for the YAML reader), with
no RA000 finding (a rule that crashed) and no marker file of the hostile fixture
(`/tmp/reviewer_audit_executed_*`, i.e. nothing was executed).

Cases run in `--jobs` worker processes, each with its own hypothesis seed. A watchdog kills a
worker whose current case runs longer than `--hang-timeout` seconds (default 120), records
that case as a hang and starts a fresh worker, so a hang or a crash of the interpreter
(segfault, abort, out-of-memory kill) is a reported failure, not a stuck run. Workers run
with an address-space limit (`--memory-mb`, default 4096) so a memory blow-up fails the case
instead of the machine.

Prints the number of cases, the number of failures (with each failing case's recipe, error
and a file under `--save-dir` holding its payload), the results per target and the slowest
case. A case slower than `--slow` seconds (default 10) counts as a failure. Exit status 1
when anything failed, else 0.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- worker


def worker(args: argparse.Namespace) -> int:
    """Run `args.cases` cases, one JSON line per case on `args.out`; the case about to run is
    written to `args.out + '.current'` first so the parent can name it if this process dies."""
    from hypothesis import HealthCheck, Phase, given, settings

    from tests import fuzz_strategies as fs

    if args.memory_mb:
        try:
            import resource

            limit = args.memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):  # pragma: no cover - platform without rlimits
            pass
    weights = {t: w for t, w in {"parse": 3, "audit": 3, "bundle": 2, "yaml": 1, "toml": 1}.items() if not args.only or t in args.only}
    out = open(args.out, "a", encoding="utf-8")
    current = Path(args.out + ".current")
    save_dir = Path(args.save_dir)

    @settings(max_examples=args.cases, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False, print_blob=False)
    @given(case=fs.cases(weights))
    def run(case: fs.Case) -> None:
        current.write_text(repr(case), encoding="utf-8")
        outcome = fs.run_case(case)
        record = {"label": case.label(), "target": case.target, "status": outcome.status,
                  "seconds": round(outcome.seconds, 3), "detail": outcome.detail[:2000]}
        if outcome.failed or outcome.seconds > args.slow:
            record["recipe"] = repr(case)
            record["payload"] = str(_save_payload(save_dir, case))
        out.write(json.dumps(record) + "\n")
        out.flush()

    import hypothesis

    hypothesis.seed(args.seed)(run)()
    current.unlink(missing_ok=True)
    out.close()
    return 0


def _save_payload(save_dir: Path, case) -> Path:
    save_dir.mkdir(parents=True, exist_ok=True)
    n = len(list(save_dir.glob("case-*.json")))
    path = save_dir / f"case-{os.getpid()}-{n:04d}.json"
    path.write_text(json.dumps({"target": case.target, "recipe": repr(case)}), encoding="utf-8")
    try:
        (path.with_suffix(".payload")).write_bytes(case.payload())
    except Exception:  # noqa: BLE001 - best effort
        pass
    return path


# --------------------------------------------------------------------------- parent


def _spawn(args: argparse.Namespace, cases: int, seed: int, out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "tests.fuzz", "--worker", "--cases", str(cases), "--seed", str(seed),
           "--out", str(out), "--slow", str(args.slow), "--save-dir", str(args.save_dir), "--memory-mb", str(args.memory_mb)]
    if args.only:
        cmd += ["--only", ",".join(args.only)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    with open(str(out) + ".stderr", "ab") as err:  # a file, not a pipe: a chatty worker never blocks
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)


def _count(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            return sum(1 for _ in fh)
    except FileNotFoundError:
        return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=10_000, help="number of cases in all (default 10000)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--seed", type=int, default=0, help="base hypothesis seed (worker k uses seed + k)")
    p.add_argument("--only", type=lambda s: [t for t in s.split(",") if t], default=[], help="targets: parse,audit,bundle,yaml,toml")
    p.add_argument("--slow", type=float, default=10.0, help="a case slower than this many seconds fails (default 10)")
    p.add_argument("--hang-timeout", type=float, default=120.0, help="kill a worker stuck this long on one case (default 120)")
    p.add_argument("--memory-mb", type=int, default=4096, help="address-space limit per worker, 0 for none (default 4096)")
    p.add_argument("--save-dir", default=None, help="where failing cases are saved (default: <workdir>/failures)")
    p.add_argument("--workdir", default=None, help="folder for the run's logs (default: a new temporary folder)")
    p.add_argument("--replay", default=None, help="re-run one saved case (a case-*.json file) and print its outcome")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        return worker(args)
    if args.replay:
        return replay(Path(args.replay))

    import tempfile

    from tests import fuzz_strategies as fs

    stale = fs.markers()
    for m in stale:
        m.unlink()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="ra-fuzz-run-"))
    workdir.mkdir(parents=True, exist_ok=True)
    args.save_dir = args.save_dir or str(workdir / "failures")
    print(f"logs and failing cases: {workdir}", flush=True)
    started = time.perf_counter()
    jobs = max(1, min(args.jobs, args.cases))
    share = [args.cases // jobs + (1 if k < args.cases % jobs else 0) for k in range(jobs)]
    slots = []  # [process, out path, cases wanted, cases done before this process, seed, last progress time, last count]
    next_seed = args.seed
    for k in range(jobs):
        out = workdir / f"worker-{k}.jsonl"
        slots.append({"proc": _spawn(args, share[k], next_seed, out), "out": out, "want": share[k], "seed": next_seed,
                      "count": 0, "progress": time.monotonic()})
        next_seed += 1
    crashes: list[dict] = []
    last_report = time.monotonic()
    while any(s["proc"] is not None for s in slots):
        time.sleep(1.0)
        for s in slots:
            proc = s["proc"]
            if proc is None:
                continue
            count = _count(s["out"])
            if count != s["count"]:
                s["count"], s["progress"] = count, time.monotonic()
            rc = proc.poll()
            stuck = rc is None and time.monotonic() - s["progress"] > args.hang_timeout
            if rc is None and not stuck:
                continue
            if stuck:
                proc.kill()
                proc.wait()
            err_file = Path(str(s["out"]) + ".stderr")
            err = err_file.read_text(encoding="utf-8", errors="replace") if err_file.exists() else ""
            current = Path(str(s["out"]) + ".current")
            if stuck or rc != 0 or current.exists():
                recipe = current.read_text(encoding="utf-8") if current.exists() else "?"
                why = f"hang: no result after {args.hang_timeout:.0f} s" if stuck else f"worker died (exit {rc})"
                crashes.append({"label": recipe[:300], "target": recipe.split("'")[1] if "'" in recipe else "?",
                                "status": "bug", "seconds": round(time.monotonic() - s["progress"], 1),
                                "detail": f"{why}: {err[-1500:]}", "recipe": recipe})
                current.unlink(missing_ok=True)
                remaining = s["want"] - s["count"] - 1
                if remaining > 0:  # carry on with a fresh worker and a fresh seed
                    s["want"], s["count"] = remaining, 0
                    s["out"] = workdir / f"worker-{next_seed}.jsonl"
                    s["seed"] = next_seed
                    s["proc"], s["progress"] = _spawn(args, remaining, next_seed, s["out"]), time.monotonic()
                    next_seed += 1
                    continue
            s["proc"] = None
        if time.monotonic() - last_report > 60:
            done = sum(_count(f) for f in workdir.glob("worker-*.jsonl"))
            print(f"... {done}/{args.cases} cases, {time.perf_counter() - started:.0f} s", flush=True)
            last_report = time.monotonic()

    records = []
    for f in sorted(workdir.glob("worker-*.jsonl")):
        records += [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    records += crashes
    leftover = fs.markers()
    failures = [r for r in records if r["status"] == "bug" or r["seconds"] > args.slow]
    if leftover:
        failures.append({"label": "never-execute", "target": "-", "status": "bug", "seconds": 0,
                         "detail": "marker files appeared: " + ", ".join(map(str, leftover))})
    return _report(records, failures, time.perf_counter() - started, args)


def _report(records: list[dict], failures: list[dict], elapsed: float, args) -> int:
    by_target = Counter((r["target"], r["status"]) for r in records)
    print(f"cases: {len(records)}  failures: {len(failures)}  time: {elapsed:.0f} s")
    for target in sorted({t for t, _ in by_target}):
        parts = ", ".join(f"{status} {n}" for (t, status), n in sorted(by_target.items()) if t == target)
        print(f"  {target:7} {parts}")
    if records:
        slow = max(records, key=lambda r: r["seconds"])
        print(f"slowest case: {slow['seconds']:.2f} s  {slow['label'][:200]}")
    for r in failures[:50]:
        print(f"\nFAILURE [{r['target']}] {r['seconds']:.2f} s  {r['label'][:300]}")
        print("  " + r["detail"].strip().replace("\n", "\n  ")[:3000])
        if r.get("payload"):
            print(f"  saved: {r['payload']}  (replay: python -m tests.fuzz --replay {r['payload']})")
    if len(failures) > 50:
        print(f"\n... and {len(failures) - 50} more failures")
    return 1 if failures else 0


def replay(path: Path) -> int:
    """Re-run a saved case from its recipe and print the outcome."""
    from tests import fuzz_strategies as fs
    from tests.fuzz_strategies import BundleEdit, ByteMutation, Case, TextMutation, TranscriptEdit  # noqa: F401 - for eval

    saved = json.loads(path.read_text(encoding="utf-8"))
    case = eval(saved["recipe"], {"Case": Case, "BundleEdit": BundleEdit, "TranscriptEdit": TranscriptEdit,  # noqa: S307 - our own repr
                                  "TextMutation": TextMutation, "ByteMutation": ByteMutation})
    outcome = fs.run_case(case)
    print(f"{outcome.status} in {outcome.seconds:.2f} s: {case.label()}\n{outcome.detail}")
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main())
