"""The environment variables a server reads, found by reading its files as text (never running them), and
harmless placeholder values that let it start inside the no-network sandbox.

Sources: `os.environ[...]`, `os.environ.get`, `os.getenv`, pydantic settings classes (field names with
their `env_prefix`), `process.env.X` / `env.X` (an environment handed around) / `process.env["X"]` /
`const {X} = process.env`, zod schemas the environment is parsed with (with a value each required name's type
accepts), the `environmentVariables` of a server.json or the `env` of an MCP bundle manifest; the variables
of cloud SDKs installed with the package; and the names a server's own error output mentions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FILES = 5000
NAME = r"([A-Z][A-Z0-9_]{1,63})"
_PY_READS = re.compile(
    r"""(?:os\.)?environ\s*\[\s*["']""" + NAME + r"""["']\s*\]"""
    r"""|(?:os\.)?environ\.(?:get|pop|setdefault)\(\s*["']""" + NAME + r"""["']"""
    r"""|(?:os\.)?getenv\(\s*["']""" + NAME + r"""["']"""
)
# `process.env.X`, and `env.X` where the environment was handed around (`const env = opts.env ?? process.env`).
_JS_READS = re.compile(r"""\benv\.""" + NAME + r"""\b|\benv\[\s*["'`]""" + NAME + r"""["'`]\s*\]""")
# A zod schema the environment is parsed with: `NAME: z.string()`, `NAME: z.enum(["a", "b"])`, ...
_ZOD_KEY = re.compile(r"^[ \t]*" + NAME + r"\s*:\s*z\s*\.", re.M)
_QUOTED = re.compile(r"""["'`]([^"'`\n]{0,200})["'`]""")
_JS_DESTRUCTURE = re.compile(r"\{([^{}]{1,2000})\}\s*=\s*process\.env\b")
_SETTINGS_CLASS = re.compile(r"^class\s+\w+\s*\(\s*(?:\w+\.)*BaseSettings\s*\)\s*:\s*$", re.M)
_FIELD = re.compile(r"^(\s+)([a-z_][a-z0-9_]*)\s*:\s*[^=\n]+?(=.*)?$")
_ENV_PREFIX = re.compile(r"""env_prefix\s*=\s*["']([A-Za-z0-9_]*)["']""")
# Names that change how a server runs (not what it needs to start), or that the sandbox sets itself: a
# placeholder there would filter its tools (`X_TOOLS`, `TOOL_PREFIX`), break a parser (`X_HEADERS` as JSON,
# `X_CONFIG_B64`, a number of milliseconds) or switch a behaviour on (`X_REQUIRE_SITE_ID`, `X_STRICT`).
_LEAVE_UNSET = re.compile(
    r"^(PATH|HOME|USER|SHELL|TERM|LANG|TZ|PWD|TMPDIR|TEMP|TMP|CI|DEBUG|VERBOSE|NODE_ENV|ENV|ENVIRONMENT"
    r"|PORT|HOST|HOSTNAME|LOG_LEVEL|LOGLEVEL|TRANSPORT|MCP_TRANSPORT|NO_COLOR|FORCE_COLOR|TOOLS|TOOLSETS?)$"
    r"|^(LC_|XDG_|NODE_|NPM_|PYTHON|UV_|PIP_|VIRTUAL_ENV|CONDA|HTTP_PROXY|HTTPS_PROXY|NO_PROXY|SSL_|REQUESTS_CA"
    r"|TERM_|OTEL_)"
    r"|(_PORT|_TRANSPORT|_MODE|_DEBUG|_LEVEL|_VERBOSE|_DIR|_PATH|_FILE|_HOME|_TIMEOUT|_ENABLED|_DISABLED"
    r"|_READ_ONLY|_READONLY|_TOOLS|_TOOLSETS?|_PREFIX|_SUFFIX|_HEADERS|_B64|_BASE64|_JSON|_CONFIG|_FORMAT"
    r"|_CERT|_ARGS|_OPTIONS|_FEATURES|_SCOPES|_VERSION|_MS|_SECONDS|_BYTES|_MB|_CHARS|_TTL|_LIMIT|_SIZE"
    r"|_COUNT|_INSECURE|_ROLE)$"
    r"|(^|_)(REQUIRE|DISABLE|ENABLE|STRICT|ALLOW|DENY|SKIP|OPT|EXCLUDE|INCLUDE|MAX|MIN)(_|$)"
)
# Names for what a server needs to reach its service (a key, a token, an address, an account): the ones a
# server typically refuses to start without, tried before placeholders for everything it reads.
_NEEDED = re.compile(
    r"(^|_)(API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PAT|CREDENTIALS?|URL|URI|ENDPOINT|HOST|SERVER"
    r"|DOMAIN|USER|USERNAME|LOGIN|EMAIL|ACCOUNT|ORG|ORGANIZATION|TENANT|WORKSPACE|PROJECT|REGION|SITE"
    r"|DATASET|DATABASE|SUBSCRIPTION|((CLIENT|ORG|PROJECT|ACCOUNT|TENANT|WORKSPACE|SITE|TEAM|APP|USER|KEY"
    r"|SPACE|DATABASE|INSTANCE|SUBSCRIPTION|ACCESS_KEY)_ID))$"
)
# A file of OAuth client or service credentials (its path is what the variable holds).
_CREDENTIALS_FILE = re.compile(r"CREDENTIALS$|CREDENTIALS_(FILE|PATH)$|SERVICE_ACCOUNT(_KEY)?_(FILE|PATH)$")
# Names the runtime or a library prints that are not variables (Node's error codes, errno-like words).
_NOT_A_VARIABLE = re.compile(r"^ERR_|_NOT_FOUND$|_ERROR$|_FAILED$|_EXCEPTION$|^MODULE_|^HTTP_\d")
_MENTIONED = re.compile(r"(?<![\w<>{$])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![\w<>}])")

# The variables of cloud SDKs a package depends on (found installed next to it), read by the SDK itself
# where the package's own files do not name them; the values work offline (an SDK checks them lazily).
SDK_VARIABLES: dict[str, dict[str, str]] = {
    "botocore": {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                 "AWS_ACCESS_KEY_ID": "placeholder", "AWS_SECRET_ACCESS_KEY": "placeholder"},
    "@aws-sdk": {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "placeholder",
                 "AWS_SECRET_ACCESS_KEY": "placeholder"},
    "google/auth": {"GOOGLE_CLOUD_PROJECT": "placeholder", "GOOGLE_APPLICATION_CREDENTIALS": ""},
    "google-auth-library": {"GOOGLE_CLOUD_PROJECT": "placeholder", "GOOGLE_APPLICATION_CREDENTIALS": ""},
    "azure/identity": {"AZURE_TENANT_ID": "placeholder", "AZURE_CLIENT_ID": "placeholder",
                       "AZURE_CLIENT_SECRET": "placeholder", "AZURE_SUBSCRIPTION_ID": "placeholder"},
    "@azure/identity": {"AZURE_TENANT_ID": "placeholder", "AZURE_CLIENT_ID": "placeholder",
                        "AZURE_CLIENT_SECRET": "placeholder", "AZURE_SUBSCRIPTION_ID": "placeholder"},
}  # fmt: skip
# The contents of the placeholder credentials file: an OAuth client ("installed") and an authorized user in
# one, which the Google client libraries (and most hand-written loaders) accept without asking anyone.
CREDENTIALS_JSON = {
    "type": "authorized_user",
    "client_id": "placeholder.apps.example.invalid",
    "client_secret": "placeholder",
    "refresh_token": "placeholder",
    "project_id": "placeholder",
    "installed": {
        "client_id": "placeholder.apps.example.invalid",
        "client_secret": "placeholder",
        "project_id": "placeholder",
        "redirect_uris": ["http://127.0.0.1:9/"],
        "auth_uri": "http://127.0.0.1:9/auth",
        "token_uri": "http://127.0.0.1:9/token",
    },
}


@dataclass
class Reads:
    """What a package's files say about its environment: every name read (first-seen order), and the
    values a schema fixes for the names it requires (a zod enum's first member, a literal, a number)."""

    names: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)


