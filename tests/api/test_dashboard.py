"""GET / and /dashboard/...: the dashboard's files, served from the package with a strict policy."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pytest

from helpers import now_ms
from rule_table import check_rule, get

DASHBOARD = Path(__file__).resolve().parents[2] / "tracker" / "static" / "dashboard"
# The vendored uPlot 1.6.32 files, unchanged from the npm package (vendor/README.md).
VENDORED = {
    "uPlot.esm.js": "5dd9b3281aa64b461b42d9945f6adb2649d346502b12281a9ae0d46599a80eba",
    "uPlot.min.css": "df630c6a8d6f8eeaff264b50f73ce5b114f646ffd9a0bb74f049b0a00135fa04",
}


def test_the_page_is_open_and_loads_only_its_own_files(client):
    answer = client.get("/", headers={"Authorization": ""})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    for reference in re.findall(r'(?:src|href)="([^"?]+)"', answer.text):
        if reference.startswith("/"):
            assert client.get(reference).status_code == 200, reference


@pytest.mark.parametrize("name, media_type", [
    ("js/main.js", "text/javascript; charset=utf-8"),
    ("dashboard.css", "text/css; charset=utf-8"),
    ("vendor/uPlot.esm.js", "text/javascript; charset=utf-8"),
    ("favicon.svg", "image/svg+xml"),
])
def test_assets_have_their_media_type(client, name, media_type):
    answer = client.get(f"/dashboard/{name}")
    assert answer.status_code == 200 and answer.headers["content-type"] == media_type
    assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("name", ["missing.js", "vendor/LICENSE.uPlot", "../api/dashboard.py",
                                  "%2e%2e/%2e%2e/config.py", "vendor/README.md"])
def test_anything_else_is_a_json_404(client, name):
    answer = client.get(f"/dashboard/{name}")
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def test_every_module_the_page_imports_exists():
    for module in (DASHBOARD / "js").glob("*.js"):
        for target in re.findall(r'from "(\.[^"]+)"', module.read_text()):
            assert (module.parent / target).resolve().is_file(), f"{module.name} imports {target}"


def test_the_chart_library_is_vendored_unchanged_with_its_licence():
    for name, digest in VENDORED.items():
        assert hashlib.sha256((DASHBOARD / "vendor" / name).read_bytes()).hexdigest() == digest
    assert "MIT License" in (DASHBOARD / "vendor" / "LICENSE.uPlot").read_text()


def test_scripts_never_write_markup():
    for module in (DASHBOARD / "js").glob("*.js"):
        text = module.read_text()
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", text), module.name


CASES = [
    # name, request, status, error code
    ("dashboard path holding a NUL byte", get("/dashboard/%00"), 404, "not_found"),
    ("dashboard file name holding a NUL byte", get("/dashboard/js/main.js%00.js"), 404, "not_found"),
]


@pytest.mark.parametrize("name, request_, status, code", CASES, ids=[c[0] for c in CASES])
def test_rule(table_client, name, request_, status, code):
    check_rule(table_client, request_, status, code)


def share_token(client, **terms) -> tuple[str, str]:
    made = client.post("/sites/default/shares", json=terms).json()
    return made["id"], made["url"].rsplit("/", 1)[1]


def test_a_share_link_serves_the_page_under_the_same_policy(client):
    _, token = share_token(client)
    answer = client.get(f"/share/{token}", headers={"Authorization": ""})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "connect-src 'self'" in answer.headers["content-security-policy"]


@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_a_browser_opening_a_gone_share_link_gets_the_page_with_its_status(client, ending):
    share_id, token = share_token(client, **({"expires": now_ms() + 500} if ending == "expired" else {}))
    if ending == "revoked":
        assert client.delete(f"/sites/default/shares/{share_id}").status_code == 204
    else:
        time.sleep(0.6)
    status = 404 if ending == "revoked" else 410
    browser = client.get(f"/share/{token}", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.status_code == status
    assert browser.headers["content-type"] == "text/html; charset=utf-8"
    assert "/dashboard/js/main.js" in browser.text  # the page, which tells why in words
    # Any other client gets the JSON error, as on every other path of the link.
    other = client.get(f"/share/{token}")
    assert other.status_code == status
    assert other.json()["error"] == ("not_found" if ending == "revoked" else "expired")
