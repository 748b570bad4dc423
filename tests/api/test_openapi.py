"""GET /openapi.json: every route the app answers, described from the handlers' Structs."""

from __future__ import annotations

import re

import msgspec
import pytest
from starlette.routing import Route

from tracker import schemas

# (method, path) of routes deliberately left out of /openapi.json, each with the reason.
UNDOCUMENTED: dict[tuple[str, str], str] = {
    ("post", "/cluster/read"): "between the nodes of a cluster only, signed with their secret",
    ("post", "/cluster/outcome"): "between the nodes of a cluster only, signed with their secret",
    ("post", "/cluster/export"): "between the nodes of a cluster only, signed with their secret",
}
READS = [("get", "/session"), ("get", "/movements"), ("get", "/analytics"), ("get", "/funnels"),
         ("get", "/users/{userId}/export"), ("delete", "/users/{userId}"),
         ("get", "/users/{userId}/erasure")]


@pytest.fixture
def document(client) -> dict:
    answer = client.get("/openapi.json", headers={"Authorization": ""})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    return answer.json()


def test_is_open_and_openapi_3(document):
    assert document["openapi"].startswith("3.")


def routed_operations(app) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, spelled as in OpenAPI."""
    operations = set()
    for route in app.routes:
        assert isinstance(route, Route), f"{route!r}: say how to describe this kind of route"
        # Starlette answers HEAD wherever it answers GET; OpenAPI leaves it implicit.
        path = re.sub(r":\w+}", "}", route.path)  # {path:path} is {path} in OpenAPI
        operations.update((method.lower(), path) for method in route.methods - {"HEAD"})
    return operations


def described_operations(document: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items() for method in item}


def test_every_route_is_described_and_nothing_else(client, document):
    routed = routed_operations(client.app)
    assert UNDOCUMENTED.keys() <= routed, "an undocumented route that no longer exists"
    assert described_operations(document) == routed - UNDOCUMENTED.keys()


def test_every_described_operation_has_a_summary_and_an_answer(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["summary"], (method, path)
            assert {"200", "201", "202", "204"} & set(operation["responses"]), (method, path)


@pytest.mark.parametrize("method, path", READS)
def test_reads_need_the_bearer_token(document, method, path):
    operation = document["paths"][path][method]
    assert operation["security"] == [{"readToken": []}]
    assert "401" in operation["responses"]
    assert document["components"]["securitySchemes"]["readToken"]["scheme"] == "bearer"


def test_metrics_token_is_optional(document):
    assert {} in document["paths"]["/metrics"]["get"]["security"]


@pytest.mark.parametrize("struct", [schemas.MovementIn, schemas.BatchIn, schemas.SessionIn,
                                    schemas.TrackOut, schemas.SessionOpened, schemas.MovementsPage,
                                    schemas.UserErased, schemas.ErasureRunning, schemas.Erasure])
def test_components_are_the_handlers_structs(document, struct):
    _, components = msgspec.json.schema_components([struct], ref_template="#/components/schemas/{name}")
    for name, schema in components.items():
        assert document["components"]["schemas"][name] == schema


def test_ingest_errors_are_described_with_retry_after(document):
    responses = document["paths"]["/track"]["post"]["responses"]
    assert {"400", "413", "415", "422", "429", "503"} <= set(responses)
    assert "Retry-After" in responses["429"]["headers"]
    assert responses["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_analytics_answer_has_the_contract_fields(document):
    analytics = document["components"]["schemas"]["Analytics"]
    assert set(analytics["required"]) == {"userId", "from", "to", "bucket", "totals", "events",
                                          "topPages", "series"}
    parameters = {p["name"] for p in document["paths"]["/analytics"]["get"]["parameters"]}
    assert parameters == {"timeRange", "from", "to", "userId", "event", "tz", "site"}


def answer_schema(document: dict, path: str, method: str, status: str) -> dict:
    return document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


def test_an_erasure_answers_200_done_or_202_running_and_can_be_followed(document):
    erase, follow = ("/users/{userId}", "delete"), ("/users/{userId}/erasure", "get")
    assert answer_schema(document, *erase, "200") == {"$ref": "#/components/schemas/UserErased"}
    assert answer_schema(document, *erase, "202") == {"$ref": "#/components/schemas/ErasureRunning"}
    assert answer_schema(document, *follow, "200") == {"$ref": "#/components/schemas/Erasure"}
    assert "404" in document["paths"]["/users/{userId}/erasure"]["get"]["responses"]
    running = document["components"]["schemas"]["ErasureRunning"]
    assert set(running["required"]) == {"status", "userId", "movements", "sessions", "requestedAt"}
    assert running["properties"]["status"] == {"enum": ["running"]}


def operations_with_query(document: dict, name: str) -> list[tuple[str, str, dict]]:
    return [(method, path, operation) for path, item in document["paths"].items()
            for method, operation in item.items()
            if any(p["name"] == name and p["in"] == "query" for p in operation.get("parameters", []))]


def test_every_read_takes_site_and_describes_its_refusals(document):
    reads = operations_with_query(document, "site")
    assert {(m, p) for m, p, _ in reads} >= {*READS, ("get", "/stats"), ("get", "/breakdown"),
                                               ("get", "/retention"), ("get", "/live"),
                                               ("get", "/live/visitors")}
    for method, path, operation in reads:
        assert {"401", "403", "404", "422"} <= set(operation["responses"]), (method, path)


@pytest.mark.parametrize("method, path, status, answer", [
    ("get", "/sites", "200", "SitesOut"),
    ("post", "/sites", "201", "SiteOut"),
    ("get", "/sites/{id}", "200", "SiteOut"),
    ("patch", "/sites/{id}", "200", "SiteOut"),
    ("delete", "/sites/{id}", "202", "SiteOut"),
    ("post", "/sites/{id}/keys", "201", "KeyMade"),
    ("get", "/sites/{id}/keys", "200", "KeysOut"),
    ("delete", "/sites/{id}/keys/{keyId}", "204", None),
    ("post", "/sites/{id}/shares", "201", "ShareMade"),
    ("get", "/sites/{id}/shares", "200", "SharesOut"),
    ("delete", "/sites/{id}/shares/{shareId}", "204", None),
])
def test_management_operations_answer_what_the_contract_says(document, method, path, status,
                                                             answer):
    operation = document["paths"][path][method]
    assert operation["security"] == [{"readToken": []}]
    assert status in operation["responses"]
    if answer is not None:
        assert answer_schema(document, path, method, status) == {
            "$ref": f"#/components/schemas/{answer}"}
    if path != "/sites" or method == "post":
        assert {"401", "403", "422"} <= set(operation["responses"]), (method, path)
    if method == "post" and path == "/sites":
        assert "409" in operation["responses"]


def test_a_share_link_reaches_aggregates_only(document):
    shared = sorted(path for path in document["paths"] if path.startswith("/share/"))
    assert shared == ["/share/{token}", "/share/{token}/auth", "/share/{token}/breakdown",
                      "/share/{token}/funnels", "/share/{token}/live/visitors",
                      "/share/{token}/retention", "/share/{token}/site", "/share/{token}/stats"]
    for path in shared:
        for operation in document["paths"][path].values():
            assert "security" not in operation or operation["security"] == [{}], path
            assert "404" in operation["responses"] and "410" in operation["responses"], path
    assert "429" in document["paths"]["/share/{token}/auth"]["post"]["responses"]
    site = document["components"]["schemas"]["SiteOut"]
    assert set(site["required"]) == {"id", "name", "domains", "timezone", "umamiId", "created",
                                     "status"}
