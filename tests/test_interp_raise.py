"""The interpreter records the bundle's own `raise` statements a command reaches, with the
branch tests the run's values decided on the way and what those values are (RA915 says them),
and a dict literal filled later is no longer taken for the empty one it started as."""
from __future__ import annotations

from .conftest import main_runs

_CONFIG = "defaults:\n  - _self_\n  - run: ???\nresults_dir: results\nmode: full\n"
_MAIN = '''import sys
import hydra


class Loader:
    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def encode(self, text):
        if self.tokenizer == "char":
            return list(text)
        raise ValueError("unsupported tokenizer")


def flags():
    kv = {}
    for arg in sys.argv[1:]:
        k, v = arg.split("=", 1)
        kv[k] = v
    if "results_dir" not in kv:
        raise KeyError("results_dir")


@hydra.main(config_path="../config", config_name="config", version_base=None)
def main(cfg):
    flags()
    Loader(cfg.run.dataset.tokenizer).encode("x")


if __name__ == "__main__":
    main()
'''


def _raises():
    runs = main_runs({"src/main.py": _MAIN, "config/config.yaml": _CONFIG}, "run_id: r1\ndataset:\n  tokenizer: sentencepiece\n")
    return runs[0].trace.raises


def test_a_raise_the_run_values_decide_is_definite_and_says_the_values():
    definite = [r for r in _raises() if not r.maybe]
    assert [r.exc for r in definite] == ["ValueError"]
    src, truth, values = definite[0].tests[-1]
    assert (src, truth) == ("self.tokenizer == 'char'", False)
    assert values == "self.tokenizer = 'sentencepiece'"


def test_a_dict_filled_in_a_loop_does_not_decide_a_membership_test():
    keyerror = [r for r in _raises() if r.exc == "KeyError"]
    assert keyerror and all(r.maybe for r in keyerror), "`'results_dir' not in kv` is unknown once the loop stored into kv"
