"""Compose a bundle's Hydra configuration exactly as `@hydra.main` would, in memory.

Why Hydra itself and not a re-implementation: defaults lists, config groups, `# @package`
headers, `_self_` ordering, override grammar and struct mode interact in ways that are easy to
get subtly wrong, and the auditor's verdicts ("`cfg.run.model` does not exist at run time")
are only worth something if they match what the generated code will really receive.

How it stays static: the bundle (repository-relative path -> text) is served to Hydra's own
config loader by an in-memory `ConfigSource` under the scheme `reviewer-audit-bundle://`.
Nothing is written to disk, no bundle code is imported or run, and YAML is parsed only by
omegaconf's safe loader (the same call `FileConfigSource` makes). The search path is the one
`@hydra.main` builds -- Hydra's own `pkg://hydra.conf`, the bundle's config folder as the
`main` provider, `structured://` schema -- minus installed `SearchPathPlugin`s, which belong
to the auditing machine, not to the bundle (likewise configs of third-party Hydra plugins,
e.g. `hydra/launcher: joblib`, are not known and come back as "missing_group_option"). A
bundle asking for `hydra.searchpath` is refused (`error_kind="unsupported"`): honouring it
would read the auditor's disk or import packages.

Hydra is imported lazily, on the first call, so `import reviewer_audit.program.hydra_compose` is free
for command-line runs that never compose.

Speed, with Hydra's semantics intact (the corpus test in tests/test_hydra_reuse.py compares every
command line both ways, key for key): about nine tenths of a composition is Hydra building its own
`hydra` node (hydra/config and its groups merged over the `HydraConf` schema), which the task never
sees. That node is composed once per process and version base; a bundle that leaves it alone (no
YAML file or override names `hydra`, checked again on what really composed) is composed without
re-building it, in Hydra's own steps. A bundle that touches it takes the full path. Each distinct
YAML text is parsed once per process (Hydra re-loads every file for each command line).
"""
from __future__ import annotations

import collections
import copy
import dataclasses
import io
import itertools
import os
import posixpath
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from reviewer_audit.ingest.limits import MAX_NESTING, MAX_YAML_NODES

if TYPE_CHECKING:  # pragma: no cover
    import omegaconf

__all__ = ["ComposeResult", "ERROR_KINDS", "SCHEME", "compose", "parse_override"]

#: Scheme of the in-memory config source. Unique to this package so it can never collide
#: with Hydra's `file`, `pkg` and `structured` sources or with third-party plugins.
SCHEME = "reviewer-audit-bundle"
#: Scheme serving Hydra's own `hydra.conf` package (what `@hydra.main` reads as `pkg://hydra.conf`).
PKG_SCHEME = "reviewer-audit-pkg"

#: Every `ComposeResult.error_kind` this module returns, so callers can map them exhaustively.
ERROR_KINDS = frozenset(
    {
        "missing_config",  # primary config, config folder, or a non-group default not found
        "missing_group_option",  # group choice (`run=foo`) has no `<group>/foo.yaml`; or no such group
        "missing_group_choice",  # mandatory group (`run: ???`) left unset
        "group_not_in_defaults",  # `run=x` where `run` is a config group absent from the defaults list
        "override_parse",  # override string rejected by Hydra's override grammar
        "override_sweep",  # `a=1,2` / `choice(...)`: needs --multirun
        "override_missing_key",  # `a.b=1` where `a.b` does not exist (Hydra wants `+a.b=1`)
        "override_existing_key",  # `+a.b=1` where `a.b` already exists (Hydra wants `a.b=1` or `++`)
        "yaml",  # a config file is not loadable YAML (or exceeds the alias/nesting limits)
        "unsupported",  # `hydra.searchpath`: would read outside the bundle
        "other",  # anything else Hydra or omegaconf rejects (merge/type errors, bad defaults...)
    }
)

#: One lock serialises composition in a process: Hydra keeps process-wide singletons
#: (version base, config store, sources registry) and the bundle table below is shared.
_LOCK = threading.RLock()
_CALL_IDS = itertools.count(1)
_HYDRA: dict[str, Any] = {}


@dataclass(frozen=True)
class ComposeResult:
    """Outcome of one composition; exactly one of `config` / `error` is set.

    `config` is what the `@hydra.main` task function receives: struct mode on (assigning a new
    key raises), the `hydra` node removed, interpolations left unresolved (as Hydra leaves them).
    `error` is the first line of Hydra's message; `error_kind` is one of `ERROR_KINDS`.
    """

    config: "omegaconf.DictConfig | None"
    error: str | None = None
    error_kind: str | None = None


