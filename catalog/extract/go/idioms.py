"""The declarations each Go SDK idiom makes (mcp-go `NewTool`, raw-schema tools, wrappers, go-sdk
`mcp.Tool{...}` literals), read node by node, also through helpers that take the name."""

from __future__ import annotations

import json
from typing import Any

from catalog.extract.go.project import (
    call_arguments,
    descendants,
    enclosing_function,
    parameter_names,
    strip_address,
)
from catalog.extract.go.schemas import PARAM_OPTIONS, SchemaReader
from catalog.extract.go.values import ValueReader
from catalog.extract.idiom import Idiom, offer
from catalog.extract.values import GO_ANNOTATION_FIELDS, GO_ANNOTATION_OPTIONS, Unresolved
from catalog.models import Tool


class Reader(SchemaReader, ValueReader):
    """Reads tool declarations in one file, resolving strings through the project."""

    def read(self, node: Any) -> None:
        """Offer a call or composite literal to the idioms of the table, in order."""
        if node.type == "composite_literal":
            offer(IDIOMS, "literal", self, node)
            return
        arguments = call_arguments(node)
        if arguments:
            offer(IDIOMS, "call", self, node, self._callee(node.child_by_field_name("function")), arguments)

    # -- the idioms (one entry each in IDIOMS) -------------------------------------------------

    def _as_tool_literal(self, node: Any) -> bool:
        """The form: go-sdk or mcp-go Tool literal."""
        type_node = node.child_by_field_name("type")
        if (
            type_node is None
            or self.source.text(type_node) not in ("mcp.Tool", "Tool")
            or not self._is_mcp(type_node)
        ):
            return False
        self._read_tool_literal(node)
        return True

    def _as_new_tool(self, node: Any, callee: str, arguments: list[Any]) -> bool:
        """The form: mcp-go NewTool with options."""
        if callee != "NewTool" or not self._is_new_tool_call(arguments):
            return False
        self._read_new_tool(node, arguments)
        return True

    def _as_raw_schema_tool(self, node: Any, callee: str, arguments: list[Any]) -> bool:
        """The form: mcp-go NewToolWithRawSchema."""
        if callee != "NewToolWithRawSchema" or len(arguments) < 2:
            return False
        self._read_raw_schema_tool(node, arguments)
        return True

    def _as_wrapper(self, node: Any, callee: str, arguments: list[Any]) -> bool:
        """The form: a project's wrapper: MustTool(name, description, handler, options...)."""
        if (
            not callee.endswith("Tool")
            or callee in ("AddTool", "NewTool")
            or not self._is_wrapper_call(arguments)
        ):
            return False
        self._read_wrapper(node, arguments)
        return True

    # -- reading -------------------------------------------------------------------------------

    def _is_mcp(self, type_node: Any) -> bool:
        if type_node.type == "qualified_type":
            return self.source.text(type_node.child_by_field_name("package")) == "mcp"
        return self.source.package == "mcp"

    def _is_wrapper_call(self, arguments: list[Any]) -> bool:
        """`MustTool("name", "description", handler, mcp.With...)`: two strings, then a handler."""
        if len(arguments) < 3 or not all(
            a.type in ("interpreted_string_literal", "raw_string_literal")
            or a.type in ("identifier", "selector_expression", "binary_expression", "call_expression")
            for a in arguments[:2]
        ):
            return False
        try:
            self.string(arguments[0])
        except Unresolved:
            return False
        return arguments[0].type in (
            "interpreted_string_literal",
            "raw_string_literal",
        ) or self._is_string_like(arguments[1])

    def _is_new_tool_call(self, arguments: list[Any]) -> bool:
        """mcp-go's `NewTool(name, options...)`, not a project's own `NewTool(metadata, mcp.Tool{...})`."""
        try:
            self.string(arguments[0])
            return True
        except Unresolved:
            pass
        options = arguments[1:]
        return bool(options) and all(
            o.type == "call_expression" and self._callee(o.child_by_field_name("function")).startswith("With")
            for o in options
        )

    def _tool_name(self, node: Any, name_node: Any) -> str | None:
        helper = self._helper_taking(name_node)
        if helper is not None:
            self._read_per_call_site(node, helper)
            return None
        return self._known_name(node, name_node, after=": ")

    def _helper_taking(self, name_node: Any) -> Any | None:
        """The enclosing function when the tool's name is one of its parameters (and not yet bound)."""
        if self.bindings or name_node.type != "identifier":
            return None
        function = enclosing_function(self.source.root, name_node)
        if function is None or function.type != "function_declaration":
            return None
        if self.source.text(name_node) not in parameter_names(self.source, function):
            return None
        return function

    def _read_per_call_site(self, declaration: Any, helper: Any) -> None:
        """Read a declaration inside a helper once per call of that helper, with its arguments bound."""
        helper_name = self.source.text(helper.child_by_field_name("name"))
        parameters = parameter_names(self.source, helper)
        calls = self.project.calls_to(helper_name)
        if not calls:
            self.result.not_static(
                f"{self.origin(declaration)}: tool name is a parameter of {helper_name}(), which is never called; tool skipped"
            )
        for call_source, call in calls:
            caller = self.make(call_source)
            bindings = {
                name: (caller, argument)
                for name, argument in zip(parameters, call_arguments(call), strict=False)
            }
            self.make(self.source, bindings, caller.origin(call)).read(declaration)

    def _new_tool(self, call: Any, arguments: list[Any], described: bool = False) -> Tool | None:
        """A tool named by the first argument (and, when `described`, described by the second), or
        None when the name is not known statically."""
        name = self._tool_name(call, arguments[0])
        if name is None:
            return None
        tool = Tool(name=name, origin=self.origin(call))
        if described:
            tool.description = self._text(arguments[1], "description", tool.unresolved)
        return tool

    def _read_new_tool(self, call: Any, arguments: list[Any]) -> None:
        tool = self._new_tool(call, arguments)
        if tool is None:
            return
        tool.input_schema = {"type": "object", "properties": {}}
        self._apply_options(tool, arguments[1:])
        self.result.tools.append(tool)

    def _read_wrapper(self, call: Any, arguments: list[Any]) -> None:
        tool = self._new_tool(call, arguments, described=True)
        if tool is None:
            return
        options = [
            a
            for a in arguments[2:]
            if a.type == "call_expression"
            and self._callee(a.child_by_field_name("function")).startswith("With")
        ]
        self._apply_options(tool, options)
        if tool.input_schema == {"type": "object", "properties": {}} or tool.input_schema is None:
            dialect = "invopop" if self.project.uses_invopop else "google"
            tool.input_schema = self._handler_schema(arguments[2], dialect, tool.unresolved)
        self.result.tools.append(tool)

    def _read_raw_schema_tool(self, call: Any, arguments: list[Any]) -> None:
        tool = self._new_tool(call, arguments, described=True)
        if tool is None:
            return
        if len(arguments) > 2:
            raw = arguments[2]
            if raw.type == "call_expression" and call_arguments(raw):
                raw = call_arguments(raw)[0]  # json.RawMessage(`...`)
            try:
                tool.input_schema = json.loads(self.string(raw)[0])
            except (Unresolved, ValueError):
                tool.unresolved.append("input_schema: raw schema built at run time")
        self.result.tools.append(tool)

    def _apply_options(self, tool: Tool, options: list[Any]) -> None:
        schema: dict[str, Any] = tool.input_schema or {"type": "object", "properties": {}}
        annotations: dict[str, Any] = {}
        for option in options:
            if option.type != "call_expression":
                tool.unresolved.append(f"options: {self._short(option)} applied at run time")
                continue
            option_name = self._callee(option.child_by_field_name("function"))
            args = call_arguments(option)
            if option_name == "WithDescription" and args:
                tool.description = self._text(args[0], "description", tool.unresolved)
            elif option_name == "WithTitle" and args:
                tool.title = self._text(args[0], "title", tool.unresolved) or None
            elif option_name in GO_ANNOTATION_OPTIONS and args:
                self._set_annotation(
                    annotations, GO_ANNOTATION_OPTIONS[option_name], args[0], tool.unresolved
                )
            elif option_name == "WithInputSchema":
                dialect = "google" if b"modelcontextprotocol/go-sdk" in self.source.source else "invopop"
                schema = self._generic_option_schema(option, dialect, tool.unresolved) or schema
            elif option_name == "WithToolAnnotation" and args:
                annotations.update(self._annotation_literal(args[0], tool.unresolved))
            elif option_name in PARAM_OPTIONS and args:
                self._add_parameter(schema, PARAM_OPTIONS[option_name], args, tool.unresolved)
            else:
                tool.unresolved.append(f"options: {option_name or self._short(option)}() not read statically")
        tool.input_schema = schema
        tool.annotations = annotations or None

    def _set_annotation(
        self, annotations: dict[str, Any], key: str, node: Any, unresolved: list[str]
    ) -> None:
        try:
            annotations[key] = self.literal(node)
        except Unresolved as error:
            unresolved.append(f"annotations.{key}: {error}")

    def _read_tool_literal(self, literal: Any) -> None:
        fields = self._keyed_fields(literal)
        if "Name" not in fields:
            return
        name = self._tool_name(literal, fields["Name"])
        if name is None:
            return
        tool = Tool(name=name, origin=self.origin(literal))
        if "Description" in fields:
            tool.description = self._text(fields["Description"], "description", tool.unresolved)
        if "Title" in fields:
            tool.title = self._text(fields["Title"], "title", tool.unresolved) or None
        if "Annotations" in fields:
            tool.annotations = self._annotation_literal(fields["Annotations"], tool.unresolved) or None
        if "InputSchema" in fields:
            tool.input_schema = self._schema_value(fields["InputSchema"], tool.unresolved, literal)
        elif (handler := self._generic_handler(literal)) is not None:
            tool.input_schema = self._handler_schema(handler, "google", tool.unresolved)
        self.result.tools.append(tool)

    def _generic_handler(self, literal: Any) -> Any | None:
        """The handler of go-sdk's generic `mcp.AddTool(server, tool, handler)`, which derives the schema from it."""
        node = (
            literal.parent
            if literal.parent is not None and literal.parent.type == "unary_expression"
            else literal
        )
        parent = node.parent
        if parent is not None and parent.type == "argument_list":
            arguments = call_arguments(parent.parent)
            is_tool_argument = len(arguments) == 3 and arguments[1].start_byte == node.start_byte
            if is_tool_argument and self._callee(parent.parent.child_by_field_name("function")) == "AddTool":
                return arguments[2]
            return None
        declaration = parent.parent if parent is not None and parent.type == "expression_list" else None
        if declaration is None or declaration.type not in ("short_var_declaration", "assignment_statement"):
            return None
        variable = self.source.text(declaration.child_by_field_name("left"))
        function = enclosing_function(self.source.root, literal)
        for call in descendants(function, "call_expression") if function is not None else []:
            arguments = call_arguments(call)
            if (
                len(arguments) == 3
                and self._callee(call.child_by_field_name("function")) == "AddTool"
                and self.source.text(arguments[1]) == variable
            ):
                return arguments[2]
        return None

    def _annotation_literal(self, node: Any, unresolved: list[str]) -> dict[str, Any]:
        node = strip_address(self._resolve_local(node))
        if node.type not in ("composite_literal", "literal_value"):
            unresolved.append(f"annotations: {self._short(node)} built at run time")
            return {}
        annotations: dict[str, Any] = {}
        for key, value in self._keyed_fields(node).items():
            if key in GO_ANNOTATION_FIELDS:
                self._set_annotation(annotations, GO_ANNOTATION_FIELDS[key], value, unresolved)
        return annotations


