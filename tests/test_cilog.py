"""The CI log and commit-message readers behind `history`, on the shapes real AIRAS logs have."""
from __future__ import annotations

import pytest

from reviewer_audit.corpus.cilog import (attempts, branch_run_id, classify_message, exception_type, find_error, nan_loss,
                                         parse_log_date, passed_lines, project_path)

TRIAL_OK = """=== [UV SYNC] Start at Tue Oct 21 04:41:01 PM UTC 2025 ===
Resolved 120 packages
=== [UV SYNC] Finished successfully at Tue Oct 21 04:41:06 PM UTC 2025 ===
=== [TRIAL RUN] Start for proposed-x at Tue Oct 21 04:41:06 PM UTC 2025 ===
epoch 1 loss=0.3
=== [TRIAL RUN] PASSED for proposed-x at Tue Oct 21 04:42:49 PM UTC 2025 ===
"""


def test_a_start_closed_by_passed_is_one_passed_run_with_its_times():
    [a] = attempts(TRIAL_OK)
    assert (a.mode, a.run_id, a.passed, a.marker, a.stage) == ("trial", "proposed-x", True, "PASSED", "run")
    assert a.started_at == "2025-10-21T16:41:06+00:00" and a.ended_at == "2025-10-21T16:42:49+00:00"
    assert "epoch 1 loss=0.3" in a.text
    assert passed_lines(TRIAL_OK) == 1


def test_a_start_without_passed_did_not_exit_0():
    log = "=== [FULL EXPERIMENT] Start for comparative-1 at Tue Oct 21 05:44:54 PM UTC 2025 ===\nTraceback ...\n"
    [a] = attempts(log)
    assert (a.mode, a.run_id, a.passed) == ("full", "comparative-1", False)
    assert passed_lines(log) == 0


def test_several_attempts_in_one_agent_job_and_the_older_END_wording():
    log = "\n".join([
        "=== [TRIAL RUN] Start for r at Fri Oct 17 07:10:02 AM UTC 2025 ===",
        "=== [TRIAL RUN] Start for r at Fri Oct 17 07:10:07 AM UTC 2025 ===",
        "=== [TRIAL RUN] END for r at Fri Oct 17 07:10:40 AM UTC 2025 ===",
        "=== [TRIAL RUN] Start at Mon Oct 20 03:31:22 PM UTC 2025 ===",
        "=== [TRIAL RUN] PASSED at Mon Oct 20 03:32:08 PM UTC 2025 ===",
    ])
    got = [(a.run_id, a.passed, a.marker) for a in attempts(log)]
    assert got == [("r", False, None), ("r", True, "END"), (None, True, "PASSED")]
    assert passed_lines(log) == 2


def test_a_passed_line_whose_start_was_committed_earlier_still_counts():
    [a] = attempts("training done\n=== [FULL EXPERIMENT] PASSED for p at Sat Oct 18 12:24:19 AM UTC 2025 ===\n")
    assert (a.mode, a.run_id, a.passed, a.started_at) == ("full", "p", True, None)


def test_an_install_that_never_finished_is_a_failed_install_attempt():
    log = "=== [UV SYNC] Start at Tue Oct 21 04:41:01 PM UTC 2025 ===\n  × No solution found when resolving dependencies\n"
    [a] = attempts(log)
    assert (a.stage, a.passed, a.mode) == ("install", False, None)
    assert find_error(a.text).text.startswith("× No solution found")


def test_a_finished_install_is_not_a_run():
    assert attempts("=== [UV SYNC] Start at Tue Oct 21 04:41:01 PM UTC 2025 ===\n=== [UV SYNC] Finished successfully at Tue Oct 21 04:41:06 PM UTC 2025 ===\n") == []


CHILD_THEN_PARENT = """Error executing job with overrides: ['run=c']
Traceback (most recent call last):
  File "/home/ci/_work/r/r/.venv/lib/python3.11/site-packages/optuna/study/_optimize.py", line 205, in _run_trial
    value_or_values = func(trial)
  File "/home/ci/_work/r/r/src/train.py", line 478, in _objective
    cfg = OmegaConf.deepcopy(base_cfg)
          ^^^^^^^^^^^^^^^^^^
AttributeError: type object 'OmegaConf' has no attribute 'deepcopy'
Traceback (most recent call last):
  File "/home/ci/_work/r/r/src/main.py", line 58, in main
    subprocess.run(cmd, check=True, env=env)
subprocess.CalledProcessError: Command '['python', '-m', 'src.train']' returned non-zero exit status 1.
"""


def test_the_root_cause_is_the_child_traceback_and_its_innermost_project_frame():
    err = find_error(CHILD_THEN_PARENT)
    assert err.text == "AttributeError: type object 'OmegaConf' has no attribute 'deepcopy'"
    assert (err.path, err.line) == ("src/train.py", 478)
    assert exception_type(err.text) == "AttributeError"


def test_a_wrapper_alone_is_still_the_error():
    err = find_error(CHILD_THEN_PARENT.split("AttributeError")[1].split("\n", 1)[1])
    assert err.text.startswith("subprocess.CalledProcessError") and err.path == "src/main.py"


