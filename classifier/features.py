"""Turn tool dicts into features: name tokens and verb, description, parameters, annotations, siblings."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, islice
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

LEXICON_PATH = Path(__file__).resolve().parent / "lexicon.json"  # package data: ships inside the wheel

_CAMEL_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_WORD = re.compile(r"[a-z][a-z0-9'-]*")
_LETTERS = re.compile(r"[a-z]+")
_GROUP = re.Match.group
_DESCRIPTION_LEADS = (
    "this tool will",
    "this tool",
    "use this tool to",
    "use this to",
    "use this",
    "a tool to",
    "a tool that",
    "tool to",
    "tool that",
    "tool for",
    "this function",
    "this endpoint",
    "allows you to",
    "allows to",
    "lets you",
    "helps you",
    "can be used to",
    "used to",
    "you can",
    "please",
)


@dataclass(frozen=True)
class Lexicon:
    """The rule vocabulary from classifier/lexicon.json, as sets for fast lookup."""

    verb_category: dict[str, str]
    sets: dict[str, frozenset[str]]
    phrases: dict[str, tuple[str, ...]]
    digest: str

    def has(self, group: str, token: str) -> bool:
        return token in self.sets[group]


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """Read the lexicon file once; later entries never override an earlier verb category."""
    import hashlib

    raw_bytes = path.read_bytes()
    data = json.loads(raw_bytes)
    verb_category: dict[str, str] = {}
    for category in ("destructive", "write", "read"):
        for verb in data["verbs"][category]:
            verb_category.setdefault(verb, category)
    sets = {key: frozenset(value) for key, value in data.items() if isinstance(value, list)}
    phrases = {key: tuple(value) for key, value in data["description_phrases"].items()}
    return Lexicon(verb_category, sets, phrases, hashlib.sha256(raw_bytes).hexdigest()[:12])


def split_name(name: str) -> list[str]:
    """Split snake_case, camelCase, kebab-case, dotted, slashed and spaced names into lower-case tokens."""
    return list(_split_cached(name or ""))


def _split(name: str) -> tuple[str, ...]:
    # both camelCase patterns need an upper-case A-Z: a name with no upper-case letter skips them
    spaced = name if name.islower() else _CAMEL_ACRONYM.sub(r"\1 \2", _CAMEL_LOWER_UPPER.sub(r"\1 \2", name))
    if spaced.isascii():  # lower-casing first cannot turn a separator into a letter
        return tuple([token for token in _NON_ALNUM.split(spaced.lower()) if token])
    return tuple([token.lower() for token in _NON_ALNUM.split(spaced) if token])


# Parameter names, enum values and tokens repeat across tools: cached (bounded, so memory stays flat on long
# streams). Tool names are split by _split itself: each is new, and would only push the repeating ones out.
_split_cached = lru_cache(maxsize=8192)(_split)


@lru_cache(maxsize=8192)
def _param_name_tokens(name: str) -> tuple[str, ...]:
    """A parameter name's tokens and the whole name lower-cased: what it adds to a tool's param_tokens."""
    return (*_split_cached(name), name.lower())


def _verb_stem(word: str, verbs: dict[str, str]) -> str | None:
    """Map a third-person or plain word of a description ('Deletes', 'fetches') onto a lexicon verb."""
    candidates = [word]
    if word.endswith("ies"):
        candidates.append(word[:-3] + "y")
    if word.endswith("es"):
        candidates.append(word[:-2])
    if word.endswith("s"):
        candidates.append(word[:-1])
    for candidate in candidates:
        if candidate in verbs:
            return candidate
    return None


def find_name_verb(tokens: list[str], lexicon: Lexicon) -> tuple[str | None, int]:
    """The tool's verb: the first lexicon verb among the tokens, reading service prefixes as nouns.

    Tokens after a preposition ('mark_as_read', 'get_model_by_alias') are searched only when none before it is a verb.
    """
    cut = next((i for i, t in enumerate(tokens) if i > 0 and t in lexicon.sets["prepositions"]), len(tokens))
    if cut < len(tokens):
        verb, index = find_name_verb(tokens[:cut], lexicon)
        if verb is not None:
            return verb, index
    last = len(tokens) - 1
    unambiguous_later = any(  # a verb that will be taken: not ambiguous itself, nor a trailing noun ('run_audit')
        t in lexicon.verb_category
        and t not in lexicon.sets["ambiguous_leading"]
        and not (i == last and t in lexicon.sets["noun_when_trailing"])
        for i, t in enumerate(tokens)
    )
    only_prefixes_before = True
    for index, token in enumerate(tokens):
        is_last = index == len(tokens) - 1
        if token in lexicon.sets["service_prefixes"] and not is_last and token not in lexicon.verb_category:
            continue
        if token in lexicon.verb_category:
            trailing_noun = (
                is_last
                and index > 0
                and token in lexicon.sets["noun_when_trailing"]
                and not only_prefixes_before
            )
            prefix_noun = is_last and index > 0 and only_prefixes_before and token in {"log", "history"}
            ambiguous = token in lexicon.sets["ambiguous_leading"] and unambiguous_later
            if not (trailing_noun or prefix_noun or ambiguous):
                return token, index
        if token not in lexicon.sets["service_prefixes"]:
            only_prefixes_before = False
    return None, -1


def find_description_verb(description: str, lexicon: Lexicon, window: int = 6) -> str | None:
    """The verb a description opens with ('Deletes a run ...' -> 'delete'), skipping 'This tool ...'."""
    text = description.strip()
    # lower-casing can lengthen a string and reads context (final sigma): the cheap prefix only for ASCII
    text = text[:200].lower() if text.isascii() else text.lower()[:200]
    changed = text.startswith(_DESCRIPTION_LEADS)  # one C call for the common case: no lead at all
    while changed:
        changed = False
        for lead in _DESCRIPTION_LEADS:
            if text.startswith(lead):
                text = text[len(lead) :].lstrip(" :,-")
                changed = True
    for word in map(_GROUP, islice(_WORD.finditer(text), window)):  # stops after the window
        verb = _verb_stem(word, lexicon.verb_category)
        if verb is not None:
            return verb
    return None


@dataclass(slots=True)
class Param:
    """One input parameter: its name, JSON type, enum values and description where known."""

    name: str
    type: str = ""
    enum: tuple[str, ...] = ()
    description: str = ""
    default: str | None = None  # a scalar default as text ("true", "overwrite"), None when there is none
    path: str = ""  # where a nested parameter sits ("options.mode", "steps[].action"); "" at the top level


_MAX_SCHEMA_DEPTH = 6
_MAX_NESTED_PARAMS = 200
_COMBINERS = ("anyOf", "oneOf", "allOf")
# the keys _param_facts reads: a parameter schema with none of them has no enum, default or object under it
_FACT_KEYS = frozenset({"$ref", *_COMBINERS, "items", "properties", "enum", "const", "default"})


def _resolve(spec: Any, root: dict[str, Any], seen: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The schema a '$ref' points at inside the same document (#/$defs/X, #/definitions/X); {} when unknown."""
    if not isinstance(spec, dict):
        return {}
    if "$ref" not in spec:  # the common case: nothing to follow
        return spec
    ref = spec.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
        return spec
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
    return _resolve(target, root, seen | {ref}) if isinstance(target, dict) else {}


