"""Static values of TS/JS expressions: names resolved across scopes and files, strings folded from
literals, templates and helpers, object fields, and lists known statically."""

from __future__ import annotations

import posixpath
import re
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from catalog.extract import Extraction
from catalog.extract.budget import charge
from catalog.extract.syntax import TreeReader, ancestors
from catalog.extract.typescript.project import (
    CLASS_NODES,
    FUNCTION_NODES,
    SCOPE_NODES,
    Located,
    Member,
    Module,
    Project,
    assignments_in,
    base_class_name,
    constructor_of,
    contains,
    declaration_of,
    decode_escape,
    descendants,
    parameter_names,
    return_values,
    scope_declarations,
    single_return,
    string_literal_text,
    unwrap,
)
from catalog.extract.values import (
    MAX_DEPTH,
    WIRE_ANNOTATION_KEYS,
    Folded,
    Unresolved,
    joined,
    whole,
)

if TYPE_CHECKING:
    from catalog.extract.typescript.idioms import Reader


class ValueReader(TreeReader):
    """Resolves the values a registration names: identifiers through scopes, imports, exports,
    `this` members and call sites; strings, literals, object fields and static lists."""

    project: Project
    result: Extraction
    bindings: dict[str, tuple[Reader, Any]]
    placeholder_opening = "${"

    def __init__(
        self,
        project: Project,
        module: Module,
        result: Extraction,
        bindings: dict[str, tuple[Reader, Any]] | None = None,
        call_site: str = "",
        this_class: tuple[Module, Any] | None = None,
    ):
        super().__init__(project, module, result, bindings, call_site)
        # The concrete class `this` stands for when a base class's method registers `this.name`.
        self.this_class = this_class

    @property
    def module(self) -> Module:
        return cast(Module, self.file)

    def bound(self, bindings: dict[str, tuple[Reader, Any]], call_site: str) -> Reader:
        """This reader with more names bound, for the tools one call site or element makes."""
        return self.make(self.module, {**self.bindings, **bindings}, call_site, self.this_class)

    def at(self, module: Module) -> Reader:
        return cast("Reader", self) if module is self.module else self.make(module)

    def make(
        self,
        module: Module,
        bindings: dict[str, tuple[Reader, Any]] | None = None,
        call_site: str = "",
        this_class: tuple[Module, Any] | None = None,
    ) -> Reader:
        """A reader of `module` in this project, with these bindings, call site and `this` class."""
        return type(self)(self.project, module, self.result, bindings, call_site, this_class)  # type: ignore[return-value]

    def _this_member(self, member: str, depth: int = 0) -> tuple[Module, Any] | None:
        """`this.member` for the concrete class: a field, a getter returning one value, or
        `this.member = value` in a constructor (its parameters bound to what subclasses pass to super)."""
        if self.this_class is None:
            return None
        chain = self._class_chain(self.this_class)
        for index, (module, cls) in enumerate(chain):
            body = cls.child_by_field_name("body")
            for item in body.named_children if body is not None else []:
                key = item.child_by_field_name("name")
                if key is None or module.text(key) != member:
                    continue
                if item.type == "public_field_definition" and item.child_by_field_name("value") is not None:
                    if "static" in [c.type for c in item.children]:
                        continue
                    return self._as_this(module).resolve(item.child_by_field_name("value"), depth + 1)
                if item.type == "method_definition" and module.text(item).startswith("get"):
                    returned = single_return(item)
                    return (
                        self._as_this(module).resolve(returned, depth + 1) if returned is not None else None
                    )
            assigned = self._constructor_assignment(chain, index, member, depth)
            if assigned is not None:
                return assigned
        return None

    def _as_this(self, module: Module, bindings: dict[str, tuple[Reader, Any]] | None = None) -> Reader:
        return self.make(module, bindings, self.call_site, self.this_class)

    def _class_chain(self, start: tuple[Module, Any]) -> list[tuple[Module, Any]]:
        chain = [start]
        while len(chain) < 10:
            module, cls = chain[-1]
            base = base_class_name(module, cls)
            candidates = self.project.classes.get(base, []) if base else []
            if not candidates:
                break
            # Packages often ship the same classes twice (dist/esm, dist/cjs): take the nearest.
            nearest = max(candidates, key=lambda c: len(posixpath.commonprefix([c[0].path, module.path])))
            if nearest in chain:
                break
            chain.append(nearest)
        return chain

    def _constructor_assignment(
        self, chain: list[tuple[Module, Any]], index: int, member: str, depth: int
    ) -> tuple[Module, Any] | None:
        module, cls = chain[index]
        constructor = constructor_of(module, cls)
        if constructor is None:
            return None
        for assignment in descendants(constructor, "assignment_expression"):
            left = assignment.child_by_field_name("left")
            if left is None or module.text(left) != f"this.{member}":
                continue
            bindings = self._super_arguments(chain, index)
            return self._as_this(module, bindings).resolve(assignment.child_by_field_name("right"), depth + 1)
        return None

    def _super_arguments(self, chain: list[tuple[Module, Any]], index: int) -> dict[str, tuple[Reader, Any]]:
        """The constructor parameters of chain[index] bound to the `super(...)` call of chain[index - 1]."""
        if index == 0:
            return {}
        module, cls = chain[index]
        child_module, child = chain[index - 1]
        constructor = constructor_of(module, cls)
        child_constructor = constructor_of(child_module, child)
        if constructor is None or child_constructor is None:
            return {}
        for call in descendants(child_constructor, "call_expression"):
            function = call.child_by_field_name("function")
            if function is not None and function.type == "super":
                caller = self._as_this(child_module, self._super_arguments(chain, index - 1))
                arguments = [
                    a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"
                ]
                names = parameter_names(module, constructor)
                return {n: (caller, a) for n, a in zip(names, arguments, strict=False) if n}
        return {}

    def elements(self, node: Any, depth: int = 0) -> list[tuple[Reader, Any]] | None:
        """The items of a list known statically: array literals (with spreads), `Object.values(ns)`,
        `.map(x => ...)`, `.filter/.slice/.sort/.concat`, ternaries and functions returning such lists."""
        charge()
        if isinstance(node, Located):
            return self.at(node.module).elements(node.node, depth)
        bare = unwrap(node)
        if bare is None or depth > 12:
            return None
        if bare.type == "ternary_expression":
            branches = [
                self.elements(bare.child_by_field_name(f), depth + 1) for f in ("consequence", "alternative")
            ]
            return (
                _merge_elements([b for b in branches if b is not None])
                if any(b is not None for b in branches)
                else None
            )
        if bare.type == "call_expression":
            return self._call_elements(bare, depth)
        target = self.resolve(bare)
        if target is None:
            return None
        reader = self.at(target[0])
        value = target[1]
        if value.type == "array":
            found: list[tuple[Reader, Any]] = []
            for child in value.named_children:
                if child.type == "spread_element":
                    inner = (
                        reader.elements(child.named_children[0], depth + 1) if child.named_children else None
                    )
                    if inner is None:
                        return None
                    found.extend(inner)
                elif child.type != "comment":
                    found.append((reader, child))
            return found
        if value.id != bare.id and value.type in ("call_expression", "ternary_expression"):
            return reader.elements(value, depth + 1)
        return None

    def _call_elements(self, call: Any, depth: int) -> list[tuple[Reader, Any]] | None:
        function = unwrap(call.child_by_field_name("function"))
        arguments = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
        if function is not None and function.type == "member_expression":
            owner = function.child_by_field_name("object")
            method = self.module.text(function.child_by_field_name("property"))
            if self.module.text(owner) == "Array" and method == "from" and len(arguments) == 1:
                return self.elements(arguments[0], depth + 1)
            if method == "values" and not arguments:
                return self._map_values(owner)
            if self.module.text(owner) == "Object" and method == "values" and arguments:
                return self._object_values(arguments[0])
            if method in ("map", "flatMap") and arguments and unwrap(arguments[0]).type in FUNCTION_NODES:
                listed = self.elements(owner, depth + 1)
                return None if listed is None else self._mapped(listed, unwrap(arguments[0]))
            if method in ("filter", "slice", "sort", "toSorted", "reverse", "concat"):
                parts = [self.elements(owner, depth + 1)]
                if method == "concat":
                    parts += [self.elements(a, depth + 1) for a in arguments]
                return None if any(p is None for p in parts) else _merge_elements(parts)
        target = self.resolve(function) if function is not None else None
        if target is None or target[1].type not in FUNCTION_NODES:
            return None
        return self.at(target[0])._returned_elements(target[1], depth)

    def _returned_elements(self, function: Any, depth: int) -> list[tuple[Reader, Any]] | None:
        """Lists a function returns (a cached `let` returned after `x = [...]` counts too)."""
        returned = return_values(function)
        parts = []
        for value in returned:
            bare = unwrap(value)
            assigned = (
                assignments_in(self.module, function, self.module.text(bare))
                if bare.type == "identifier"
                else []
            )
            for expression in assigned or [value]:
                listed = self.elements(expression, depth + 1)
                if listed is not None:
                    parts.append(listed)
        return _merge_elements(parts) if parts else None

    def _map_values(self, node: Any) -> list[tuple[Reader, Any]] | None:
        """The values a module-level `new Map()` receives through `M.set(key, value)` calls in its
        module; a value that is a helper's parameter is read once per call of the helper."""
        target = self.resolve(node)
        if target is None or target[1].type != "new_expression":
            return None
        module = target[0]
        if module.text(target[1].child_by_field_name("constructor")) != "Map":
            return None
        reader = self.at(module)
        found: list[tuple[Reader, Any]] = []
        for call in module.nodes("call_expression"):
            function = unwrap(call.child_by_field_name("function"))
            if function is None or module.text(function) != f"{module.text(unwrap(node))}.set":
                continue
            arguments = [
                a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"
            ]
            if len(arguments) == 2:
                binder = reader._binder(call, arguments[1])
                found.extend((bound, arguments[1]) for bound in (binder if binder is not None else [reader]))
        return found

    def _field_of(self, owner: Any, key: str, depth: int) -> tuple[Module, Any] | None:
        target = self.resolve(owner, depth + 1)
        if target is None or target[1].type != "object":
            return None
        reader = self.at(target[0])
        fields = reader.object_fields(target[1], "", [])
        return reader.resolve(fields[key], depth + 1) if key in fields else None

    def _produced(self, call: Any, depth: int) -> tuple[Module, Any] | None:
        """A call to a project function that returns an object or array literal (a factory such as
        `navigate(true)`), or returns one of its parameters unchanged (`defineTool({...})`)."""
        function = call.child_by_field_name("function")
        if function is None or unwrap(function).type not in ("identifier", "member_expression"):
            return None
        target = self.resolve(function, depth + 1)
        if target is None or target[1].type not in FUNCTION_NODES:
            return None
        returned = unwrap(single_return(target[1]))
        if returned is None:
            return None
        if returned.type in ("object", "array"):
            return target[0], returned
        parameters = parameter_names(target[0], target[1])
        if returned.type == "identifier" and target[0].text(returned) in parameters:
            arguments = [
                a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"
            ]
            index = parameters.index(target[0].text(returned))
            return self.resolve(arguments[index], depth + 1) if index < len(arguments) else None
        return None

    def _instance_member(self, new: Any, member: str, depth: int) -> tuple[Module, Any] | None:
        """`new SomeTool(...).member`: the member as that class (and its bases) sets it."""
        target = self.resolve(new.child_by_field_name("constructor"))
        if target is None or target[1].type not in CLASS_NODES:
            return None
        return self.make(target[0], this_class=target)._this_member(member, depth)

    def _object_values(self, node: Any) -> list[tuple[Reader, Any]] | None:
        bare = unwrap(node)
        if bare is not None and bare.type == "identifier" and self.module.text(bare) in self.module.imports:
            spec, imported = self.module.imports[self.module.text(bare)]
            module = self.project.modules.get(spec)
            if imported == "*" and module is not None:
                return [(self.at(module), value) for value in module.exports.values()]
        target = self.resolve(node)
        if target is None or target[1].type != "object":
            return None
        reader = self.at(target[0])
        return [
            (reader.at(v.module), v.node) if isinstance(v, Located) else (reader, v)
            for v in reader.object_fields(target[1], "", []).values()
        ]

    def _mapped(self, listed: list[tuple[Reader, Any]], function: Any) -> list[tuple[Reader, Any]]:
        parameters = parameter_names(self.module, function)
        body = single_return(function)
        if not parameters or body is None:
            return []
        mapped = []
        for reader, node in listed:
            bound = self.bound({parameters[0]: (reader, node)}, reader.origin(node))
            target = bound.resolve(body)
            if target is not None:
                mapped.append((bound.at(target[0]), target[1]))
        return mapped

    def resolve(self, node: Any, depth: int = 0) -> tuple[Module, Any] | None:
        """Follow identifiers and member accesses to the expression they name (in whichever module)."""
        charge()
        if isinstance(node, Located):
            return self.at(node.module).resolve(node.node, depth)
        if isinstance(node, Member):
            return self._field_of(node.node, node.key, depth)
        node = unwrap(node)
        if node is None or depth > MAX_DEPTH:
            return None
        if node.type == "call_expression":
            produced = self._produced(node, depth)
            if produced is not None:
                return produced
        if node.type in ("identifier", "shorthand_property_identifier"):
            return self._resolve_identifier(node, depth)
        if node.type == "member_expression":
            owner = unwrap(node.child_by_field_name("object"))
            prop = self.module.text(node.child_by_field_name("property"))
            if owner is not None and owner.type == "this" and self.this_class is not None:
                return self._this_member(prop, depth + 1)
            if owner is not None and self.module.text(owner) in ("exports", "module.exports"):
                value = self.module.exports.get(prop)
                return self.resolve(value, depth + 1) if value is not None else None
            if (
                owner is not None
                and owner.type == "identifier"
                and self.module.text(owner) in self.module.imports
            ):
                spec, imported = self.module.imports[self.module.text(owner)]
                if imported == "*":
                    return self._resolve_export(spec, prop, depth)
            target = self.resolve(owner, depth + 1)
            if target is not None and prop == "value" and target[1].type == "call_expression":
                chain = self.at(target[0])._call_chain(target[1])
                if len(chain) == 1 and chain[0][0] == "literal" and chain[0][1]:  # z.literal(x).value
                    return self.at(target[0]).resolve(chain[0][1][0], depth + 1)
            if target is not None and target[1].type == "new_expression":
                return self.at(target[0])._instance_member(target[1], prop, depth + 1)
            if target is not None and prop == "shape" and target[1].type == "call_expression":
                shape = self.at(target[0])._object_shape_argument(target[1])
                if shape is not None:
                    return self.at(target[0]).resolve(shape, depth + 1)
            if target is not None and target[1].type == "object":
                reader = self.at(target[0])
                fields = reader.object_fields(target[1], "", [])
                if prop in fields:
                    return reader.resolve(fields[prop], depth + 1)
            return None
        return self.module, node

    def _resolve_identifier(self, node: Any, depth: int) -> tuple[Module, Any] | None:
        name = self.module.text(node)
        if name in self.bindings:
            reader, value = self.bindings[name]
            return reader.resolve(value, depth + 1)
        for scope in ancestors(self.module.root, node):
            if scope.type in SCOPE_NODES:
                value = scope_declarations(self.module, scope).get(name)
                if value is not None and value.id != node.id and not contains(value, node):
                    return self.resolve(value, depth + 1)
        if name in self.module.imports:
            spec, imported = self.module.imports[name]
            return self._resolve_export(spec, imported, depth)
        unique = self.project.unique_top_level(name)
        if unique is not None and unique[0] is not self.module:
            return self.at(unique[0]).resolve(unique[1], depth + 1)
        return None

    def _resolve_export(self, spec: str, name: str, depth: int) -> tuple[Module, Any] | None:
        module = self.project.modules.get(spec)
        if module is None:
            unique = self.project.unique_top_level(name)
            return self.at(unique[0]).resolve(unique[1], depth + 1) if unique else None
        value = module.exports.get(name)
        if value is None:
            value = scope_declarations(module, module.root).get(name)
        return self.at(module).resolve(value, depth + 1) if value is not None else None

    def _looks_like_string(self, node: Any) -> bool:
        target = self.resolve(node)
        if target is None:
            return unwrap(node) is not None and unwrap(node).type in ("identifier", "member_expression")
        return target[1].type in ("string", "template_string", "binary_expression", "call_expression")

    def string(self, node: Any, depth: int = 0) -> tuple[str, list[str]]:
        """Resolve a string expression; returns the text and any `${...}` placeholders left in it."""
        charge()
        if depth > MAX_DEPTH:
            raise Unresolved("too deeply nested")
        target = self.resolve(node)
        if target is None:
            raise Unresolved(f"built at run time ({self._short(node)})")
        if target[0] is not self.module:
            return self.at(target[0]).string(target[1], depth + 1)
        node = target[1]
        if node.type == "string":
            return string_literal_text(self.module, node), []
        if node.type == "template_string":
            return self._template(node, depth)
        if node.type == "binary_expression" and self.module.text(node.child_by_field_name("operator")) == "+":
            left = self._string_part(node.child_by_field_name("left"), depth)
            right = self._string_part(node.child_by_field_name("right"), depth)
            return joined([left, right])
        if node.type == "call_expression":
            return self._call_string(node, depth)
        if node.type == "number":
            return self.module.text(node), []
        raise Unresolved(f"built at run time ({self._short(node)})")

    def _template(self, node: Any, depth: int) -> tuple[str, list[str]]:
        parts: list[Folded] = []
        for child in node.named_children:
            if child.type == "string_fragment":
                parts.append((self.module.text(child), []))
            elif child.type == "escape_sequence":
                parts.append((decode_escape(self.module.text(child)), []))
            elif child.type == "template_substitution" and child.named_children:
                parts.append(self._string_part(child.named_children[0], depth))
        return joined(parts)

    def _call_string(self, node: Any, depth: int) -> tuple[str, list[str]]:
        function = unwrap(node.child_by_field_name("function"))
        arguments = node.child_by_field_name("arguments")
        if arguments is not None and arguments.type == "template_string":  # dedent`...`
            text, holes = self._template(arguments, depth)
            return (
                textwrap.dedent(text).strip() if self.module.text(function).endswith("dedent") else text
            ), holes
        if function is not None and function.type == "member_expression":
            method = self.module.text(function.child_by_field_name("property"))
            owner = function.child_by_field_name("object")
            args = arguments.named_children if arguments is not None else []
            if method in ("trim", "trimStart", "trimEnd") and not args:
                text, holes = self.string(owner, depth + 1)
                return {"trim": text.strip(), "trimStart": text.lstrip(), "trimEnd": text.rstrip()}[
                    method
                ], holes
            if method == "join":
                separator = self.string(args[0], depth + 1) if args else (",", [])
                target = self.resolve(owner)
                if target is not None and target[1].type == "array":
                    reader = self.at(target[0])
                    parts = [reader._string_part(item, depth) for item in target[1].named_children]
                    return separator[0].join(p for p, _ in parts), separator[1] + [
                        h for _, hs in parts for h in hs
                    ]
        applied = self._applied(node, depth)
        if applied is not None:
            return applied
        raise Unresolved(f"built at run time (call to {self._short(function) if function else '?'})")

    def _applied(self, call: Any, depth: int) -> tuple[str, list[str]] | None:
        """A call to a project function whose whole body is `return <string expression>`, with its
        parameters bound to the call's arguments (`withSuffix(tool.description)`)."""
        function = call.child_by_field_name("function")
        target = self.resolve(function) if function is not None else None
        if target is None or target[1].type not in FUNCTION_NODES:
            return None
        returned = single_return(target[1])
        if returned is None:
            return None
        arguments = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
        parameters = parameter_names(target[0], target[1])
        bindings = {p: (cast("Reader", self), a) for p, a in zip(parameters, arguments, strict=False)}
        callee = self.make(target[0], bindings, self.call_site)
        return callee.string(returned, depth + 1)

    def _text_or_empty(self, node: Any, label: str, unresolved: list[str]) -> str:
        return "" if self._is_absent_member(node) else self._text(node, label, unresolved)

    def object_fields(self, node: Any, label: str, unresolved: list[str]) -> dict[str, Any]:
        """The properties of an object literal (after following names), as key -> value node."""
        fields = self._located_fields(node, label, unresolved)
        return {k: v.node if v.module is self.module else v for k, v in fields.items()}

    def _located_fields(
        self, node: Any, label: str, unresolved: list[str], depth: int = 0
    ) -> dict[str, Located]:
        charge()
        target = self.resolve(node)
        if target is not None and target[1].type == "call_expression" and depth < MAX_DEPTH:
            merged = self.at(target[0])._merged_fields(target[1], label, unresolved, depth)
            if merged is not None:
                return merged
        if target is None or target[1].type != "object":
            if label:
                unresolved.append(f"{label}: built at run time")
            return {}
        if target[0] is not self.module:
            return self.at(target[0])._located_fields(target[1], label, unresolved, depth + 1)
        fields: dict[str, Located] = {}
        for member in target[1].named_children:
            if member.type == "pair":
                key = member.child_by_field_name("key")
                key_text = (
                    string_literal_text(self.module, key) if key.type == "string" else self.module.text(key)
                )
                fields[key_text] = Located(node=member.child_by_field_name("value"), module=self.module)
            elif member.type == "shorthand_property_identifier":
                fields[self.module.text(member)] = Located(node=member, module=self.module)
            elif member.type == "spread_element" and member.named_children:
                fields.update(self._located_fields(member.named_children[0], label, unresolved, depth + 1))
        return fields

    def _merged_fields(
        self, call: Any, label: str, unresolved: list[str], depth: int
    ) -> dict[str, Located] | None:
        """`Object.assign({}, a, b)` and the compiled spreads `__spreadValues(a, b)`, `__assign(...)`."""
        if call.type != "call_expression":
            return None
        function = self.module.text(call.child_by_field_name("function"))
        if not re.fullmatch(
            r"(\(0,\s*)?[\w$.]*(Object\.assign|__spreadValues|__spreadProps|__assign|_objectSpread2?|__getOwnPropDescs)\)?",
            function,
        ):
            return None
        fields: dict[str, Located] = {}
        for argument in call.child_by_field_name("arguments").named_children:
            if argument.type != "comment":
                fields.update(self._located_fields(argument, label, unresolved, depth + 1))
        return fields

    def _is_absent_member(self, node: Any) -> bool:
        """`x.annotations` (directly or through a `const`) where `x` is an object literal without it."""
        target = self.resolve(node)
        if target is not None:
            return False
        bare = unwrap(node.node if isinstance(node, Located) else node)
        reader = self.at(node.module) if isinstance(node, Located) else self
        if bare is not None and bare.type in ("identifier", "shorthand_property_identifier"):
            declared = declaration_of(reader.module, bare)
            return declared is not None and reader._is_absent_member(declared)
        if bare is None or bare.type != "member_expression":
            return False
        owner = reader.resolve(bare.child_by_field_name("object"))
        if owner is None or owner[1].type != "object":
            return False
        members = owner[1].named_children
        return all(m.type != "spread_element" for m in members) and reader.text_key(bare) not in reader.at(
            owner[0]
        ).object_fields(owner[1], "", [])

    def text_key(self, member: Any) -> str:
        return self.module.text(member.child_by_field_name("property"))

    def _is_annotations_object(self, node: Any) -> bool:
        keys = self.object_fields(node, "", [])
        return bool(keys) and set(keys) <= WIRE_ANNOTATION_KEYS

    def annotations(self, node: Any, unresolved: list[str]) -> dict[str, Any] | None:
        if self._is_absent_member(node):
            return None
        fields = self.object_fields(node, "annotations", unresolved)
        result: dict[str, Any] = {}
        for key, value in fields.items():
            try:
                result[key] = self.literal(value)
            except Unresolved as error:
                unresolved.append(f"annotations.{key}: {error}")
        return result if fields else None

    def literal(self, node: Any) -> Any:
        if isinstance(node, Located):
            return self.at(node.module).literal(node.node)
        target = self.resolve(node)
        if target is None:
            raise Unresolved(f"built at run time ({self._short(node)})")
        if target[0] is not self.module:
            return self.at(target[0]).literal(target[1])
        value = target[1]
        if value.type in ("true", "false"):
            return value.type == "true"
        if value.type == "null":
            return None
        if value.type == "number":
            return _number(self.module.text(value))
        if value.type == "unary_expression" and self.module.text(value).startswith("!"):
            operand = self.module.text(value)[1:].strip()
            if operand in ("0", "1"):  # minified booleans: !0 is true, !1 is false
                return operand == "0"
        if value.type == "unary_expression" and self.module.text(value).startswith("-"):
            return -_number(self.module.text(value)[1:].strip())
        return whole(self.string(value))

    def _object_shape_argument(self, call: Any) -> Any | None:
        """The shape literal of a plain `z.object({...})` (nothing chained after it)."""
        chain = self._call_chain(call)
        if len(chain) == 1 and chain[0][0] in ("object", "strictObject", "looseObject") and chain[0][1]:
            return chain[0][1][0] if chain[0][2] is None else None
        return None

    def _call_chain(self, node: Any) -> list[tuple[str, list[Any], Any]]:
        """`a.b(x).c(y)` -> [("b", [x], a), ("c", [y], None)], innermost first."""
        chain: list[tuple[str, list[Any], Any]] = []
        current = unwrap(node)
        while current is not None and current.type == "call_expression":
            function = unwrap(current.child_by_field_name("function"))
            arguments = current.child_by_field_name("arguments")
            args = (
                [a for a in arguments.named_children if a.type != "comment"] if arguments is not None else []
            )
            if function is None or function.type != "member_expression":
                return []
            chain.append((self.module.text(function.child_by_field_name("property")), args, None))
            current = unwrap(function.child_by_field_name("object"))
        if not chain:
            return []
        chain.reverse()
        method, args, _ = chain[0]
        owner = current if current is not None and not _is_zod_namespace(self.module.text(current)) else None
        chain[0] = (method, args, owner)
        return chain


def _is_zod_namespace(text: str) -> bool:
    return bool(
        re.fullmatch(r"(\(0,\s*)?[\w$.]*\bz(od)?(_\d+)?(\.z|\.default)?\)?|[\w$]+\.z|z\.coerce", text)
    )


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError as error:
            raise Unresolved(f"not a number ({text})") from error


def _merge_elements(parts: Sequence[list[tuple[Reader, Any]] | None]) -> list[tuple[Reader, Any]]:
    """Concatenate element lists, keeping one of each node (branches often list the same items)."""
    merged: list[tuple[Reader, Any]] = []
    seen: set[tuple[str, int, str]] = set()
    for part in parts:
        for reader, node in part or []:
            key = (reader.module.path, node.start_byte, reader.call_site)
            if key not in seen:
                seen.add(key)
                merged.append((reader, node))
    return merged
