"""The Python extractor under its former name; it lives in the package `catalog.extract.python`."""

from catalog.extract.python import extract, fastmcp_parses_docstrings, parse_python, split_docstring

__all__ = ["extract", "fastmcp_parses_docstrings", "parse_python", "split_docstring"]
