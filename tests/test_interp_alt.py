"""The interpreter follows a config that is one of several objects (`cfg = merged if the file
exists else cfg`): a write through it reaches every object it may be, so a later read sees it.

Before this, such a write was dropped and a later read saw the composed value: RA604 reported
`wandb.init` as online in trial mode although the code had set `cfg.wandb.mode = "disabled"`.
"""
from __future__ import annotations

from .conftest import main_runs

_CONFIG = "defaults:\n  - _self_\n  - run: ???\nresults_dir: results\nmode: full\nwandb:\n  mode: online\n"
_MAIN = '''import os
import hydra
from omegaconf import OmegaConf


def merged(cfg):
    if os.path.exists("extra.yaml"):
        return OmegaConf.merge(cfg, OmegaConf.load("extra.yaml"))
    return cfg


@hydra.main(config_path="../config", config_name="config", version_base=None)
def main(cfg):
    cfg = merged(cfg)
    cfg.wandb.mode = "disabled"
    print(cfg.wandb.mode)


if __name__ == "__main__":
    main()
'''


def test_a_write_through_an_alternative_reaches_every_object_it_may_be():
    for run in main_runs({"src/main.py": _MAIN, "config/config.yaml": _CONFIG}, "run_id: r1\n"):
        writes = [w for w in run.trace.writes if w.line == 15 and w.key == ("wandb", "mode")]
        assert writes and all(w.speculative for w in writes), writes  # through the alternative: no run is known to take one option
        after = [r for r in run.trace.reads if r.line == 16 and r.key == ("wandb", "mode") and r.status == "ok"]
        assert after and all(r.value == "disabled" for r in after), after
