"""A small JSON-RPC 2.0 client over a child process's stdin/stdout: newline framing, bounded messages,
and lenient decoding, so one odd tool (deep nesting, lone surrogates, NUL bytes, duplicate keys) is
named instead of hiding the whole answer, and the server's own error message is kept."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 100  # nesting allowed inside one listed item (a tool, its schema included)
_CUT_DEPTH = MAX_DEPTH + 8  # in a whole message: envelope, result, list and item come first
TOO_DEEP = "\x00catalog:nested-too-deep"
DUPLICATE_KEYS = "\x00catalog:duplicate-keys"
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")
_CLOSED = object()
_OVERSIZED = object()


class RpcError(Exception):
    """The server answered a request with a JSON-RPC error."""

    def __init__(self, method: str, code: Any, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message} (JSON-RPC error {code})")
        self.method, self.code, self.message, self.data = method, code, message, data


class PeerClosed(Exception):
    """The server closed its stdout (it exited) before answering."""


class PeerTimeout(Exception):
    """No answer before the deadline."""


class MessageTooLarge(Exception):
    """The answer was larger than MAX_MESSAGE_BYTES and was dropped."""


@dataclass
class Peer:
    """A started server process and the thread that reads its stdout."""

    process: subprocess.Popen[bytes]
    noise: list[str] = field(default_factory=list)  # stdout lines that were not JSON-RPC (first few)
    _inbox: queue.Queue[Any] = field(default_factory=queue.Queue)
    bytes_read: int = 0
    _next_id: int = 0
    # asked about twice a second while a request waits: True ends the wait early (as a timeout), e.g. when
    # the server's stderr says it serves HTTP and nothing has come on stdout
    give_up: Callable[[], bool] | None = None

    @classmethod
    def start(cls, command: list[str], cwd: str | None, errlog: IO[Any]) -> Peer:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errlog,
            cwd=cwd,
            start_new_session=True,
        )
        peer = cls(process)
        threading.Thread(target=peer._read, daemon=True, name="mcp-stdout").start()
        return peer

    def request(self, method: str, params: dict[str, Any] | None, deadline: float) -> Any:
        """Send a request and return its result; raises RpcError, PeerClosed, PeerTimeout or
        MessageTooLarge."""
        self._next_id += 1
        request_id = self._next_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PeerTimeout(method)
            try:
                incoming = self._inbox.get(timeout=min(remaining, 0.5) if self.give_up else remaining)
            except queue.Empty:
                if self.give_up is not None and self.give_up():
                    raise PeerTimeout(method) from None
                continue
            if incoming is _CLOSED:
                self._inbox.put(_CLOSED)  # later requests see it too
                raise PeerClosed(method)
            if incoming is _OVERSIZED:  # one request at a time: the oversized message was its answer
                raise MessageTooLarge(method)
            if "method" in incoming:
                self._answer_server_request(incoming)
                continue
            if incoming.get("id") != request_id:
                continue
            error = incoming.get("error")
            if error is not None:
                if not isinstance(error, dict):
                    error = {"message": str(error)}
                raise RpcError(method, error.get("code"), str(error.get("message") or "no message"), error.get("data"))
            return incoming.get("result")

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)

    def close_input(self) -> None:
        try:
            if self.process.stdin:
                self.process.stdin.close()
        except OSError:
            pass

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass  # the server is gone; the reader reports it

    def _answer_server_request(self, incoming: dict[str, Any]) -> None:
        """Requests from the server (roots, sampling, ping): we offer none of them."""
        if "id" not in incoming:
            return
        if incoming.get("method") == "ping":
            self._send({"jsonrpc": "2.0", "id": incoming["id"], "result": {}})
            return
        error = {"code": -32601, "message": "not supported by this client"}
        self._send({"jsonrpc": "2.0", "id": incoming["id"], "error": error})

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        try:
            while True:
                line = stream.readline(MAX_MESSAGE_BYTES + 1)
                if not line:
                    break
                self.bytes_read += len(line)
                if len(line) > MAX_MESSAGE_BYTES and not line.endswith(b"\n"):
                    while line and not line.endswith(b"\n"):
                        line = stream.readline(1024 * 1024)
                        self.bytes_read += len(line)
                    self._inbox.put(_OVERSIZED)
                    continue
                self._take(line)
        except (OSError, ValueError):
            pass
        finally:
            self._inbox.put(_CLOSED)

    def _take(self, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace").strip()
        if not text:
            return
        try:
            message = decode(text)
        except ValueError:
            message = None
        if isinstance(message, dict) and message.get("jsonrpc") == "2.0":
            self._inbox.put(message)
        elif len(self.noise) < 5:
            self.noise.append(text[:120])


def decode(text: str) -> Any:
    """JSON with duplicate keys noted (under DUPLICATE_KEYS) and subtrees nested too deep replaced by
    the TOO_DEEP marker, instead of failing the whole message."""
    try:
        return json.loads(text, object_pairs_hook=_object)
    except RecursionError:
        return json.loads(_cut_deep(text), object_pairs_hook=_object)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) < len(pairs):
        seen: set[str] = set()
        found[DUPLICATE_KEYS] = sorted({k for k, _ in pairs if k in seen or seen.add(k)})  # type: ignore[func-returns-value]
    return found


def _cut_deep(text: str) -> str:
    """Replace every array or object that starts deeper than _CUT_DEPTH with the TOO_DEEP string."""
    pieces: list[str] = []
    depth, copied, cut_start = 0, 0, -1
    for token in _TOKENS.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth == _CUT_DEPTH + 1 and cut_start < 0:
                cut_start = token.start()
        elif char in "]}":
            depth -= 1
            if depth == _CUT_DEPTH and cut_start >= 0:
                pieces += [text[copied:cut_start], json.dumps(TOO_DEEP)]
                copied, cut_start = token.end(), -1
    pieces.append(text[copied:])
    return "".join(pieces)


def item_problem(item: Any) -> str | None:
    """Why one listed item cannot be stored as it is: nesting, a lone surrogate, a NUL character or a
    duplicate key anywhere inside it; None when it is fine. Walks iteratively (no recursion)."""
    stack: list[tuple[Any, int]] = [(item, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH or value == TOO_DEEP:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, str):
            problem = _string_problem(value)
            if problem:
                return problem
        elif isinstance(value, dict):
            if DUPLICATE_KEYS in value:
                return f"duplicate key {value[DUPLICATE_KEYS][0]!r} in one object"
            for key, child in value.items():
                problem = _string_problem(key)
                if problem:
                    return problem
                stack.append((child, depth + 1))
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)
    return None


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "a string contains a NUL character"
    if _SURROGATE.search(text):
        return "a string contains a lone surrogate (not valid Unicode)"
    return None


def printable_name(name: str) -> str:
    """A name safe to show even when it holds a lone surrogate or NUL."""
    return _SURROGATE.sub("\ufffd", name).replace("\x00", "\\0")[:200]
