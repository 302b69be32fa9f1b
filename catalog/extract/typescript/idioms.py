"""The registrations each TypeScript SDK idiom makes (`server.tool`, `registerTool`, a tools/list
handler), read call by call, also through loops, helpers and tool classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.extract.idiom import Idiom, offer
from catalog.extract.syntax import ancestors, enclosing
from catalog.extract.typescript.project import (
    CLASS_NODES,
    FUNCTION_NODES,
    Member,
    class_name,
    contains,
    declaration_of,
    function_name,
    is_callback,
    is_method,
    is_this_member,
    iterating_call,
    list_root,
    parameter_names,
    root_identifier,
)
from catalog.extract.typescript.schemas import SchemaReader, object_schema
from catalog.extract.typescript.values import ValueReader
from catalog.models import Tool

CALL_QUERY = "(call_expression function: (member_expression property: (property_identifier) @method)) @call"


class Reader(SchemaReader, ValueReader):
    """Reads registrations in one module, resolving values through scopes, imports and other files."""

    def read_call(self, call: Any) -> None:
        function = call.child_by_field_name("function")
        method = self.module.text(function.child_by_field_name("property"))
        if method not in TOOL_METHODS:
            return
        arguments = [a for a in call.child_by_field_name("arguments").named_children if a.type != "comment"]
        offer(IDIOMS, "call", self, call, method, arguments)

    # -- the idioms (one entry each in IDIOMS) -------------------------------------------------

    def _as_register_tool(self, call: Any, method: str, arguments: list[Any]) -> bool:
        """The form: server.registerTool(name, config, callback)."""
        if method != "registerTool":
            return False
        self._with_callback(call, arguments, 3, self._read_register_tool)
        return True

    def _as_tool(self, call: Any, method: str, arguments: list[Any]) -> bool:
        """The form: server.tool(name, [description], [shape], [annotations], callback)."""
        if method != "tool":
            return False
        self._with_callback(call, arguments, 2, self._read_tool_overload)
        return True

    def _as_list_handler(self, call: Any, method: str, arguments: list[Any]) -> bool:
        """The form: a tools/list handler returning a literal tools array."""
        if method != "setRequestHandler":
            return False
        if (
            arguments
            and self.module.text(arguments[0]).endswith("ListToolsRequestSchema")
            and len(arguments) > 1
        ):
            self._read_list_handler(arguments[1])
        return True

    def _with_callback(
        self, call: Any, arguments: list[Any], least: int, read: Callable[[Any, list[Any]], None]
    ) -> None:
        """Read a registration that ends with its callback, once per binding of its name when the
        name is a loop variable or a helper's parameter."""
        if len(arguments) < least or not is_callback(arguments[-1]):
            return
        binder = self._binder(call, arguments[0])
        if binder is None:
            read(call, arguments)
            return
        for reader in binder:
            reader.read_call(call)

    def _binder(self, call: Any, name_node: Any) -> list[Reader] | None:
        """When the tool's name comes from a loop variable or a helper's parameter, one bound reader
        per element of the (static) list or per call site of the helper; None when nothing binds it."""
        if self.this_class is None and is_this_member(self.module, name_node):
            return self._per_tool_class(call)
        root = root_identifier(name_node)
        if root is None or self.module.text(root) in self.bindings:
            return None
        declared = declaration_of(self.module, root)
        if isinstance(declared, Member):  # `const { tools } = options`: bind `options`
            root = root_identifier(declared.node) or root
            if self.module.text(root) in self.bindings:
                return None
        name = self.module.text(root)
        for node in ancestors(self.module.root, call):
            if node.type == "for_in_statement" and self.module.text(node.child_by_field_name("left")) == name:
                if self.module.text(node.child_by_field_name("operator") or node) != "of":
                    return None
                return self._per_element(call, name, node.child_by_field_name("right"))
            if node.type in FUNCTION_NODES:
                parameters = parameter_names(self.module, node)
                if name in parameters:
                    return self._per_binding(call, node, parameters, parameters.index(name))
        return None

    def _per_element(self, call: Any, name: str, listed: Any) -> list[Reader]:
        elements = self.elements(listed)
        if elements is None:
            self.result.not_static(
                f"{self.origin(call)}: tool names come from {self._short(listed)}, a list built at run time; tools skipped"
            )
            return []
        return [self.bound({name: (reader, node)}, reader.origin(node)) for reader, node in elements]

    def _per_binding(self, call: Any, function: Any, parameters: list[str], index: int) -> list[Reader]:
        iterated = iterating_call(self.module, function)
        if iterated is not None:
            if index != 0:
                return []
            return self._per_element(call, parameters[0], iterated)
        helper = function_name(self.module, function)
        method = is_method(function)
        sites = self.project.calls_to(helper, method) if helper else []
        if not sites:
            self.result.not_static(
                f"{self.origin(call)}: tool name is a parameter of {helper or 'an anonymous function'}(), "
                "which is never called; tool skipped"
            )
        readers = []
        for module, site in sites:
            if module is self.module and contains(function, site):
                continue  # the helper's own body (a helper named like the SDK method it calls)
            if (
                method
                and helper in TOOL_METHODS
                and not module.text(site.child_by_field_name("function")).startswith("this.")
            ):
                continue  # `server.registerTool(...)` is the SDK, not this class's method of that name
            arguments = [
                a for a in site.child_by_field_name("arguments").named_children if a.type != "comment"
            ]
            passed = arguments[index] if index < len(arguments) else None
            binder = self.at(module)._binder(site, passed) if passed is not None else None
            callers = binder if binder is not None else [self.at(module)]
            for caller in callers:
                bindings = {p: (caller, a) for p, a in zip(parameters, arguments, strict=False)}
                readers.append(self.bound(bindings, caller.origin(site)))
        return readers

    def _per_tool_class(self, call: Any) -> list[Reader] | None:
        """A base class registering `this.name`: one reader per concrete class of its family
        (itself and every subclass) whose `name` is known statically."""
        cls = enclosing(self.module.root, call, CLASS_NODES)
        if cls is None:
            return None
        name = cls.child_by_field_name("name")
        family = [(self.module, cls)] + (self.project.descendants_of(self.module.text(name)) if name else [])
        readers = []
        for module, member in family:
            if member.type == "abstract_class_declaration":
                continue
            reader = self.make(self.module, self.bindings, "", (module, member))
            reader.call_site = f"{module.path}:{member.start_point[0] + 1}"
            if reader._this_member("name") is not None:
                readers.append(reader)
            elif not self.project.descendants_of(class_name(module, member)):
                self.result.not_static(
                    f"{reader.call_site}: tool class {class_name(module, member) or '(anonymous)'} "
                    "sets its name at run time; tool skipped"
                )
        if not readers:
            self.result.not_static(
                f"{self.origin(call)}: tool name is this.name of a class family whose names are set at run time; tool skipped"
            )
        return readers

    def _tool_name(self, call: Any, node: Any) -> str | None:
        return self._known_name(call, node)

    def _named(self, call: Any, arguments: list[Any]) -> str | None:
        """The tool name given as the first argument, when it is a string known statically."""
        return self._tool_name(call, arguments[0]) if self._looks_like_string(arguments[0]) else None

    def _read_register_tool(self, call: Any, arguments: list[Any]) -> None:
        name = self._named(call, arguments)
        if name is None:
            return
        unresolved: list[str] = []
        config = self.object_fields(arguments[1], "config", unresolved)
        tool = Tool(name=name, origin=self.origin(call), unresolved=unresolved)
        self._apply_config(tool, config, unresolved)
        self.result.tools.append(tool)

    def _read_tool_overload(self, call: Any, arguments: list[Any]) -> None:
        name = self._named(call, arguments)
        if name is None:
            return
        unresolved: list[str] = []
        tool = Tool(
            name=name, origin=self.origin(call), unresolved=unresolved, input_schema=object_schema({}, [])
        )
        rest = arguments[1:-1]
        if rest and self._looks_like_string(rest[0]):
            tool.description = self._text_or_empty(rest[0], "description", unresolved)
            rest = rest[1:]
        if rest:
            if len(rest) == 1 and self._is_annotations_object(rest[0]):
                tool.annotations = self.annotations(rest[0], unresolved)
            else:
                tool.input_schema = self.shape_schema(rest[0], unresolved)
                if len(rest) > 1:
                    tool.annotations = self.annotations(rest[1], unresolved)
        self.result.tools.append(tool)

    def _describe(self, tool: Tool, fields: dict[str, Any], unresolved: list[str]) -> None:
        """The description and title an object literal gives a tool."""
        if "description" in fields:
            tool.description = self._text_or_empty(fields["description"], "description", unresolved)
        if "title" in fields:
            tool.title = self._text_or_empty(fields["title"], "title", unresolved) or None

    def _apply_config(self, tool: Tool, config: dict[str, Any], unresolved: list[str]) -> None:
        self._describe(tool, config, unresolved)
        if "inputSchema" in config:
            tool.input_schema = self.shape_schema(config["inputSchema"], unresolved)
        else:
            tool.input_schema = object_schema({}, [])
        if "annotations" in config:
            tool.annotations = self.annotations(config["annotations"], unresolved)

    def _read_list_handler(self, handler: Any) -> None:
        target = self.resolve(handler)
        listed = self.at(target[0])._tools_arrays(target[1]) if target is not None else []
        if not listed:
            self.result.not_static(
                f"{self.origin(handler)}: tools/list handler builds its tool list at run time; not resolvable statically"
            )
        for reader, element in listed:
            reader._read_tool_literal(element)

    def _tools_arrays(self, node: Any) -> list[tuple[Reader, Any]]:
        """The elements of `tools: [...]` inside a list handler (following names, spreads, `.map`)."""
        found: list[tuple[Reader, Any]] = []
        stack = [node]
        while stack:
            current = stack.pop()
            if (
                current.type == "pair"
                and self.module.text(current.child_by_field_name("key")).strip("\"'") == "tools"
            ):
                value = current.child_by_field_name("value")
                listed = self.elements(value)
                if listed is None:
                    binder = self._binder(current, list_root(value))
                    listed = [item for reader in binder or [] for item in reader.elements(value) or []]
                found.extend(listed)
                continue
            stack.extend(reversed(current.named_children))
        return found

    def _read_tool_literal(self, element: Any) -> None:
        if element.type == "spread_element":
            target = self.resolve(element.named_children[0]) if element.named_children else None
            if target is not None and target[1].type == "array":
                for inner in target[1].named_children:
                    self.at(target[0])._read_tool_literal(inner)
            return
        target = self.resolve(element)
        if target is None or target[1].type != "object":
            self.result.not_static(
                f"{self.origin(element)}: tool built at run time; not resolvable statically"
            )
            return
        reader = self.at(target[0])
        unresolved: list[str] = []
        fields = reader.object_fields(target[1], "tool", unresolved)
        if "name" not in fields:
            self.result.not_static(f"{self.origin(element)}: tool without a literal name; tool skipped")
            return
        name = (
            self._tool_name(element, fields["name"])
            if reader is self
            else reader._tool_name(element, fields["name"])
        )
        if name is None:
            return
        tool = Tool(name=name, origin=self.origin(element), unresolved=unresolved)
        reader._describe(tool, fields, unresolved)
        if "inputSchema" in fields:
            tool.input_schema = reader.json_schema_value(fields["inputSchema"], unresolved)
            if tool.input_schema is None:
                unresolved.append("input_schema: built at run time")
        if "annotations" in fields:
            tool.annotations = reader.annotations(fields["annotations"], unresolved)
        self.result.tools.append(tool)


