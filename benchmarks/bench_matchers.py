"""Would a multi-pattern engine pay for the rules' regular expressions and phrase lists? (issue 12)

    pip install hyperscan    # not a dependency: only this measurement uses it
    python benchmarks/bench_matchers.py --count 20000

Labels the benchmark's distinct tools once while recording every call the rules make to a module-level
regular expression of classifier/rules.py and to phrase_hit, then times on the same texts, in one run (CPU,
best of 3):
(a) the regex calls as the rules make them (Python re);
(b) one hyperscan scan per tool of description[:1500] with all those expressions in one database, plus the
    Python calls that are still needed because they match (the rules need the matched text): a lower bound
    for what a hyperscan pre-filter would cost. Hyperscan cannot compile \\b with Unicode (UCP) semantics,
    so such a pre-filter is exact only for ASCII text and for slices that do not cut a word;
(c) the phrase lookups: phrase_hit (pyahocorasick, as shipped) against the bare hyperscan scans of the same
    phrase lists (without phrase_hit's choice among the matches, which would come on top).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_classify import write_tools  # noqa: E402

from classifier import rules  # noqa: E402
from classifier.features import build_features, load_lexicon  # noqa: E402


class Recorder:
    """Stands in for one compiled pattern: records (name, text) of each search and answers like it."""

    def __init__(self, name: str, pattern: re.Pattern[str], calls: list[tuple[str, str]]) -> None:
        self.name, self.pattern, self.calls = name, pattern, calls

    def search(self, text: str, *args: Any) -> re.Match[str] | None:
        self.calls.append((self.name, text))
        return self.pattern.search(text, *args)


def collect(pattern_id: int, start: int, end: int, flags: int, found: list[tuple[int, int, int]]) -> None:
    found.append((pattern_id, start, end))


def best_of(function: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        function()
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args()
    try:
        import hyperscan
    except ImportError:
        raise SystemExit("this measurement needs hyperscan: pip install hyperscan") from None
    import json

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "tools.jsonl"
        write_tools(path, args.count)
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    lexicon = load_lexicon()
    features = build_features(rows, lexicon)

    patterns = {name: value for name, value in vars(rules).items() if isinstance(value, re.Pattern)}
    calls: list[tuple[str, str]] = []
    phrase_calls: list[tuple[str, tuple[str, ...]]] = []
    phrase_hit = rules.phrase_hit

    def recording_phrase_hit(text: str, phrases: tuple[str, ...]) -> str | None:
        phrase_calls.append((text, phrases))
        return phrase_hit(text, phrases)

    for name, pattern in patterns.items():
        setattr(rules, name, Recorder(name, pattern, calls))
    rules.phrase_hit = recording_phrase_hit  # type: ignore[assignment]
    try:
        for feature in features:
            rules.apply_rules(feature, lexicon)
    finally:
        for name, pattern in patterns.items():
            setattr(rules, name, pattern)
        rules.phrase_hit = phrase_hit
    print(f"{len(features):,} tools: {len(calls):,} regex calls, {len(phrase_calls):,} phrase lookups")

    python_re = best_of(lambda: [patterns[name].search(text) for name, text in calls])
    names = list(patterns)
    database = hyperscan.Database()
    database.compile(
        expressions=[patterns[name].pattern.encode() for name in names],
        ids=list(range(len(names))),
        flags=[
            hyperscan.HS_FLAG_SINGLEMATCH | (hyperscan.HS_FLAG_CASELESS if patterns[name].flags & re.I else 0)
            for name in names
        ],
    )
    texts = [feature.description[:1500].encode() for feature in features]

    def scan_all() -> None:
        for text in texts:
            database.scan(text, match_event_handler=collect, context=[])

    scans = best_of(scan_all)
    matching = [(name, text) for name, text in calls if patterns[name].search(text)]
    confirm = best_of(lambda: [patterns[name].search(text) for name, text in matching])
    per_tool = 1e6 / len(features)
    print(
        f"(a) Python re, as the rules call it: {python_re * 1e3:7.1f} ms  {python_re * per_tool:5.1f} us/tool"
    )
    print(
        f"(b) hyperscan, one scan per tool:     {scans * 1e3:7.1f} ms  {scans * per_tool:5.1f} us/tool"
        f"  + {len(matching):,} matching calls still made in Python: {confirm * 1e3:.1f} ms"
    )

    phrase_databases = {}
    for _, phrases in phrase_calls:
        if phrases not in phrase_databases:
            phrase_database = hyperscan.Database()
            phrase_database.compile(
                expressions=[phrase.encode() for phrase in phrases],
                ids=list(range(len(phrases))),
                flags=[hyperscan.HS_FLAG_SOM_LEFTMOST] * len(phrases),
            )
            phrase_databases[phrases] = phrase_database

    def scan_phrases() -> None:
        for text, phrases in phrase_calls:
            phrase_databases[phrases].scan(text.encode(), match_event_handler=collect, context=[])

    aho = best_of(lambda: [phrase_hit(text, phrases) for text, phrases in phrase_calls])
    hyper = best_of(scan_phrases)
    print(
        f"(c) phrase lists: phrase_hit (pyahocorasick) {aho * 1e3:.1f} ms, bare hyperscan scans {hyper * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
