"""Helpers over tree-sitter syntax trees shared by the TypeScript and Go extractors."""

from __future__ import annotations

from typing import Any

from catalog.extract.budget import charge


def ancestors(root: Any, node: Any) -> list[Any]:
    """The nodes enclosing `node`, nearest first, up to and including `root`.

    tree-sitter finds a node's parent by descending from the root, so walking `.parent` upwards
    costs the square of the depth; descending once towards the node costs the depth. A node that
    is not under `root` falls back to the `.parent` walk."""
    chain: list[Any] = []
    current = root
    while current is not None and current.id != node.id:
        charge()
        chain.append(current)
        current = current.child_with_descendant(node)
    if current is None:
        chain = []
        current = node.parent
        while current is not None:
            charge()
            chain.append(current)
            current = current.parent
        return chain
    chain.reverse()
    return chain


def enclosing(root: Any, node: Any, types: tuple[str, ...] | set[str]) -> Any | None:
    """The nearest node of one of these types enclosing `node`, or None."""
    return next((scope for scope in ancestors(root, node) if scope.type in types), None)
