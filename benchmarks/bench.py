"""Benchmark reviewer-audit (not a test; CI does not run it, and it never fails).

    python benchmarks/bench.py                      # everything, on ../shared/corpus/transcripts
    python benchmarks/bench.py --limit 40 --runs 3  # quicker: the targets on the first 40
    python benchmarks/bench.py --corpus DIR --skip-throughput

Every target is printed as a ratio to a parse floor measured in the same run, on the same
machine, under the same load (wall-clock figures move with load; ratios move much less):

- **process / parse floor** (target <= 2): one `reviewer-audit check SEED` and one
  `audit-review SEED` as whole processes (start-up included; a fresh, empty cache folder each
  run), against a process that only imports libcst and parses the seed's modules;
- **cold report / parse floor** (target <= 1): `reviewer-audit report --jobs 2` on the first
  `--limit` transcripts with an empty cache folder, against one process that imports libcst and
  parses every module of those transcripts;
- **warm / cold** (target <= 0.25): the same `report --jobs 2` again over the cache it filled;
- **slope**: per-transcript time vs bundle bytes (least squares and Pearson r), and the same per
  module for the part that grows with code size (pre-check, parse, positions, facts): the cost
  stays linear in the size of the code under audit.

Also: per-transcript audit time in-process (median, p95), corpus throughput with --jobs 1 and
2 in-process API calls, and `reviewer-audit history REPO` on each mirror in ../shared/repos
(`--only-history`), and the library index's first use in a fresh
process (open, manifest, the records one audit reads). Against an older build without a cache (`--cache-dir`), warm = cold.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "transcripts"
DEFAULT_REPOS = REPO.parent / "shared" / "repos"


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def least_squares(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Slope, intercept and Pearson r of y = slope * x + intercept."""
    n = len(xs)
    if n < 2:
        return float("nan"), float("nan"), float("nan")
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    if sxx == 0:
        return float("nan"), my, float("nan")
    slope = sxy / sxx
    r = sxy / math.sqrt(sxx * syy) if syy else float("nan")
    return slope, my - slope * mx, r


