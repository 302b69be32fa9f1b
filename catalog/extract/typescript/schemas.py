"""Input schemas as the TypeScript SDK emits them from zod shapes, and JSON schema literals."""

from __future__ import annotations

import copy
import re
from typing import Any

from catalog.extract.budget import charge
from catalog.extract.typescript.project import FUNCTION_NODES, single_return, unwrap
from catalog.extract.typescript.values import Located, ValueReader
from catalog.extract.values import MAX_DEPTH, Unresolved

ZOD_BASE_TYPES = {
    "string": "string",
    "number": "number",
    "boolean": "boolean",
    "bigint": "integer",
    "date": "string",
}


class SchemaReader(ValueReader):
    """Input schemas as the TypeScript SDK derives them: zod expressions and JSON schema literals."""

    def json_schema_value(self, node: Any, unresolved: list[str], depth: int = 0) -> Any:
        """A JSON-like literal (object, array, scalars) or a `zodToJsonSchema(X)` call."""
        charge()
        if isinstance(node, Located):
            return self.at(node.module).json_schema_value(node.node, unresolved, depth)
        target = self.resolve(node)
        if target is None or depth > MAX_DEPTH:
            unresolved.append(f"input_schema: {self._short(node)} not resolvable statically")
            return None
        if target[0] is not self.module:
            return self.at(target[0]).json_schema_value(target[1], unresolved, depth)
        value = target[1]
        if value.type == "call_expression":
            function = self.module.text(value.child_by_field_name("function"))
            arguments = value.child_by_field_name("arguments").named_children
            if re.search(r"(zodToJsonSchema|toJSONSchema|toJsonSchema)\d*\)?$", function) and arguments:
                return self.shape_schema(arguments[0], unresolved) or None
            if unwrap(value.child_by_field_name("function")).type == "member_expression" or function.endswith(
                ")"
            ):
                return self.zod_schema(value, unresolved)
        if value.type == "object":
            out: dict[str, Any] = {}
            for key, child in self.object_fields(value, "", []).items():
                out[key] = self.json_schema_value(child, unresolved, depth + 1)
            return out
        if value.type == "array":
            return [
                self.json_schema_value(child, unresolved, depth + 1)
                for child in value.named_children
                if child.type != "comment"
            ]
        try:
            return self.literal(value)
        except Unresolved as error:
            unresolved.append(f"input_schema: {error}")
            return None

    def shape_schema(self, node: Any, unresolved: list[str]) -> dict[str, Any] | None:
        """A zod raw shape `{a: z.string()}` or a zod object schema, as a JSON object schema."""
        if isinstance(node, Located):
            return self.at(node.module).shape_schema(node.node, unresolved)
        bare = unwrap(node)
        if bare is not None and bare.type == "member_expression" and self.resolve(bare) is None:
            if self.module.text(bare.child_by_field_name("property")) == "shape":  # X.shape of a z.object
                return self.shape_schema(bare.child_by_field_name("object"), unresolved)
        target = self.resolve(node)
        if target is None:
            unresolved.append(f"input_schema: {self._short(node)} not resolvable statically")
            return None
        if target[0] is not self.module:
            return self.at(target[0]).shape_schema(target[1], unresolved)
        if target[1].type == "object" or self._merged_fields(target[1], "", [], 0) is not None:
            return self._shape(target[1], unresolved)
        schema = self.zod_schema(target[1], unresolved)
        return schema if schema is not None else None

    def _shape(self, node: Any, unresolved: list[str]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for key, value in self.object_fields(node, "", []).items():
            reader = self.at(value.module) if isinstance(value, Located) else self
            value_node = value.node if isinstance(value, Located) else value
            schema, optional = reader._zod(value_node, unresolved, key)
            properties[key] = schema
            if not optional:
                required.append(key)
        return object_schema(properties, required)

    def zod_schema(self, node: Any, unresolved: list[str]) -> dict[str, Any] | None:
        schema, _ = self._zod(node, unresolved, "")
        if not schema and unresolved and "not resolvable" in unresolved[-1]:
            return None
        return schema

    def _zod(
        self, node: Any, unresolved: list[str], label: str, depth: int = 0
    ) -> tuple[dict[str, Any], bool]:
        """JSON schema for a zod expression and whether it is optional; unknown parts stay typeless."""
        charge()
        target = self.resolve(node)
        if target is None or depth > MAX_DEPTH:
            unresolved.append(f"input_schema.{label or '?'}: {self._short(node)} not resolvable statically")
            return {}, False
        if target[0] is not self.module:
            return self.at(target[0])._zod(target[1], unresolved, label, depth + 1)
        chain = self._call_chain(target[1])
        if not chain:
            unresolved.append(f"input_schema.{label or '?'}: {self._short(node)} not resolvable statically")
            return {}, False
        base_method, base_args, base_owner = chain[0]
        modifiers = chain[1:]
        if base_owner is not None and base_method not in ZOD_FACTORIES:
            schema, optional = self._zod(base_owner, unresolved, label, depth + 1)
            schema = copy.deepcopy(schema)  # `Base.extend(...)` must not change Base's own schema
            modifiers = chain  # `Base.extend({...})`, `Base.optional()`: the first call modifies Base
        else:
            schema, optional = self._zod_base(base_method, base_args, unresolved, label, depth), False
        for method, args, _ in modifiers:
            if method in ZOD_OBJECT_METHODS:
                self._zod_object_method(schema, method, args, unresolved)
                continue
            optional = self._zod_modifier(schema, method, args, optional)
        return schema, optional

    def _zod_object_method(
        self, schema: dict[str, Any], method: str, args: list[Any], unresolved: list[str]
    ) -> None:
        """`.extend({...})`, `.merge(Other)`, `.partial()`, `.pick({a: true})`, `.omit({a: true})` on an object."""
        properties = schema.setdefault("properties", {})
        required = schema.get("required", [])
        if method in ("extend", "merge", "safeExtend") and args:
            extra = self.shape_schema(args[0], unresolved) or {}
            properties.update(extra.get("properties", {}))
            required = [r for r in required if r not in extra.get("properties", {})] + extra.get(
                "required", []
            )
        elif method == "partial" and not args:
            required = []
        elif method in ("pick", "omit") and args:
            keys = set(self.object_fields(args[0], "", []))
            keep = (lambda k: k in keys) if method == "pick" else (lambda k: k not in keys)
            schema["properties"] = {k: v for k, v in properties.items() if keep(k)}
            required = [r for r in required if keep(r)]
        schema.pop("required", None)
        if required:
            schema["required"] = required

    def _zod_base(
        self, method: str, args: list[Any], unresolved: list[str], label: str, depth: int
    ) -> dict[str, Any]:
        if method in ZOD_BASE_TYPES:
            schema: dict[str, Any] = {"type": ZOD_BASE_TYPES[method]}
            if method == "date":
                schema["format"] = "date-time"
            return schema
        if method in ZOD_STRING_FORMATS:  # zod 4 top-level formats: z.url(), z.email(), ...
            return {"type": "string", "format": ZOD_STRING_FORMATS[method]}
        if method in ("any", "unknown"):
            return {}
        if method == "null":
            return {"type": "null"}
        if method == "enum" and args:
            values = self.json_schema_value(args[0], unresolved)
            return {"type": "string", "enum": values} if isinstance(values, list) else {"type": "string"}
        if method == "literal" and args:
            try:
                value = self.literal(args[0])
            except Unresolved:
                return {}
            kind = {str: "string", bool: "boolean", int: "number", float: "number"}.get(type(value))
            return {"type": kind, "const": value} if kind else {"const": value}
        if method == "array" and args:
            return {"type": "array", "items": self._zod(args[0], unresolved, f"{label}[]", depth + 1)[0]}
        if method in ("object", "strictObject", "looseObject") and args:
            shape = self.resolve(args[0])
            if shape is not None and shape[1].type == "object":
                return self.at(shape[0])._shape(shape[1], unresolved)
            return {"type": "object"}
        if method == "record" and args:
            return {
                "type": "object",
                "additionalProperties": self._zod(args[-1], unresolved, label, depth + 1)[0],
            }
        if method in ("union", "discriminatedUnion") and args:
            options = self.resolve(args[-1])
            if options is not None and options[1].type == "array":
                reader = self.at(options[0])
                return {
                    "anyOf": [
                        reader._zod(o, unresolved, label, depth + 1)[0]
                        for o in options[1].named_children
                        if o.type != "comment"
                    ]
                }
        if method == "preprocess" and len(args) > 1:  # z.preprocess(fn, schema): the schema after it
            return self._zod(args[1], unresolved, label, depth + 1)[0]
        if method == "lazy" and args and unwrap(args[0]).type in FUNCTION_NODES:
            returned = single_return(unwrap(args[0]))
            return self._zod(returned, unresolved, label, depth + 1)[0] if returned is not None else {}
        if method == "nativeEnum":
            return {}
        unresolved.append(f"input_schema.{label or '?'}: zod {method}() not converted")
        return {}

    def _zod_modifier(self, schema: dict[str, Any], method: str, args: list[Any], optional: bool) -> bool:
        if method in ("optional", "nullish"):
            return True
        if method == "default":
            if args:
                try:
                    schema["default"] = self.literal(args[0])
                except Unresolved:
                    pass
            return True
        if method == "describe" and args:
            try:
                schema["description"] = self.literal(args[0])
            except Unresolved:
                pass
        elif method == "int":
            schema["type"] = "integer"
        elif method in ("min", "max", "length") and args:
            self._zod_bound(schema, method, args[0])
        elif method in ZOD_STRING_FORMATS:
            schema["format"] = ZOD_STRING_FORMATS[method]
        elif method == "nullable":
            inner = dict(schema)
            schema.clear()
            schema["anyOf"] = [inner, {"type": "null"}]
        return optional

    def _zod_bound(self, schema: dict[str, Any], method: str, node: Any) -> None:
        try:
            value = self.literal(node)
        except Unresolved:
            return
        suffix = {"string": "Length", "array": "Items"}.get(schema.get("type", ""))
        if suffix:
            names = {
                "min": [f"min{suffix}"],
                "max": [f"max{suffix}"],
                "length": [f"min{suffix}", f"max{suffix}"],
            }
            for name in names[method]:
                schema[name] = value
        elif method in ("min", "max"):
            schema["minimum" if method == "min" else "maximum"] = value


ZOD_STRING_FORMATS = {
    "url": "uri",
    "email": "email",
    "uuid": "uuid",
    "datetime": "date-time",
    "ipv4": "ipv4",
    "ipv6": "ipv6",
}


ZOD_OBJECT_METHODS = {"extend", "merge", "safeExtend", "partial", "pick", "omit"}


ZOD_FACTORIES = {
    "preprocess",
    "lazy",
    *ZOD_BASE_TYPES,
    *ZOD_STRING_FORMATS,
    "any",
    "unknown",
    "null",
    "enum",
    "literal",
    "array",
    "object",
    "strictObject",
    "looseObject",
    "record",
    "union",
    "discriminatedUnion",
    "nativeEnum",
}


def object_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