class _UnsupportedConfig(Exception):
    """The bundle needs a Hydra feature that static composition refuses (see module doc)."""


class _YamlLimitError(Exception):
    """A YAML file whose aliases would expand past `MAX_YAML_NODES` or nest past `MAX_NESTING`."""


class _BundleView:
    """Immutable, normalised view of the bundle's files, rooted at the config folder.

    Paths resolve the way `FileConfigSource` resolves them with `os.path.realpath(join(...))`,
    but inside the bundle: `..` may leave the config folder, never the bundle.
    """

    __slots__ = ("files", "children", "root")

    def __init__(self, files: Mapping[str, str], config_dir: str) -> None:
        self.files: dict[str, str] = {}
        self.children: dict[str, set[str]] = {}
        for raw, text in files.items():
            if not isinstance(raw, str):
                continue
            key = posixpath.normpath(raw.replace("\\", "/"))
            if key in (".", "..") or key.startswith(("../", "/")):
                continue
            if isinstance(text, (bytes, bytearray)):
                text = bytes(text).decode("utf-8", errors="replace")
            if not isinstance(text, str):
                continue
            self.files[key] = text
            child = key
            while True:
                parent = posixpath.dirname(child) or "."
                names = self.children.setdefault(parent, set())
                known = bool(names)
                names.add(posixpath.basename(child))
                if parent == "." or known:
                    break
                child = parent
        self.root = posixpath.normpath((config_dir or ".").replace("\\", "/"))

    def resolve(self, config_path: str) -> str | None:
        """Bundle key for a path relative to the config folder, None if it leaves the bundle."""
        key = posixpath.normpath(posixpath.join(self.root, config_path))
        if key == ".." or key.startswith(("../", "/")):
            return None
        return key

    def is_dir(self, config_path: str) -> bool:
        key = self.resolve(config_path)
        return key is not None and key in self.children

    def __deepcopy__(self, memo: dict) -> "_BundleView":
        # Hydra deep-copies its repository (and so every source) on each composition; the
        # view is never mutated, so sharing it avoids copying every file of the bundle.
        return self


def _first_line(text: str) -> str:
    """First non-blank line; one that only announces the next ("...composing config:") is
    joined with it, so the line still says what went wrong."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].endswith(":") and len(lines) > 1:
        return f"{lines[0]} {lines[1]}"
    return lines[0]


def _check_yaml_expansion(text: str, where: str) -> None:
    """Refuse alias "billion laughs" bombs before omegaconf expands them into nodes.

    omegaconf turns every alias into a full copy, so a few hundred bytes can demand gigabytes.
    The text is composed (events -> node graph, nothing constructed) with omegaconf's own
    loader class and the expanded size counted over the shared-node graph.
    """
    if "&" not in text or "*" not in text:
        return  # no anchor or no alias: expansion equals the text, nothing to defuse
    import yaml
    from omegaconf._utils import get_yaml_loader

    root = yaml.compose(text, Loader=get_yaml_loader())
    if root is None:
        return
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Any, depth: int) -> int:
        ident = id(node)
        if ident in sizes:
            return sizes[ident]
        if depth > MAX_NESTING:
            raise _YamlLimitError(f"{where}: YAML nesting deeper than {MAX_NESTING}")
        if ident in active:
            raise _YamlLimitError(f"{where}: recursive YAML alias")
        active.add(ident)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k, depth + 1) + size(v, depth + 1)
                if total > MAX_YAML_NODES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                total += size(v, depth + 1)
                if total > MAX_YAML_NODES:
                    break
        active.discard(ident)
        if total > MAX_YAML_NODES:
            raise _YamlLimitError(f"{where}: YAML aliases expand to more than {MAX_YAML_NODES} nodes")
        sizes[ident] = total
        return total

    size(root, 0)


#: YAML text -> what omegaconf's loader made of it (plain data), for the life of the process:
#: a bundle's files are loaded again by every composition (each run, mode and child command).
_YAML_MEMO: "collections.OrderedDict[str, Any]" = collections.OrderedDict()
_YAML_MEMO_SIZE = 512


def _load_yaml(text: str, key: str) -> Any:
    """`OmegaConf.load` of a bundle file's text (as `FileConfigSource` loads it), parsing each
    distinct text once. Only successes are kept: a failure is raised afresh, naming `key`."""
    from omegaconf import OmegaConf

    try:
        data = _YAML_MEMO[text]
        _YAML_MEMO.move_to_end(text)
    except KeyError:
        import yaml
        from omegaconf._utils import get_yaml_loader

        _check_yaml_expansion(text, key)
        stream = io.StringIO(text)
        stream.name = key  # YAML errors then name the bundle file, not "<file>"
        data = yaml.load(stream, Loader=get_yaml_loader())
        if data is not None and not isinstance(data, (list, dict, str)):
            raise IOError(f"Invalid loaded object type: {type(data).__name__}")  # as OmegaConf.load
        _YAML_MEMO[text] = data
        if len(_YAML_MEMO) > _YAML_MEMO_SIZE:
            _YAML_MEMO.popitem(last=False)
    return OmegaConf.create() if data is None else OmegaConf.create(copy.deepcopy(data))


def _hydra() -> dict[str, Any]:
    """Import Hydra, define and register the in-memory source and loader, once per process."""
    if _HYDRA:
        return _HYDRA
    with _LOCK:
        if _HYDRA:
            return _HYDRA
        from omegaconf import OmegaConf, open_dict

        from hydra import version

        # Hydra's own launcher/sweeper configs (`hydra/launcher/basic`, `hydra/sweeper/basic`)
        # are registered in the ConfigStore when their plugin modules are imported.
        import hydra._internal.core_plugins.basic_launcher  # noqa: F401
        import hydra._internal.core_plugins.basic_sweeper  # noqa: F401
        from hydra._internal.config_loader_impl import ConfigLoaderImpl
        from hydra._internal.config_search_path_impl import ConfigSearchPathImpl
        from hydra._internal.defaults_list import create_defaults_list
        from hydra._internal.core_plugins.importlib_resources_config_source import (
            ImportlibResourcesConfigSource,
        )
        from hydra._internal.core_plugins.structured_config_source import StructuredConfigSource
        from hydra._internal.sources_registry import SourcesRegistry
        from hydra.core.object_type import ObjectType
        from hydra.core.override_parser.overrides_parser import OverridesParser
        from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
        from hydra.types import RunMode

        class BundleConfigSource(ConfigSource):
            """Serves `<config_dir>/**.yaml` of one in-memory bundle, like `FileConfigSource`.

            The source path is `<call id>/<config dir>`; the call id selects the bundle in
            `BundleConfigSource.bundles`, so successive compositions never see each other's files.
            """

            #: call id -> bundle view; entries live only while their `compose` call runs.
            bundles: dict[str, _BundleView] = {}

            def __init__(self, provider: str, path: str) -> None:
                super().__init__(provider=provider, path=path)
                with _LOCK:
                    self.view = self.bundles.get(self.path.split("/", 1)[0])

            @staticmethod
            def scheme() -> str:
                return SCHEME

            def load_config(self, config_path: str) -> ConfigResult:
                normalized = self._normalize_file_name(config_path)
                key = self.view.resolve(normalized) if self.view is not None else None
                text = self.view.files.get(key) if key is not None else None
                if text is None:
                    raise ConfigLoadError(f"Config not found : {key or normalized}")
                # Text-mode reads translate newlines; FileConfigSource reads the header from
                # the first 512 characters, then loads the whole file with omegaconf.
                text = text.replace("\r\n", "\n").replace("\r", "\n")
                header = ConfigSource._get_header_dict(text[:512])
                cfg = _load_yaml(text, key)
                return ConfigResult(
                    config=cfg,
                    path=f"{self.scheme()}://{self.path}",
                    provider=self.provider,
                    header=header,
                )

            def available(self) -> bool:
                return self.is_group("")

            def is_group(self, config_path: str) -> bool:
                return self.view is not None and self.view.is_dir(config_path)

            def is_config(self, config_path: str) -> bool:
                if self.view is None:
                    return False
                key = self.view.resolve(self._normalize_file_name(config_path))
                return key is not None and key in self.view.files

            def list(self, config_path: str, results_filter: ObjectType | None) -> list[str]:
                found: list[str] = []
                key = self.view.resolve(config_path) if self.view is not None else None
                for name in sorted(self.view.children.get(key, ())) if key is not None else ():
                    self._list_add_result(
                        files=found,
                        file_path=posixpath.join(config_path, name),
                        file_name=name,
                        results_filter=results_filter,
                    )
                return sorted(set(found))

        class HydraConfSource(ImportlibResourcesConfigSource):
            """Hydra's own `pkg://hydra.conf` configs, memoised for the life of the process.

            `ImportlibResourcesConfigSource` walks `importlib.resources` and re-parses the YAML
            on every lookup (~5-10 ms of a ~35 ms composition); the installed package does not
            change, so answers are kept and each load hands out a deep copy (Hydra pops
            `defaults` from it). Served under its own scheme so `pkg://` stays Hydra's.
            """

            memo: dict[tuple[str, str, str], Any] = {}

            @staticmethod
            def scheme() -> str:
                return PKG_SCHEME

            def _memo(self, kind: str, config_path: str, compute: Any) -> Any:
                key = (kind, self.path, config_path)
                try:
                    return self.memo[key]
                except KeyError:
                    value = self.memo[key] = compute()
                    return value

            def load_config(self, config_path: str) -> ConfigResult:
                loaded = self._memo("load", config_path, lambda: super(HydraConfSource, self).load_config(config_path))
                return dataclasses.replace(
                    loaded, config=copy.deepcopy(loaded.config), header=dict(loaded.header)
                )

            def available(self) -> bool:
                return bool(self._memo("available", "", lambda: super(HydraConfSource, self).available()))

            def is_group(self, config_path: str) -> bool:
                return bool(self._memo("group", config_path, lambda: super(HydraConfSource, self).is_group(config_path)))

            def is_config(self, config_path: str) -> bool:
                return bool(self._memo("config", config_path, lambda: super(HydraConfSource, self).is_config(config_path)))

            def list(self, config_path: str, results_filter: ObjectType | None) -> list[str]:
                key = f"{config_path}\0{results_filter}"
                return list(self._memo("list", key, lambda: super(HydraConfSource, self).list(config_path, results_filter)))

        class BundleConfigLoader(ConfigLoaderImpl):
            """Hydra's loader, refusing `hydra.searchpath` before it can reach the disk."""

            def _process_config_searchpath(self, config_name, parsed_overrides, repo):  # type: ignore[no-untyped-def]
                if any(o.get_key_element() == "hydra.searchpath" for o in parsed_overrides):
                    raise _UnsupportedConfig("hydra.searchpath override is not supported by static composition")
                if config_name is not None:
                    loaded = repo.load_config(config_path=config_name)
                    if loaded is not None and OmegaConf.is_dict(loaded.config):
                        searchpath = OmegaConf.select(loaded.config, "hydra.searchpath")
                        if searchpath:
                            raise _UnsupportedConfig(
                                "hydra.searchpath in the primary config is not supported by static composition"
                            )
                return super()._process_config_searchpath(config_name, parsed_overrides, repo)

            def load_user_configuration(self, config_name, overrides, run_mode):  # type: ignore[no-untyped-def]
                """`load_configuration` without Hydra's own `hydra` node, or None when the bundle
                turns out to touch that node (see `_node_left_alone`).

                The steps of Hydra 1.3's `_load_configuration_impl` that shape the task's config,
                in its order: parse the overrides, check sweeps, build the defaults list (here
                without prepending `hydra/config`), merge, struct mode, apply the overrides. What
                it does after that only fills the `hydra` node, which `compose` deletes.
                """
                self.ensure_main_config_source_available()
                parsed, repo = self._parse_overrides_and_create_caching_repo(config_name, overrides)
                if any(_names_hydra(o.key_or_group) for o in parsed):
                    return None
                self.validate_sweep_overrides_legal(overrides=parsed, run_mode=run_mode, from_shell=True)
                defaults = create_defaults_list(
                    repo=repo,
                    config_name=config_name,
                    overrides_list=parsed,
                    prepend_hydra=False,
                    skip_missing=run_mode == RunMode.MULTIRUN,
                )
                if any(_names_hydra(d.config_path) or _names_hydra(d.package) for d in defaults.defaults):
                    return None
                cfg = self._compose_config_from_defaults_list(defaults=defaults.defaults, repo=repo)
                if "hydra" in cfg:
                    return None
                OmegaConf.set_struct(cfg, True)
                ConfigLoaderImpl._apply_overrides_to_config(defaults.config_overrides, cfg)
                return None if "hydra" in cfg else cfg

        # Register through the sources registry that `ConfigRepository` resolves schemes with.
        # `Plugins.instance().register()` ends in the same call, but creating the `Plugins`
        # singleton first imports every installed `hydra_plugins` package (launchers,
        # sweepers: optuna, ray, ...), which costs seconds and runs third-party code.
        registry = SourcesRegistry.instance()
        for source_type in (HydraConfSource, StructuredConfigSource, BundleConfigSource):
            registry.register(source_type)
        # If the module was reloaded, the scheme keeps the class registered first: use its table.
        registered = registry.resolve(SCHEME)

        _HYDRA.update(
            source=registered,
            loader=BundleConfigLoader,
            search_path=ConfigSearchPathImpl,
            run_mode=RunMode.RUN,
            version=version,
            open_dict=open_dict,
            parser=OverridesParser.create(),
        )
        return _HYDRA


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and len(seen) < 16 and all(exc is not s for s in seen):
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _describe(exc: BaseException) -> tuple[str, str]:
    """(error_kind, one-line message) for an exception raised while composing."""
    import yaml
    from omegaconf.errors import OmegaConfBaseException

    from hydra.errors import MissingConfigException, OverrideParseException

    chain = _chain(exc)
    message = next((_first_line(str(e)) for e in chain if _first_line(str(e))), type(exc).__name__)
    for e in chain:
        if isinstance(e, _UnsupportedConfig):
            return "unsupported", message
        if isinstance(e, (yaml.YAMLError, _YamlLimitError, UnicodeError, RecursionError)):
            return "yaml", _first_line(" ".join(str(e).split())) or type(e).__name__
        if isinstance(e, OverrideParseException):
            # "Error parsing override '...'" / "LexerNoViableAltException: ..." + the reason;
            # drop the caret line and the documentation link.
            lines = [
                ln.strip()
                for ln in str(e).splitlines()
                if ln.strip().strip("^") and not ln.startswith("See https://")
            ]
            return "override_parse", ": ".join(lines[:2]) if lines else message
    if isinstance(exc, MissingConfigException):
        if message.startswith(("Cannot find primary config", "Primary config")) or "Could not load" in message:
            return "missing_config", message
        return "missing_group_option", message
    if "looks like a config group override, but config group" in message:
        return "missing_group_option", message
    if message.startswith("You must specify"):
        return "missing_group_choice", message
    if "No match in the defaults list" in message:
        return "group_not_in_defaults", message
    if message.startswith(("Sweep parameters", "Ambiguous value for argument")):
        return "override_sweep", message
    if message.startswith("Could not override") and "To append to your config use +" in str(exc):
        return "override_missing_key", message
    if message.startswith("Could not append to config. An item is already at"):
        return "override_existing_key", message
    if message.startswith("Error merging override") and len(chain) > 1:
        cause = next((e for e in chain[1:] if isinstance(e, OmegaConfBaseException)), None)
        if cause is not None and _first_line(str(cause)):
            return "other", f"{message}: {_first_line(str(cause))}"
    return "other", message


