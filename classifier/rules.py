"""Lexicon rules: a category vote with a strength, reviewer-readable reasons, and risk flags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from classifier.features import Lexicon, Param, ToolFeatures, _split_cached, split_name

NONE, WEAK, MEDIUM, STRONG = 0, 1, 2, 3
CATEGORIES = ("read", "write", "destructive")
DANGER = {"read": 0, "write": 1, "destructive": 2}

_SQL_MENTION = re.compile(
    r"\b(sql|ddl|dml|cypher|sparql|select \*|select statement|sql statement|postgres|mysql|sqlite|duckdb|bigquery|"
    r"snowflake)\b",
    re.I,
)
# _SQL_MENTION cannot match without one of these (mysql and sqlite hold 'sql'; both select phrases 'select')
_SQL_MENTION_NEEDS = (
    "sql", "ddl", "dml", "cypher", "sparql", "select", "postgres", "duckdb", "bigquery", "snowflake"
)  # fmt: skip
_EXECUTES_SQL = re.compile(
    r"\b(execut(e|es|ing)|run(s|ning)?)\b( the| any| arbitrary| raw| generated| custom| your)*"
    r" (ddl|dml|sql)( statements?| quer(y|ies)| commands?| scripts?)?\b",
    re.I,
)
_CONDITIONAL_READ_ONLY = re.compile(
    r"\b(when|if|unless)\s+(the\s+)?(server\s+is\s+)?(in\s+)?read[- ]only( mode)?\b|read[- ]only\b[^.]{0,40}\bunless\b"
    r"|\bcurrently disabled\b|\bin read[- ]only mode,",
    re.I,
)
_FROM_A_BACKUP = re.compile(r"\bfrom (a |an |the |its )?(backup|snapshot)", re.I)
_LIST_SEPARATOR = r"(\s*/\s*|\s*,\s*(and\s+|or\s+)?|\s+(and|or)\s+)"
_LISTS_A_DELETE = re.compile(
    rf"\b(add(s|ed|ing)?|creat\w*|insert\w*|updat\w*|modif\w*|upsert\w*|install\w*|edit\w*)({_LIST_SEPARATOR}\w+)*?"
    rf"{_LIST_SEPARATOR}(delet|drop|destroy|purg|uninstall|truncat|wip|eras)\w*\b",
    re.I,
)
_DELETE_STEMS = ("delet", "drop", "destroy", "purg", "uninstall", "truncat", "wip", "eras")  # _LISTS_A_DELETE needs one
_MOVES_MONEY_TO = re.compile(r"\bto refund\b", re.I)
_NON_SQL_QUERY_LANGUAGES = frozenset(
    {"promql", "logql", "traceql", "kql", "insights", "lucene", "jql", "cql", "graphql", "search", "dql"}
)
_WRITE_MODE = re.compile(
    r"\bread[-/ ]write\b|\bwrite mode\b|\ballow[-_ ]writes?\b|\bwhether writes are (permitted|allowed)\b"
)
_SHELL_MENTION = re.compile(
    r"\b(shell|bash|terminal|command line|commands?|scripts?|javascript|python code|code)\b", re.I
)
_BULK_PHRASE = re.compile(
    r"\b(all (its|of|the)|entire|every|recursive(ly)?|in bulk|multiple|cascade)\b", re.I
)
_ARBITRARY_PAYLOAD = re.compile(
    r"\b(arbitrary|any|raw)\b[\w\s/-]{0,30}?\b(code|commands?|sql|statements?|quer(y|ies)|scripts?|"
    r"gremlin|cypher|opencypher|transactions?|operations?|http method|api calls?)\b"
)
_RUNS_WORD = re.compile(r"\b(run|runs|execute|executes|exec)\b", re.I)
_GRAPH_LANGUAGE = re.compile(r"\b(gremlin|cypher|opencypher|sparql)\b")
_CONNECTORS = frozenset({"and", "or", "then"})


@dataclass
class RuleVerdict:
    """What the lexicon rules conclude: a category (or None), how sure, why, and risk flags."""

    category: str | None = None
    strength: int = NONE
    reasons: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)

    def decide(self, category: str, strength: int, reason: str) -> RuleVerdict:
        self.category, self.strength = category, strength
        self.reasons.insert(0, reason)
        return self


@lru_cache(maxsize=64)
def _phrase_automaton(phrases: tuple[str, ...]) -> Any:
    """All the phrases in one Aho-Corasick automaton: one pass over the text finds every occurrence."""
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for phrase in phrases:
        automaton.add_word(phrase, len(phrase))
    automaton.make_automaton()
    return automaton


_AUTOMATA: dict[int, tuple[tuple[str, ...], Any]] = {}  # id of a phrase tuple -> (the tuple, kept alive; its automaton)


def phrase_hit(text: str, phrases: tuple[str, ...]) -> str | None:
    """The listed phrase found first in the (lower-cased) text, the longest where several start there; a phrase
    must not continue a word (no letter a-z just before it). None when there is none."""
    best_start, best_length = len(text), 0
    held = _AUTOMATA.get(id(phrases))
    if held is None or held[0] is not phrases:  # the tuples are constants: found by identity, not by hashing
        if len(_AUTOMATA) >= 256:  # a caller building tuples afresh: stay bounded
            _AUTOMATA.clear()
        held = _AUTOMATA[id(phrases)] = (phrases, _phrase_automaton(phrases))
    for end, length in held[1].iter(text):
        start = end - length + 1
        if start > best_start or (start and "a" <= text[start - 1] <= "z"):
            continue
        if start < best_start or length > best_length:
            best_start, best_length = start, length
    return text[best_start : best_start + best_length] if best_length else None


_SORTED_GROUPS: dict[tuple[str, str], tuple[str, ...]] = {}


def _tuple(lexicon: Lexicon, group: str) -> tuple[str, ...]:
    """A lexicon group as a sorted tuple, built once per lexicon."""
    key = (lexicon.digest, group)
    cached = _SORTED_GROUPS.get(key)
    if cached is None:
        cached = _SORTED_GROUPS[key] = tuple(sorted(lexicon.sets[group]))
    return cached


def _may_contain(f: ToolFeatures, fragments: tuple[str, ...], chars: int | None = None) -> bool:
    """False only when a case-insensitive regex that needs one of these (ASCII) fragments cannot match
    (in the first `chars` characters of the description, when given).

    Exact for ASCII descriptions; for others re.IGNORECASE also folds a few non-ASCII letters, so: maybe.
    """
    if not f.description_ascii:
        return True
    low = f.description_lower if chars is None else f.description_lower[:chars]  # ASCII: same length lowered
    return any(map(low.__contains__, fragments))


@lru_cache(maxsize=65536)
def _is_sql_param(name: str) -> bool:
    """sql, statement, cypher, migrationSql, sql_query, raw_sql; not sql_warehouse_id or dqlStatement."""
    tokens = split_name(name)
    if not tokens or set(tokens) & _NON_SQL_QUERY_LANGUAGES:
        return False
    if name.lower() in {"sqlquery", "rawsql", "sqlstatement", "sqlstatements"}:
        return True
    head = tokens[-1]
    return head in {"sql", "cypher", "statement", "statements"} or (
        head in {"query", "queries"} and bool(set(tokens) & {"sql", "cypher"})
    )


def _sql_capable(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    """The parameter or token that makes this a SQL/Cypher runner, if any."""
    sql_params = [p.name for p in f.params if _is_sql_param(p.name)]
    if sql_params:
        return f"takes an arbitrary '{sql_params[0]}' parameter"
    said = (
        _may_contain(f, ("execut", "run"), 1000)
        and _may_contain(f, ("ddl", "dml", "sql"), 1000)  # what it runs: one of these must follow
        and _EXECUTES_SQL.search(f.description[:1000])
    )
    if said:
        return f"the description says '{said.group(0).lower()}'"
    if set(f.tokens) & _NON_SQL_QUERY_LANGUAGES:
        return None
    has_query_param = not f.param_lower.isdisjoint(("query", "q", "raw_query"))
    if has_query_param and (
        bool(_may_contain(f, _SQL_MENTION_NEEDS, 600) and _SQL_MENTION.search(f.description[:600]))
        or set(f.tokens) & lexicon.sets["sql_tokens"]
    ):
        return "takes a SQL 'query' parameter"
    if set(f.tokens) & {"sql", "cypher", "sparql"} and (has_query_param or not f.params):
        return "runs SQL named in its name"
    return None


def _exec_param(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    if lexicon.sets["exec_params"].isdisjoint(f.param_lower):
        return None
    for p in f.params:
        if p.name.lower() in lexicon.sets["exec_params"]:
            return p.name
    return None


def _sql_rule(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict, signal: str) -> RuleVerdict:
    text = (f.description[:1500] + " " + " ".join(p.description for p in f.params)).lower()
    verdict.flags.add("sql")
    read_only = phrase_hit(text, _tuple(lexicon, "sql_read_only_phrases"))
    if read_only and re.search(rf"{re.escape(read_only)}[\w\s(-]{{0,12}}\b(by )?default\b", text):
        verdict.reasons.append(f"'{read_only}' holds only by default: the caller can lift it")
        read_only = None
    if read_only and _CONDITIONAL_READ_ONLY.search(text):
        verdict.reasons.append(f"'{read_only}' holds only when the operator configures it")
        read_only = None
    other_mode = _WRITE_MODE.search(text)
    if read_only and other_mode:
        verdict.reasons.append(
            f"'{read_only}' is one mode; the description also names '{other_mode.group(0)}'"
        )
        read_only = None
    if read_only:
        verdict.flags |= {"exposes_data", "stated_read_only"}
        return verdict.decide("read", STRONG, f"{signal}, but the description says '{read_only}'")
    write_word = phrase_hit(text, _tuple(lexicon, "sql_write_words"))
    verb_kind = lexicon.verb_category.get(f.verb or "")
    if write_word or f.verb in lexicon.sets["exec_verbs"] or verb_kind in ("write", "destructive"):
        verdict.flags.add("exec")
        why = f"the description allows '{write_word}'" if write_word else "nothing limits it to reads"
        return verdict.decide("destructive", STRONG, f"{signal}; {why}")
    arbitrary = _ARBITRARY_PAYLOAD.search(text[:600])
    if arbitrary:
        verdict.flags.add("exec")
        return verdict.decide("destructive", STRONG, f"{signal}; the description says '{arbitrary.group(0)}'")
    # A name that says it reads (read_query, list_sql_instances) is taken at its word; a bare "query" is not.
    if verb_kind == "read" and f.verb != "query" and not signal.startswith("takes an arbitrary"):
        verdict.flags.add("exposes_data")
        return verdict.decide("read", MEDIUM, f"{signal}; verb '{f.verb}' suggests a read-only query")
    verdict.flags.add("exec")
    return verdict.decide("destructive", MEDIUM, f"{signal} with no read-only limit: assumed able to write")


def _later_runner(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    """An execute/run after the first verb, followed by what it runs (insert_execute_code_cell)."""
    tokens = f.tokens
    for index in range(f.verb_index + 1, len(tokens)):
        if (
            tokens[index] in {"execute", "exec", "run", "eval"}
            and set(tokens[index + 1 :]) & lexicon.sets["exec_objects"]
        ):
            return tokens[index]
    return None


def _input_to_a_terminal(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    """Typing or sending text into a terminal, shell or REPL (send_keys, interact_with_process)."""
    sender = (
        f.verb in lexicon.sets["input_sending_verbs"]
        or f.description_verb in lexicon.sets["input_sending_verbs"]
    )
    if not sender:
        return None
    words = f.description_words(300) | set(f.tokens)
    return next((w for w in sorted(words) if w in lexicon.sets["terminal_words"]), None)


def _exec_rule(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> RuleVerdict | None:
    """Arbitrary code, shell and SQL execution: destructive (and critical)."""
    if f.verb in lexicon.sets["read_modifiers"]:
        return None
    sql_signal = _sql_capable(f, lexicon)
    exec_verb = f.verb in lexicon.sets["exec_verbs"]
    if sql_signal:
        return _sql_rule(f, lexicon, verdict, sql_signal)
    objects = [t for t in f.tokens if t in lexicon.sets["exec_objects"] and t != f.verb]
    param = _exec_param(f, lexicon)
    runner = f.verb if exec_verb else _later_runner(f, lexicon)
    if f.verb in {"shell", "bash", "sh", "sudo", "exec", "eval"} or (runner and (objects or param)):
        what = (
            f"'{objects[0]}'" if objects else f"an arbitrary '{param}' parameter" if param else f"'{f.verb}'"
        )
        verdict.flags.add("exec")
        return verdict.decide(
            "destructive", STRONG, f"runs arbitrary code: verb '{runner or f.verb}' with {what}"
        )
    terminal = _input_to_a_terminal(f, lexicon)
    if terminal:
        verdict.flags.add("exec")
        return verdict.decide("destructive", MEDIUM, f"sends input to a {terminal}: it can run any command")
    if (
        f.verb is None
        and param
        and param.lower() in {"command", "cmd", "script", "shell", "bash", "code", "javascript", "python"}
    ):
        verdict.flags.add("exec")
        return verdict.decide("destructive", MEDIUM, f"takes an arbitrary '{param}' parameter to run")
    mention = (
        _SHELL_MENTION.search(f.description[:300])
        if f.verb in {"execute", "exec", "run", "eval", "evaluate", "invoke"}
        else None
    )
    if mention:
        verdict.flags.add("exec")
        return verdict.decide(
            "destructive", MEDIUM, f"verb '{f.verb}' and the description mentions '{mention.group(1)}'"
        )
    return None


def _relation(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    return next((t for t in f.tokens if t in lexicon.sets["relation_objects"]), None)


def _only_detaches(f: ToolFeatures, destructive_values: list[str], lexicon: Lexicon) -> bool:
    """set_tags(operation='remove'): removing a tag, label or flag can be undone by adding it back."""
    return destructive_values == ["remove"] and _relation(f, lexicon) is not None


_SENDING_VERBS = frozenset({"send", "call", "invoke", "run", "execute", "request"})


def _http_method_of_a_saved_request(f: ToolFeatures, values: set[str], lexicon: Lexicon) -> bool:
    """A 'method' enum of HTTP verbs on a tool that creates or edits a request definition, not one that sends it."""
    return (
        {"get", "post"} <= values
        and lexicon.verb_category.get(f.verb or "") == "write"
        and f.verb not in _SENDING_VERBS
    )


def _leading_word(value: str) -> str:
    """The verb an enum value starts with: 'delete_project_item' -> 'delete'; 'drop' -> 'drop'."""
    words = split_name(value)
    return words[0] if words else value


def _action_enum_rule(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> RuleVerdict | None:
    """An action/operation parameter whose values include delete (manage_repo(action='delete'))."""
    for p in f.params:
        lowered = p.name.lower()
        if lowered not in lexicon.sets["action_params"] and not lowered.endswith(("_action", "_operation")):
            continue
        values = {v.lower() for v in p.enum}
        destructive = sorted(v for v in values if _leading_word(v) in lexicon.sets["destructive_enum_values"])
        if destructive and _only_detaches(f, destructive, lexicon):
            return verdict.decide(
                "write", STRONG, f"its '{p.name}' parameter only adds or removes a '{_relation(f, lexicon)}'"
            )
        if destructive and _http_method_of_a_saved_request(f, values, lexicon):
            continue
        if destructive:
            return verdict.decide(
                "destructive", STRONG, f"its '{p.name}' parameter accepts '{destructive[0]}'"
            )
        writes = sorted(values & lexicon.sets["write_enum_values"])
        if writes and (f.verb is None or lexicon.verb_category.get(f.verb) != "destructive"):
            verdict.reasons.append(f"its '{p.name}' parameter accepts '{writes[0]}'")
            if f.verb is None or lexicon.verb_category.get(f.verb) == "read":
                return verdict.decide(
                    "write",
                    STRONG if f.verb is None else MEDIUM,
                    f"its '{p.name}' parameter accepts '{writes[0]}'",
                )
        if not p.enum and f.verb is None:
            mentioned = phrase_hit(f.description_lower, ("delete", "remove", "drop", "destroy", "purge"))
            if mentioned:
                return verdict.decide(
                    "destructive", MEDIUM, f"takes an '{p.name}' parameter and mentions '{mentioned}'"
                )
    return None


def _later_verb(f: ToolFeatures, lexicon: Lexicon) -> tuple[str, str] | None:
    """A second, more dangerous verb after the first (find_and_delete, get_or_create)."""
    for index, token in enumerate(f.tokens[f.verb_index + 1 :], start=f.verb_index + 1):
        if token in lexicon.sets["core_destructive_verbs"]:
            return token, "destructive"
        joined = index > 0 and f.tokens[index - 1] in _CONNECTORS
        if joined and lexicon.verb_category.get(token) == "write":
            return token, "write"
    return None


def _money_context(f: ToolFeatures, lexicon: Lexicon) -> bool:
    if f.verb in {"pay", "refund", "payout", "withdraw", "purchase", "buy", "sell", "charge"}:
        return True
    words = set(f.tokens) | f.description_words(400)
    words.discard(f.verb or "")  # 'transfer' alone names no money: transfer_repository moves none
    return not words.isdisjoint(_money_words(lexicon))


_MONEY_WORDS: dict[str, frozenset[str]] = {}


def _money_words(lexicon: Lexicon) -> frozenset[str]:
    """Words that put money in view, built once per lexicon."""
    words = _MONEY_WORDS.get(lexicon.digest)
    if words is None:
        words = _MONEY_WORDS[lexicon.digest] = frozenset(
            (lexicon.sets["money_tokens"] | lexicon.sets["value_objects"] - {"tokens"})
            - {"order", "balance", "subscription", "checkout"}
        )
    return words


def _money_movement(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    """The payment, refund or transfer a write verb creates or sends (create_refund, send_transaction)."""
    head = f.tokens[-1] if f.tokens else ""
    if f.verb in lexicon.sets["money_creating_verbs"] and head in lexicon.sets["money_movement_objects"]:
        return head
    if f.verb in lexicon.sets["value_sending_verbs"] and head in lexicon.sets["value_objects"]:
        return head if _money_context(f, lexicon) else None
    return None


def _trading(f: ToolFeatures, lexicon: Lexicon) -> bool:
    """An order or position (in the name) of stocks, crypto or options (in the description or a sibling's)."""
    if not set(f.tokens) & lexicon.sets["trading_objects"]:
        return False
    if f.siblings is not None and f.siblings.trades:
        return True
    return bool(f.description_words(400) & lexicon.sets["trading_words"])


def _trading_rule(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> RuleVerdict | None:
    """Placing, changing or closing an order or position of stocks, crypto or options moves money."""
    verb = next((t for t in f.tokens if t in lexicon.sets["trading_verbs"]), None)
    if verb is None or lexicon.verb_category.get(f.verb or "") == "read" or not _trading(f, lexicon):
        return None
    verdict.flags.add("money")
    return verdict.decide("destructive", STRONG, f"'{verb}' on an order or position: it moves money")


def _saved_file_param(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    """The parameter naming where a download, export or conversion saves its result, if any."""
    if f.verb in lexicon.sets["file_producing_verbs"]:
        wanted = lexicon.sets["save_params"]
    elif f.verb in lexicon.sets["output_producing_verbs"]:
        wanted = lexicon.sets["output_params"]
    else:
        return None
    return next((p.name for p in f.params if "_".join(split_name(p.name)) in wanted), None)


def _description_says_otherwise(f: ToolFeatures, lexicon: Lexicon, category: str) -> tuple[str, str] | None:
    """The description's opening verb corrects the name's: a write that says it deletes (unwatch_topic:
    'Delete a saved watch'), or a leading word that may be a noun (label_values: 'Get all values')."""
    dverb = f.description_verb
    if dverb is None or dverb in {"return", "returns"}:
        return None
    dcategory = lexicon.verb_category[dverb]
    if category == "write" and dverb in lexicon.sets["core_destructive_verbs"] - {"remove", "rm"}:
        return "destructive", f"verb '{f.verb}' in the name, but the description opens with '{dverb}'"
    if category == "write" and _MOVES_MONEY_TO.search(f.description[:300]):
        return (
            "destructive",
            f"verb '{f.verb}' in the name, but the description says it is made to refund: it moves money",
        )
    if category == "write" and dverb in lexicon.sets["money_verbs"] and _money_context(f, lexicon):
        return (
            "destructive",
            f"verb '{f.verb}' in the name, but the description opens with '{dverb}': it moves money",
        )
    if (
        f.verb in lexicon.sets["ambiguous_leading"]
        and dcategory != category
        and dverb not in lexicon.sets["exec_verbs"]
        and _leads(f, lexicon)
    ):
        return dcategory, f"'{f.verb}' may name a thing here; the description opens with '{dverb}'"
    return None


def _leads(f: ToolFeatures, lexicon: Lexicon) -> bool:
    """The name's verb is its first word after any service prefixes."""
    first = next((i for i, t in enumerate(f.tokens) if t not in lexicon.sets["service_prefixes"]), 0)
    return f.verb_index == first


def _name_verb_rule(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> RuleVerdict | None:
    """The name's verb decides, read through what follows it (objects, parameters, the description)."""
    verb = f.verb
    if verb is None:
        return None
    if verb in lexicon.sets["read_modifiers"] or {"dry", "run"} <= set(f.tokens) or "dryrun" in f.tokens:
        return verdict.decide("read", STRONG, f"'{verb}' only previews: it changes nothing")
    kind = lexicon.verb_category[verb]
    # read only for a non-plain read verb (just below) or a write verb (at the end): not for the rest
    irreversible = (
        phrase_hit(f.description_lower, _tuple(lexicon, "irreversible_phrases"))
        if kind == "write" or (kind == "read" and verb not in _PLAIN_READ_VERBS)
        else None
    )
    if irreversible and kind == "read" and verb not in _PLAIN_READ_VERBS:
        return verdict.decide(
            "destructive", MEDIUM, f"verb '{verb}', but the description says '{irreversible}'"
        )
    later = _later_verb(f, lexicon)
    if later and later[1] == "destructive":
        return verdict.decide("destructive", STRONG, f"verb '{later[0]}' in the name")
    decided = _verb_and_object(f, lexicon, verdict) or _verb_and_money(f, lexicon, verdict)
    if decided is not None:
        return decided
    category = lexicon.verb_category[verb]
    if verb in lexicon.sets["exec_verbs"] and category != "read":
        following = f.tokens[f.verb_index + 1 :]
        returned = next((t for t in following if t in lexicon.sets["read_job_objects"]), None)
        if returned:
            return verdict.decide("read", MEDIUM, f"verb '{verb}' runs a '{returned}' and returns its result")
        return verdict.decide("write", MEDIUM, f"verb '{verb}' starts a job (no code or command argument)")
    if later and later[1] == "write" and category == "read":
        return verdict.decide("write", STRONG, f"verb '{later[0]}' in the name")
    described = _description_says_otherwise(f, lexicon, category)
    if described:
        money = described[1].endswith("moves money")
        if money:
            verdict.flags.add("money")
        return verdict.decide(described[0], STRONG if money else MEDIUM, described[1])
    if category == "write":
        if irreversible:
            verdict.reasons.append(f"verb '{verb}' in the name")
            return verdict.decide("destructive", MEDIUM, f"the description says '{irreversible}'")
        if verb in lexicon.sets["modifies_existing_verbs"]:
            verdict.flags.add("modifies_existing")
    strength = MEDIUM if verb in lexicon.sets["soft_verbs"] else STRONG
    return verdict.decide(category, strength, f"verb '{verb}' in the name")


_PLAIN_READ_VERBS = frozenset({"get", "list", "search", "find", "read", "show", "view", "describe"})


def _verb_and_object(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> RuleVerdict | None:
    """What the verb does to the object after it: detach a relation, save a file, shrink retention,
    restore a backup, apply a planned run."""
    verb, following = f.verb, f.tokens[f.verb_index + 1 :]
    relation = next((t for t in following if t in lexicon.sets["relation_objects"]), None)
    if verb in {"remove", "unassign", "detach", "unlink"} and relation:
        return verdict.decide(
            "write", STRONG, f"verb '{verb}' only detaches a '{relation}', which can be re-added"
        )
    detached = next((t for t in following if t in lexicon.sets["detachable_objects"]), None)
    if verb == "delete" and detached:  # delete_issue_emoji_reaction, delete_watching: a link, not content
        return verdict.decide(
            "write", STRONG, f"verb '{verb}' only detaches a '{detached}', which can be re-added"
        )
    rotated = next((t for t in following if t in lexicon.sets["rotated_credentials"]), None)
    if verb in lexicon.sets["credential_rotating_verbs"] and rotated:  # reset_password sets a new one
        verdict.flags.add("credential")
        return verdict.decide("write", STRONG, f"verb '{verb}' rotates a '{rotated}': a credential change (write)")
    resolved = next((t for t in following if t in lexicon.sets["resolvable_objects"]), None)
    if verb == "resolve" and resolved:  # resolve_comment marks it done; resolve_url, resolve_host only look up
        return verdict.decide("write", STRONG, f"verb '{verb}' marks a '{resolved}' resolved: a state change")
    save_param = _saved_file_param(f, lexicon)
    if save_param:
        return verdict.decide(
            "write", MEDIUM, f"verb '{verb}' with a '{save_param}' parameter: it saves a local file"
        )
    shrunk = next((t for t in following if t in lexicon.sets["kept_data_objects"]), None)
    if verb in lexicon.sets["shrinking_verbs"] and shrunk:
        return verdict.decide(
            "destructive", MEDIUM, f"shrinking the '{shrunk}' discards data beyond the new limit"
        )
    if verb == "restore" and (
        set(following) & lexicon.sets["restorable_objects"] or _FROM_A_BACKUP.search(f.description[:300])
    ):
        return verdict.decide("destructive", MEDIUM, "restoring a backup overwrites the current data")
    if verb == "apply" and set(following) & lexicon.sets["applied_plan_objects"]:
        return verdict.decide(
            "destructive", MEDIUM, "applying a planned run can replace or destroy what it manages"
        )
    return None


def _verb_and_money(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> RuleVerdict | None:
    """Money verbs (pay, refund, buy) with money in view, and refunds, payments or transactions created or sent."""
    verb = f.verb
    if verb in lexicon.sets["money_verbs"]:
        if _money_context(f, lexicon):
            verdict.flags.add("money")
            return verdict.decide("destructive", STRONG, f"verb '{verb}' moves money")
        return verdict.decide("write", MEDIUM, f"verb '{verb}' in the name (no money involved)")
    moved = _money_movement(f, lexicon)
    if moved:
        verdict.flags.add("money")
        return verdict.decide("destructive", STRONG, f"verb '{verb}' on a '{moved}': it moves money")
    return None


def _description_rule(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> RuleVerdict | None:
    text = f.description_lower
    irreversible = phrase_hit(text, _tuple(lexicon, "irreversible_phrases"))
    if irreversible:
        return verdict.decide("destructive", MEDIUM, f"the description says '{irreversible}'")
    dverb = f.description_verb
    if dverb is not None:
        category = lexicon.verb_category[dverb]
        if dverb in lexicon.sets["money_verbs"] and not _money_context(f, lexicon):
            category = "write"
        if dverb in lexicon.sets["exec_verbs"] and category == "destructive":
            head = text[:400]
            found = (
                _ARBITRARY_PAYLOAD.search(head) or _SQL_MENTION.search(head) or _GRAPH_LANGUAGE.search(head)
            )
            mention = found.group(0) if found else phrase_hit(head, lexicon.phrases["destructive"])
            if mention:
                verdict.flags.add("exec")
                return verdict.decide(
                    "destructive", MEDIUM, f"the description opens with '{dverb}' and mentions '{mention}'"
                )
            category = "write"
        return verdict.decide(category, MEDIUM, f"the description opens with '{dverb}'")
    for category in ("read", "destructive", "write"):
        hit = phrase_hit(text, lexicon.phrases[category])
        if hit:
            return verdict.decide(category, WEAK, f"the description says '{hit}'")
    return None


def _risk_flags(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> None:
    tokens = set(f.tokens)
    if tokens & lexicon.sets["credential_tokens"] or {"api", "key"} <= tokens or {"access", "key"} <= tokens:
        verdict.flags.add("credential")
    if tokens & lexicon.sets["secret_tokens"] or {"api", "key"} <= tokens:
        verdict.flags.add("secrets")
    bulk_words = ("all its", "all of", "all the", "entire", "every", "recursive", "in bulk", "multiple", "cascade")
    if tokens & lexicon.sets["bulk_tokens"] or (
        _may_contain(f, bulk_words, 600) and _BULK_PHRASE.search(f.description[:600])
    ):
        verdict.flags.add("bulk")
    lowered = [p.name.lower() for p in f.params]  # once, for the three parameter checks below
    if any(p.type == "array" and lowered[i].endswith(("ids", "names")) for i, p in enumerate(f.params)):
        verdict.flags.add("bulk")
    path_params, danger_params = lexicon.sets["path_params"], lexicon.sets["danger_params"]
    if not path_params.isdisjoint(lowered):
        verdict.flags.add("free_form:" + f.params[_first_in(lowered, path_params)].name)
    if f.verb in lexicon.sets["money_verbs"] and _money_context(f, lexicon):
        verdict.flags.add("money")
    if not danger_params.isdisjoint(lowered):
        verdict.flags.add("danger_param:" + f.params[_first_in(lowered, danger_params)].name)


def _first_in(names: list[str], group: frozenset[str]) -> int:
    """The index of the first name in the group (one is)."""
    return next(i for i, name in enumerate(names) if name in group)


def destructive_flag_param(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    """A parameter that switches a write into destruction (overwrite, prune, dropTarget, in_trash), or a 'force'
    on a verb that then overwrites (push, checkout, rollback); forcing a stop or a login destroys nothing."""
    for p in f.params:
        tokens = set(_split_cached(p.name))
        if p.type not in ("", "boolean"):
            continue
        if tokens & lexicon.sets["destructive_flag_params"] - {"force"}:
            return p.name
        if "force" in tokens and f.verb in lexicon.sets["force_overwrites_verbs"]:
            return p.name
    return None


def _flag_param_rule(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> None:
    """A write whose flag parameter can overwrite or delete is destructive: the caller may set the flag."""
    flag = destructive_flag_param(f, lexicon) if verdict.category == "write" else None
    if flag:
        verdict.decide("destructive", STRONG, f"its '{flag}' parameter can overwrite or delete existing data")


def _payload_param(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    """A whole manifest, patch, YAML/XML config or pipeline applied over an existing resource: arbitrary changes."""
    if f.verb not in lexicon.sets["modifies_existing_verbs"]:
        return None
    for p in f.params:
        tokens = _split_cached(p.name)
        if tokens and tokens[-1] in lexicon.sets["payload_params"] and p.type in ("", "string", "object"):
            return p.name
    return None


def _any_http_method(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    """A generic request tool whose method parameter allows DELETE (not one that only saves a request)."""
    if lexicon.verb_category.get(f.verb or "") == "write" and f.verb not in _SENDING_VERBS:
        return None
    if lexicon.sets["http_method_params"].isdisjoint(f.param_lower):
        return None
    for p in f.params:
        if p.name.lower() not in lexicon.sets["http_method_params"]:
            continue
        values = {v.lower() for v in p.enum}
        if "delete" in values or (not values and "delete" in p.description.lower()):
            return p.name
    return None


def _param_that_destroys(f: ToolFeatures, lexicon: Lexicon) -> tuple[str, str] | None:
    """A parameter whose own description says it deletes, overwrites or archives."""
    phrases = _tuple(lexicon, "param_destroys_phrases")
    joined = "\x00".join([p.description for p in f.params])  # no phrase holds NUL: none spans two
    if joined.isascii() and phrase_hit(joined.lower(), phrases) is None:  # one pass: none of them says it
        return None
    for p in f.params:
        hit = phrase_hit(p.description.lower(), _tuple(lexicon, "param_destroys_phrases"))
        if hit:
            return p.name, hit
    return None


def _bulk_update_by_filter(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    """update(filter=...) rewrites every matching record at once, with no backup of the old values."""
    if f.verb not in lexicon.sets["bulk_update_verbs"]:
        return None
    return next((p.name for p in f.params if p.name.lower() in lexicon.sets["filter_params"]), None)


def _unsafe_flag(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    """A boolean that switches a safety check off (allowDangerous, unsafe)."""
    for p in f.params:
        if set(_split_cached(p.name)) & lexicon.sets["unsafe_flag_params"] and p.type in ("", "boolean"):
            return p.name
    return None


def _action_values_described(f: ToolFeatures, lexicon: Lexicon) -> tuple[str, str] | None:
    """An action parameter without an enum whose description (or its 'Args:' line) names a destructive value."""
    for p in f.params:
        if p.enum or p.name.lower() not in {"action", "operation", "op"}:
            continue
        args_line = re.search(rf"^\s*{re.escape(p.name)}\s*(\([^)]*\))?:(.*)$", f.description, re.M)
        text = (p.description + " " + (args_line.group(2) if args_line else "")).lower()
        words = set(re.findall(r"[a-z_]+", text)) & lexicon.sets["destructive_enum_values"]
        if words and not _only_detaches(f, sorted(words), lexicon):
            return p.name, sorted(words)[0]
    return None


def _calls_any_tool(f: ToolFeatures, lexicon: Lexicon) -> str | None:
    """execute_tool(name, arguments): runs whichever tool or operation it is named, deletes included."""
    if f.verb not in lexicon.sets["exec_verbs"]:
        return None
    return next((t for t in f.tokens[f.verb_index + 1 :] if t in lexicon.sets["proxy_objects"]), None)


def _read_with_reset_switch(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> None:
    """A read whose boolean 'reset'/'purge' switch clears the state it reports on is not a pure read."""
    if lexicon.sets["read_reset_switches"].isdisjoint(f.param_lower):
        return
    switch = next(
        (
            p.name
            for p in f.params
            if p.name.lower() in lexicon.sets["read_reset_switches"] and p.type == "boolean"
        ),
        None,
    )
    if switch and verdict.strength < STRONG:
        verdict.decide("destructive", MEDIUM, f"its boolean '{switch}' parameter clears the state it reads")


_OVER_COLLECTIONS = re.compile(r"\bcollections?\b|\$match|\$group", re.I)


def _aggregation_that_can_write(f: ToolFeatures, verdict: RuleVerdict) -> None:
    """A free-form aggregation pipeline (MongoDB and kin) can write with $out or $merge stages."""
    if "pipeline" not in f.param_lower:
        return
    pipeline = next((p.name for p in f.params if p.name.lower() == "pipeline"), None)
    if not pipeline or not {"aggregate", "aggregation"} & set(f.tokens):
        return
    if _OVER_COLLECTIONS.search(f.description[:600]):
        verdict.flags.add("exec")
        verdict.decide(
            "destructive", STRONG, f"its free-form '{pipeline}' can write with $out or $merge stages"
        )


def _operations_listed_with_a_delete(f: ToolFeatures, verdict: RuleVerdict) -> None:
    """dataset: 'Dataset ops: list/get/create/update/delete' with no verb in the name and no schema to read the
    operations from: the description's list of operations decides, not its first word."""
    if f.verb is not None or verdict.strength == STRONG or verdict.category != "read":
        return
    listed = _may_contain(f, _DELETE_STEMS, 600) and _LISTS_A_DELETE.search(f.description[:600])
    if listed:
        verdict.decide("destructive", MEDIUM, f"its description lists '{listed.group(0)}' among what it does")


def _schema_rule(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> None:
    """What the input schema allows can make a write destructive: a command, a whole manifest, DELETE, a filter."""
    if verdict.category == "destructive":
        return
    method = _any_http_method(f, lexicon)
    if method:
        verdict.flags.add("exec")
        verdict.decide(
            "destructive", STRONG, f"its '{method}' parameter allows any HTTP method, DELETE included"
        )
        return
    if verdict.category == "read":
        _read_with_reset_switch(f, lexicon, verdict)
        _aggregation_that_can_write(f, verdict)
        _operations_listed_with_a_delete(f, verdict)
        return
    if verdict.category is None:
        return
    for check in (_write_that_runs_anything, _write_that_overwrites):
        if check(f, lexicon, verdict):
            return


def _write_that_runs_anything(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> bool:
    command = (
        next((p.name for p in f.params if p.name.lower() in lexicon.sets["command_params"]), None)
        if not lexicon.sets["command_params"].isdisjoint(f.param_lower)
        else None
    )
    if command and _RUNS_WORD.search(f.description[:300]):
        verdict.flags.add("exec")
        verdict.decide("destructive", STRONG, f"takes an arbitrary '{command}' parameter to run")
        return True
    proxied = _calls_any_tool(f, lexicon)
    if proxied:
        verdict.flags.add("exec")
        verdict.decide(
            "destructive",
            STRONG,
            f"verb '{f.verb}' calls whichever '{proxied}' it is named, deletes included",
        )
        return True
    payload = _payload_param(f, lexicon)
    if payload:
        verdict.decide(
            "destructive",
            STRONG,
            f"applies a whole '{payload}' it is given: it can change or remove anything",
        )
        return True
    action = _action_values_described(f, lexicon)
    if action:
        verdict.decide(
            "destructive", STRONG, f"its '{action[0]}' parameter is described as accepting '{action[1]}'"
        )
        return True
    unsafe = _unsafe_flag(f, lexicon)
    if unsafe:
        verdict.decide("destructive", MEDIUM, f"its '{unsafe}' parameter switches a safety check off")
        return True
    return False


def _write_that_overwrites(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> bool:
    destroying = _param_that_destroys(f, lexicon)
    if destroying:
        verdict.decide(
            "destructive", MEDIUM, f"its '{destroying[0]}' parameter is described as '{destroying[1]}'"
        )
        return True
    said = phrase_hit(f.description_lower, _tuple(lexicon, "write_destroys_phrases"))
    if said:
        verdict.decide("destructive", STRONG, f"a write whose description says '{said}'")
        return True
    listed = _may_contain(f, _DELETE_STEMS, 600) and _LISTS_A_DELETE.search(f.description[:600])
    if listed:
        verdict.decide("destructive", MEDIUM, f"its description lists '{listed.group(0)}' among what it does")
        return True
    by_filter = _bulk_update_by_filter(f, lexicon)
    if by_filter:
        verdict.flags.add("bulk")
        verdict.decide(
            "destructive",
            STRONG,
            f"'{f.verb}' with a '{by_filter}': overwrites every matching record, no backup",
        )
        return True
    return False


# -- Signals added for issue 11: schema enums and defaults at any depth, replacement, wiping, terminate/kill,
# caller code or images, query languages that can write. Each names its reason; apply_rules runs them last.

_REPLACES_ALL = re.compile(
    r"\b(replac(es|e|ing)|overwrit(es|e|ing)) (all|the entire|the whole)( (of )?(the|its|existing|current))?"
    r" (rules|permissions|bindings|members|roles|polic(y|ies)|acls?|records|rows|data|entries|"
    r"configuration|config|settings|firewall|layout|files|dashboard|cards|collection|table|index|schema|workflow)\b"
    r"|\b(set|sets|setting|replace|replaces|replacing|make|makes)\b[^.]{0,60}\bto exactly\b"
    r"|\bcreates? or replaces? (a |an |the )?(whole |entire |\w+ )?(configuration|config|rules|policy|policies|"
    r"schema|script|worker|function|file|object|table|index)\b"
)
_GRAPHQL = re.compile(r"\bgraphql\b", re.I)
_MUTATION = re.compile(r"\bmutations?\b", re.I)
_EXPLAIN_ANALYZE = re.compile(
    r"\bexplain[\s(]+analy[sz]e\b|\banaly[sz]e\b[^.]{0,60}\b(execut|runs?)\b|\bactual (execution |query )?plan\b"
    r"|\bplan with (actual |runtime )",
    re.I,
)
_TO_THE_TRASH = re.compile(
    r"\b(mov(e|es|ing)|send(s|ing)?|put(s|ting)?)\b[^.]{0,40}\b(to|into) (the )?(trash|recycle bin|bin|deleted items)\b"
)
_QUERY_PARAMS = frozenset(
    {"query", "q", "statement", "cypher", "sql", "gql", "document", "graphql", "mutation"}
)


def _value_verb(value: str, lexicon: Lexicon) -> str:
    """The verb an enum or default value stands for, read with its original case ('deleteAgent' -> 'delete',
    'force_delete' -> 'delete', 'RESET_CREDENTIALS' -> 'reset')."""
    words = split_name(value)
    while len(words) > 1 and words[0] in lexicon.sets["enum_value_modifiers"]:
        words = words[1:]
    return words[0] if words else value.lower()


def _is_action_param(p: Param, lexicon: Lexicon) -> bool:
    """A parameter that chooses what the tool does: action, operation, mode, command, type (any case or prefix)."""
    tokens = _split_cached(p.name)
    return bool(tokens) and (
        p.name.lower() in lexicon.sets["action_params"]
        or tokens[-1] in lexicon.sets["enum_action_name_tokens"]
    )


def _destructive_choice(f: ToolFeatures, lexicon: Lexicon) -> tuple[Param, str, bool] | None:
    """An action-like parameter at any depth whose enum values or default include a destructive verb:
    (parameter, value, whether it is the default). Removing a re-addable relation and HTTP methods of saved
    requests are left to the older rules; nested 'remove' entries edit a document and stay writes."""
    sets = lexicon.sets
    http_method_params, action_params = sets["http_method_params"], sets["action_params"]
    action_tokens = sets["enum_action_name_tokens"]
    for p in f.valued_params:  # those with a value to read a verb from (most parameters have none)
        lowered = p.name.lower()
        if lowered in http_method_params:
            continue
        tokens = _split_cached(p.name)  # as _is_action_param, with the lookups hoisted out of the loop
        if not tokens or (lowered not in action_params and tokens[-1] not in action_tokens):
            continue
        parents = set(split_name(p.path.rsplit(".", 1)[0])) if p.path else set()
        if parents & lexicon.sets["non_action_parents"]:  # a webhook's event types, a filter's values
            continue
        if (
            p.default is not None
            and _value_verb(p.default, lexicon) in lexicon.sets["destructive_enum_values"]
        ):
            return p, p.default, True
        values = sorted(
            v for v in p.enum if _value_verb(v, lexicon) in lexicon.sets["destructive_enum_values"]
        )
        verbs = sorted({_value_verb(v, lexicon) for v in values})
        if not values or verbs == ["remove"] and (p.path or _only_detaches(f, verbs, lexicon)):
            continue
        return p, next(v for v in values if _value_verb(v, lexicon) != "remove" or verbs == ["remove"]), False
    return None


def _kill_signal(f: ToolFeatures, lexicon: Lexicon) -> tuple[str, str] | None:
    """A signal parameter that accepts KILL or TERM: the process it reaches loses its state."""
    if lexicon.sets["kill_signal_params"].isdisjoint(f.param_lower):
        return None
    for p in f.params:
        if p.name.lower() in lexicon.sets["kill_signal_params"]:
            hit = next((v for v in p.enum if v.lower() in lexicon.sets["kill_signals"]), None)
            if hit:
                return p.name, hit
    return None


def _enum_and_default_signal(
    f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict
) -> tuple[int, str] | None:
    choice = _destructive_choice(f, lexicon)
    if choice:
        p, value, is_default = choice
        where = f"nested '{p.path}'" if p.path else f"'{p.name}'"
        said = f"defaults to '{value}'" if is_default else f"accepts '{value}'"
        return STRONG, f"its {where} parameter {said}"
    signal = _kill_signal(f, lexicon)
    if signal:
        return STRONG, f"its '{signal[0]}' parameter accepts '{signal[1]}': the process loses its state"
    for p in f.params:
        tokens = set(_split_cached(p.name))
        if p.default == "true" and tokens & lexicon.sets["default_true_destructive_flags"]:
            return (
                MEDIUM,
                f"its '{p.name}' parameter defaults to true: it overwrites or clears unless told not to",
            )
    return None


def _explain_analyze(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> tuple[int, str] | None:
    """EXPLAIN ANALYZE of the caller's SQL executes the statement; plain EXPLAIN is read."""
    if "explain" not in f.tokens and "plan" not in f.tokens and f.description_verb != "explain":
        return None
    flag = next((p.name for p in f.params if p.name.lower() in lexicon.sets["explain_analyze_params"]), None)
    query = any(_is_sql_param(p.name) or p.name.lower() in _QUERY_PARAMS for p in f.params)
    said = _EXPLAIN_ANALYZE.search(f.description[:1500])
    if not query or not (flag or said):
        return None
    verdict.flags.add("exec")
    why = (
        f"its '{flag}' parameter"
        if flag
        else f"the description says '{said.group(0).lower() if said else ''}'"
    )
    return STRONG, f"EXPLAIN ANALYZE ({why}) executes the caller's statement"


def _query_language_that_writes(
    f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict
) -> tuple[int, str] | None:
    """A tool named like a query that takes a GraphQL document whose description allows mutations."""
    if _QUERY_PARAMS.isdisjoint(f.param_lower):
        return None
    if f.verb is not None and f.verb not in {"query", "test"} and f.verb not in lexicon.sets["exec_verbs"]:
        return None
    text = f.description[:1500]
    if not (_GRAPHQL.search(text) or "graphql" in f.tokens) or not _MUTATION.search(text):
        return None
    refused = phrase_hit(f.description_lower, _tuple(lexicon, "graphql_mutation_refusals"))
    if refused:
        return None
    verdict.flags.add("exec")
    return STRONG, "takes a GraphQL document and the description allows mutations: it can change any data"


def _terminate_signal(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> tuple[int, str] | None:
    """Stopping that loses state: a force/kill flag on a stop, a hard power-off, or a description that kills."""
    if verdict.category == "read":
        return None
    tokens = f.tokens
    stopping = f.verb in lexicon.sets["stopping_verbs"] or bool(set(tokens) & lexicon.sets["stopping_verbs"])
    if stopping:
        for p in f.params:
            flags = set(_split_cached(p.name)) & lexicon.sets["state_losing_flags"]
            forcing_only = flags <= {"force", "forced", "hard"}
            if p.type in ("", "boolean") and flags and not (forcing_only and f.verb in {"cancel", "abort"}):
                return (
                    STRONG,
                    f"its '{p.name}' parameter forces the stop: the process or machine loses its state",
                )
    joined = "_".join(tokens)
    if set(tokens) & lexicon.sets["power_off_tokens"] or "power_off" in joined:
        return MEDIUM, "a power-off cuts the machine off at once: unsaved state is lost"
    said = phrase_hit(f.description_lower[:600], _tuple(lexicon, "state_losing_phrases"))
    if said:
        return MEDIUM, f"the description says '{said}': what runs there loses its state"
    return None


def _caller_code_or_image(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> tuple[int, str] | None:
    """Deploying or running what the caller supplies: a container image, or code for a function or worker."""
    if verdict.category == "read" or f.verb in lexicon.sets["read_modifiers"]:
        return None
    verb = f.verb or ""
    objects = set(f.tokens[f.verb_index + 1 :]) | set(f.tokens[: max(f.verb_index, 0)])
    if verb in lexicon.sets["image_running_verbs"]:
        image = next(
            (p.name for p in f.params if set(_split_cached(p.name)) & lexicon.sets["image_param_tokens"]
             or p.name.lower() in lexicon.sets["image_param_tokens"]),
            None,
        )  # fmt: skip
        if image:
            verdict.flags.add("exec")
            return STRONG, f"verb '{verb}' with a caller-chosen '{image}': it runs whatever that image holds"
    if verb in lexicon.sets["code_installing_verbs"] and objects & lexicon.sets["code_holding_objects"]:
        code = next(
            (p.name for p in f.params if _split_cached(p.name) and _split_cached(p.name)[-1] in lexicon.sets["code_param_tokens"]
             and p.type in ("", "string", "array", "object")),
            None,
        )  # fmt: skip
        if code:
            verdict.flags.add("exec")
            thing = sorted(objects & lexicon.sets["code_holding_objects"])[0]
            return STRONG, f"verb '{verb}' puts caller code ('{code}') into a '{thing}' that then runs"
    if verb in {"deploy", "redeploy"} and not objects & lexicon.sets["template_objects"]:
        return MEDIUM, f"verb '{verb}' ships code or a configuration live: it can replace what runs now"
    return None


def _whole_object_put(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> tuple[int, str] | None:
    """put_object, write_file, put_role_policy, commit_file: the whole object at a caller-given key or path is
    replaced, unless the tool says it refuses to overwrite."""
    if verdict.category == "read" or f.verb not in lexicon.sets["whole_object_writing_verbs"]:
        return None
    following = f.tokens[f.verb_index + 1 :]
    whole = next((t for t in following if t in lexicon.sets["whole_objects"]), None)
    if whole is None or set(f.tokens) & lexicon.sets["safe_tokens"]:
        return None
    if phrase_hit(f.description_lower, _tuple(lexicon, "no_overwrite_phrases")):
        return None
    return (
        STRONG,
        f"verb '{f.verb}' on a whole '{whole}' at a caller-given key or path: it replaces what is there",
    )


def _soft_delete(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> tuple[int, str] | None:
    """Moving an item to the trash: a soft delete, which the rubric settles as destructive (the agent cannot know
    the trash will be kept)."""
    if verdict.category == "read":
        return None
    head = f.description_lower[:400]  # the pattern is lower-case and needs one of these words
    moved = ("trash" in head or "bin" in head or "deleted items" in head) and _TO_THE_TRASH.search(head)
    if moved:
        return STRONG, f"the description says '{moved.group(0)}': a soft delete, the trash may not be kept"
    return None


def _list_set_to_exactly(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> tuple[int, str] | None:
    """update_collection(groups=[...]): a whole list of members, scopes, rules or permissions is set to exactly
    the given one, so entries left out lose their access."""
    if verdict.category == "read" or f.verb not in lexicon.sets["list_setting_verbs"]:
        return None
    for p in f.params:
        if p.type in ("array", "") and "_".join(_split_cached(p.name)) in lexicon.sets["exact_list_params"]:
            return STRONG, f"sets its '{p.name}' list to exactly the given one: entries left out are removed"
    if f.tokens[-1] in lexicon.sets["exact_list_objects"]:  # set_group_members, update-ssh-keys
        return STRONG, f"verb '{f.verb}' on the whole '{f.tokens[-1]}' list: entries left out are removed"
    return None


def _replacement_signal(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> tuple[int, str] | None:
    """A write that replaces what is there: 'to exactly', 'replaces all', 'add or replace', upsert by caller key."""
    if verdict.category == "read" and (f.verb in _PLAIN_READ_VERBS or f.verb is None):
        return None
    if "upsert" in f.tokens:
        return STRONG, "an upsert by caller-given key overwrites any record already stored under it"
    said = phrase_hit(f.description_lower, _tuple(lexicon, "replacement_phrases"))
    if said is None:
        head = f.description_lower[:1500]  # the pattern is lower-case and needs one of these fragments
        match = (
            ("replac" in head or "overwrit" in head or "to exactly" in head) and _REPLACES_ALL.search(head)
        )
        said = match.group(0) if match else None
    if said:
        strength = STRONG if "to exactly" in said else MEDIUM  # the rubric's own words for a whole list set
        return strength, f"the description says '{said}': it replaces what is stored, the old version is lost"
    return None


def _wipe_signal(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> tuple[int, str] | None:
    """A tool whose description says it wipes or clears stored state."""
    if verdict.category == "read" and verdict.strength == STRONG:
        return None
    first_sentence = f.description_lower[:300].split(". ")[0]
    said = phrase_hit(first_sentence, _tuple(lexicon, "wipe_phrases"))
    if said:
        return MEDIUM, f"the description says '{said}': the data it clears is gone"
    return None


def _bulk_field_update(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> tuple[int, str] | None:
    """batch_update_orders, env_var_bulk_set: the data fields of many records rewritten in one call, the rubric's
    bulk update. Bulk changes of labels, flags, read state or folders stay writes."""
    if verdict.category == "read" or f.verb not in lexicon.sets["bulk_field_update_verbs"]:
        return None
    tokens = set(f.tokens)
    bulk = tokens & lexicon.sets["bulk_name_tokens"]
    if not bulk or tokens & lexicon.sets["bulk_flag_objects"]:
        return None
    verdict.flags.add("bulk")
    return STRONG, f"'{sorted(bulk)[0]}' with verb '{f.verb}': the fields of many records are rewritten at once"


def _money_cancel(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> tuple[int, str] | None:
    """Cancelling a subscription, an order, a trade or a card authorization: the rubric settles it as money."""
    if f.verb not in lexicon.sets["cancel_verbs"]:
        return None
    money = next((t for t in f.tokens if t in lexicon.sets["cancel_money_objects"]), None)
    if money is None:
        return None
    verdict.flags.add("money")
    return STRONG, f"verb '{f.verb}' on '{money}': cancelling it moves or forfeits money"


_BILLING_WORDS = re.compile(r"\b(bill\w*|charg\w*|price|plan|tier|prorat\w*|invoic\w*|seats?|paid)\b")


def _paid_subscription_change(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> tuple[int, str] | None:
    """Starting, resuming or changing a paid subscription (items, tier, proration) bills the customer: money.
    Webhook and notification subscriptions are not paid ones."""
    tokens = set(f.tokens)
    if f.verb not in lexicon.sets["subscription_changing_verbs"] or not {"subscription", "subscriptions"} & tokens:
        return None
    if tokens & lexicon.sets["non_billing_subscription_tokens"]:
        return None
    billed = _BILLING_WORDS.search(f.description_lower[:600])
    if billed is None:
        return None
    verdict.flags.add("money")
    return STRONG, f"verb '{f.verb}' on a subscription that the description ties to '{billed.group(0)}': money"


def _formats_a_device(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> tuple[int, str] | None:
    """create_zfs_pool(devices=...), initialize_gpt(disk=...): a pool, volume group or partition table built on a
    block device erases what the device held."""
    if f.verb not in lexicon.sets["device_formatting_verbs"]:
        return None
    if not set(f.tokens) & lexicon.sets["device_storage_tokens"]:
        return None
    device = next((p.name for p in f.params if p.name.lower() in lexicon.sets["device_params"]), None)
    if device is None:
        return None
    return STRONG, f"verb '{f.verb}' on the block device in '{device}': what the device held is erased"


_MISSING_SIGNALS = (
    _enum_and_default_signal,
    _explain_analyze,
    _query_language_that_writes,
    _caller_code_or_image,
    _terminate_signal,
    _whole_object_put,
    _soft_delete,
    _list_set_to_exactly,
    _replacement_signal,
    _wipe_signal,
    _bulk_field_update,
    _money_cancel,
    _paid_subscription_change,
    _formats_a_device,
)


def _issue11_signals(f: ToolFeatures, lexicon: Lexicon, verdict: RuleVerdict) -> None:
    """The first of the signals above that fires makes a non-destructive verdict destructive, with its reason."""
    if verdict.category == "destructive":
        return
    for signal in _MISSING_SIGNALS:
        found = signal(f, lexicon, verdict)
        if found:
            strength, reason = found
            verdict.decide("destructive", strength, reason)
            return


def apply_rules(f: ToolFeatures, lexicon: Lexicon) -> RuleVerdict:
    """Run the rules in order of decisiveness: execution, action enums, the name's verb, the description."""
    verdict = RuleVerdict()
    _risk_flags(f, lexicon, verdict)
    for rule in (_exec_rule, _action_enum_rule, _trading_rule, _name_verb_rule, _description_rule):
        if rule(f, lexicon, verdict) is not None:
            break
    _flag_param_rule(f, lexicon, verdict)
    _schema_rule(f, lexicon, verdict)
    _issue11_signals(f, lexicon, verdict)
    for flag in sorted(verdict.flags):
        if flag.startswith("danger_param:") and verdict.category != "read":
            name = flag.split(":", 1)[1]
            verdict.reasons.append(f"takes a '{name}' parameter")
            if verdict.category == "write" and verdict.strength < STRONG:
                verdict.decide(
                    "destructive", MEDIUM, f"takes a '{name}' parameter, a sign of a dangerous action"
                )
    return verdict
