"""GET /openapi.json: every endpoint of the contract, described from the handlers' Structs."""

from __future__ import annotations

import msgspec
import pytest

from tracker import schemas

SPEC_ENDPOINTS = [
    ("post", "/track"), ("post", "/session"), ("get", "/session"), ("get", "/movements"),
    ("get", "/analytics"), ("get", "/users/{userId}/export"), ("delete", "/users/{userId}"),
    ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"), ("get", "/tracker.js"),
    ("get", "/openapi.json"),
]
READS = [("get", "/session"), ("get", "/movements"), ("get", "/analytics"),
         ("get", "/users/{userId}/export"), ("delete", "/users/{userId}")]


@pytest.fixture
def document(client) -> dict:
    answer = client.get("/openapi.json", headers={"Authorization": ""})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    return answer.json()


def test_is_open_and_openapi_3(document):
    assert document["openapi"].startswith("3.")


@pytest.mark.parametrize("method, path", SPEC_ENDPOINTS)
def test_every_endpoint_is_described(document, method, path):
    operation = document["paths"][path][method]
    assert operation["summary"] and "200" in operation["responses"]


@pytest.mark.parametrize("method, path", READS)
def test_reads_need_the_bearer_token(document, method, path):
    operation = document["paths"][path][method]
    assert operation["security"] == [{"readToken": []}]
    assert "401" in operation["responses"]
    assert document["components"]["securitySchemes"]["readToken"]["scheme"] == "bearer"


def test_metrics_token_is_optional(document):
    assert {} in document["paths"]["/metrics"]["get"]["security"]


@pytest.mark.parametrize("struct", [schemas.MovementIn, schemas.BatchIn, schemas.SessionIn,
                                    schemas.TrackOut, schemas.SessionOpened, schemas.MovementsPage])
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
    assert parameters == {"timeRange", "from", "to", "userId", "event", "tz"}