def compose(
    files: Mapping[str, str],
    config_dir: str | None = "config",
    config_name: str | None = "config",
    overrides: Sequence[str] = (),
    *,
    version_base: str | None = None,
    reuse_hydra_node: bool = True,
) -> ComposeResult:
    """Compose `files` as `@hydra.main(config_path=config_dir, config_name=..., version_base=...)`
    run with command-line `overrides` would; never raises.

    `config_dir` is bundle-relative and already resolved by the caller (e.g. "config"); None
    means no primary config folder, as `config_path=None`. `version_base` follows the
    decorator's argument (None = this Hydra's defaults; "1.1" = legacy behaviour such as
    `.yml` files). Failures come back as `ComposeResult(None, error, error_kind)`.

    `reuse_hydra_node`: when the bundle leaves Hydra's own `hydra` node alone (no YAML file or
    override names it), that node -- about nine tenths of a composition's cost, and deleted
    from what the task receives -- is not composed again: it was composed once per process and
    version base (`_hydra_node_composes`). The task's config is Hydra's, key for key
    (tests/test_hydra_reuse.py compares both ways on every corpus command line). Anything
    unusual (an error, a `hydra` key or group found while composing) takes the full path.
    """
    try:
        h = _hydra()
    except Exception as exc:  # pragma: no cover - hydra-core is a declared dependency
        return ComposeResult(None, f"hydra-core is not usable: {_first_line(str(exc)) or type(exc).__name__}", "other")
    if isinstance(overrides, str) or not all(isinstance(o, str) for o in overrides):
        return ComposeResult(None, "overrides must be a sequence of strings", "other")
    if not isinstance(files, Mapping) or not isinstance(config_dir, (str, type(None))):
        return ComposeResult(None, "files must map paths to text and config_dir must be a string", "other")

    view = _BundleView(files, config_dir or ".")
    if reuse_hydra_node and _node_left_alone(view, overrides) and _hydra_node_composes(version_base):
        cfg = _compose(h, view, config_dir, config_name, overrides, version_base, with_hydra_node=False)
        if isinstance(cfg, ComposeResult) or cfg is not None:
            return cfg if isinstance(cfg, ComposeResult) else ComposeResult(cfg)
    cfg = _compose(h, view, config_dir, config_name, overrides, version_base, with_hydra_node=True)
    return cfg if isinstance(cfg, ComposeResult) else ComposeResult(cfg)


