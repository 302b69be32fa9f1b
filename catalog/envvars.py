"""The environment variables a server reads, found by reading its files as text (never running them), and
harmless placeholder values that let it start inside the no-network sandbox.

Sources: `os.environ[...]`, `os.environ.get`, `os.getenv`, pydantic settings classes (field names with
their `env_prefix`), `process.env.X` / `process.env["X"]` / `const {X} = process.env`, and the
`environmentVariables` of a server.json or the `env` of an MCP bundle manifest."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FILES = 5000
NAME = r"([A-Z][A-Z0-9_]{1,63})"
_PY_READS = re.compile(
    r"""(?:os\.)?environ\s*\[\s*["']""" + NAME + r"""["']\s*\]"""
    r"""|(?:os\.)?environ\.(?:get|pop|setdefault)\(\s*["']""" + NAME + r"""["']"""
    r"""|(?:os\.)?getenv\(\s*["']""" + NAME + r"""["']"""
)
_JS_READS = re.compile(
    r"""process\.env\.""" + NAME + r"""\b|process\.env\[\s*["'`]""" + NAME + r"""["'`]\s*\]"""
)
_JS_DESTRUCTURE = re.compile(r"\{([^{}]{1,2000})\}\s*=\s*process\.env\b")
_SETTINGS_CLASS = re.compile(r"^class\s+\w+\s*\(\s*(?:\w+\.)*BaseSettings\s*\)\s*:\s*$", re.M)
_FIELD = re.compile(r"^(\s+)([a-z_][a-z0-9_]*)\s*:\s*[^=\n]+?(=.*)?$")
_ENV_PREFIX = re.compile(r"""env_prefix\s*=\s*["']([A-Za-z0-9_]*)["']""")
# Names that change how a server runs (not what it needs to start), or that the sandbox sets itself.
_LEAVE_UNSET = re.compile(
    r"^(PATH|HOME|USER|SHELL|TERM|LANG|TZ|PWD|TMPDIR|TEMP|TMP|CI|DEBUG|VERBOSE|NODE_ENV|ENV|ENVIRONMENT"
    r"|PORT|HOST|HOSTNAME|LOG_LEVEL|LOGLEVEL|TRANSPORT|MCP_TRANSPORT|NO_COLOR|FORCE_COLOR)$"
    r"|^(LC_|XDG_|NODE_|NPM_|PYTHON|UV_|PIP_|VIRTUAL_ENV|CONDA|HTTP_PROXY|HTTPS_PROXY|NO_PROXY|SSL_|REQUESTS_CA)"
    r"|(_PORT|_TRANSPORT|_MODE|_DEBUG|_LOG_LEVEL|_VERBOSE|_DIR|_PATH|_FILE|_HOME|_TIMEOUT|_ENABLED|_DISABLED"
    r"|_READ_ONLY|_READONLY)$"
)


def names_in_files(files: Iterable[Path]) -> list[str]:
    """Every variable name the files read, in first-seen order (names only, from text; nothing runs)."""
    found: dict[str, None] = {}
    for count, path in enumerate(files):
        if count >= MAX_FILES:
            break
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for name in names_in_text(text, path.name):
            found.setdefault(name, None)
    return list(found)


def names_in_text(text: str, filename: str) -> list[str]:
    names: list[str] = []
    if filename in ("server.json", "manifest.json"):
        return _manifest_names(text)
    if filename.endswith((".py", ".pyi")):
        names += [next(g for g in match.groups() if g) for match in _PY_READS.finditer(text)]
        names += _settings_names(text)
    elif filename.endswith((".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")):
        names += [next(g for g in match.groups() if g) for match in _JS_READS.finditer(text)]
        for match in _JS_DESTRUCTURE.finditer(text):
            for part in match.group(1).split(","):
                key = part.split(":")[0].split("=")[0].strip()
                if re.fullmatch(NAME, key):
                    names.append(key)
    return names


def _settings_names(text: str) -> list[str]:
    """Field names of pydantic BaseSettings classes, upper-cased with the class's env_prefix."""
    names: list[str] = []
    for match in _SETTINGS_CLASS.finditer(text):
        body: list[str] = []
        indent: str | None = None
        for line in text[match.end() :].splitlines()[1:400]:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            current = line[: len(line) - len(line.lstrip())]
            if indent is None:
                indent = current
            if not current or len(current) < len(indent):
                break
            body.append(line)
        prefix_match = _ENV_PREFIX.search("\n".join(body))
        prefix = prefix_match.group(1) if prefix_match else ""
        for line in body:
            field = _FIELD.match(line)
            if field and field.group(1) == indent and field.group(2) != "model_config":
                names.append(f"{prefix}{field.group(2)}".upper())
    return names


def _manifest_names(text: str) -> list[str]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    names: list[str] = []
    if not isinstance(data, dict):
        return names
    for package in data.get("packages") or []:  # server.json
        for variable in (package.get("environmentVariables") or []) if isinstance(package, dict) else []:
            if isinstance(variable, dict) and isinstance(variable.get("name"), str):
                names.append(variable["name"])
    config = (data.get("server") or {}).get("mcp_config") if isinstance(data.get("server"), dict) else None
    env = config.get("env") if isinstance(config, dict) else None  # MCP bundle manifest
    if isinstance(env, dict):
        names += [key for key in env if isinstance(key, str)]
    return [name for name in names if re.fullmatch(NAME, name)]


def placeholders(names: Iterable[str], given: dict[str, str]) -> dict[str, str]:
    """Harmless values for the names a server reads that are not given and do not steer how it runs:
    URLs point at a closed loopback port, everything else is a plain placeholder word."""
    values: dict[str, str] = {}
    for name in names:
        if name in given or _LEAVE_UNSET.search(name):
            continue
        if re.search(r"(URL|URI|ENDPOINT)$", name):
            values[name] = "http://127.0.0.1:9/"
        elif re.search(r"(HOST|SERVER)$", name):
            values[name] = "127.0.0.1"
        elif name.endswith("EMAIL"):
            values[name] = "placeholder@example.invalid"
        else:
            values[name] = "placeholder"
    return values


SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")


def package_files(root: Path, limit: int = MAX_FILES) -> list[Path]:
    """The source and manifest files of one installed package folder (nested node_modules skipped)."""
    import os

    found: list[Path] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in ("node_modules", "__pycache__", ".git"))
        for name in sorted(files):
            if name.endswith(SOURCE_SUFFIXES) or name in ("server.json", "manifest.json"):
                found.append(Path(folder) / name)
                if len(found) >= limit:
                    return found
    return found
