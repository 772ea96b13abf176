"""argparse programs: the namespace argparse itself gives for a command line, and the command
lines a parser with a required mutually exclusive group is meant to be given."""
from __future__ import annotations

from reviewer_audit.program.argparse_model import ParserSpec, command_lines, parse
from reviewer_audit.program.configstate import UNKNOWN


def _orchestrator() -> ParserSpec:
    """main.py of the Base/Derived family, as the interpreter records it."""
    spec = ParserSpec("src/main.py")
    spec.groups.append(True)
    spec.add(["--smoke-test"], {"action": "store_true"}, 0)
    spec.add(["--full-experiment"], {"action": "store_true"}, 0)
    spec.add(["--results-dir"], {"type": "str", "required": True, "help": "where"}, None)
    spec.add(["--seed"], {"type": "int", "default": 0}, None)
    return spec


def test_parse_gives_what_argparse_gives():
    values = parse(_orchestrator(), ["--smoke-test", "--results-dir", "out", "--seed", "3"])
    assert values == {"smoke_test": True, "full_experiment": False, "results_dir": "out", "seed": 3}


def test_a_command_line_argparse_rejects_has_no_namespace():
    assert parse(_orchestrator(), ["--smoke-test", "--full-experiment", "--results-dir", "x"]) is None  # mutually exclusive
    assert parse(_orchestrator(), ["--smoke-test"]) is None  # --results-dir is required


def test_an_argument_with_unknown_keywords_is_unknown_but_consumed():
    spec = ParserSpec("src/train.py")
    spec.add(["--config-path"], {"required": True}, None)
    spec.add(["--model"], {"action": "custom.Action", "default": UNKNOWN}, None)
    values = parse(spec, ["--model", "vit", "--config-path", "c.yaml"])
    assert values["config_path"] == "c.yaml" and values["model"] is UNKNOWN


def test_command_lines_are_one_per_option_of_the_required_group():
    assert command_lines(_orchestrator()) == [("--smoke-test", "--results-dir", "results"), ("--full-experiment", "--results-dir", "results")]


def test_command_lines_without_a_required_group_fill_only_required_options():
    spec = ParserSpec("src/main.py")
    spec.add(["--epochs"], {"type": "int", "required": True}, None)
    spec.add(["--debug"], {"action": "store_true"}, None)
    assert command_lines(spec) == [("--epochs", "1")]


def test_no_command_lines_for_subcommands_or_a_group_of_valued_options():
    spec = _orchestrator()
    spec.partial = True
    assert command_lines(spec) == []
    valued = ParserSpec("src/main.py")
    valued.groups.append(True)
    valued.add(["--config"], {"type": "str"}, 0)
    assert command_lines(valued) == []
