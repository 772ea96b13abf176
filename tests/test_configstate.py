"""`program.configstate` restates OmegaConf's rules; each rule is checked against OmegaConf itself.

Every scenario runs twice: on a real DictConfig (the library the audited code uses) and on a
`ConfigObj`; the outcome (the value, or that it raises) must agree.
"""
from __future__ import annotations

import pytest
from omegaconf import OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from reviewer_audit.program.configstate import UNKNOWN, ConfigObj, Node, join_data, to_node

BASE = {"a": {"b": 1, "s": "x"}, "m": "???", "i": "${a.b}", "j": "run-${a.s}", "bad": "${nope.q}", "lst": [1, {"k": 2}]}


def real(struct: bool):
    cfg = OmegaConf.create(BASE)
    OmegaConf.set_struct(cfg, struct)
    return cfg


def mine(struct: bool) -> ConfigObj:
    return ConfigObj(to_node(BASE), struct={(): struct})


def _real_read(cfg, path):
    cur = cfg
    try:
        for seg in path:
            cur = cur[seg] if isinstance(seg, int) else getattr(cur, seg)
    except OmegaConfBaseException:
        return "raises"
    return OmegaConf.to_container(cur) if OmegaConf.is_config(cur) else cur


def _mine_read(obj, path):
    res = obj.lookup(tuple(path))
    if res.status in ("missing", "mandatory", "interpolation"):
        return "raises"
    assert res.status == "ok", res
    return res.value


@pytest.mark.parametrize("struct", [True, False])
@pytest.mark.parametrize("path", [("a", "b"), ("a", "zz"), ("zz",), ("m",), ("i",), ("j",), ("bad",), ("lst", 1, "k"), ("a",)])
def test_reads_agree_with_omegaconf(struct, path):
    assert _mine_read(mine(struct), path) == _real_read(real(struct), path)


@pytest.mark.parametrize("struct", [True, False])
@pytest.mark.parametrize("path", [("a", "b"), ("a", "new"), ("new",)])
def test_writes_agree_with_omegaconf(struct, path):
    cfg = real(struct)
    try:
        node = cfg
        for seg in path[:-1]:
            node = getattr(node, seg)
        setattr(node, path[-1], 5)
        real_raises = False
    except OmegaConfBaseException:
        real_raises = True
    obj = mine(struct)
    assert (obj.write(path, 5) is not None) == real_raises
    assert obj.lookup(path).value == 5  # the author's intent is kept for later reads


def test_open_dict_and_force_add_allow_new_keys():
    cfg = real(True)
    with open_dict(cfg):
        cfg.new = 1
    OmegaConf.update(cfg, "a.q", 3, force_add=True)
    obj = mine(True)
    obj.set_struct((), False)
    assert obj.write(("new",), 1) is None
    obj.set_struct((), True)
    assert obj.write(("a", "q"), 3, force_add=True) is None
    assert obj.write(("a", "r"), 3) is not None


@pytest.mark.parametrize("struct", [True, False])
@pytest.mark.parametrize("other", [{"a": {"b": 2}}, {"x": 1}, {"a": {"c": 1}}])
def test_merges_agree_with_omegaconf(struct, other):
    try:
        merged = OmegaConf.merge(real(struct), other)
        real_raises = False
    except OmegaConfBaseException:
        real_raises = True
    obj = mine(struct)
    new = obj.merge(to_node(other))
    assert bool(new) == real_raises
    if not real_raises:
        assert OmegaConf.is_struct(merged) == bool(obj.is_struct(()))


def test_nested_struct_flag_is_inherited_and_overridable():
    cfg = real(True)
    OmegaConf.set_struct(cfg.a, False)
    cfg.a.free = 1  # allowed below the unlocked node
    with pytest.raises(OmegaConfBaseException):
        cfg.other = 1
    obj = mine(True)
    obj.set_struct(("a",), False)
    assert obj.write(("a", "free"), 1) is None
    assert obj.write(("other",), 1) is not None


def test_an_open_node_never_claims_a_key_is_missing():
    obj = ConfigObj(Node({"a": 1}, open=True), struct={(): True})
    assert obj.lookup(("zz",)).status == "unknown"
    assert obj.write(("zz",), 1) is None


def test_join_keeps_equal_values_and_forgets_differing_ones():
    a = to_node({"x": 1, "y": 2, "only_a": 3})
    b = to_node({"x": 1, "y": 5, "only_b": 4})
    j = join_data(a, b)
    assert j["x"] == 1 and j["y"] is UNKNOWN and j["only_a"] == 3 and j["only_b"] == 4