def read_files(files: Iterable[Path]) -> Reads:
    """The variables the files read (names only, from text; nothing runs)."""
    found: dict[str, None] = {}
    values: dict[str, str] = {}
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
        if path.name.endswith(_JS_SUFFIXES):
            for name, value in _zod_required(text).items():
                found.setdefault(name, None)
                values.setdefault(name, value)
    return Reads(list(found), values)


def names_in_files(files: Iterable[Path]) -> list[str]:
    """Every variable name the files read, in first-seen order."""
    return read_files(files).names


def names_in_text(text: str, filename: str) -> list[str]:
    names: list[str] = []
    if filename in ("server.json", "manifest.json"):
        return _manifest_names(text)
    if filename.endswith((".py", ".pyi")):
        names += [next(g for g in match.groups() if g) for match in _PY_READS.finditer(text)]
        names += _settings_names(text)
    elif filename.endswith(_JS_SUFFIXES):
        names += [next(g for g in match.groups() if g) for match in _JS_READS.finditer(text)]
        for match in _JS_DESTRUCTURE.finditer(text):
            for part in match.group(1).split(","):
                key = part.split(":")[0].split("=")[0].strip()
                if re.fullmatch(NAME, key):
                    names.append(key)
    return names


_JS_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")


def _zod_required(text: str) -> dict[str, str]:
    """`NAME: z.enum(["a", "b"])` and the like in a schema the environment is parsed with: each name that is
    neither optional nor defaulted, with a value its type accepts (first enum member, the literal, 1, false,
    else the placeholder its name gets)."""
    keys = list(_ZOD_KEY.finditer(text))
    values: dict[str, str] = {}
    for number, match in enumerate(keys):
        end = keys[number + 1].start() if number + 1 < len(keys) else len(text)
        chain = text[match.end() : min(end, match.end() + 400)]
        chain = re.split(r"\n\s*[})]", chain, maxsplit=1)[0]
        name = match.group(1)
        if ".optional(" in chain or ".default(" in chain or ".nullish(" in chain or name in values:
            continue
        quoted = _QUOTED.search(chain)
        if chain.lstrip().startswith(("enum(", "literal(", "nativeEnum(")) and quoted:
            values[name] = quoted.group(1)
        elif re.match(r"\s*(coerce\s*\.\s*)?number\(", chain):
            values[name] = "1"
        elif re.match(r"\s*(coerce\s*\.\s*)?boolean\(", chain):
            values[name] = "false"
        elif re.match(r"\s*string\(\s*\)\s*\.\s*url\(", chain):
            values[name] = "http://127.0.0.1:9/"
        elif re.match(r"\s*string\(", chain):
            values[name] = placeholder_for(name)
    return values


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


