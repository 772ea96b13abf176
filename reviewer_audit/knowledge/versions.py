"""Which versions a dependency range admits.

The helpers :func:`admits`, :func:`admits_any_in` and :func:`ranges_intersect` answer "does this
dependency range admit a version where the API is removed?"; an unconstrained dependency admits
every version, including the newest. :func:`poetry_to_pep440` turns Poetry's caret and tilde
constraints into PEP 440, since half of the generated bundles declare their dependencies so.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version


def _alternatives(specifier: str | None) -> list[SpecifierSet]:
    text = (specifier or "").strip()
    parts = [p.strip() for p in text.split("||")] if text else [""]
    return [SpecifierSet(p) for p in parts]


def admits(specifier: str | None, version: str) -> bool:
    """Does ``specifier`` (PEP 440, ``""`` = anything, ``a || b`` = either) admit ``version``?

    Pre-releases count when asked about explicitly.
    """
    v = Version(version)
    return any(s.contains(v, prereleases=True) for s in _alternatives(specifier))


# Interval arithmetic over PEP 440 versions.  An interval is (lo, lo_closed, hi, hi_closed),
# with ``None`` for an unbounded end.  ``<V`` excludes V's pre-releases (upper bound V.dev0);
# ``>V`` is approximated by plain ordering (PEP 440 also excludes V's post-releases, which
# only makes this answer more permissive); between two distinct versions there
# is always another (1.0 < 1.0.0.1 < 1.0.1), so an open interval with lo < hi is non-empty.
_Interval = tuple[Version | None, bool, Version | None, bool]
_EVERYTHING: _Interval = (None, False, None, False)


def _wildcard_bounds(version: str) -> tuple[Version, Version]:
    """``1.2.*`` -> [1.2.dev0, 1.3.dev0)."""
    base = Version(version[: -len(".*")])
    release = list(base.release)
    lower = Version(".".join(map(str, release)) + ".dev0")
    release[-1] += 1
    upper = Version(".".join(map(str, release)) + ".dev0")
    if base.epoch:
        lower = Version(f"{base.epoch}!{lower}")
        upper = Version(f"{base.epoch}!{upper}")
    return lower, upper


def _specifier_intervals(spec: Specifier) -> list[_Interval]:
    op, ver = spec.operator, spec.version
    if op in ("==", "!=") and ver.endswith(".*"):
        lo, hi = _wildcard_bounds(ver)
        if op == "==":
            return [(lo, True, hi, False)]
        return [(None, False, lo, False), (hi, True, None, False)]
    if op == "~=":
        v = Version(ver)
        release = list(v.release[:-1])
        release[-1] += 1
        upper = Version(".".join(map(str, release)) + ".dev0")
        if v.epoch:
            upper = Version(f"{v.epoch}!{upper}")
        return [(v, True, upper, False)]
    if op == "===":
        try:
            v = Version(ver)
        except InvalidVersion:
            return []
        return [(v, True, v, True)]
    v = Version(ver)
    if op == "==":
        return [(v, True, v, True)]
    if op == "!=":
        return [(None, False, v, False), (v, False, None, False)]
    if op == ">=":
        return [(v, True, None, False)]
    if op == ">":
        return [(v, False, None, False)]
    if op == "<=":
        return [(None, False, v, True)]
    if op == "<":
        # PEP 440: ``<V`` excludes the pre-releases of V unless V is one itself.
        if not v.is_prerelease and v.local is None:
            v = Version(f"{v}.dev0")
        return [(None, False, v, False)]
    raise ValueError(f"unsupported specifier operator {op!r}")  # pragma: no cover


def _intersect(a: _Interval, b: _Interval) -> _Interval | None:
    alo, alo_c, ahi, ahi_c = a
    blo, blo_c, bhi, bhi_c = b
    if alo is None:
        lo, lo_c = blo, blo_c
    elif blo is None or alo > blo:
        lo, lo_c = alo, alo_c
    elif blo > alo:
        lo, lo_c = blo, blo_c
    else:
        lo, lo_c = alo, alo_c and blo_c
    if ahi is None:
        hi, hi_c = bhi, bhi_c
    elif bhi is None or ahi < bhi:
        hi, hi_c = ahi, ahi_c
    elif bhi < ahi:
        hi, hi_c = bhi, bhi_c
    else:
        hi, hi_c = ahi, ahi_c and bhi_c
    if lo is not None and hi is not None:
        if lo > hi or (lo == hi and not (lo_c and hi_c)):
            return None
    return (lo, lo_c, hi, hi_c)


def _set_intervals(spec_set: SpecifierSet) -> list[_Interval]:
    result: list[_Interval] = [_EVERYTHING]
    for spec in spec_set:
        pieces = _specifier_intervals(spec)
        result = [i for r in result for p in pieces if (i := _intersect(r, p)) is not None]
        if not result:
            break
    return result


def _intervals(specifier: str | None) -> list[_Interval]:
    return [i for s in _alternatives(specifier) for i in _set_intervals(s)]


def ranges_intersect(specifier_a: str | None, specifier_b: str | None) -> bool:
    """Is there a version admitted by both ranges (``""`` = anything)?"""
    return any(
        _intersect(a, b) is not None for a in _intervals(specifier_a) for b in _intervals(specifier_b)
    )


def admits_any_in(specifier: str | None, lower: str | None, upper: str | None) -> bool:
    """Does ``specifier`` admit some version ``v`` with ``lower <= v < upper``?

    ``None`` leaves that end open: ``admits_any_in("scipy>=1.11", "1.12", None)`` asks whether
    a version at or after the 1.12 removal can be installed.  A bare requirement specifier
    such as ``">=1.11"`` is expected (not ``"scipy>=1.11"``); a full PEP 508 string is
    accepted too and its specifier used.
    """
    window = (
        Version(lower) if lower is not None else None,
        lower is not None,
        Version(upper) if upper is not None else None,
        False,
    )
    return any(_intersect(i, window) is not None for i in _intervals(_bare_specifier(specifier)))


def _bare_specifier(specifier: str | None) -> str:
    text = (specifier or "").strip()
    if text and text[0].isalpha() and "||" not in text:
        try:
            return str(Requirement(text).specifier)
        except InvalidRequirement:
            return text
    return text


# --------------------------------------------------------------------------------------
# Poetry constraints


_POETRY_TOKEN = re.compile(
    r"\s*(?P<op>\^|~=|~|===|==|!=|<=|>=|<|>|=)?\s*(?P<ver>[0-9A-Za-z*][0-9A-Za-z.*+!_-]*)\s*,?"
)


def _format_release(parts: Sequence[int]) -> str:
    return ".".join(str(p) for p in parts)


def _caret(text: str) -> str:
    release = list(Version(text).release)
    n = len(release)
    if release[0] > 0 or n == 1:
        upper = [release[0] + 1] + [0] * (n - 1)
    elif release[1] > 0 or n == 2:
        upper = [0, release[1] + 1] + [0] * (n - 2)
    else:
        upper = [0, 0, release[2] + 1] + [0] * (n - 3)
    return f">={text},<{_format_release(upper)}"


def _tilde(text: str) -> str:
    release = list(Version(text).release)
    if len(release) == 1:
        upper = [release[0] + 1]
    else:
        upper = [release[0], release[1] + 1] + [0] * (len(release) - 2)
    return f">={text},<{_format_release(upper)}"


def poetry_to_pep440(constraint: str) -> str:
    """Convert a Poetry version constraint to a PEP 440 specifier string.

    ``^1.11.3`` -> ``>=1.11.3,<2.0.0``; ``^0.2.3`` -> ``>=0.2.3,<0.3.0`` (caret on 0.x bumps
    the first non-zero component, as Poetry does); ``~1.2`` -> ``>=1.2,<1.3``; ``*`` -> ``""``
    (anything); a bare ``1.2.3`` is an exact pin (``==1.2.3``); ``a || b`` alternatives are
    kept as ``"<a> || <b>"``.  Raises ``ValueError`` for what it cannot read.
    """
    alternatives = []
    for alt in re.split(r"\s*\|\|?\s*", constraint.strip()):
        alt = alt.strip()
        if alt in ("", "*"):
            alternatives.append("")
            continue
        parts: list[str] = []
        pos = 0
        while pos < len(alt):
            m = _POETRY_TOKEN.match(alt, pos)
            if not m or m.end() == pos:
                raise ValueError(f"cannot read Poetry constraint {constraint!r}")
            pos = m.end()
            op, ver = m.group("op"), m.group("ver")
            try:
                if ver == "*":
                    if op not in (None, "=", "=="):
                        raise ValueError(f"cannot read Poetry constraint {constraint!r}")
                    continue
                if op == "^":
                    parts.append(_caret(ver))
                elif op == "~":
                    parts.append(_tilde(ver))
                elif op in (None, "="):
                    parts.append(f"=={ver}")
                else:
                    parts.append(f"{op}{ver}")
            except InvalidVersion as exc:
                raise ValueError(f"cannot read Poetry constraint {constraint!r}: {exc}") from None
        spec = ",".join(parts)
        try:
            SpecifierSet(spec)
        except InvalidSpecifier as exc:
            raise ValueError(f"cannot read Poetry constraint {constraint!r}: {exc}") from None
        alternatives.append(spec)
    if any(a == "" for a in alternatives):
        return ""
    return " || ".join(alternatives)