def test_dotted_exception_types_and_lines_without_a_traceback():
    assert find_error('Traceback (most recent call last):\n  File "src/train.py", line 170, in run\n    wandb.init()\n'
                      "wandb.errors.errors.UsageError: api_key not configured (no-tty).\n").text.startswith("wandb.errors.errors.UsageError")
    assert find_error("step 1\nModuleNotFoundError: No module named 'hydra'\n").text == "ModuleNotFoundError: No module named 'hydra'"
    assert find_error("error: Failed to build `pkg==1.0`\n").text.startswith("error: Failed to build")
    assert find_error("all good\nloss=0.2\n") is None


@pytest.mark.parametrize("frame,expected", [
    ("/home/ci/_work/repo/repo/src/train.py", "src/train.py"),
    ("src/model.py", "src/model.py"),
    ("/home/ci/.venv/lib/python3.11/site-packages/torch/nn/modules/module.py", None),
    ("<frozen runpy>", None),
])
def test_project_frames(frame, expected):
    assert project_path(frame) == expected


def test_nan_loss_is_found_and_a_word_containing_nan_is_not():
    assert nan_loss("wandb:     train_loss nan\n") == "wandb: train_loss nan"
    assert nan_loss("Epoch 2: val_loss=nan  val_EM=0.00%") == "Epoch 2: val_loss=nan val_EM=0.00%"
    assert nan_loss("loss=0.31 dataset=financial nano\n") is None
    assert nan_loss("acc nan\n") is None


@pytest.mark.parametrize("summary,kind,run_id", [
    ("[CI] Automated fix for run_id=proposed-iter1-Qwen3-0.6B-gsm8k", "fix", "proposed-iter1-Qwen3-0.6B-gsm8k"),
    ("[CI] Automated fix for run_id=", "fix", None),
    ("[CI] Apply fixes for run_id: (severity", "apply_fixes", "(severity"),
    ("[CI] Add successful trial results for run_id=comparative-1-x", "trial_passed", "comparative-1-x"),
    ("[CI] Commit all changes from autonomous run (iteration 7)", "full_run", None),
    ("[CI] Commit evaluation results (iteration 1)", "other", None),
    ("Research paper uploaded.", "other", None),
])
def test_ci_commit_messages(summary, kind, run_id):
    m = classify_message(summary)
    assert (m.kind, m.run_id) == (kind, run_id)


@pytest.mark.parametrize("branch,run_id", [
    ("main", None), ("main-retry-3", None), ("research", None), ("gh-pages", None),
    ("main-proposed-Small-CNN-1.2M-CIFAR-10", "proposed-Small-CNN-1.2M-CIFAR-10"),
    ("main-retry-5-comparative-1-ResNet-18", "comparative-1-ResNet-18"),
    ("research-1-proposed-DistilBERT-base-66M-CIFAR-10", "proposed-DistilBERT-base-66M-CIFAR-10"),
    ("origin/main-proposed-x", "proposed-x"),
])
def test_run_branches(branch, run_id):
    assert branch_run_id(branch) == run_id


def test_log_dates_in_both_locales_and_garbage():
    assert parse_log_date("Fri Oct 17 08:22:01 PM UTC 2025") == "2025-10-17T20:22:01+00:00"
    assert parse_log_date("Fri Oct 17 20:22:01 UTC 2025") == "2025-10-17T20:22:01+00:00"
    assert parse_log_date("yesterday") is None


HYDRA_SHORT = """warning: No `requires-python` value found in the workspace. Defaulting to `>=3.11`.
/w/r/src/main.py:12: UserWarning:
The version_base parameter is not specified.
  @hydra.main(config_path="../config", config_name="config")
Could not override 'run'. No match in the defaults list.
To append to your default list use +run=proposed-ResNet-18

Set the environment variable HYDRA_FULL_ERROR=1 for a complete stack trace.
/w/r/.venv/bin/python3: Error while finding module specification for 'src.train' (ModuleNotFoundError: No module named 'src')
Error executing job with overrides: ['run=proposed-ResNet-18']
Traceback (most recent call last):
  File "/w/r/src/main.py", line 22, in main
    subprocess.run(cmd, check=True)
subprocess.CalledProcessError: Command '['python3', '-m', 'src.train']' returned non-zero exit status 1.

Set the environment variable HYDRA_FULL_ERROR=1 for a complete stack trace.
"""


def test_hydra_short_reports_and_errors_named_inside_a_line():
    from reviewer_audit.corpus.cilog import first_episode

    first = first_episode(HYDRA_SHORT)
    assert first.endswith("for a complete stack trace.") and "Error while finding" not in first
    assert find_error(first).text == "Could not override 'run'. No match in the defaults list."
    second = HYDRA_SHORT[len(first):]
    assert find_error(second).text == "ModuleNotFoundError: No module named 'src'"  # better than the wrapper
    marker_then_hydra = ("=== [TRIAL RUN] Start for x at Mon Oct 20 03:30:55 PM UTC 2025 ===\nError parsing override 'run=(11M)'\n"
                         "extraneous input '('\n\nSet the environment variable HYDRA_FULL_ERROR=1 for a complete stack trace.\n")
    assert find_error(marker_then_hydra).text == "Error parsing override 'run=(11M)'"