def _alternatives(spec: Any, root: dict[str, Any], depth: int = 0) -> list[dict[str, Any]]:
    """A schema and, resolved, every branch of its anyOf / oneOf / allOf (nested ones too)."""
    spec = _resolve(spec, root)
    found = [spec]
    if depth < _MAX_SCHEMA_DEPTH and ("anyOf" in spec or "oneOf" in spec or "allOf" in spec):
        for key in _COMBINERS:
            branches = spec.get(key)
            if isinstance(branches, list):
                for branch in branches:
                    found += _alternatives(branch, root, depth + 1)
    return found


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _param_facts(
    spec: Any, root: dict[str, Any]
) -> tuple[tuple[str, ...], str | None, list[tuple[dict[str, Any], str]]]:
    """One walk of a parameter's alternatives: every enum or const value it accepts (through $ref,
    anyOf/oneOf/allOf and array items), its scalar default, and the object schemas under it (itself, its
    branches, its array items) with their path suffix."""
    if not isinstance(spec, dict) or spec.keys().isdisjoint(_FACT_KEYS):  # a plain {"type", "description"}
        return (), None, []
    values: dict[str, None] = {}
    default: str | None = None
    shapes: list[tuple[dict[str, Any], str]] = []
    for alternative in _alternatives(spec, root):
        items = alternative.get("items")
        item_alternatives = _alternatives(items, root) if isinstance(items, dict) else []
        if isinstance(alternative.get("properties"), dict):
            shapes.append((alternative, ""))
        shapes += [(item, "[]") for item in item_alternatives if isinstance(item.get("properties"), dict)]
        for shape in (alternative, *item_alternatives):
            enum = shape.get("enum")
            if isinstance(enum, list):
                for value in enum:
                    text = _scalar_text(value)
                    if text is not None:
                        values.setdefault(text, None)
            constant = shape.get("const")
            if constant is not None:
                text = _scalar_text(constant)
                if text is not None:
                    values.setdefault(text, None)
        if default is None and "default" in alternative:
            default = _scalar_text(alternative["default"])
    return tuple(values), default, shapes


