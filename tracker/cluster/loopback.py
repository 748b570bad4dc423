"""A whole cluster on this machine, for trying it out and for the tests: `make cluster`.

Three NATS servers forming one JetStream cluster, three tracker nodes
(`python -m tracker serve`, each with its own data directory) and HAProxy in
front, all on 127.0.0.1 on free ports, under one directory. `python -m
tracker.cluster.loopback [DIR]` starts them, prints the front door and the
admin token, and stops them all on Ctrl-C. The tests drive the same classes
(kill a node, pause one, kill a NATS server, start everything again).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tracker.cluster.node import share_of

NATS_SERVER = "nats-server"
HAPROXY = "haproxy"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 1.0) -> int:
    """The status of a GET (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError):
        return 0


def wait_until(check, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} within {timeout:.0f} s")


@dataclass
class Process:
    """A server process of the cluster, its output in `log_path`."""

    name: str
    command: list[str]
    log_path: Path
    env: dict[str, str] | None = None
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        if self.popen is not None:  # started again after it was killed: reap the old one
            self.popen.wait(30)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                          env=self.env, start_new_session=True)

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.running:
            assert self.popen is not None
            self.popen.send_signal(sig)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, then SIGKILL past `timeout` (a paused process is resumed first)."""
        if not self.running:
            return
        assert self.popen is not None
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.running:
            assert self.popen is not None
            self.popen.kill()
            self.popen.wait(10)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class PortTaken(RuntimeError):
    """A server could not listen on the port it was given."""


@dataclass
class NatsServer(Process):
    port: int = 0
    monitor_port: int = 0

    def ready(self) -> bool:
        return get(f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true") == 200

    def joined(self, peers: int) -> bool:
        """Routed to `peers` other servers, with a JetStream meta leader known: a node that
        connects before the servers found each other may see a JetStream of its own server
        only. (Not every stream and consumer current, as /healthz asks: after a restart one
        consumer can stay behind until its owner makes it again, which the nodes do.)"""
        routes = self._monitor("routez").get("num_routes", 0)
        leader = self._monitor("jsz").get("meta_cluster", {}).get("leader")
        return routes >= peers and bool(leader)

    def stream_last(self, stream: str) -> int:
        """The last sequence of `stream` this server holds (0 when it cannot say)."""
        details = self._monitor("jsz?streams=true").get("account_details") or []
        return max((found["state"]["last_seq"] for account in details
                    for found in account.get("stream_detail") or [] if found["name"] == stream),
                   default=0)

    def _monitor(self, page: str) -> dict:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/{page}",
                                        timeout=1.0) as answer:
                return json.load(answer)
        except (OSError, ValueError):
            return {}


@dataclass
class TrackerNode(Process):
    node_id: str = ""
    port: int = 0
    data_dir: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        return get(f"{self.url}/healthz") == 200


@dataclass
class LoopbackCluster:
    """`nats` NATS servers, `nodes` tracker nodes and HAProxy under `root`."""

    root: Path
    nodes: int = 3
    nats: int = 3
    shards: int = 16
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    snapshot_minutes: int = 10
    extra_env: dict[str, str] = field(default_factory=dict)
    front_port: int = field(default_factory=free_port)
    servers: list[NatsServer] = field(default_factory=list)
    members: list[TrackerNode] = field(default_factory=list)
    proxy: Process | None = None

    @property
    def front(self) -> str:
        return f"http://127.0.0.1:{self.front_port}"

    @property
    def nats_urls(self) -> str:
        return ",".join(f"nats://127.0.0.1:{server.port}" for server in self.servers)

    def start(self) -> LoopbackCluster:
        self.root.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            self._make_nats()
            try:
                self._start_nats()
                break
            except PortTaken:  # a free port taken by another program before the server bound it
                for server in self.servers:
                    server.stop()
                    shutil.rmtree(self.root / server.name, ignore_errors=True)
                self.servers = []
                if attempt == 2:
                    raise
        self._make_nodes()
        self.start_nodes()
        self._start_proxy()
        return self

    def _make_nats(self) -> None:
        cluster_ports = [free_port() for _ in range(self.nats)]
        routes = ",".join(f"nats://127.0.0.1:{port}" for port in cluster_ports)
        for index, cluster_port in enumerate(cluster_ports, 1):
            port, monitor = free_port(), free_port()
            store = self.root / f"nats-{index}"
            command = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor), "-js",
                       "-sd", str(store), "--name", f"nats-{index}", "--cluster_name", "tracker",
                       "--cluster", f"nats://127.0.0.1:{cluster_port}", "--routes", routes]
            self.servers.append(NatsServer(f"nats-{index}", command, self.root / f"nats-{index}.log",
                                           port=port, monitor_port=monitor))

    def node_env(self, node_id: str, port: int, data_dir: Path) -> dict[str, str]:
        return {**os.environ, "TRACKER_NATS_URL": self.nats_urls, "TRACKER_NODE_ID": node_id,
                "TRACKER_NODE_URL": f"http://127.0.0.1:{port}", "TRACKER_DATA_DIR": str(data_dir),
                "TRACKER_NATS_REPLICAS": str(min(3, self.nats)), "TRACKER_CLUSTER_SECRET": self.secret,
                "TRACKER_READ_TOKEN": self.token, "TRACKER_SHARDS": str(self.shards),
                "TRACKER_SNAPSHOT_MINUTES": str(self.snapshot_minutes),
                "TRACKER_TRUSTED_PROXIES": "127.0.0.1", "TRACKER_RATE_LIMIT": "0",
                **self.extra_env}

    def _make_nodes(self) -> None:
        for index in range(1, self.nodes + 1):
            node_id, port = f"node-{index}", free_port()
            data_dir = self.root / node_id
            command = [sys.executable, "-m", "tracker", "serve", "--host", "127.0.0.1", "--port", str(port)]
            self.members.append(TrackerNode(node_id, command, self.root / f"{node_id}.log",
                                            self.node_env(node_id, port, data_dir), node_id=node_id,
                                            port=port, data_dir=data_dir))

    def start_nodes(self, nodes: list[TrackerNode] | None = None) -> None:
        started = nodes or self.members
        for node in started:
            node.start()
        for node in started:
            wait_until(lambda node=node: node.ready() or not node.running, 90, f"{node.name} up")
            if not node.running:
                raise RuntimeError(f"{node.name} exited: {node.output()[-3000:]}")

    def _start_proxy(self) -> None:
        config = self.root / "haproxy.cfg"
        config.write_text(haproxy_config(self.front_port, [(n.name, n.port) for n in self.members]))
        self.proxy = Process("haproxy", [HAPROXY, "-f", str(config), "-db"], self.root / "haproxy.log")
        self.proxy.start()
        wait_until(lambda: get(f"{self.front}/healthz") == 200, 30, "HAProxy answering")

    def status(self) -> dict:
        """`tracker cluster status --json` with a node's environment."""
        node = self.members[0]
        done = subprocess.run([sys.executable, "-m", "tracker", "cluster", "status", "--json"],
                              env=node.env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        return json.loads(done.stdout)

    def wait_owned(self, timeout: float = 60, among: list[str] | None = None) -> dict:
        """Wait until every shard has an owner (among the nodes named, when given)."""
        found: dict = {}

        def owned() -> bool:
            nonlocal found
            try:
                found = self.status()
            except (RuntimeError, subprocess.TimeoutExpired):  # NATS electing a leader: ask again
                return False
            owners = [shard["owner"] for shard in found["shards"]]
            return all(owner and (among is None or owner in among) for owner in owners)

        wait_until(owned, timeout, "every shard owned", interval=0.5)
        return found

    def wait_balanced(self, timeout: float = 90) -> dict:
        """Wait until every node is alive and owns its part of the shards (`share_of`), after
        which no shard moves: the first node up may take every shard before the others
        joined, then hands some over."""
        found: dict = {}
        members = {node.node_id for node in self.members}

        def balanced() -> bool:
            nonlocal found
            try:
                found = self.status()
            except (RuntimeError, subprocess.TimeoutExpired):
                return False
            alive = {node["id"] for node in found["nodes"] if node["alive"]}
            owners = [shard["owner"] for shard in found["shards"]]
            return members <= alive and all(
                owners.count(member) == share_of(member, list(members), len(owners)) for member in members)

        wait_until(balanced, timeout, "every node alive and owning its part of the shards", interval=0.5)
        return found

    def restart_all(self) -> None:
        """Stop every node and NATS server, then start them all again on the same files."""
        self.stop_all()
        self.start_all()

    def stop_all(self) -> None:
        """Stop the nodes (each hands its shards over), then the NATS servers; HAProxy stays."""
        for node in self.members:
            node.stop()
        for server in self.servers:
            server.stop()

    def start_all(self) -> None:
        self._start_nats()
        self.start_nodes()

    def _start_nats(self) -> None:
        """Start the NATS servers and wait until they are routed and JetStream is current (on
        a restart, every stream and consumer recovered: slower on a busy machine)."""
        for server in self.servers:
            server.start()
        peers = len(self.servers) - 1

        def up() -> bool:
            for server in self.servers:
                if not server.running:
                    output = server.output()[-2000:]
                    failure = PortTaken if "address already in use" in output else RuntimeError
                    raise failure(f"{server.name} exited: {output}")
            return all(server.ready() and server.joined(peers) for server in self.servers)

        wait_until(up, 120, "NATS servers ready and routed to each other")

    def state_dirs(self) -> list[Path]:
        """Every directory the cluster keeps its state in: the NATS servers' stores, then the
        nodes' data directories (what a whole-cluster backup copies while all are stopped)."""
        return [self.root / server.name for server in self.servers] + [node.data_dir for node in self.members]

    def stop(self) -> None:
        for node in self.members:
            node.stop()
        if self.proxy is not None:
            self.proxy.stop()
        for server in self.servers:
            server.stop()


def haproxy_config(port: int, nodes: list[tuple[str, int]]) -> str:
    """HAProxy in front of the nodes: round robin over those whose /readyz answers 200; a
    request whose connection failed is sent to another node (L7 retries need the body
    buffered)."""
    servers = "\n".join(f"    server {name} 127.0.0.1:{node_port} check" for name, node_port in nodes)
    return f"""global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
    option http-buffer-request
    retry-on conn-failure empty-response

frontend front
    bind 127.0.0.1:{port}
    option forwardfor
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 1s fall 2 rise 2
{servers}
"""


def missing_tools() -> list[str]:
    return [tool for tool in (NATS_SERVER, HAPROXY) if shutil.which(tool) is None
            and not Path(f"/usr/sbin/{tool}").exists()]


@contextlib.contextmanager
def running(root: Path, **options) -> Iterator[LoopbackCluster]:
    cluster = LoopbackCluster(root, **options)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def main(argv: list[str]) -> int:
    missing = missing_tools()
    if missing:
        print(f"missing: {' '.join(missing)} (apt-get install nats-server haproxy)", file=sys.stderr)
        return 2
    root = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="tracker-cluster-"))
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    with running(root) as cluster:
        cluster.wait_owned()
        print(f"front door (HAProxy): {cluster.front}", flush=True)
        print(f"admin token:          {cluster.token}", flush=True)
        for node in cluster.members:
            print(f"  {node.name}: {node.url}  log {node.log_path}", flush=True)
        print(f"files under {root}; Ctrl-C stops everything", flush=True)
        try:
            while not stop["now"]:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        print("stopping", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
