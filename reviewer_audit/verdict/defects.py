"""Defect classes: what kind of defect a reviewer claim asserts, and which rules report that kind.

A claim is confirmed only by a finding that reports *the same kind of defect* at the same place.
"The same kind" is decided here, once, for claims and findings alike: a claim is put in classes by
what it asserts (its phrasing names a kind of failure: "positional argparse arguments", "not in
struct", "no significance test"), and a finding is in a class because its rule is listed there.
The words never link a claim to a finding on their own: the place (file and lines, or an
identifier, config key or API located in the parsed code) has to agree too
(`reviewer_audit.verdict.adjudicate`).

A class without rules is still useful: an unconfirmed claim in it is *unverified* and counted
under that class, so the report's ranking of unverified classes names the next rules to write.
Classes are ordered from specific to general; a claim keeps every class it matches.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class DefectClass:
    name: str
    #: criterion topic (reviewer_audit.spec.prompt.TOPIC_TITLES) the class belongs to
    topic: str
    #: rules reporting this kind of defect (none: no rule covers it yet)
    rules: tuple[str, ...]
    #: phrasing of a claim asserting it (matched case-insensitively)
    pattern: str
    #: the prompt requirement the class is about, when one is (for the criterion number)
    requirement: str | None = None
    #: the defect is the absence of something the prompt requires (a whole-bundle property):
    #: a finding of the class confirms the claim without a shared location
    absence: bool = False
    #: a second phrasing the claim must also contain (a separate search: no quadratic lookahead)
    needs: str | None = None
    #: generic vocabulary ("incomplete", "shape", "device"): it groups unverified claims, but the
    #: checkable point of a claim is in its specific classes
    generic: bool = False

    @property
    def regex(self) -> re.Pattern:
        return _compiled(self.pattern)

    def matches(self, text: str) -> bool:
        return bool(self.regex.search(text)) and (self.needs is None or bool(_compiled(self.needs).search(text)))


def _absent_figure(figure: str) -> str:
    """A claim that a figure is not produced: a negation shortly before its name, or "missing"
    shortly after it (not a claim that merely mentions the figure)."""
    return (rf"(?:\bno|missing|absent|without|lacks?|never \w+|not \w+|nor|omits?)\b[^.;:,]{{0,40}}?(?<!\w){figure}|"
            rf"(?<!\w){figure}[^.;:]{{0,40}}?(?:(?:are|is) (?:missing|absent)|not (?:generated|produced|saved|drawn|created|implemented))")


@lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.I | re.S)


CLASSES: tuple[DefectClass, ...] = (
    # ---- execution: the code does not start
    DefectClass("python-syntax", "exec", ("RA001",),
                r"syntax ?error|invalid (?:python )?syntax|python syntax|not valid python|uncompilable|(?:not|won'?t|never) compile|"
                r"does not parse|parse error|-\\u003e|\\u003[ce]|-›|non-default argument follows|"
                r"unmatched (?:quotes?|brackets?|parenthes\w+)|unterminated (?:string|triple)|(?:stops|ends|cut off) in the middle"),
    DefectClass("yaml-syntax", "config", ("RA002",), r"(?:invalid|malformed) yaml|yaml (?:syntax|parse) error|yaml (?:does not|doesn't|will not) (?:parse|load)"),
    DefectClass("transport-key", "files", (),
                r"\b\w+_(?:py|yaml|toml)\b.{0,80}(?:key|wrapper|json|not a (?:real )?file|physical file)|(?:keys?|wrapper)\b.{0,60}\b\w+_(?:py|yaml|toml)\b|"
                r"json wrapper|wrapper .{0,20}instead of real files"),
    DefectClass("namespace-package", "exec", (),
                r"__init__\.py|namespace package|not (?:be )?(?:treated as )?an? (?:python )?package|relative imports?.{0,80}(?:package|fail|break|importerror)"),
    DefectClass("bundle-import", "exec", ("RA902",),
                r"importerror|modulenotfounderror|no module named|cannot (?:be )?import|import(?:s|ed)? [^,;.]{0,60}(?:undefined|not defined|does not exist|doesn't exist|missing|not provided|is absent)|"
                r"(?:is|are) not defined in|missing (?:module|file)s?\b|(?:module|file) .{0,40}(?:is )?not provided|"
                r"(?:class|function|symbol) (?:is )?(?:missing|absent)\W+.{0,40}\bimport|import (?:will|would) (?:crash|fail)"),
    DefectClass("undefined-name", "exec", ("RA905", "RA910"),
                r"nameerror|(?:is )?not defined\b|undefined (?:name|variable|function)|never imports?|without (?:importing|an import)|not imported|missing import|misses `?from|is used .{0,40}but .{0,40}import"),
    DefectClass("dependency", "exec", ("RA903",),
                r"dependenc|not (?:listed|declared) in (?:the )?pyproject|pyproject(?:\.toml)? does not (?:list|declare|include)|missing from (?:the )?(?:pyproject|requirements)|"
                r"pip install|not installed|clean environment"),
    DefectClass("pyproject", "exec", ("RA901",),
                r"pyproject(?:\.toml)? .{0,60}(?:invalid|poetry|pep ?621|malformed|cannot be parsed)|\[project\.dependencies\]|build-system|poetry-style"),
    DefectClass("unpacking", "exec", ("RA912",), r"unpack|too many values|not enough values|returns? (?:only )?(?:\w+|\d+) values"),
    DefectClass("annotation", "exec", ("RA911",),
                r"annotations?\b.{0,80}(?:evaluat|raise|typeerror|union|\|)|from __future__ import annotations|unsupported operand type\(s\) for \|"),
    DefectClass("timm-model-name", "model", ("RA909",),
                r"timm.{0,60}(?:name|model).{0,40}(?:not (?:registered|exist|found|available)|unknown|invalid)|unknown model .{0,20}timm|create_model\(.{0,60}(?:not|unknown|invalid)"),
    DefectClass("lora-targets", "model", ("RA405",),
                r"target_modules|target modules|lora targets?|(?:modules?|layers?) .{0,40}(?:not found in the base model|do not exist in)"),
    DefectClass("shadowed-import", "exec", ("RA916",),
                r"shadow\w* (?:the )?(?:imported |global )?`?[\w.]*`? ?(?:module|import)|(?:local|loop) (?:variable|name) .{0,60}shadow"),
    DefectClass("run-raises", "exec", ("RA915",),
                r"notimplementederror|raises? (?:a |an )?(?:valueerror|keyerror|runtimeerror)|unsupported (?:model|dataset|tokenizer|method|algorithm|type|config)|"
                r"(?:not|never) (?:recogni[sz]ed|supported|handled)|unknown (?:model|dataset|method|tokenizer|algorithm|optimizer|scheduler)|"
                r"(?:supports?|handles?|knows?|implements?) only|only (?:supports|handles|knows|implements|builds|accepts)|"
                r"(?:is|are) (?:also |still )?unsupported|only [`'\"]?\w+[`'\"]? (?:is )?(?:implemented|supported)|"
                r"(?:lacks?|missing) (?:an? )?implementations? for|(?:loaders?|builders?|factor(?:y|ies))\b[^.;]{0,30}\b(?:missing|absent)"),
    DefectClass("call-signature", "exec", ("RA904", "RA906", "RA908", "RA913"),
                r"unexpected (?:keyword|kw)|takes \d+ positional|missing \d+ required|does not accept|doesn't accept|do not accept|not accept (?:a|an|the)|"
                r"has no [`'\"]?\w+[`'\"]? (?:argument|parameter|kw)|no such (?:argument|parameter)|unexpected-kwarg|(?:its|the|their) (?:__init__ )?signature (?:does|do)|"
                r"argument .{0,30}not supported|parameter not supported|wrong (?:number of )?arguments"),
    DefectClass("removed-api", "exec", ("RA906",),
                r"deprecated|removed (?:in|from|since)|no longer (?:exists|available|supported)|was removed|does not exist in (?:the )?(?:library|package|version|scipy|transformers|torch|wandb|datasets|peft)|"
                r"function does not exist"),
    DefectClass("pipe-deadlock", "exec", ("RA914",),
                r"dead-?lock|\bhangs?\b.{0,60}pipe|pipe buffer|(?:reads?|drain\w*|consum\w*) .{0,40}stdout.{0,60}(?:before|then|after) .{0,30}stderr|"
                r"(?:drain\w*|read) sequentially|wait\(\) .{0,40}(?:before|without) .{0,30}(?:read|communicate)"),
    DefectClass("hydra-chdir", "exec", ("RA907",),
                r"chdir|changes? (?:the )?(?:current )?working director|outputs/<date>|job dir\w*|hydra'?s? (?:job|run|output) dir|relative to (?:that|the) job|version_base"),
    # ---- Hydra and configuration
    DefectClass("hydra-config-path", "hydra", ("RA202",),
                r"config_path|config path|(?:cannot|will not|won't|does not) (?:find|locate) (?:the )?config|config_name", "hydra_run_configs"),
    DefectClass("run-config-files", "config", ("RA501",),
                r"config/runs?/\*?\.?\{?\w*\}?\.?yaml.{0,120}(?:absent|missing|not (?:included|provided|present|exist)|are not in)|"
                r"(?:absent|missing|no) .{0,40}config/runs?/|run (?:config|yaml)s? .{0,40}(?:missing|absent|not (?:included|provided))|"
                r"run group director\w* missing|group director\w* (?:is )?missing",
                "hydra_run_configs"),
    DefectClass("run-config-not-used", "config", ("RA204",),
                r"internal \w+ fallback|instead of (?:loading|being placed|reading)|embedded in config/config\.yaml|(?:never|not|nor is) (?:loads?|reads?|used?) .{0,40}config/runs?/|"
                r"no run (?:yaml|config) is loaded|(?:loads?|reads?) run configs? from", "hydra_run_configs"),
    DefectClass("run-ids-listed", "config", ("RA213",),
                r"(?:list|enumerat)\w* (?:of )?(?:all|every|the \w+) (?:\w+ )?run[_ ]?ids|run[_ ]?ids? .{0,40}(?:not listed|missing from|are missing)|"
                r"(?:does not|doesn't|fails to) (?:list|enumerate) .{0,40}run[_ ]?ids|only (?:contains|names|lists) (?:one|a single) (?:default )?run|"
                r"(?:lists?|contains?|names?) only (?:one|a single) (?:default )?run",
                "config_lists_run_ids", absence=True),
    DefectClass("struct-config", "hydra", ("RA206", "RA207"),
                r"\bstruct\b|open_dict|set_struct|omegaconf\.merge|merge\(|merg(?:e|es|ed|ing) .{0,60}(?:keys?|config)", "hydra_run_configs"),
    DefectClass("hydra-compose", "hydra", ("RA203",),
                r"could not (?:load|override)|configloaderror|configcompositionexception|confignotfounderror|missingconfigexception|unable to load|missingmandatoryvalue|no match in the defaults|defaults list|"
                r"forces? hydra to load|before (?:the )?(?:cli )?overrides? (?:are|is) applied|"
                r"config[- ]group|group selection|(?:fail|cannot|unable) to compose|will not (?:load|compose)|cannot be loaded|not (?:be )?(?:composed|loaded)|"
                r"`?run=\{?run_id[^.;]{0,80}(?:fail|crash|error|cannot|unable|abort|no match|not (?:be )?(?:found|loaded|composed))|"
                r"run=<[^.;]{0,80}(?:fail|crash|error|cannot|unable|abort|no match|not (?:be )?(?:found|loaded|composed))|hydra will (?:look|crash|fail)|`?defaults:?`?\s*-?\s*`?-?\s*run\b|(?:no|without|lacks?|missing) (?:a )?(?:run )?(?:config[- ])?group", "hydra_run_configs"),
    DefectClass("child-override", "hydra", ("RA208", "RA209"),
                r"subprocess|child process|forwards? .{0,40}overrides?|overrides? .{0,40}(?:to|for) (?:the )?(?:child|subprocess|src\.train)|launch(?:es)? .{0,30}src\.train",
                "hydra_run_configs"),
    DefectClass("config-key", "hydra", ("RA205", "RA206"),
                r"configattributeerror|missing key|not in struct|key .{0,60}(?:missing|absent|not present|does not exist|not exist)|"
                r"(?:missing|absent) (?:from|in) (?:the )?(?:baseline|comparative|run|root|config)|is absent from|not present in (?:the )?(?:\w+ )?(?:config|run|yaml)|"
                r"cfg\.runs?\b.{0,80}(?:string|missing|not exist|absent|empty)|(?:is|are) (?:a|just the) (?:cli )?string|"
                r"(?:access|read|expect|assum|us)\w* .{0,80}(?:at|on|from) the (?:root|top)[- ]level|(?:root|top)[- ]level .{0,40}(?:missing|absent|not exist|empty)|"
                r"nest(?:ed|s|ing)\b[^.;]{0,40}?\b(?:under|inside)|(?:attributes?|fields?|sections?) (?:are|is) (?:then )?(?:missing|absent|not (?:present|found))|(?:located|placed|stored|lives?|available|is|are|sits?) (?:under|inside|within) (?:`?cfg\.|the )|"
                r"(?:stores?|puts?|mounts?|places?) (?:it|them) (?:under|inside|within|at) `?cfg\.|wrong (?:config|cfg) (?:access|key|path)|unguarded|without guarding|(?<!argument )without a (?:guard|default)",
                "hydra_run_configs"),
    DefectClass("optuna-params-unused", "config", ("RA210",),
                r"optuna.{0,80}(?:top-level|never read|no effect|not (?:applied|propagated))|hpo has no effect|sampled .{0,40}(?:ignored|never)", "hydra_run_configs"),
    DefectClass("run-setting-shadowed", "config", ("RA211",),
                r"(?:defaults?|root|top[- ]level)\b.{0,80}(?:instead of|rather than) (?:the )?(?:run|`?cfg\.run)|"
                r"run(?:'s)? (?:config|settings?|values?|overrides?) .{0,60}(?:ignored|never (?:used|read|applied|take effect)|not (?:used|applied|honou?red))",
                "hydra_run_configs"),
    DefectClass("objective-mutates-config", "config", ("RA212",),
                r"objective .{0,80}(?:mutat|modif|overwrit|in[- ]place)|(?:mutat|modif)\w* .{0,40}(?:shared|global|original|outer) (?:cfg|config)|"
                r"(?:never|not) (?:restor|reset)\w* .{0,40}(?:cfg|config)|last trial'?s"),
    DefectClass("optuna-missing", "config", ("RA215",),
                r"optuna.{0,120}(?:never|not) (?:used|consumed|instantiated|invoked|launch|launched|handled|implemented|integrated|honou?red)|"
                r"(?:no|missing) optuna|optuna (?:integration|search|study) .{0,30}(?:missing|absent)|never (?:launches|instantiates|creates) an? optuna|optuna\W.{0,40}ignored|"
                r"never (?:creates?|runs?|optimi[sz]es?|launch(?:es)?)\b[^.]{0,20}\bstudy|no (?:optuna )?study is (?:created|run)|no (?:explicit |real )optuna", absence=True),
    DefectClass("config-ignored", "config", ("RA214",),
                r"(?:ignored|never (?:used|read|honou?red))\b.{0,40}(?:config|yaml|flag|parameter|field)|(?:config|flag|parameter|field|option)s? .{0,80}(?:ignored|never used|not used|not honou?red|silently)|hard-?cod", generic=True),
    # ---- data
    DefectClass("label-column", "data", ("RA301",),
                r"label column|supervision column|remove_columns|drops? .{0,30}label|no [`'\"]?labels[`'\"]? (?:key|column|tensor)|rename_column\(\s*[\"']label"),
    DefectClass("cache-dir", "data", ("RA302",), r"\.cache\b|cache_dir|cache director|torch_home|hf_home|cached? (?:under|outside|in the user)", "cache_dir"),
    # ---- model (PEFT)
    DefectClass("peft-lora-module", "model", ("RA401",), r"lora_[ab]\b|register_hook|moduledict"),
    DefectClass("peft-update-layer", "model", ("RA402",),
                r"update_layer\W{0,3}.{0,80}(?:missing|without|omits?|arguments?|positional|signature|requires?)|(?:missing|without|omits?).{0,60}update_layer"),
    DefectClass("adalora-total-step", "model", ("RA403",), r"\btotal_step\b"),
    DefectClass("peft-task-type", "model", ("RA404",), r"task_type|modules_to_save"),
    # ---- file set
    DefectClass("extra-file", "files", ("RA502",),
                r"extra files?|additional files?|forbids? (?:creating|extra|adding)|(?:not|no) (?:allowed|permitted) .{0,30}files?|outside the (?:approved|allowed|fixed) (?:file )?list|only the \d+ allowed files|file-structure rule",
                "exact_file_set"),
    DefectClass("file-missing", "files", ("RA501", "RA503", "RA902"),
                r"(?:files?|modules?|\.py|\.ya?ml|\.toml)\b[^.;]{0,40}?\b(?:is|are) (?:all |also |still )?(?:missing|absent|empty|not (?:provided|included|present))|"
                r"(?:missing|absent|empty) files?|files? (?:is|are) (?:missing|absent)|not (?:provided|included|present) in the (?:repo|repository|bundle|package)|"
                r"only contains? (?:a |an )?(?:stub|snippet|empty)|only contain stub",
                "exact_file_set"),
    # ---- completeness
    DefectClass("placeholder", "completeness", ("RA101", "RA102"),
                r"placeholder|\btodo\b|\bstubs?\b|for brevity|notimplementederror|unchanged – see|omitted|truncat|`pass`|"
                r"[\"“']simplified|simplified (?:here|version|but)|acknowledg\w* .{0,40}missing|for demonstration", "no_placeholders"),
    DefectClass("variation-coverage", "completeness", ("RA104",),
                r"(?:all|every) (?:\w+ ){0,2}run[_ ]?variations?\b|variation[- ]coverage|"
                r"(?:smoke_test|full_experiment)[^.;]{0,80}(?:only|not (?:list|include|contain|define|cover)|missing|lacks?)[^.;]{0,60}variation|"
                r"only [^.;]{0,60}(?:are|is) (?:included|listed|defined),? whereas [^.;]{0,60}variations",
                "derived_variations_in_configs"),
    # ---- WandB and logging
    DefectClass("stdout-json", "logging", ("RA606", "RA607"),
                r"json\.dumps?|stdout json|json (?:dumps?|summary|metrics) .{0,30}stdout|results\.json|structured[- ]log|prints? (?:a |the )?json|emit json"),
    DefectClass("wandb-keys", "wandb", ("RA601", "RA602"),
                r"(?:metric|key)(?: name)?s? .{0,80}(?:mismatch|not (?:exactly )?(?:the same|logged|match)|never logged|never (?:written|requested|saved))|"
                r"(?:not|never) (?:request|log|save|write)\w*(?: or \w+)? (?:the )?keys?\b|mismatch .{0,40}(?:key|metric)|"
                r"(?:keys?|columns?|fields?) .{0,40}(?:that are )?never logged|(?:are|is) never logged|(?:not|never) logged by train",
                "wandb_keys_match", needs=r"evaluat|history|summary|looked[- ]up|\breads?\b"),
    DefectClass("wandb-step", "wandb", ("RA609",),
                r"\bsteps?\b.{0,60}(?:backwards?|decreas|less than (?:the )?current|non-?monoton|not monoton|out of order|dropp?ed)|"
                r"(?:mix\w*|inconsistent) .{0,40}step|step=epoch"),
    DefectClass("metrics-not-logged", "wandb", (),
                r"never logs?\b|(?:is|are) not logged|does not log|doesn't log|logs? only\b|logs nothing|no (?:per-\w+ )?logging|insufficien\w* logging"),
    DefectClass("optuna-trial-logging", "wandb", ("RA605",),
                r"(?:intermediate|optuna) trials?.{0,60}(?:wandb|logged)|trials? (?:are|is) (?:still )?logged|log(?:s|ging)? .{0,20}(?:each|every) trial|during optuna", "wandb_no_optuna_trials"),
    DefectClass("wandb-entity", "wandb", ("RA608",), r"entity|wandb (?:section|settings)", "wandb_entity_project", absence=True),
    DefectClass("wandb-mode", "modes", ("RA604", "RA701", "RA705"),
                r"wandb.{0,60}disabled|disabled?.{0,40}wandb|wandb[._]mode|mode=\"?disabled|wandb\.init\(mode|online", "trial_wandb_disabled"),
    DefectClass("wandb-not-used", "wandb", ("RA603",),
                r"never (?:calls|initiali[sz]es) wandb|wandb\.log.{0,30}never|no wandb (?:logging|init)|logs nothing|logs? only (?:at the end|once)", "wandb_log"),
    # ---- modes
    DefectClass("trial-epochs", "modes", ("RA702",), r"epochs?\s*=\s*1|one epoch|single epoch", "trial_epochs_1"),
    DefectClass("trial-optuna", "modes", ("RA703",), r"n_trials\s*=\s*0|skip optuna|optuna .{0,40}trial mode|trial mode .{0,40}optuna", "trial_optuna_off"),
    DefectClass("trial-batches", "modes", ("RA704",),
                r"1[-–]2 batches|(?:limit|cap)\w* .{0,30}batches|batches? .{0,20}(?:limit|cap)|full (?:test|train|training|validation|eval) (?:set|stream|split|loop)|"
                r"iterates? over the full|thousands of batches|trial[- ]mode .{0,80}(?:budget|warm-?up|full dataset|all of)|computational budget",
                "trial_limit_batches"),
    DefectClass("mode-default", "modes", ("RA706",), r"default .{0,20}mode|mode .{0,30}default|not a required parameter", "mode_flag"),
    DefectClass("optuna-forces-trial", "modes", ("RA707",), r"objective .{0,40}(?:trial mode|mode=.?trial|forces)|forces? .{0,20}trial"),
    # ---- evaluation script
    DefectClass("evaluate-cli", "evaluate", ("RA801", "RA802"),
                r"argparse(?!\.)|positional (?:arg|value|parameter)|unrecognized arguments|named arguments?|--results_dir|json\.loads\(args|"
                r"evaluat\w*(?:\.py)?.{0,60}(?:\bcli\b|command[- ]line|interface|key[-=]value)|(?:\bcli\b|command[- ]line).{0,60}evaluat",
                "evaluate_key_value"),
    DefectClass("main-calls-evaluate", "evaluate", ("RA803",), r"(?:main\.py|main) .{0,40}(?:calls|runs|invokes|imports) .{0,20}evaluate", "main_not_call_evaluate"),
    DefectClass("summary-json-dict", "evaluate", ("RA805",), r"_json_dict|summarysubdict|dict\(run\.summary\)|summary .{0,40}(?:serial|not json)", "evaluate_summary_json_dict"),
    DefectClass("evaluate-wandb-api", "evaluate", ("RA804",),
                r"wandb\.api|wandb (?:public )?api|public api|local files instead|instead of (?:exclusively )?(?:via|through) (?:the )?wandb", "evaluate_wandb_api"),
    DefectClass("metrics-json", "evaluate", ("RA806",), r"metrics\.json", "evaluate_metrics_json", absence=True),
    DefectClass("aggregated-json", "evaluate", ("RA807",), r"aggregated_metrics", "evaluate_aggregated_json", absence=True),
    DefectClass("significance", "evaluate", ("RA810",),
                r"significance|t-test|ttest|wilcoxon|p-value|mcnemar|statistical(?:-| )tests?", "evaluate_significance", absence=True),
    DefectClass("derived-metric", "evaluate", ("RA809",), r"derived|secondary metric|improvement[- ]rate|improvement ratio", "evaluate_derived_metric", absence=True),
    DefectClass("figure-names", "evaluate", ("RA808",),
                r"naming (?:[&\w]+ ){0,3}conventions?|naming pattern|figure names?|file[- ]naming|comparison_<|\{run_id\}_", "figure_names_run"),
    DefectClass("figure-format", "evaluate", ("RA814",),
                r"\.(?:png|jpe?g|svg)\b|\bas (?:a )?(?:png|jpe?g)\b|\bpng\b|not (?:as |in )?pdf|as pdf|pdf (?:format|output|files?)|instead of pdf|vector format", "figures_pdf"),
    DefectClass("figures-outside-evaluate", "evaluate", ("RA811",),
                r"(?:train|main)\.py .{0,60}(?:generat|creat|sav|produc|draw|plott)\w* .{0,40}(?:figures?|plots?|charts?|heatmaps?)|"
                r"figures? (?:in|from|inside) (?:train|main)\.py|in-training figure", "no_figures_in_train"),
    DefectClass("confusion-matrix", "evaluate", ("RA813",), _absent_figure(r"confusion[-_ ]?matri(?:x|ces)"), "evaluate_run_figures", absence=True),
    DefectClass("confusion-unlogged", "evaluate", ("RA813",),
                r"(?:y_true|y_pred|predictions?|confusion[-_ ]?matri\w*)\W.{0,80}(?:never|not) (?:logged|saved|written|stored)|"
                r"(?:never|not|does not|doesn't) logs? .{0,60}(?:y_true|y_pred|predictions|confusion)|"
                r"confusion[-_ ]?matri\w*[^.;]{0,60}\b(?:is |are )?(?:optional|skip(?:s|ped)?\b|only (?:if|when))", "evaluate_run_figures", absence=True),
    DefectClass("learning-curve", "evaluate", ("RA812",), _absent_figure(r"learning[-_ ]curves?"), "evaluate_run_figures", absence=True),
    DefectClass("missing-figures", "evaluate", (), r"box[- ]?plots?|violin|learning[- ]curve|legend|figures? .{0,40}(?:missing|absent|incomplete)|comparison figures"),
    DefectClass("metrics-table", "evaluate", (), r"(?:metrics|performance) tables?|cross-run tables?"),
    # ---- what no rule covers (kept apart so the unverified ranking names them)
    DefectClass("shape-or-type", "model", (),
                r"\bshape|broadcast|dtype|size mismatch|mismatch .{0,20}(?:tensor|size|shape)|expects? (?:integer|float|a tensor|int)|(?:is|are) (?:a )?(?:string|str|list|dict|tuple|float)s?\b.{0,60}(?:but|not|error|crash)|\.to\(device\)", generic=True),
    DefectClass("device", "model", (), r"\bdevice|\bcuda\b|on cpu|gpu", generic=True),
    DefectClass("library-api-misuse", "exec", (),
                r"(?:has no|no) attribute|does not exist|doesn't exist|not exist|internal attribute|expects? an? \w+ object|abstract|monkey-patch|__slots__", generic=True),
    DefectClass("dataset", "data", (),
                r"dataset (?:names?|loaders?|registry|splits?|factory)|_dataset_factory|dataset_factory|splits? .{0,30}(?:not exist|may not)|datasets? .{0,40}(?:not implemented|unsupported|missing|not exist)|"
                r"(?:data ?set|dataset|data) pipeline", generic=True),
    DefectClass("method-incomplete", "model", (),
                r"not implemented as described|simplified|only partially|partial(?:ly)? implement|does not implement|(?:not|never) implemented|missing (?:functionality|implementations?)|"
                r"incomplete|never (?:injects|applies|updates|modifies)|baselines? .{0,30}missing|not fully (?:functional|implemented)|removed|regression|no implementation|lacks? implementations?|only (?:supports|knows|handles|computes)", generic=True),
    DefectClass("training-logic", "model", (),
                r"optimi[sz]er|gradient|no_grad|backward|loss|scheduler|learning[- ]rate|warm-?up|freeze|frozen|trainable", generic=True),
)

BY_NAME: dict[str, DefectClass] = {c.name: c for c in CLASSES}


def classify(text: str) -> list[str]:
    """Every class whose phrasing occurs in `text`, most specific first (Markdown emphasis ignored)."""
    plain = text.replace("*", "")
    return [c.name for c in CLASSES if c.matches(plain)]


@lru_cache(maxsize=None)
def classes_of_rule(rule: str) -> frozenset[str]:
    """The classes a rule's findings belong to (empty for a rule no class lists)."""
    return frozenset(c.name for c in CLASSES if rule in c.rules)


def covered(name: str) -> bool:
    """Does some rule report this class of defect?"""
    c = BY_NAME.get(name)
    return bool(c and c.rules)
