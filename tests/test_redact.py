"""One redaction rule set: secret-looking arguments, environment pairs, URL secrets, headers, known values."""

from __future__ import annotations

from catalog import redact as r


def test_secret_looking_arguments_are_masked_in_both_forms():
    assert r.redact("server --api-key=abc123 --port 3") == "server --api-key=*** --port 3"
    assert r.redact("server --token abc123 --port 3") == "server --token *** --port 3"
    assert r.redact("server --no-auth --port 3") == "server --no-auth --port 3"
    assert r.redact("API_KEY=abc123 server") == "API_KEY=*** server"


def test_ordinary_text_is_left_alone():
    text = "pypi package awslabs.valkey-mcp-server==1.0.9 (wheel), read statically"
    assert r.redact(text) == text
    assert r.redact("Error: FOO_API_KEY is not set") == "Error: FOO_API_KEY is not set"


def test_url_userinfo_query_secrets_and_headers_are_masked():
    assert r.redact("http://bob:pw1234@host/mcp?x=1&api_key=zz99") == "http://***@host/mcp?x=1&api_key=***"
    assert r.redact("Authorization: Bearer abc.def.ghi") == "Authorization: Bearer ***"
    assert r.redact("sent X-Api-Key: k-123456") == "sent X-Api-Key: ***"
    assert r.redact("got bearer abcdef123456 back") == "got bearer *** back"


def test_remembered_values_are_masked_anywhere_even_in_data():
    r.remember(["plain-value-9876", "on", "x"])  # too short or harmless values are not masked
    assert r.redact("crash: plain-value-9876 rejected, option on") == "crash: *** rejected, option on"
    assert r.redact_data({"d": ["a plain-value-9876"]}) == {"d": ["a ***"]}


def test_secret_values_are_found_in_commands_and_urls():
    argv = ["srv", "--api-key=AAA111", "--token", "BBB222", "DB_PASSWORD=CCC333", "--port", "3"]
    assert r.secrets_in_command(argv) == ["AAA111", "BBB222", "CCC333"]
    assert r.secrets_in_url("https://u:DDD444@h/p?token=EEE555") == ["EEE555", "DDD444"]
