"""Hidden instructions in a tool description (tool poisoning): text meant for the model, not the user.

Two kinds of evidence: invisible characters (Unicode tag characters, zero-width and bidirectional
controls) that hide text from a reviewer, and phrases that address the model to override its
instructions, reach for secrets, or keep something from the user."""

from __future__ import annotations

import re
import unicodedata

INVISIBLE = {
    "tag characters": re.compile("[\U000e0000-\U000e007f]"),
    "zero-width characters": re.compile("[\u200b-\u200f\u2060-\u2064\ufeff]"),
    "bidirectional controls": re.compile("[\u202a-\u202e\u2066-\u2069]"),
}
PHRASES = {
    "tells the model to ignore its instructions": re.compile(
        r"\b(ignore|disregard|forget|override)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|system|your)\b"
        r"[^.\n]{0,20}\b(instructions?|prompts?|rules|guidelines)\b",
        re.IGNORECASE,
    ),
    "asks to read secrets or private files": re.compile(
        r"~/\.ssh|\bid_(rsa|ed25519|ecdsa)\b|\.aws/credentials|\.netrc\b|/etc/(passwd|shadow)|"
        r"(^|[\s/'\"`])\.env\b|\b(private key|api[ _-]?keys?|access tokens?|credentials)\b[^.\n]{0,40}\b(send|pass|include|read)",
        re.IGNORECASE,
    ),
    "orders something done before or instead of the call": re.compile(
        r"\bbefore (using|calling|invoking) (this|the) tool\b[^.\n]{0,80}\b(read|send|call|fetch|include|pass)\b",
        re.IGNORECASE,
    ),
    "tells the model to hide something from the user": re.compile(
        r"\b(do not|don't|never)\s+(tell|mention|inform|reveal|show)\b[^.\n]{0,30}\b(user|human)\b",
        re.IGNORECASE,
    ),
    "addresses the model in hidden markup": re.compile(
        r"<\s*(important|system|secret|instructions?)\s*>", re.IGNORECASE
    ),
}


def hidden_instructions(text: str) -> list[str]:
    """What in this text looks like an instruction to the model, each as one readable line."""
    found = []
    for name, pattern in INVISIBLE.items():
        hits = pattern.findall(text or "")
        if hits:
            codes = sorted({f"U+{ord(c):04X}" for c in hits})[:4]
            found.append(f"{len(hits)} invisible {name} ({', '.join(codes)})")
    visible = decode_tags(text or "")
    for name, pattern in PHRASES.items():
        match = pattern.search(visible)
        if match:
            found.append(f"{name}: {snippet(match.group(0))!r}")
    return found


def decode_tags(text: str) -> str:
    """Tag characters spell ASCII invisibly; decode them so the phrases they hide are found too."""
    return "".join(chr(ord(c) - 0xE0000) if 0xE0020 <= ord(c) <= 0xE007E else c for c in text)


def snippet(text: str, limit: int = 80) -> str:
    flat = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    flat = " ".join(flat.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