def placeholders(
    names: Iterable[str],
    given: dict[str, str],
    values: dict[str, str] | None = None,
    credentials_file: str = "",
) -> dict[str, str]:
    """Harmless values for the names a server reads that are not given and do not steer how it runs:
    the value a schema fixes (`values`), URLs at a closed loopback port, credentials files at
    `credentials_file`, everything else a plain placeholder word."""
    chosen: dict[str, str] = {}
    for name in names:
        if name in given or name in chosen:
            continue
        if values and values.get(name):
            chosen[name] = values[name]
        elif _LEAVE_UNSET.search(name):
            continue
        elif _CREDENTIALS_FILE.search(name):
            if credentials_file:
                chosen[name] = credentials_file
        else:
            chosen[name] = placeholder_for(name)
    return chosen


def placeholder_for(name: str) -> str:
    if re.search(r"(URL|URI|ENDPOINT)$", name):
        return "http://127.0.0.1:9/"
    if re.search(r"(HOST|SERVER)$", name):
        return "127.0.0.1"
    if name.endswith("REGION"):
        return "us-east-1"
    if name.endswith("DOMAIN"):
        return "example.invalid"
    if name.endswith("EMAIL"):
        return "placeholder@example.invalid"
    if re.search(r"(KEY|SECRET|TOKEN|PASSWORD)$", name):
        return SECRET_PLACEHOLDER
    return "placeholder"


# A secret's placeholder: 32 bytes in URL-safe base64 ("catalog-placeholder-secret-32byt"), which passes the
# usual shape checks on secrets (a minimum length, a Fernet or HMAC key) while meaning nothing.
SECRET_PLACEHOLDER = "Y2F0YWxvZy1wbGFjZWhvbGRlci1zZWNyZXQtMzJieXQ="


def needed(names: Iterable[str]) -> list[str]:
    """The names that look like what a server needs to reach its service (keys, tokens, addresses,
    accounts), in order: tried before placeholders for every name it reads."""
    return [name for name in names if _NEEDED.search(name) and not _LEAVE_UNSET.search(name)]


def mentioned(output: str) -> list[str]:
    """Variable-like names a server's own output mentions ("Set ACME_API_KEY", "ACME_URL is not set"),
    in first-seen order."""
    names = dict.fromkeys(m.group(1) for m in _MENTIONED.finditer(output[-20_000:]))
    return [name for name in names if not _NOT_A_VARIABLE.search(name) and len(name) <= 64]


def sdk_variables(installed: Path) -> dict[str, str]:
    """The variables (with offline values) of the cloud SDKs installed in `installed` (a site-packages or
    node_modules folder); an empty value marks a credentials file."""
    found: dict[str, str] = {}
    for folder, variables in SDK_VARIABLES.items():
        if (installed / folder).is_dir():
            for name, value in variables.items():
                found.setdefault(name, value)
    return found


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
