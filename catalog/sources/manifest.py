"""A `.json` file: a tools/list result, an MCPB manifest, a registry server.json, or a client config."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from catalog import safejson
from catalog.extract import manifests
from catalog.models import CatalogError, ServerRef
from catalog.sources import ResolveOptions, Target


def load_json(path: Path) -> Any:
    """A JSON file read as hostile input: any size, nesting or encoding problem is one usage error."""
    return safejson.load(path, kind="usage")


def resolve(path: Path, options: ResolveOptions) -> list[Target]:
    parsed = safejson.parse_file(path, kind="usage")  # tools are checked one by one: bad ones dropped
    document = parsed.value
    if isinstance(document, dict) and isinstance(document.get("mcpServers") or document.get("servers"), dict):
        return client_config_targets(safejson.loads_checked(parsed, str(path)), str(path), options)
    if manifests.is_mcpb_manifest(document):
        return [_mcpb_target(document, path, options, parsed.problem_in)]
    if isinstance(document, dict) and ("packages" in document or "remotes" in document):
        return [server_json_target(safejson.loads_checked(parsed, str(path)), str(path), options)]
    items = manifests.tools_list_items(document)
    if items is not None:
        return [_tools_list_target(items, path, options, parsed.problem_in)]
    raise CatalogError(
        f"{path}: not a tools/list result, MCPB manifest, server.json or client config (mcpServers)",
        kind="usage",
    )


def _tools_list_target(
    items: list[Any], path: Path, options: ResolveOptions, problem_in: manifests.ProblemFn = None
) -> Target:
    tools, problems = manifests.parse_tools(items, origin=path.name, problem_in=problem_in)
    return Target(
        server=options.file_server(path, "json", f"file:{path.stem}"),
        route=f"tools/list result in {path}",
        tools=tools,
        warnings=problems,
    )


def _mcpb_target(
    document: dict[str, Any], path: Path, options: ResolveOptions, problem_in: manifests.ProblemFn = None
) -> Target:
    items, notes = manifests.mcpb_tools(document)
    tools, problems = manifests.parse_tools(items, origin=path.name, problem_in=problem_in)
    name = options.name or str(document.get("name") or path.parent.name)
    return Target(
        server=ServerRef(id=name, source=str(path), kind="json", name=document.get("display_name") or name),
        route=f"MCPB manifest {path}",
        version=str(document.get("version") or "") or None,
        tools=tools,
        warnings=notes + problems,
    )


# -- client configs (Claude Desktop, .mcp.json, Cursor: mcpServers; VS Code: servers) -------------------


def client_config_targets(document: dict[str, Any], source: str, options: ResolveOptions) -> list[Target]:
    entries = document.get("mcpServers") or document.get("servers") or {}
    targets = []
    for key, entry in entries.items():
        if not isinstance(entry, dict):
            raise CatalogError(f"{source}: server {key!r} is not an object", kind="usage")
        targets.append(config_entry_target(key, entry, source, options))
    if not targets:
        raise CatalogError(f"{source}: the client config names no servers", kind="usage")
    return targets


def config_entry_target(key: str, entry: dict[str, Any], source: str, options: ResolveOptions) -> Target:
    """One configured server, run as configured; its env values are passed but never stored."""
    from catalog import redact

    ref = ServerRef(id=key, source=f"{source}#{key}", kind="config", name=key)
    headers = entry.get("headers")
    if isinstance(headers, dict):
        redact.remember_headers({str(k): str(v) for k, v in headers.items()})
    if isinstance(entry.get("env"), dict):
        redact.remember_env({str(k): str(v) for k, v in entry["env"].items() if not _is_placeholder(str(v))})
    redact.remember_command([str(a) for a in entry.get("args") or [] if isinstance(a, str | int)])
    if isinstance(entry.get("url"), str):
        redact.remember(redact.secrets_in_url(entry["url"]))
    env = {str(k): str(v) for k, v in (entry.get("env") or {}).items() if not _is_placeholder(str(v))}
    env.update(options.env)
    if isinstance(entry.get("url"), str):
        return Target(
            server=ref,
            route=f"configured remote server {entry['url']}",
            url=entry["url"],
            headers={str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else None,
            env=env,
        )
    command = entry.get("command")
    if not isinstance(command, str) or not command:
        raise CatalogError(f"{source}: server {key!r} has neither command nor url", kind="usage")
    args = [str(a) for a in entry.get("args") or []]
    return Target(
        server=ref,
        route=f"configured command over stdio: {command} {' '.join(args)}".strip(),
        command=[command, *args],
        env=env,
    )


def _is_placeholder(value: str) -> bool:
    return bool(re.fullmatch(r"\$\{[^}]*\}", value.strip()))


# -- registry server.json ------------------------------------------------------------------------------


def server_json_target(document: dict[str, Any], source: str, options: ResolveOptions) -> Target:
    """A registry entry lists no tools: crawl its first pypi/npm package, else its first remote."""
    from catalog.sources import npm, pypi

    name = str(document.get("name") or "")
    for package in document.get("packages") or []:
        if not isinstance(package, dict):
            continue
        registry = package.get("registryType") or package.get("registry_type") or package.get("registry_name")
        identifier = package.get("identifier") or package.get("name")
        version = package.get("version")
        if not isinstance(identifier, str):
            continue
        if registry == "pypi":
            spec = f"{identifier}=={version}" if version else identifier
            target = pypi.resolve(
                spec, options, server_id=options.name or f"pypi:{pypi.normalize(identifier)}"
            )
        elif registry == "npm":
            spec = f"{identifier}@{version}" if version else identifier
            target = npm.resolve(spec, options, server_id=options.name or f"npm:{identifier}")
        else:
            continue
        target.route = f"server.json {name}: {target.route}"
        return target
    for remote in document.get("remotes") or []:
        if isinstance(remote, dict) and isinstance(remote.get("url"), str):
            ref = ServerRef(
                id=options.name or name or remote["url"], source=source, kind="url", name=name or None
            )
            return Target(
                server=ref,
                route=f"server.json {name}: remote {remote['url']}",
                url=remote["url"],
                env=dict(options.env),
            )
    raise CatalogError(
        f"{source}: server.json {name!r} has no pypi/npm package or remote to crawl", kind="unsupported"
    )