def _names_hydra(name: str | None) -> bool:
    """A config path, package or override key inside Hydra's own node (`hydra/...`, `hydra.x`)."""
    return bool(name) and name.lstrip("+~").replace("/", ".").split(".")[0].split("@")[0] == "hydra"


def _node_left_alone(view: _BundleView, overrides: Sequence[str]) -> bool:
    """Cheap pre-check: no override and no YAML file Hydra could load mentions `hydra`, in its
    path or text, and none has a backslash (a YAML escape could spell the name). Composing
    without the node re-checks the overrides, defaults and keys that really composed."""
    if any("hydra" in o for o in overrides):
        return False
    return not any(
        "hydra" in key or "hydra" in text or "\\" in text
        for key, text in view.files.items()
        if key.endswith((".yaml", ".yml"))
    )


_NODE_COMPOSES: dict[str | None, bool] = {}


def _hydra_node_composes(version_base: str | None) -> bool:
    """Compose Hydra's own node with Hydra, alone (no primary config, no overrides), once per
    process and version base. Left alone by a bundle, it is the same node in every composition:
    if it composes here, it composes there; if not (a broken Hydra install), every composition
    takes the full path and reports the error as before."""
    try:
        return _NODE_COMPOSES[version_base]
    except KeyError:
        pass
    result = _compose(_hydra(), _BundleView({}, "."), None, None, (), version_base, with_hydra_node=True)
    ok = _NODE_COMPOSES[version_base] = not isinstance(result, ComposeResult)
    return ok


