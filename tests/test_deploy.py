"""deploy/: the nginx and Caddy examples in front of the real service, and the systemd unit.

Through either proxy the rate limit follows each client, not the proxy's address.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from helpers import TLS, free_port, movement

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
NGINX_CONF = DEPLOY / "nginx" / "tracker.conf"
CADDYFILE = DEPLOY / "caddy" / "Caddyfile"
SYSTEMD_UNIT = DEPLOY / "systemd" / "tracker.service"

# Only what running as a test needs around the shipped file: the foreground,
# one process, and every path inside the test's directory.
MAIN_CONF = """
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 128; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/tracker.conf;
}}
"""


def binary(name: str, package: str) -> str:
    found = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/local/sbin/{name}") if Path(p).exists()), None)
    if found is None:
        pytest.skip(f"{name} is not installed (Debian: apt-get install -y {package}; "
                    "make test does it when run as root)")
    return found


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator:
    """Factory: nginx with deploy/nginx/tracker.conf on 127.0.0.1, forwarding to `upstream_port`."""
    nginx_path = binary("nginx", "nginx-light")
    processes: list[subprocess.Popen] = []

    def start(upstream_port: int) -> str:
        port = free_port()
        shipped = NGINX_CONF.read_text()
        assert "listen 80;" in shipped and "server 127.0.0.1:8000;" in shipped
        (tmp_path / "tracker.conf").write_text(
            shipped.replace("listen 80;", f"listen 127.0.0.1:{port};")
                   .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"))
        (tmp_path / "nginx.conf").write_text(MAIN_CONF.format(dir=tmp_path))
        process = subprocess.Popen([nginx_path, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                                    "-e", str(tmp_path / "error.log")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, process, tmp_path / "error.log")
        return url

    yield start
    for process in processes:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the proxy exited {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1, verify=TLS).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the proxy did not come up: {log.read_text()}")


@pytest.fixture
def caddy(tmp_path: Path) -> Iterator:
    """Factory: Caddy with deploy/caddy/Caddyfile on 127.0.0.1 over HTTP, forwarding to `upstream_port`."""
    caddy_path = binary("caddy", "caddy")
    processes: list[subprocess.Popen] = []

    def start(upstream_port: int) -> str:
        port = free_port()
        shipped = CADDYFILE.read_text()
        assert "tracker.example.com {" in shipped and "reverse_proxy 127.0.0.1:8000 {" in shipped
        # Plain HTTP on a free port instead of the host name (no certificate to get),
        # and no admin endpoint (its fixed port would collide with other runs).
        (tmp_path / "Caddyfile").write_text(
            shipped.replace("tracker.example.com {", f"http://127.0.0.1:{port} {{")
                   .replace("reverse_proxy 127.0.0.1:8000 {", f"reverse_proxy 127.0.0.1:{upstream_port} {{")
                   .replace("\n{\n", "\n{\n\tadmin off\n", 1))
        log = tmp_path / "caddy.log"
        env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
               "XDG_CONFIG_HOME": str(tmp_path / "config")}
        with log.open("w") as output:
            process = subprocess.Popen([caddy_path, "run", "--adapter", "caddyfile",
                                        "--config", str(tmp_path / "Caddyfile")],
                                       stdout=output, stderr=output, env=env, cwd=tmp_path)
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, process, log)
        return url

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(params=["nginx", "caddy"])
def proxy(request):
    """Factory: one of the shipped reverse-proxy examples in front of `upstream_port`."""
    return request.getfixturevalue(request.param)


def client_at(address: str, base_url: str) -> httpx.Client:
    """A client whose connections come from `address` (any 127.x.y.z is local on Linux)."""
    return httpx.Client(base_url=base_url, timeout=30,
                        transport=httpx.HTTPTransport(local_address=address))


def post_until_limited(client: httpx.Client, attempts: int = 40, **headers: str) -> list[int]:
    return [client.post("/track", json=movement(), headers=headers).status_code
            for _ in range(attempts)]


def test_through_the_proxy_each_forwarded_client_has_its_own_rate_limit(tracker_server, proxy):
    server = tracker_server(TRACKER_RATE_LIMIT="1", TRACKER_RATE_BURST="5",
                            TRACKER_TRUSTED_PROXIES="127.0.0.1")
    url = proxy(server.port)
    with client_at("127.0.0.2", url) as first, client_at("127.0.0.3", url) as second:
        started = time.monotonic()
        statuses = post_until_limited(first)
        allowed = 5 + (time.monotonic() - started) * 1 + 1
        assert 5 <= statuses.count(200) <= allowed and 429 in statuses
        limited = first.post("/track", json=movement())
        assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        # Another client behind the same proxy is not held back by the first.
        assert second.post("/track", json=movement(user="u2")).status_code == 200
        # Nor can the first pass for someone else by sending its own header: believed, the
        # header would bring a bucket of its own, a burst of 5; the first's gets a token a second.
        started = time.monotonic()
        spoofed = post_until_limited(first, attempts=10, **{"X-Forwarded-For": "10.9.9.9"})
        assert spoofed.count(200) <= (time.monotonic() - started) * 1 + 1 and 429 in spoofed


def test_without_trusting_the_proxy_every_client_shares_its_address(tracker_server, proxy):
    server = tracker_server(TRACKER_RATE_LIMIT="1", TRACKER_RATE_BURST="5")
    url = proxy(server.port)
    with client_at("127.0.0.2", url) as first, client_at("127.0.0.3", url) as second:
        assert 429 in post_until_limited(first)
        assert second.post("/track", json=movement(user="u2")).status_code == 429


def test_the_systemd_unit_verifies(tmp_path):
    analyze = binary("systemd-analyze", "systemd")
    shipped = SYSTEMD_UNIT.read_text()
    installed = "ExecStart=/opt/tracker/bin/tracker serve"
    assert installed in shipped
    # The unit names the installed command; here it is this checkout's.
    here = Path(sys.executable).parent / "tracker"
    assert here.exists(), here
    unit = tmp_path / "tracker.service"
    unit.write_text(shipped.replace("/opt/tracker/bin/tracker", str(here)))
    result = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr
