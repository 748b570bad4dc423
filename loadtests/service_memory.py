"""The processes of a running `tracker serve`, by role, and their memory while a benchmark runs.

The issue's bound is per role (150 MB for each worker, 250 MB for the folding
process), and the workers and the folding process are all `multiprocessing`
children with the same command line, so a role is told by what a process
holds: a worker holds the listening socket, the folding process does not
(it is started before the socket is bound). With one worker the serving
process is the worker itself and the folding process its child; with more,
they are all children of uvicorn's supervisor.

`RssWatch` samples VmRSS of every process of the service twice a second and
keeps each process's peak, beside the kernel's own peak (VmHWM) read when it
stops: the sampled peak shows what a long run holds, VmHWM also catches a
spike between two samples (and the start-up, before the load).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.5


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on `port` (TCP, IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _holds_socket(pid: int, inodes: set[str]) -> bool:
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            link = os.readlink(fd)
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return True
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return False


def _is_resource_tracker(pid: int) -> bool:
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def roles(server_pid: int, port: int) -> dict[int, str]:
    """`worker` or `folding` for each process of the service started as `server_pid` (uvicorn's
    supervisor, which holds the socket too but serves nothing, is left out)."""
    inodes = _listening_inodes(port)
    found = {}
    for pid in children(server_pid):
        if not _is_resource_tracker(pid):
            found[pid] = "worker" if _holds_socket(pid, inodes) else "folding"
    if "worker" not in found.values():
        found[server_pid] = "worker"
    return found


@dataclass
class RssWatch:
    """Peak RSS of each process of the service, sampled until `stop()`."""

    server_pid: int
    port: int
    peaks: dict[int, int] = field(default_factory=dict)  # pid -> sampled peak VmRSS, kB
    roles: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.roles.update(roles(self.server_pid, self.port))
            for pid in self.roles:
                self.peaks[pid] = max(self.peaks.get(pid, 0), _status_kb(pid, "VmRSS"))

    def stop(self) -> list[tuple[str, float, float]]:
        """Stop sampling, while the service still runs, and give (role, sampled peak MB, VmHWM
        MB) for each process, workers first."""
        self._stop.set()
        self._thread.join()
        return [(role, self.peaks.get(pid, 0) / 1024, _status_kb(pid, "VmHWM") / 1024)
                for pid, role in sorted(self.roles.items(), key=lambda item: item[1], reverse=True)]


BOUND_MB = {"worker": 150, "folding": 250}
"""The issue's bound on each process during sustained ingest."""


def describe(peaks: list[tuple[str, float, float]]) -> str:
    """`worker 112 MB (VmHWM 115), folding 80 MB (VmHWM 81); within 150/250 MB: yes`."""
    parts = [f"{role} {sampled:.0f} MB (VmHWM {hwm:.0f})" for role, sampled, hwm in peaks]
    within = all(max(sampled, hwm) <= BOUND_MB[role] for role, sampled, hwm in peaks)
    return (", ".join(parts) + f"; within {BOUND_MB['worker']}/{BOUND_MB['folding']} MB: "
            + ("yes" if within else "NO"))
