"""The docs name every setting and command, render every endpoint, and the README's links lead somewhere.

`make test` also builds the site with `mkdocs build --strict`, which fails on
a broken link or anchor between pages; these tests cover what it cannot see.
"""

import importlib.util
import json
import re
from pathlib import Path

import pytest

from tracker.api.openapi import document
from tracker.cli import COMMANDS
from tracker.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()
README = (ROOT / "README.md").read_text()
HOOK = ROOT / "docs" / "hooks" / "openapi_reference.py"
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.env for s in SETTINGS])
def test_every_setting_is_documented(setting):
    assert f"| `{setting.env}` |" in CONFIGURATION


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_is_documented(command):
    assert f"| `tracker {command}" in CONFIGURATION


@pytest.mark.parametrize("target", sorted(set(MARKDOWN_LINK.findall(README))))
def test_every_link_of_the_readme_leads_to_a_file(target):
    if re.match(r"[a-z]+:", target) or target.startswith("#"):
        pytest.skip("not a file in the repository")
    assert (ROOT / target.split("#")[0]).is_file(), target


@pytest.fixture(scope="module")
def hook():
    pytest.importorskip("mkdocs", reason="MkDocs is missing: make install brings the docs extra")
    spec = importlib.util.spec_from_file_location("openapi_reference", HOOK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_api_reference_page_holds_the_marker_the_hook_replaces(hook):
    assert hook.MARKER in (ROOT / "docs" / "api-reference.md").read_text()


def test_the_reference_renders_every_operation_and_schema(hook):
    spec = json.loads(document())
    page = hook.render(spec)
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            heading = f"### `{method.upper()} {path}` {{#{hook.operation_id(method, path)}}}"
            assert heading in page
            assert op["summary"] in page
            for param in op.get("parameters", ()):
                assert f"| `{param['name']}` | {param['in']} |" in page
    for name, schema in spec["components"]["schemas"].items():
        assert f"### {name} {{#{name}}}" in page
        for field in schema.get("properties", {}):
            assert f"| `{field}` |" in page


@pytest.mark.parametrize("schema, text", [
    ({"$ref": "#/components/schemas/Movement"}, "[Movement](#Movement)"),
    ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "integer or null"),
    ({"enum": ["1d", "1h"]}, 'one of `"1d"`, `"1h"`'),
    ({"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 500},
     "array of string, 1 to 500 items"),
    ({"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-z]+$"},
     "string, 1 to 64 characters, matching `^[a-z]+$`"),
    ({"type": "integer", "minimum": 0}, "integer, at least 0"),
    ({}, "any JSON value"),
])
def test_schema_phrases(hook, schema, text):
    assert hook.type_text(schema) == text


def test_a_bar_in_a_table_cell_is_escaped(hook):
    assert hook.cell("`a|b`") == "`a\\|b`"