def _object_shapes(spec: Any, root: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """The object schemas under a parameter (itself, its branches, its array items), with the path suffix."""
    return _param_facts(spec, root)[2]


_Shapes = list[tuple[dict[str, Any], str]]


def nested_params(
    schema: dict[str, Any] | None, top_shapes: list[tuple[str, _Shapes]] | None = None, valued_only: bool = False
) -> list[Param]:
    """Every parameter below the top level: properties of object parameters, of array items, of anyOf/oneOf
    branches and of $defs reached by $ref, with their enums, defaults and dotted paths (bounded in depth and count).

    top_shapes: each top-level parameter's name and object shapes when already walked (_top_level).
    valued_only: only those of them with an enum or a default (the others are walked and counted, not built)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return []
    if top_shapes is None:
        top_shapes = [(str(name), _object_shapes(spec, schema)) for name, spec in schema["properties"].items()]
    found: list[Param] = []
    walked = 0  # parameters met so far, built or not: the first _MAX_NESTED_PARAMS of them are kept
    stack: list[tuple[dict[str, Any], str, int]] = [
        (shape, f"{name}{suffix}", 1) for name, shapes in top_shapes for shape, suffix in shapes
    ]
    while stack and walked < _MAX_NESTED_PARAMS:
        shape, prefix, depth = stack.pop(0)
        for name, spec in shape["properties"].items():
            enum, default, shapes = _param_facts(spec, schema)
            walked += 1
            if walked <= _MAX_NESTED_PARAMS and not (valued_only and not enum and default is None):
                resolved = _resolve(spec, schema)
                found.append(
                    Param(
                        name=str(name),
                        type=str(resolved.get("type", "")),
                        enum=enum,
                        description=str(resolved.get("description", ""))[:300],
                        default=default,
                        path=f"{prefix}.{name}",
                    )
                )
            if depth < _MAX_SCHEMA_DEPTH:
                stack += [(inner, f"{prefix}.{name}{suffix}", depth + 1) for inner, suffix in shapes]
    return found


def _schema_of(tool: dict[str, Any]) -> dict[str, Any] | None:
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        schema = tool.get("inputSchema")
    return schema if isinstance(schema, dict) else None


def _top_level(schema: dict[str, Any], properties: dict[str, Any]) -> tuple[list[Param], list[tuple[str, _Shapes]]]:
    """The top-level parameters, and each one's name with the object shapes under it, from one walk of its schema."""
    params: list[Param] = []
    shapes_of: list[tuple[str, _Shapes]] = []
    for name, spec in properties.items():
        spec = spec if isinstance(spec, dict) else {}
        enum: tuple[str, ...]
        default: str | None
        shapes: _Shapes
        if spec.keys().isdisjoint(_FACT_KEYS):  # a plain {"type", "description"}: nothing to walk (most)
            enum, default, shapes = (), None, []
        else:
            enum, default, shapes = _param_facts(spec, schema)
        param = Param(
            _text(name), _text(spec.get("type", "")), enum, _text(spec.get("description", ""))[:300], default
        )
        params.append(param)
        shapes_of.append((param.name, shapes))
    return params, shapes_of


def _text(value: Any) -> str:
    return value if type(value) is str else str(value)


def _params_and_shapes(tool: dict[str, Any]) -> tuple[list[Param], list[tuple[str, _Shapes]] | None]:
    """extract_params, and each top-level parameter's object shapes (None without a schema's properties)."""
    schema = _schema_of(tool)
    properties = (schema or {}).get("properties")
    if schema is not None and isinstance(properties, dict) and properties:
        return _top_level(schema, properties)
    names = tool.get("params") or []
    return [Param(name=str(n)) for n in names if isinstance(n, str | int)], None


def extract_params(tool: dict[str, Any]) -> list[Param]:
    """Parameters from the input schema (with types and enums), else from the bare `params` names."""
    return _params_and_shapes(tool)[0]


_Value = TypeVar("_Value")


class cached(Generic[_Value]):  # noqa: N801 - used as a decorator, like functools.cached_property
    """functools.cached_property without the lock Python 3.11 takes at every first access (3.12 dropped it):
    computed once, then read straight from the instance's __dict__."""

    def __init__(self, compute: Callable[[Any], _Value]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached[_Value]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _Value: ...

    def __get__(self, instance: object, owner: type | None = None) -> _Value | cached[_Value]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


@dataclass
class ToolFeatures:
    """Everything the rules and the model look at for one tool."""

    server: str
    name: str
    tokens: list[str]
    verb: str | None
    verb_index: int
    description: str
    description_verb: str | None
    params: list[Param]
    param_tokens: set[str]
    annotations: dict[str, Any]
    siblings: SiblingSummary | None = None
    schema: dict[str, Any] | None = field(default=None, repr=False)  # the input schema, for nested_params
    # the top-level parameters' object shapes, already walked by tool_features (None: walk them again)
    top_shapes: list[tuple[str, _Shapes]] | None = field(default=None, repr=False, compare=False)

    @property
    def param_names(self) -> list[str]:
        return [p.name.lower() for p in self.params]

    @cached
    def nested_params(self) -> list[Param]:
        """The parameters below the top level (object properties, array items, anyOf branches, $defs)."""
        return nested_params(self.schema, self.top_shapes)

    @cached
    def all_params(self) -> list[Param]:
        """Top-level parameters, then every nested one."""
        return [*self.params, *self.nested_params]

    @cached
    def valued_params(self) -> list[Param]:
        """The parameters of all_params that carry an enum or a default, in the same order (nested ones without
        either are never built)."""
        top = [p for p in self.params if p.enum or p.default is not None]
        if "nested_params" in self.__dict__:
            return top + [p for p in self.nested_params if p.enum or p.default is not None]
        return top + nested_params(self.schema, self.top_shapes, valued_only=True)

    @cached
    def param_lower(self) -> frozenset[str]:
        """The top-level parameter names lower-cased: one set test tells a rule whether any parameter can match."""
        return frozenset([p.name.lower() for p in self.params])

    @cached
    def description_lower(self) -> str:
        """The description lower-cased once (the rules read it many times)."""
        return self.description.lower()

    @cached
    def description_ascii(self) -> bool:
        """ASCII only: then a lower-cased substring test is an exact pre-check for a case-insensitive regex."""
        return self.description.isascii()

    def description_words(self, chars: int) -> frozenset[str]:
        """The lower-case letter runs of the first `chars` characters of the description, computed once per length."""
        cache = self.__dict__.setdefault("_description_words", {})
        words = cache.get(chars)
        if words is None:
            words = cache[chars] = frozenset(_LETTERS.findall(self.description[:chars].lower()))
        return words


@dataclass
class SiblingSummary:
    """What a server's tools say about it as a whole (computed once per server)."""

    tool_count: int = 0
    destructive_verbs: dict[str, list[str]] = field(default_factory=dict)
    write_count: int = 0
    trades: bool = False  # a sibling places or changes orders of stocks, crypto or options

    def destructive_examples(self, exclude: str, limit: int = 2) -> list[str]:
        """The first `limit` names (sorted) of the destructive siblings, other than `exclude`."""
        names = self.__dict__.get("_sorted_names")
        if names is None:  # sorted once per server (the summary is complete by the time labels ask)
            names = self.__dict__["_sorted_names"] = sorted(
                n for verb_names in self.destructive_verbs.values() for n in verb_names
            )
        return list(islice((n for n in names if n != exclude), limit))


def tool_features(tool: dict[str, Any], lexicon: Lexicon) -> ToolFeatures:
    """Compute the per-tool features (siblings are attached afterwards by attach_siblings)."""
    name = str(tool.get("name") or "")
    tokens = list(_split(name))
    verb, verb_index = find_name_verb(tokens, lexicon)
    description = str(tool.get("description") or "")
    annotations = tool.get("annotations")
    params, top_shapes = _params_and_shapes(tool)
    param_tokens = set(chain.from_iterable([_param_name_tokens(p.name) for p in params]))
    return ToolFeatures(
        server=str(tool.get("server") or ""),
        name=name,
        tokens=tokens,
        verb=verb,
        verb_index=verb_index,
        description=description,
        description_verb=find_description_verb(description, lexicon),
        params=params,
        param_tokens=param_tokens,
        annotations=annotations if isinstance(annotations, dict) else {},
        schema=_schema_of(tool),
        top_shapes=top_shapes,
    )


def _places_trades(feature: ToolFeatures, lexicon: Lexicon) -> bool:
    """An order or position in the name and a market word (stock, crypto, shares ...) in the description."""
    if not set(feature.tokens) & lexicon.sets["trading_objects"]:
        return False
    words = set(_WORD.findall(feature.description[:400].lower()))
    return bool(words & (lexicon.sets["trading_words"] - {"option", "options"}))


def summarize_siblings(features: Iterable[ToolFeatures], lexicon: Lexicon) -> dict[str, SiblingSummary]:
    """Per server: how many tools, which destructive verbs its tools carry (delete_*, drop_* ...)."""
    summaries: dict[str, SiblingSummary] = defaultdict(SiblingSummary)
    for feature in features:
        summary = summaries[feature.server]
        summary.tool_count += 1
        destructive = [t for t in feature.tokens if lexicon.verb_category.get(t) == "destructive"]
        exec_like = set(destructive) & lexicon.sets["exec_verbs"]
        for verb in destructive:
            if verb not in exec_like:
                summary.destructive_verbs.setdefault(verb, []).append(feature.name)
        if feature.verb and lexicon.verb_category.get(feature.verb) == "write":
            summary.write_count += 1
        summary.trades = summary.trades or _places_trades(feature, lexicon)
    return dict(summaries)


def build_features(tools: list[dict[str, Any]], lexicon: Lexicon | None = None) -> list[ToolFeatures]:
    """Features for a batch of tools, with each tool's sibling summary attached (siblings share `server`)."""
    lexicon = lexicon or load_lexicon()
    features = [tool_features(tool, lexicon) for tool in tools]
    summaries = summarize_siblings(features, lexicon)
    for feature in features:
        feature.siblings = summaries.get(feature.server)
    return features


def model_text(feature: ToolFeatures, description_chars: int = 600) -> tuple[str, str]:
    """The two text fields the model reads: name-and-params, and a bag of words with marker tokens."""
    name_part = " ".join(feature.tokens)
    params = " ".join(sorted(feature.param_tokens))
    markers = [f"verb_{feature.verb}"] if feature.verb else ["verb_none"]
    if feature.description_verb:
        markers.append(f"dverb_{feature.description_verb}")
    markers += [f"param_{p}" for p in sorted(feature.param_lower)]
    for hint in ("readOnlyHint", "destructiveHint"):
        if hint in feature.annotations:
            markers.append(f"ann_{hint.lower()}_{str(feature.annotations[hint]).lower()}")
    words = f"{name_part} {' '.join(markers)} {feature.description[:description_chars]}"
    return f"{name_part} | {params}", words