GO_SDK = 'import "github.com/modelcontextprotocol/go-sdk/mcp"'
MCP_GO = 'import "github.com/mark3labs/mcp-go/mcp"'
TOOL_LITERAL = f"""package main

{GO_SDK}

func main() {{
\tserver := mcp.NewServer(&mcp.Implementation{{Name: "demo"}}, nil)
\tserver.AddTool(&mcp.Tool{{Name: "greet", Description: "Say hello"}}, nil)
}}
"""

NEW_TOOL = f"""package main

{MCP_GO}

var calculate = mcp.NewTool("calculate",
\tmcp.WithDescription("Do arithmetic"),
\tmcp.WithString("operation", mcp.Required(), mcp.Description("add or subtract")),
\tmcp.WithReadOnlyHintAnnotation(true),
)
"""

RAW_SCHEMA_TOOL = f"""package main

import "encoding/json"

{MCP_GO}

var raw = mcp.NewToolWithRawSchema("raw_search", "Search with a raw schema",
\tjson.RawMessage(`{{"type": "object", "properties": {{"q": {{"type": "string"}}}}}}`))
"""

WRAPPER = f"""package main

{MCP_GO}

func register(s *Server) {{
\ts.MustTool("list_notes", "List the notes", handleList, mcp.WithString("tag"))
}}
"""

IDIOMS = (
    Idiom(Reader._as_tool_literal, TOOL_LITERAL, ("greet",), "literal"),
    Idiom(Reader._as_new_tool, NEW_TOOL, ("calculate",)),
    Idiom(Reader._as_raw_schema_tool, RAW_SCHEMA_TOOL, ("raw_search",)),
    Idiom(Reader._as_wrapper, WRAPPER, ("list_notes",)),
)
