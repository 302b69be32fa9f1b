"""Every SDK idiom each extractor knows is one table entry with an example: reading the example
gives exactly the tools the entry names."""

from __future__ import annotations

import pytest

from catalog.extract import SourceFile, go, python, typescript
from catalog.extract.go import idioms as go_idioms
from catalog.extract.idiom import Idiom
from catalog.extract.python import idioms as python_idioms
from catalog.extract.typescript import idioms as typescript_idioms

LANGUAGES = {
    "python": (python_idioms.IDIOMS, python.extract, "server.py"),
    "typescript": (typescript_idioms.IDIOMS, typescript.extract, "src/server.ts"),
    "go": (go_idioms.IDIOMS, go.extract, "main.go"),
}
ENTRIES = [(language, idiom) for language, (table, _, _) in LANGUAGES.items() for idiom in table]


@pytest.mark.parametrize(("language", "idiom"), ENTRIES, ids=[f"{lang}: {i.name}" for lang, i in ENTRIES])
def test_each_idiom_example_gives_its_tools(language: str, idiom: Idiom):
    _, extract, path = LANGUAGES[language]
    found = extract([SourceFile(path, idiom.example)])
    assert [tool.name for tool in found.tools] == list(idiom.tools)
    assert not found.budget_hits


@pytest.mark.parametrize("language", LANGUAGES)
def test_entries_are_distinct_forms(language: str):
    table = LANGUAGES[language][0]
    assert len({idiom.name for idiom in table}) == len({idiom.read for idiom in table}) == len(table)


def test_an_idiom_without_an_example_is_refused():
    with pytest.raises(ValueError, match="needs an example"):
        Idiom(lambda *node: False, "", ())
