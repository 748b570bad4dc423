"""MkDocs hook: the API reference page, rendered from the service's own OpenAPI document.

The page is built from `tracker.api.openapi.document()`, the same document
`GET /openapi.json` serves, so the reference cannot drift from the code. It
is rendered into Markdown tables at build time rather than shown by a
JavaScript viewer: the site then needs no network and no extra script, and
the search finds every field. The document itself is published beside the
page as `openapi.json`.
"""

from __future__ import annotations

import json
from typing import Any

from mkdocs.structure.files import File

from tracker.api.openapi import document
from tracker.schemas import NO_CONTROL

MARKER = "<!-- openapi-reference -->"
PUBLISHED_AS = "openapi.json"
SCHEMA_PREFIX = "#/components/schemas/"
PATTERN_MEANINGS = {NO_CONTROL: "no control characters"}
SCHEMES = {"readToken": "the admin token or a site key", "metricsToken": "the metrics token"}


def on_files(files, config):
    files.append(File.generated(config, PUBLISHED_AS, content=document()))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render(json.loads(document())))


def render(spec: dict[str, Any]) -> str:
    """The whole reference: every operation, then every schema the operations name."""
    sections = ["## Endpoints"]
    for path, methods in spec["paths"].items():
        sections.extend(operation_section(method, path, op) for method, op in methods.items())
    sections.append("## Schemas")
    schemas = spec["components"]["schemas"]
    sections.extend(schema_section(name, schema) for name, schema in schemas.items())
    return "\n\n".join(sections) + "\n"


def operation_id(method: str, path: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in path.lower()).strip("-")
    return f"{method}-{slug}" if slug else f"{method}-root"


def operation_section(method: str, path: str, op: dict[str, Any]) -> str:
    lines = [f"### `{method.upper()} {path}` {{#{operation_id(method, path)}}}", "",
             op["summary"] + ".", "", f"**Token:** {token_text(op.get('security'))}."]
    if op.get("parameters"):
        lines += ["", "| parameter | in | required | type |", "|---|---|---|---|"]
        lines += [f"| `{p['name']}` | {p['in']} | {'yes' if p['required'] else 'no'} "
                  f"| {cell(type_text(p['schema']))} |" for p in op["parameters"]]
    if "requestBody" in op:
        body = op["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        lines += ["", f"**Body:** {type_text(schema)} as JSON ({body['description']})."]
    lines += ["", "| status | meaning | answer |", "|---|---|---|"]
    lines += [response_row(status, answer) for status, answer in op["responses"].items()]
    return "\n".join(lines)


def token_text(security: list[dict[str, Any]] | None) -> str:
    if not security:
        return "none"
    names = [SCHEMES[name] for requirement in security for name in requirement]
    optional = any(not requirement for requirement in security)
    return " or ".join(names) + (", when one is set" if optional else "")


def response_row(status: str, answer: dict[str, Any]) -> str:
    meaning = answer["description"]
    if "headers" in answer:
        meaning += ", with " + ", ".join(f"`{h}`" for h in answer["headers"])
    bodies = [f"{media}: {type_text(content['schema'])}" if media != "application/json"
              else type_text(content["schema"]) for media, content in answer.get("content", {}).items()]
    return f"| {status} | {cell(meaning)} | {cell(', '.join(bodies))} |"


def schema_section(name: str, schema: dict[str, Any]) -> str:
    lines = [f"### {name} {{#{name}}}"]
    if "description" in schema:
        lines += ["", schema["description"]]
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    if properties:
        lines += ["", "| field | type | required | default |", "|---|---|---|---|"]
        lines += [f"| `{field}` | {cell(type_text(prop))} | {'yes' if field in required else 'no'} "
                  f"| {default_text(prop, field in required)} |" for field, prop in properties.items()]
    else:
        lines += ["", type_text(schema) + "."]
    return "\n".join(lines)


def default_text(prop: dict[str, Any], required: bool) -> str:
    if required or "default" not in prop:
        return ""
    return f"`{json.dumps(prop['default'])}`"


def type_text(schema: dict[str, Any]) -> str:
    """A JSON Schema as a short phrase, with links to the named schemas."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(SCHEMA_PREFIX)
        return f"[{name}](#{name})"
    if "anyOf" in schema:
        return " or ".join(type_text(option) for option in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return f"array of {type_text(schema['items'])}{bounds(schema, 'minItems', 'maxItems', ' items')}"
    if kind == "string":
        return "string" + bounds(schema, "minLength", "maxLength", " characters") + pattern_text(schema)
    if kind in ("integer", "number"):
        return kind + bounds(schema, "minimum", "maximum", "")
    return kind or "any JSON value"


def bounds(schema: dict[str, Any], low_key: str, high_key: str, unit: str) -> str:
    low, high = schema.get(low_key), schema.get(high_key)
    if low is not None and high is not None:
        return f", {low} to {high}{unit}"
    if low is not None:
        return f", at least {low}{unit}"
    if high is not None:
        return f", at most {high}{unit}"
    return ""


def pattern_text(schema: dict[str, Any]) -> str:
    pattern = schema.get("pattern")
    if pattern is None:
        return ""
    return ", " + PATTERN_MEANINGS.get(pattern, f"matching `{pattern}`")


def cell(text: str) -> str:
    """Text for a table cell: a bar would end the cell, even inside backticks."""
    return text.replace("|", "\\|")
