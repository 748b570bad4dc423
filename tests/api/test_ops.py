"""GET /readyz when a shard or the log cannot be written."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from helpers import movement


def test_readyz_names_a_shard_replaced_by_a_directory_and_recovers(client):
    path = [f.path for f in client.app.state.store.files(0)][1]
    aside = path.with_name("aside.sqlite")
    assert client.get("/readyz").status_code == 200
    os.rename(path, aside)
    path.mkdir()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert list(response.json()["detail"]) == [path.name]
    finally:
        path.rmdir()
        os.rename(aside, path)
    assert client.get("/readyz").json() == {"status": "ready", "shards": 4, "sites": 1}


def test_a_log_that_cannot_be_written_is_named_by_readyz_and_ingest(client):
    log_path = client.app.state.store.layout.log_path
    aside = log_path.with_name("aside.sqlite")
    os.rename(log_path, aside)
    log_path.mkdir()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert list(response.json()["detail"]) == [log_path.name]
        answer = client.post("/track", json=movement())
        assert answer.status_code == 503
        assert answer.json() == {"error": "log_unavailable", "detail": "the ingest log cannot be written"}
    finally:
        log_path.rmdir()
        os.rename(aside, log_path)
    assert client.post("/track", json=movement()).status_code == 200


@pytest.mark.skipif(shutil.which("chattr") is None or os.geteuid() != 0,
                    reason="needs chattr and root")
def test_readyz_names_an_immutable_shard_and_recovers(client):
    path = [f.path for f in client.app.state.store.files(0)][2]
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("this file system has no immutable attribute")
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["detail"] == {path.name: "the file cannot be opened for writing"}
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    assert client.get("/readyz").status_code == 200