def _compose(h, view: _BundleView, config_dir, config_name, overrides, version_base, *, with_hydra_node: bool):
    """The composed DictConfig (without its `hydra` node) or a failed `ComposeResult`; None when
    composing `with_hydra_node=False` meets a `hydra` key, group or override after all."""
    call_id = f"{os.getpid()}.{next(_CALL_IDS)}"
    source = h["source"]
    version = h["version"]
    with _LOCK:
        source.bundles[call_id] = view
        base = version.VersionBase.instance()
        saved_base = base.version_base
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                version.setbase(version_base)
                search_path = h["search_path"]()
                search_path.append("hydra", f"{PKG_SCHEME}://hydra.conf")
                if config_dir is not None:
                    search_path.append("main", f"{SCHEME}://{call_id}/{view.root}")
                search_path.append("schema", "structured://")
                loader = h["loader"](config_search_path=search_path)
                if not with_hydra_node:
                    # An error here is the bundle's own (the pre-check saw no `hydra` anywhere):
                    # Hydra raises and words it the same with or without its node.
                    return loader.load_user_configuration(config_name, list(overrides), h["run_mode"])
                cfg = loader.load_configuration(
                    config_name=config_name,
                    overrides=list(overrides),
                    run_mode=h["run_mode"],
                )
                # What the task function receives: `run_job` deletes the `hydra` node.
                with h["open_dict"](cfg):
                    del cfg["hydra"]
        except Exception as exc:  # never raise: every failure is a result
            kind, message = _describe(exc)
            return ComposeResult(None, message, kind)
        finally:
            base.version_base = saved_base
            source.bundles.pop(call_id, None)
    return cfg


def parse_override(text: str) -> str | None:
    """None if Hydra's override grammar accepts `text`, else a one-line reason.

    For override strings the audited code builds (e.g. `f"run={cfg.run}"` where `cfg.run` is a
    dict whose repr Hydra cannot parse). Only the grammar is checked, as `OverridesParser` does
    before composing: whether the key exists is `compose`'s job.
    """
    if not isinstance(text, str):
        return f"override must be a string, got {type(text).__name__}"
    try:
        h = _hydra()
        with _LOCK:
            h["parser"].parse_overrides([text])
    except Exception as exc:
        return _describe(exc)[1]
    return None
