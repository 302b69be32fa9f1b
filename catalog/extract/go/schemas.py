"""Input schemas as the Go SDKs emit them: handler argument structs, schema literals and
mcp-go's parameter options."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from catalog.extract.budget import charge
from catalog.extract.go.project import (
    Package,
    SourceText,
    call_arguments,
    descendants,
    enclosing_function,
    go_string,
    strip_address,
)
from catalog.extract.go.values import ValueReader
from catalog.extract.values import MAX_DEPTH, Unresolved

if TYPE_CHECKING:
    from catalog.extract.go.idioms import Reader


PARAM_OPTIONS = {
    "WithString": "string",
    "WithNumber": "number",
    "WithInteger": "integer",
    "WithBoolean": "boolean",
    "WithArray": "array",
    "WithObject": "object",
    "WithAny": None,
}


STRUCT_TAG = re.compile(r'([A-Za-z_][A-Za-z0-9_]*):"((?:[^"\\]|\\.)*)"')


# Go types as the schema libraries render them (jsonschema-go adds the integer ranges; invopop does not).
GO_BASIC_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "bool": {"type": "boolean"},
    "float32": {"type": "number"},
    "float64": {"type": "number"},
    "int": {"type": "integer"},
    "int64": {"type": "integer"},
    "uint": {"type": "integer", "minimum": 0},
    "uint64": {"type": "integer", "minimum": 0},
    "int8": {"type": "integer", "minimum": -128, "maximum": 127},
    "uint8": {"type": "integer", "minimum": 0, "maximum": 255},
    "byte": {"type": "integer", "minimum": 0, "maximum": 255},
    "int16": {"type": "integer", "minimum": -32768, "maximum": 32767},
    "uint16": {"type": "integer", "minimum": 0, "maximum": 65535},
    "int32": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647},
    "rune": {"type": "integer", "minimum": -2147483648, "maximum": 2147483647},
    "uint32": {"type": "integer", "minimum": 0, "maximum": 4294967295},
}


KNOWN_GO_TYPES: dict[str, dict[str, Any]] = {
    "time.Time": {"type": "string"},
    "json.RawMessage": {},
}


class SchemaReader(ValueReader):
    """Input schemas as the Go SDKs derive them: from handler argument structs (jsonschema-go or
    invopop tags), `jsonschema.Schema` literals and mcp-go's parameter options."""

    def _add_parameter(
        self, schema: dict[str, Any], json_type: str | None, args: list[Any], unresolved: list[str]
    ) -> None:
        try:
            name, holes = self.string(args[0])
        except Unresolved as error:
            unresolved.append(f"input_schema: parameter name {error}")
            return
        if holes:
            unresolved.append(f"input_schema: parameter name built at run time ({name})")
        prop: dict[str, Any] = {"type": json_type} if json_type else {}
        for option in args[1:]:
            self._apply_property_option(schema, name, prop, option, unresolved)
        schema["properties"][name] = prop

    def _apply_property_option(
        self, schema: dict[str, Any], name: str, prop: dict[str, Any], option: Any, unresolved: list[str]
    ) -> None:
        option_name = (
            self._callee(option.child_by_field_name("function")) if option.type == "call_expression" else ""
        )
        args = call_arguments(option) if option.type == "call_expression" else []
        try:
            if option_name == "Required":
                schema.setdefault("required", []).append(name)
            elif option_name == "Description" and args:
                prop["description"] = self._text(args[0], f"input_schema.{name}.description", unresolved)
            elif option_name == "Enum":
                prop["enum"] = [self.literal(a) for a in args]
            elif option_name in ("DefaultString", "DefaultNumber", "DefaultBool") and args:
                prop["default"] = self.literal(args[0])
            elif option_name in ("Min", "Max", "MinLength", "MaxLength", "MinItems", "MaxItems") and args:
                key = {"Min": "minimum", "Max": "maximum"}.get(
                    option_name, option_name[0].lower() + option_name[1:]
                )
                prop[key] = self.literal(args[0])
            elif option_name in ("WithStringItems", "WithNumberItems", "WithBooleanItems"):
                prop["items"] = {"type": option_name[4:-5].lower()}
            elif option_name == "Title" and args:
                prop["title"] = self.literal(args[0])
            else:
                unresolved.append(
                    f"input_schema.{name}: {option_name or self._short(option)}() not read statically"
                )
        except Unresolved as error:
            unresolved.append(f"input_schema.{name}: {error}")

    def _generic_option_schema(
        self, option: Any, dialect: str, unresolved: list[str]
    ) -> dict[str, Any] | None:
        """`mcp.WithInputSchema[Args]()`: the schema of the type argument."""
        function = option.child_by_field_name("function")
        type_node = None
        if function is not None and function.type == "index_expression":
            type_node = function.child_by_field_name("index")
        elif (
            arguments := option.child_by_field_name("type_arguments")
        ) is not None and arguments.named_children:
            type_node = arguments.named_children[0]
        if type_node is None:
            unresolved.append(f"input_schema: {self._short(option)} not read statically")
            return None
        try:
            return self._type_schema(type_node, dialect, frozenset())
        except Unresolved as error:
            unresolved.append(f"input_schema: {error}")
            return None

    def _handler_schema(self, handler: Any, dialect: str, unresolved: list[str]) -> dict[str, Any] | None:
        """The schema an SDK derives from the handler's argument struct (json and jsonschema tags)."""
        reader, function = self._handler_function(handler)
        if function is None:
            unresolved.append(f"input_schema: derived at run time from handler {self._short(handler)}")
            return None
        argument = reader._argument_type(function)
        if argument is None:
            unresolved.append("input_schema: the handler takes no argument struct")
            return None
        try:
            schema = reader._type_schema(argument, dialect, frozenset())
        except Unresolved as error:
            unresolved.append(f"input_schema: {error}")
            return None
        return schema or {"type": "object"}  # go-sdk: an `any` argument takes an empty object

    def _handler_function(self, handler: Any) -> tuple[Reader, Any | None]:
        reader, node = self._bound(handler)
        if node.type in ("index_expression", "generic_type") and node.named_children:
            node = node.named_children[0]  # handle[Args]
        if node.type == "func_literal":
            return reader, node
        packages = [reader.project.package_of(reader.source)]
        name = reader.source.text(node)
        if node.type == "selector_expression":  # otherpkg.Handle, or s.handle (a method)
            name = reader.source.text(node.child_by_field_name("field"))
            operand = reader.source.text(node.child_by_field_name("operand"))
            packages = reader.project.packages_named(operand) or packages
        elif node.type != "identifier":
            return reader, None
        for package in packages:
            if name in package.functions:
                source, declaration = package.functions[name]
                return reader.at(source), declaration
        return reader, None

    def _argument_type(self, function: Any) -> Any | None:
        """The last parameter that is neither the context nor the request: the tool's arguments."""
        parameters = function.child_by_field_name("parameters")
        types = []
        for declaration in parameters.named_children if parameters is not None else []:
            type_node = declaration.child_by_field_name("type")
            if type_node is None:
                continue
            text = self.source.text(type_node)
            if "Context" in text or "Request" in text:
                continue
            types.extend([type_node] * max(1, len(declaration.children_by_field_name("name"))))
        return types[-1] if types else None

    def _type_schema(self, node: Any, dialect: str, seen: frozenset[str]) -> dict[str, Any]:
        charge()
        if len(seen) > MAX_DEPTH:
            raise Unresolved("type nested too deeply")
        kind = node.type
        if kind == "parenthesized_type" and node.named_children:
            return self._type_schema(node.named_children[0], dialect, seen)
        if kind == "pointer_type":
            inner = self._type_schema(node.named_children[0], dialect, seen)
            if dialect == "google" and isinstance(inner.get("type"), str):  # jsonschema-go: *T may be null
                inner["type"] = ["null", inner["type"]]
            return inner
        if kind in ("slice_type", "array_type"):
            return {
                "type": "array",
                "items": self._type_schema(node.child_by_field_name("element"), dialect, seen),
            }
        if kind == "map_type":
            value = self._type_schema(node.child_by_field_name("value"), dialect, seen)
            return {"type": "object", "additionalProperties": value}
        if kind == "interface_type":
            return {}
        if kind == "struct_type":
            return self._struct_schema(node, dialect, seen)
        if kind in ("type_identifier", "identifier"):  # `WithInputSchema[Args]` parses Args as an expression
            return self._named_type_schema(
                self.project.package_of(self.source), self.source.text(node), dialect, seen
            )
        if kind in ("qualified_type", "selector_expression"):
            package, name = (self.source.text(c) for c in node.named_children[:2])
            if f"{package}.{name}" in KNOWN_GO_TYPES:
                return dict(KNOWN_GO_TYPES[f"{package}.{name}"])
            for candidate in self.project.packages_named(package):
                if name in candidate.types:
                    return self._named_type_schema(candidate, name, dialect, seen)
        raise Unresolved(f"type {self._short(node)} not resolvable statically")

    def _named_type_schema(
        self, package: Package, name: str, dialect: str, seen: frozenset[str]
    ) -> dict[str, Any]:
        if name in GO_BASIC_TYPES:
            schema = dict(GO_BASIC_TYPES[name])
            return schema if dialect == "google" else {"type": schema["type"]}
        if name == "any":
            return {}
        key = f"{package.directory}.{name}"
        if name not in package.types or key in seen:
            raise Unresolved(f"type {name} not resolvable statically")
        source, type_node = package.types[name]
        return self.at(source)._type_schema(type_node, dialect, seen | {key})

    def _struct_schema(self, node: Any, dialect: str, seen: frozenset[str]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        field_list = next((c for c in node.named_children if c.type == "field_declaration_list"), None)
        for declaration in field_list.named_children if field_list is not None else []:
            if declaration.type != "field_declaration":
                continue
            type_node = declaration.child_by_field_name("type")
            tags = _struct_tags(self.source, declaration.child_by_field_name("tag"))
            json_name, json_options = _json_tag(tags.get("json"))
            names = [self.source.text(n) for n in declaration.children_by_field_name("name")]
            if not names and not json_name:  # an embedded struct: its fields are promoted
                embedded = self._type_schema(type_node, dialect, seen)
                properties.update(embedded.get("properties", {}))
                required.extend(embedded.get("required", []))
                continue
            for name in names or [self.source.text(type_node)]:
                if not name[:1].isupper() or (json_name == "-" and not json_options):
                    continue
                key = json_name or name
                prop = self._type_schema(type_node, dialect, seen)
                is_required = self._apply_field_tags(prop, tags, json_options, dialect)
                properties[key] = prop
                if is_required:
                    required.append(key)
        schema: dict[str, Any] = {"type": "object"}
        if properties or dialect == "invopop":
            schema["properties"] = properties
        if required:
            schema["required"] = required
        if dialect == "google":
            schema["additionalProperties"] = False
        return schema

    def _apply_field_tags(
        self, prop: dict[str, Any], tags: dict[str, str], json_options: set[str], dialect: str
    ) -> bool:
        """Apply a field's `jsonschema` tag to its property; return whether the field is required."""
        optional = bool(json_options & {"omitempty", "omitzero"})
        tag = tags.get("jsonschema")
        if dialect == "google":  # jsonschema-go: the whole tag is the description
            if tag:
                prop["description"] = tag
            return not optional
        if "jsonschema_description" in tags:
            prop["description"] = tags["jsonschema_description"]
        options = _invopop_options(tag or "")
        for key, value in options:
            if key == "description":
                prop["description"] = value
            elif key in ("title", "pattern", "format"):
                prop[key] = value
            elif key == "enum":
                prop.setdefault("enum", []).append(_typed(value, prop.get("type")))
            elif key == "default":
                prop["default"] = _typed(value, prop.get("type"))
            elif key in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"):
                prop[key] = _typed(value, "number")
        tagged_required = ("required", "") in options
        if self.project.required_from_tags:
            return tagged_required
        return tagged_required or not optional

    def _schema_value(self, node: Any, unresolved: list[str], tool_node: Any) -> dict[str, Any] | None:
        node = strip_address(self._resolve_local(node, tool_node))
        if node.type in ("composite_literal", "literal_value"):
            return self._jsonschema_literal(node, unresolved)
        if (
            node.type == "call_expression"
            and self._callee(node.child_by_field_name("function")) == "RawMessage"
        ):
            try:
                return json.loads(self.string(call_arguments(node)[0])[0])
            except (Unresolved, ValueError, IndexError):
                pass
        if node.type == "call_expression":  # WithPagination(&jsonschema.Schema{...}): a helper adds to it
            inner = [strip_address(a) for a in call_arguments(node)]
            literals = [a for a in inner if a.type == "composite_literal"]
            if len(literals) == 1:
                callee = self._callee(node.child_by_field_name("function"))
                unresolved.append(f"input_schema: {callee or 'a helper'}() adds to it at run time")
                return self._jsonschema_literal(literals[0], unresolved)
        unresolved.append(f"input_schema: {self._short(node)} built at run time")
        return None

    def _jsonschema_literal(self, node: Any, unresolved: list[str], depth: int = 0) -> dict[str, Any]:
        """`&jsonschema.Schema{Type: "object", Properties: map[string]*jsonschema.Schema{...}}` as JSON."""
        schema: dict[str, Any] = {}
        for key, value in self._keyed_fields(node).items():
            value = strip_address(value)
            json_key = key[0].lower() + key[1:]
            if key == "Properties" and depth < MAX_DEPTH:
                schema["properties"] = self._properties(value, unresolved, depth)
            elif key == "Items" and depth < MAX_DEPTH:
                reader, items = self._bound(value)
                schema["items"] = reader._jsonschema_literal(items, unresolved, depth + 1)
            elif key in ("Required", "Enum"):
                try:
                    schema[json_key] = self._list_literal(value)
                except Unresolved as error:
                    unresolved.append(f"input_schema.{json_key}: {error}")
            elif key == "Types":
                schema["type"] = self._json_value(value, unresolved, depth + 1)
            else:
                schema[json_key] = self._json_value(value, unresolved, depth + 1)
        return schema

    def _json_value(self, node: Any, unresolved: list[str], depth: int) -> Any:
        """A value inside a schema literal: scalars, slices, maps and nested schema literals."""
        charge()
        node = strip_address(node)
        if node.type in ("composite_literal", "literal_value") and depth < MAX_DEPTH:
            type_node = node.child_by_field_name("type") if node.type == "composite_literal" else None
            body = node.child_by_field_name("body") if node.type == "composite_literal" else node
            kind = type_node.type if type_node is not None else ""
            if kind == "slice_type" or (
                body is not None and not any(c.type == "keyed_element" for c in body.named_children)
            ):
                items = [
                    c.named_children[0] if c.type == "literal_element" and c.named_children else c
                    for c in body.named_children
                ]
                return [self._json_value(item, unresolved, depth + 1) for item in items]
            if kind == "map_type":
                return {
                    k: self._json_value(v, unresolved, depth + 1) for k, v in self._keyed_fields(node).items()
                }
            return self._jsonschema_literal(node, unresolved, depth + 1)
        try:
            return self.literal(node)
        except Unresolved:
            unresolved.append(f"input_schema: {self._short(node)} not read statically")
            return None

    def _properties(self, node: Any, unresolved: list[str], depth: int) -> dict[str, Any]:
        """A `map[string]*jsonschema.Schema{...}`, followed through variables and `maps.Copy` into it."""
        reader, literal = self._bound(node)
        properties = {
            name: reader._jsonschema_literal(strip_address(inner), unresolved, depth + 1)
            for name, inner in reader._keyed_fields(literal).items()
        }
        if node.type == "identifier":
            for extra in self._copied_into(node):
                properties.update(self._properties(extra, unresolved, depth))
        return properties

    def _copied_into(self, variable: Any) -> list[Any]:
        """The sources of `maps.Copy(variable, source)` calls in the function that declares the variable."""
        function = enclosing_function(self.source.root, variable)
        name = self.source.text(variable)
        sources = []
        for call in descendants(function, "call_expression") if function is not None else []:
            arguments = call_arguments(call)
            callee = call.child_by_field_name("function")
            if (
                len(arguments) == 2
                and callee is not None
                and self.source.text(callee) == "maps.Copy"
                and self.source.text(arguments[0]) == name
            ):
                sources.append(arguments[1])
        return sources


def _struct_tags(source: SourceText, tag: Any) -> dict[str, str]:
    """`json:"name,omitempty" jsonschema:"..."` as a dict, values unquoted as Go's StructTag.Get does."""
    if tag is None:
        return {}
    text = source.text(tag)[1:-1] if tag.type == "raw_string_literal" else go_string(source, tag)
    return {key: re.sub(r"\\(.)", r"\1", value) for key, value in STRUCT_TAG.findall(text)}


def _json_tag(tag: str | None) -> tuple[str, set[str]]:
    name, *options = (tag or "").split(",")
    return name, set(options)


def _invopop_options(tag: str) -> list[tuple[str, str]]:
    """`required,description=A\\, B,enum=x,enum=y`: comma-separated, `\\,` is a literal comma."""
    options = []
    for item in re.split(r"(?<!\\),", tag):
        key, _, value = item.partition("=")
        if key:
            options.append((key.strip(), value.replace("\\,", ",")))
    return options


def _typed(value: str, json_type: Any) -> Any:
    try:
        if json_type == "integer":
            return int(value)
        if json_type == "number":
            number = float(value)
            return int(number) if number.is_integer() else number
    except ValueError:
        return value
    if json_type == "boolean":
        return value == "true"
    return value
