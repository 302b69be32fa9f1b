"""One way an SDK registers tools, as an entry of its language's table (`IDIOMS` in
`python/idioms.py`, `typescript/idioms.py`, `go/idioms.py`).

The reader of each language offers every candidate node to the entries of its table in order;
the first entry whose `read` recognises the form reads the tools it registers. Adding a form is
adding one entry: a `read` function, an example source file and the tool names that example
registers (tests/test_extract_idioms.py reads every example and checks those names).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Idiom:
    """A registration form: how to read it (`read`, whose docstring names the form), and an
    example with the tools it must give."""

    read: Callable[..., bool]  # (reader, node, ...) -> True when the node has this form (then read)
    example: str  # a whole source file using the form
    tools: tuple[str, ...]  # the tool names reading `example` gives, in order
    kind: str = "call"  # which nodes the entry is offered: "call", "decorator" (Python), "literal" (Go)
    triggers: tuple[str, ...] = ()  # callee names the form uses, where the reader filters on them

    @property
    def name(self) -> str:
        """The form, as the first sentence of `read`'s docstring says it ("The form: ...")."""
        doc = (self.read.__doc__ or self.read.__name__).strip()
        return doc.split(". ")[0].splitlines()[0].removeprefix("The form: ").rstrip(".")

    def __post_init__(self) -> None:
        if not self.example.strip() or not self.tools:
            raise ValueError(f"idiom {self.name!r} needs an example and the tools it registers")


def offer(idioms: tuple[Idiom, ...], kind: str, *node: Any) -> bool:
    """Offer a node to the entries of this kind in order; True when one of them read it."""
    return any(idiom.read(*node) for idiom in idioms if idiom.kind == kind)