SERVER = """import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

const server = new McpServer({ name: "demo", version: "1.0.0" });
"""
REGISTER_TOOL = (
    SERVER
    + """
server.registerTool(
  "search_docs",
  {
    title: "Search docs",
    description: "Search the documentation.",
    inputSchema: { query: z.string().min(1) },
    annotations: { readOnlyHint: true },
  },
  async ({ query }) => ({ content: [{ type: "text", text: query }] }),
);
"""
)

TOOL = (
    SERVER
    + """
server.tool("echo", "Echo the text back", { text: z.string() }, async ({ text }) => ({ content: [] }));
server.tool("ping", async () => ({ content: [] }));
"""
)

LIST_HANDLER = """import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const server = new Server({ name: "demo", version: "1.0.0" }, { capabilities: { tools: {} } });

server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [
    {
      name: "get_time",
      description: "The current time",
      inputSchema: { type: "object", properties: { zone: { type: "string" } } },
    },
  ],
}));
"""

IDIOMS = (
    Idiom(Reader._as_register_tool, REGISTER_TOOL, ("search_docs",), triggers=("registerTool",)),
    Idiom(Reader._as_tool, TOOL, ("echo", "ping"), triggers=("tool",)),
    Idiom(Reader._as_list_handler, LIST_HANDLER, ("get_time",), triggers=("setRequestHandler",)),
)
TOOL_METHODS = {trigger for idiom in IDIOMS for trigger in idiom.triggers}
