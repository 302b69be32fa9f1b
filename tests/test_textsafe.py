"""Untrusted names and descriptions never drive the terminal."""

from catalog.textsafe import inert, inert_markup


def test_escape_sequences_are_removed():
    hostile = "a\x1b[2Jb\x1b]0;title\x07c\x1b]52;c;ZXZpbA==\x07d\x1b]8;;http://x\x1b\\e"
    assert inert(hostile) == "abcde"


def test_other_controls_are_shown_not_obeyed():
    assert inert("x\x07y\x00z\rq") == "x\\x07y\\x00z\\x0dq"
    assert inert("tab\tnew\nline") == "tab\tnew\nline"
    assert inert("one\ntwo", keep_newlines=False) == "one two"


def test_c1_controls_and_unterminated_osc():
    assert inert("a\x9b31mb") == "ab"
    assert inert("a\x1b]0;never ends") == "a"


def test_rich_markup_is_escaped():
    from rich.console import Console

    console = Console(record=True, width=200, color_system=None)
    console.print(inert_markup("[/] [link=http://evil]x[/link] [bold]y"))
    assert console.export_text().strip() == "[/] [link=http://evil]x[/link] [bold]y"
