"""An sdist-only dependency is built at the version uv resolved, not its newest release."""

from catalog.envs import _resolved_version

# uv's own words when `uv pip install --no-build` meets a pinned dependency that ships only an sdist
# (seen installing mcp-server-browser-use 0.1.9, which pins pyperclip 1.9.0).
UV_NO_WHEEL = """error: No solution found when resolving dependencies
  cause: Because pyperclip==1.9.0 has no usable wheels and mcp-server-browser-use>=0.1.9 depends on pyperclip==1.9.0, we can conclude that mcp-server-browser-use>=0.1.9 cannot be used.
         And because you require mcp-server-browser-use==0.1.9, we can conclude that your requirements are unsatisfiable.

hint: Wheels are required for `pyperclip` because building from source is disabled for all packages (i.e., with `--no-build`)
"""


def test_the_resolved_version_of_a_wheel_less_dependency_is_read_from_uv():
    assert _resolved_version(UV_NO_WHEEL, "pyperclip") == "1.9.0"
    assert _resolved_version(UV_NO_WHEEL, "other") is None


def test_a_range_is_kept_as_a_specifier_and_picks_the_newest_sdist_in_it():
    from catalog.sources.pypi import _choose_sdist

    text = "  cause: Because ibm-cos-sdk>=2.12.0,<=2.14.2 has no usable wheels and ibm-watsonx-ai>=1.2.10 depends"
    spec = _resolved_version(text, "ibm-cos-sdk")
    assert spec == ">=2.12.0,<=2.14.2"
    links = {f"ibm-cos-sdk-{v}.tar.gz": f"https://files.example/{v}" for v in ("2.11.0", "2.13.1", "2.14.2", "2.15.0")}
    assert _choose_sdist(links, "ibm-cos-sdk", spec) == ("ibm-cos-sdk-2.14.2.tar.gz", "https://files.example/2.14.2")
    assert _choose_sdist(links, "ibm-cos-sdk", "2.13.1")[0] == "ibm-cos-sdk-2.13.1.tar.gz"
    assert _choose_sdist(links, "ibm-cos-sdk", None)[0] == "ibm-cos-sdk-2.15.0.tar.gz"
