"""Finding the subcommand that starts a console script's MCP server: when the plain entry point and the usual
forms fail, the command's own `--help` listing (click, argparse, typer, commander, cobra) is read, and the
subcommands whose name or help line says they run the server are tried, with and without `--transport stdio`.
Also the one line that says why nothing worked: the error of a form that did start, not a line of help."""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.models import CatalogError

MAX_SUBCOMMANDS = 2
MAX_FORMS = 5
HELP_TIMEOUT = 30

_HEADER = re.compile(r"^(available |sub)?commands:?$|^positional arguments:?$", re.IGNORECASE)
_BOX = "│┃║|╭╮╰╯─━┌┐└┘"
_ENTRY = re.compile(r"^(\s+)([A-Za-z][\w:.-]*)((?:\s+[\[<][^\]>]*[\]>])*)(?:\s{2,}(\S.*))?$")
_CHOICES = re.compile(r"^\s+\{([\w.,:-]+)\}")
_RUNS = re.compile(r"\b(run|runs|start|starts|launch|launches|serve|serves|host|hosts)\b", re.IGNORECASE)
_SERVER = re.compile(r"\b(mcp|server|stdio)\b", re.IGNORECASE)
_SERVER_NAMES = {
    "serve",
    "server",
    "start",
    "run",
    "stdio",
    "mcp",
    "run-server",
    "start-server",
    "mcp-server",
}
# What a CLI prints when it was given a form it does not know (or none): the form was wrong, not the server.
USAGE_ERROR = re.compile(
    r"usage:|no such (command|option)|unknown (command|option|argument)|unrecognized arguments?|invalid choice"
    r"|missing (command|argument)|unexpected (extra )?argument|got unexpected|too many arguments"
    r"|requires? an argument|error: argument|subcommand|the following arguments are required",
    re.IGNORECASE,
)


@dataclass
class Subcommand:
    name: str
    help: str


def listed(text: str) -> list[Subcommand]:
    """The subcommands a help text lists (in its Commands / positional arguments section)."""
    found: dict[str, Subcommand] = {}
    in_section, indent = False, None
    for raw in text.splitlines():
        line = _unboxed(raw)
        if _HEADER.match(line.strip(_BOX + " ")):
            in_section, indent = True, None
            continue
        if not in_section:
            continue
        if not line.strip():
            in_section = indent is None  # a blank line ends the section, unless it follows the header
            continue
        if not line[:1].isspace():
            in_section = False
            continue
        choices = _CHOICES.match(line)
        if choices:
            for name in choices.group(1).split(","):
                found.setdefault(name, Subcommand(name, ""))
            continue
        entry = _ENTRY.match(line)
        if entry is None:
            continue
        if indent is None:
            indent = len(entry.group(1))
        if len(entry.group(1)) != indent:
            continue
        name, description = entry.group(2), (entry.group(4) or "").strip()
        if name not in found or not found[name].help:
            found[name] = Subcommand(name, description)
    return [sub for sub in found.values() if sub.name not in ("help", "version", "completion")]


def _unboxed(line: str) -> str:
    """A rich (typer) panel line without its borders, kept indented."""
    stripped = line.strip()
    if stripped[:1] in "│┃║" and stripped[-1:] in "│┃║":
        return " " + stripped[1:-1].rstrip()
    return line.rstrip()


def _score(sub: Subcommand) -> int:
    """2 when its help says it runs a server, +1 when its name is one a server's command usually has."""
    says = 2 if _RUNS.search(sub.help) and _SERVER.search(sub.help) else 0
    return says + (1 if sub.name.lower() in _SERVER_NAMES else 0)


def server_forms(subcommands: list[Subcommand], tried: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The forms to try, best first: the MAX_SUBCOMMANDS subcommands that most look like they start the
    server, each with `--transport stdio`, with `stdio`, and plain; forms already tried are left out."""
    ranked = sorted((sub for sub in subcommands if _score(sub) > 0), key=_score, reverse=True)
    forms: list[tuple[str, ...]] = []
    for sub in ranked[:MAX_SUBCOMMANDS]:
        for form in ((sub.name, "--transport", "stdio"), (sub.name, "stdio"), (sub.name,)):
            if form not in tried and form not in forms:
                forms.append(form)
    return forms[:MAX_FORMS]


def help_listing(
    command: list[str], env: dict[str, str], binds: list[str], cwd: str | None, use_sandbox: bool
) -> list[Subcommand]:
    """The subcommands `COMMAND --help` lists, run like the server (sandboxed, no network); [] when it lists
    none or does not finish."""
    from catalog import sandbox

    try:
        done = sandbox.run(
            [*command, "--help"], env, binds=binds, cwd=cwd, enabled=use_sandbox, timeout=HELP_TIMEOUT
        )
    except CatalogError:
        return []
    return listed(done.stdout + "\n" + done.stderr)


def is_usage_error(error: CatalogError) -> bool:
    return bool(USAGE_ERROR.search(str(error)))


def failure(
    first: CatalogError, attempts: list[tuple[tuple[str, ...], CatalogError]], subcommands: list[Subcommand]
) -> CatalogError:
    """Why no form worked. When the plain command printed its help (it lists subcommands) or a usage error,
    the error of the first form that got past the command line is the cause; else the plain command's own."""
    tried = ", ".join(" ".join(form) for form, _ in attempts)
    if not subcommands and not is_usage_error(first):
        return CatalogError(f"{first} (also tried: {tried})", kind=first.kind)
    started = [(form, error) for form, error in attempts if not is_usage_error(error)]
    printed = "printed its help" if subcommands else "printed a usage error"
    if started:
        form, error = started[0]
        return CatalogError(
            f"started as '{' '.join(form)}': {error} (without it the command {printed}; also tried: {tried})",
            kind=error.kind,
        )
    if not subcommands:
        return CatalogError(f"{first} (also tried: {tried})", kind=first.kind)
    names = ", ".join(sub.name for sub in subcommands[:12])
    return CatalogError(
        f"the command {printed} instead of serving MCP (its subcommands: {names}); none of the forms tried"
        f" started a server: {tried}",
        kind=first.kind,
    )