def per_transcript(files: list[Path]) -> tuple[list[float], list[int], int]:
    from reviewer_audit.api import audit_transcript
    from reviewer_audit.ingest.errors import InputError
    from reviewer_audit.ingest.transcript import load_transcript

    audit_transcript(files[0])  # warm imports and caches outside the measurement
    times, sizes, failed = [], [], 0
    for f in files:
        try:
            size = sum(len(b.text.encode()) for b in load_transcript(f).bundle.files.values())
            started = time.perf_counter()
            audit_transcript(f)
            times.append((time.perf_counter() - started) * 1000)
            sizes.append(size)
        except InputError:
            failed += 1
        print(f"\r  in-process: {len(times) + failed}/{len(files)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return times, sizes, failed


def throughput(files: list[Path], jobs: int) -> tuple[float, float]:
    from reviewer_audit.corpus.report import audit_corpus

    started = time.perf_counter()
    rows = audit_corpus(files, jobs=jobs)
    wall = time.perf_counter() - started
    return wall, len(rows) / wall if wall else float("nan")


def per_module(files: list[Path]) -> tuple[list[float], list[int]]:
    """ms to pre-check, parse, position and collect the facts of each corpus module, with its
    size: the part of an audit that grows with the code (Hydra's cost grows with the runs)."""
    from reviewer_audit.ingest.errors import InputError
    from reviewer_audit.pipeline.gc_policy import fewer_collections
    from reviewer_audit.program.pyguard import analyse
    from reviewer_audit.ingest.transcript import load_transcript

    times, sizes = [], []
    for f in files:
        try:
            modules = [(p, b.text) for p, b in load_transcript(f).bundle.files.items() if p.endswith(".py")]
        except InputError:
            continue
        for path, text in modules:
            with fewer_collections():
                started = time.perf_counter()
                analyse(path, text)
                times.append((time.perf_counter() - started) * 1000)
            sizes.append(len(text.encode()))
    return times, sizes


def libcst_parse_only(files: list[Path]) -> list[float]:
    """Per transcript, ms spent in `libcst.parse_module` alone on its modules: the floor of any
    libcst-based audit."""
    import libcst

    from reviewer_audit.ingest.errors import InputError
    from reviewer_audit.ingest.transcript import load_transcript

    times = []
    for f in files:
        try:
            modules = [b.text for p, b in load_transcript(f).bundle.files.items() if p.endswith(".py")]
        except InputError:
            continue
        started = time.perf_counter()
        for text in modules:
            try:
                libcst.parse_module(text)
            except Exception:  # noqa: BLE001 - a module libcst rejects costs what it costs
                pass
        times.append((time.perf_counter() - started) * 1000)
    return times


#: `--cli`: the console script of another build to time (e.g. an older commit installed in
#: its own virtualenv), for before/after figures against floors measured in the same run
CLI_OVERRIDE: list[str] = []


def cli_command() -> list[str]:
    """The installed console script itself (next to this interpreter), not a version-manager
    shim in front of it: pyenv's shim alone adds about 0.1 s to every call."""
    if CLI_OVERRIDE:
        return list(CLI_OVERRIDE)
    exe = Path(sys.executable).with_name("reviewer-audit")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("reviewer-audit")
    return [found] if found else [sys.executable, "-m", "reviewer_audit.cli"]


#: a process that only imports libcst and parses the modules it is handed (as a JSON list)
_PARSE_ONLY = "import json, sys, libcst\nfor text in json.load(sys.stdin):\n    libcst.parse_module(text)\n"


def seed_modules(seed: Path) -> str:
    from reviewer_audit.ingest.transcript import load_transcript

    return json.dumps([f.text for p, f in load_transcript(seed).bundle.files.items() if p.endswith(".py")])


def no_cache() -> list[str]:
    """`history` timings audit every transcript (as a first run does)."""
    return ["--no-cache"] if cli_supports_cache() else []


def history_timings(repos: list[Path], runs: int) -> list[tuple[str, str]]:
    """Per repository: `history REPO --format json` as a process, median wall of `runs`, its
    CPU seconds (this process's children: the command and its workers) and git read time."""
    import resource
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "history.json"
        for repo in repos:
            walls, cpus = [], []
            for _ in range(runs):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                subprocess.run([*cli_command(), "history", str(repo), "--format", "json", "--output", str(out), *no_cache()],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO, check=False)
                walls.append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            try:
                doc = json.loads(out.read_text(encoding="utf-8"))
                [r] = doc["repos"]
                what = f"{r['counts']['transcript_versions']} transcripts, {r['counts']['runs']} runs, git read {r['read_ms'] / 1000:.2f} s"
            except (OSError, ValueError, KeyError):
                what = "no report written"
            rows.append((f"history {repo.name} (process, median of {runs})",
                         f"{statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU  ({what})"))
    return rows


_INDEX_FIRST_USE = r"""
import time
import reviewer_audit.pipeline.audit  # what an audit process has loaded before any rule asks
t0 = time.perf_counter()
from reviewer_audit.knowledge.api_index import api_index
ix = api_index()
names = ["omegaconf.OmegaConf.deepcopy", "omegaconf.OmegaConf.to_container", "transformers.TrainingArguments",
         "transformers.AutoModelForSequenceClassification.from_pretrained", "transformers.get_linear_schedule_with_warmup",
         "torch.nn.functional.cross_entropy", "torch.optim.AdamW", "torch.utils.data.DataLoader", "torch.amp.GradScaler",
         "sklearn.metrics.f1_score", "scipy.stats.wilcoxon", "numpy.float", "peft.LoraConfig", "peft.get_peft_model",
         "datasets.load_dataset", "wandb.init", "optuna.create_study", "hydra.main", "os.path.join", "json.dumps"]
for n in names:
    lib = ix.library_for_module(n)
    res = lib.resolve(n)
    for t, m in res.found:
        lib.signatures(t, m)
ix.library("timm").timm_registry(); ix.library("transformers").architectures()
print((time.perf_counter() - t0) * 1000)
"""


def index_first_use(runs: int) -> float:
    """Median ms an audit process (pipeline loaded, index not yet) spends importing the index's
    modules, opening it and answering what one audit asks (20 names across 12 libraries, their
    signatures, the timm and transformers registries)."""
    out = []
    for _ in range(runs):
        res = subprocess.run([sys.executable, "-c", _INDEX_FIRST_USE], capture_output=True, text=True, cwd=REPO, check=True)
        out.append(float(res.stdout.strip().splitlines()[-1]))
    return statistics.median(out)


def cli_supports_cache() -> bool:
    out = subprocess.run([*cli_command(), "report", "--help"], capture_output=True, text=True, check=False)
    return "--cache-dir" in out.stdout


def timed(cmd: list[str], stdin: str | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, input=stdin, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO, check=False)
    return time.perf_counter() - started


def process_targets(seeds: list[Path], runs: int, cache: bool) -> list[tuple[str, str]]:
    """Whole `check` and `audit-review` processes on each seed, cold (an empty cache folder per
    run), over the libcst import-and-parse process of the same modules; runs interleaved so
    load drifts hit both alike."""
    import tempfile

    rows = []
    for seed in seeds:
        modules = seed_modules(seed)
        cmds = {name: [*cli_command(), name, str(seed), "-f", "json"] for name in ("check", "audit-review")}
        times: dict[str, list[float]] = {"floor": [], "check": [], "audit-review": []}
        for _ in range(runs):
            times["floor"].append(timed([sys.executable, "-c", _PARSE_ONLY], stdin=modules))
            for name, cmd in cmds.items():
                with tempfile.TemporaryDirectory() as tmp:
                    times[name].append(timed(cmd + (["--cache-dir", tmp] if cache else [])))
        floor = statistics.median(times["floor"])
        rows.append((f"{seed.name}: floor, a process importing libcst and parsing its modules", f"{floor:.2f} s (median of {runs})"))
        for name in cmds:
            t = statistics.median(times[name])
            rows.append((f"  {name} process, cold / floor (target <= 2)", f"{t / floor:.2f}x  ({t:.2f} s)"))
    return rows


def report_targets(files: list[Path], runs: int, cache: bool) -> list[tuple[str, str]]:
    """Cold and warm `report --jobs 2` on `files` as processes, over one process parsing all
    their modules with libcst (import included)."""
    import tempfile

    from reviewer_audit.ingest.errors import InputError
    from reviewer_audit.ingest.transcript import load_transcript

    texts = []
    for f in files:
        try:
            texts += [b.text for p, b in load_transcript(f).bundle.files.items() if p.endswith(".py")]
        except InputError:
            pass
    modules = json.dumps(texts)
    floors, colds, warms = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        for f in files:  # the report's input: exactly these transcripts (and the dates index)
            os.symlink(f, Path(folder) / f.name)
        for index in (files[0].parent / "index.tsv", files[0].parent.parent / "index.tsv"):
            if index.exists():  # the transcripts' dates, as `index_dates` finds them
                os.symlink(index, Path(folder) / "index.tsv")
                break
        cmd = [*cli_command(), "report", folder, "--jobs", "2", "-f", "json", "-q"]
        for _ in range(runs):
            floors.append(timed([sys.executable, "-c", _PARSE_ONLY_ALL], stdin=modules))
            with tempfile.TemporaryDirectory() as tmp:
                extra = ["--cache-dir", tmp] if cache else []
                colds.append(timed(cmd + extra))
                warms.append(timed(cmd + extra))
    floor, cold, warm = statistics.median(floors), statistics.median(colds), statistics.median(warms)
    return [
        (f"floor: one process importing libcst, parsing the {len(texts)} modules of {len(files)} transcripts", f"{floor:.2f} s (median of {runs})"),
        ("  report --jobs 2, cold / floor (target <= 1)", f"{cold / floor:.2f}x  ({cold:.2f} s, {len(files) / cold:.1f} transcripts/s)"),
        ("  report --jobs 2, warm / cold (target <= 0.25)", (f"{warm / cold:.2f}  ({warm:.2f} s)" if cache else "n/a: this build has no cache (warm = cold)")),
    ]


#: one process importing libcst and parsing every module it is handed; a module libcst
#: rejects costs what it costs
_PARSE_ONLY_ALL = ("import json, sys, libcst\nfor text in json.load(sys.stdin):\n    try:\n        libcst.parse_module(text)\n"
                   "    except Exception:\n        pass\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of transcripts (default: ../shared/corpus/transcripts)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N transcripts (0: all)")
    ap.add_argument("--runs", type=int, default=5, help="whole-process runs per seed (median)")
    ap.add_argument("--skip-throughput", action="store_true", help="skip the --jobs 1 / --jobs 2 corpus runs")
    ap.add_argument("--repos", type=Path, default=DEFAULT_REPOS, help="folder of git repositories for `history` (default: ../shared/repos)")
    ap.add_argument("--history-runs", type=int, default=3, help="`history` runs per repository (median)")
    ap.add_argument("--only-history", action="store_true", help="only time `history` on the repositories")
    ap.add_argument("--only-targets", action="store_true", help="only the ratio targets (no in-process, slope or history figures)")
    ap.add_argument("--cli", type=Path, help="time this reviewer-audit console script (another build, for before/after) instead of the one installed here")
    args = ap.parse_args(argv)
    if args.cli:
        CLI_OVERRIDE[:] = [str(args.cli)]

    table: list[tuple[str, str]] = []
    files = sorted(args.corpus.glob("*.txt")) if args.corpus.is_dir() and not args.only_history else []
    if args.limit:
        files = files[: args.limit]
    cache = cli_supports_cache()
    if files and not args.only_history:
        print(f"  targets: report --jobs 2 on {len(files)} transcripts, cold and warm, x{args.runs} ...", file=sys.stderr, flush=True)
        try:
            table += report_targets(files, args.runs, cache)
        except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not fail
            table.append(("report targets", f"failed: {type(exc).__name__}: {exc}"))
    if not args.only_history:
        print(f"  targets: check and audit-review processes on the seeds, x{args.runs} ...", file=sys.stderr, flush=True)
        try:
            table += process_targets(sorted((REPO / "fixtures").glob("seed_*.txt")), args.runs, cache)
        except Exception as exc:  # noqa: BLE001
            table.append(("process targets", f"failed: {type(exc).__name__}: {exc}"))
    if args.only_history or args.only_targets:
        pass
    elif not files:
        table.append(("corpus", f"skipped: no transcripts in {args.corpus}"))
    else:
        table.append(("corpus", f"{len(files)} transcripts in {args.corpus}"))
        try:
            times, sizes, failed = per_transcript(files)
            table.append(("per transcript, in-process: median", f"{statistics.median(times):.0f} ms"))
            table.append(("per transcript, in-process: p95", f"{percentile(times, 95):.0f} ms"))
            table.append(("per transcript, in-process: max", f"{max(times):.0f} ms" + (f"  ({failed} did not parse)" if failed else "")))
            slope, intercept, r = least_squares([s / 1000 for s in sizes], times)
            table.append(("time vs bundle size: slope", f"{slope:.2f} ms per KB (intercept {intercept:.0f} ms)"))
            table.append(("time vs bundle size: Pearson r", f"{r:.3f}  (bundles {min(sizes) / 1000:.0f}-{max(sizes) / 1000:.0f} KB)"))
            module_times, module_sizes = per_module(files)
            slope, intercept, r = least_squares([s / 1000 for s in module_sizes], module_times)
            table.append(("per module, parse + facts vs size: slope", f"{slope:.2f} ms per KB (intercept {intercept:.1f} ms, {len(module_times)} modules)"))
            table.append(("per module, parse + facts vs size: Pearson r", f"{r:.3f}  (modules {min(module_sizes) / 1000:.1f}-{max(module_sizes) / 1000:.0f} KB)"))
            floor = libcst_parse_only(files)
            table.append(("floor: libcst.parse_module alone, median", f"{statistics.median(floor):.0f} ms per transcript (p95 {percentile(floor, 95):.0f} ms)"))
        except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not fail
            table.append(("per transcript", f"failed: {type(exc).__name__}: {exc}"))
        if not args.skip_throughput:
            for jobs in (1, 2):
                try:
                    print(f"  corpus with --jobs {jobs} ...", file=sys.stderr, flush=True)
                    wall, rate = throughput(files, jobs)
                    table.append((f"corpus, --jobs {jobs}", f"{wall:.1f} s wall, {rate:.2f} transcripts/s"))
                except Exception as exc:  # noqa: BLE001
                    table.append((f"corpus, --jobs {jobs}", f"failed: {type(exc).__name__}: {exc}"))
    if not args.only_history and not args.only_targets:
        try:
            table.append((f"library index: first use in an audit process (median of {max(args.runs, 5)})", f"{index_first_use(max(args.runs, 5)):.1f} ms"))
        except Exception as exc:  # noqa: BLE001
            table.append(("library index: first use", f"failed: {type(exc).__name__}: {exc}"))
    repos = sorted(p for p in args.repos.iterdir() if p.is_dir()) if args.repos.is_dir() and not args.only_targets else []
    if args.only_targets:
        pass
    elif not repos:
        table.append(("history", f"skipped: no repositories in {args.repos}"))
    else:
        try:
            print(f"  {args.history_runs} x reviewer-audit history on {len(repos)} repositories ...", file=sys.stderr, flush=True)
            table += history_timings(repos, args.history_runs)
        except Exception as exc:  # noqa: BLE001
            table.append(("history", f"failed: {type(exc).__name__}: {exc}"))

    try:
        load = os.getloadavg()[0]
        table.append(("machine", f"{os.cpu_count()} CPUs, load average {load:.2f} at the end"))
    except OSError:
        pass
    width = max(len(k) for k, _ in table)
    print()
    for k, v in table:
        print(f"{k.ljust(width)}  {v}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - never fail CI, even if someone runs it there
        print(f"benchmark failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(0)
