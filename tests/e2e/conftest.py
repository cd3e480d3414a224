"""E2E tier: moto's server on a free loopback port, boto3 over HTTP, the stack created from template.yaml."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "TouchpointsE2E",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_SERVICE_NAME": "touchpoints",
}


@pytest.fixture(scope="package", autouse=True)
def e2e_environment() -> Iterator[None]:
    """The tier's fake credentials and Powertools settings, set while its tests run and restored after.

    Package scope (this folder): the unit and integration tiers that run in the same pytest process,
    before or after this one, see their own environment, not the e2e tier's.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _ENV.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="package")
def endpoint_url(e2e_environment: None) -> Iterator[str]:
    """A ThreadedMotoServer on 127.0.0.1 and a free port, for the e2e tier (moto's state is per process)."""
    from touchpoints.local import start_moto_server

    server, url = start_moto_server()
    yield url
    server.stop()


@pytest.fixture(scope="package")
def stack(endpoint_url: str, repo_root: Path) -> Iterator[Any]:
    """The stack over HTTP (stage `e2e`, so names never clash with an in-process moto in the same run)."""
    from touchpoints.handlers.runtime import set_runtime
    from touchpoints.local import start_local_stack

    local = start_local_stack(
        endpoint_url=endpoint_url,
        template=repo_root / "template.yaml",
        rules_dir=repo_root / "rules",
        parameters={"Stage": "e2e"},
    )
    yield local
    set_runtime(None)


@pytest.fixture
def moto_data(endpoint_url: str) -> Any:
    """Read moto's state over HTTP (`GET /moto-api/data.json`)."""

    def read() -> dict[str, Any]:
        with urllib.request.urlopen(f"{endpoint_url}/moto-api/data.json", timeout=10) as response:
            data: dict[str, Any] = json.loads(response.read())
        return data

    return read


@pytest.fixture(scope="session")
def journeys(repo_root: Path) -> dict[str, list[dict[str, Any]]]:
    """Sample journeys in events/<scenario>/*.json, by scenario."""
    found: dict[str, list[dict[str, Any]]] = {}
    for folder in sorted((repo_root / "events").iterdir()):
        if folder.is_dir() and folder.name != "schemas":
            found[folder.name] = [
                json.loads(f.read_text(encoding="utf-8")) for f in sorted(folder.glob("*.json"))
            ]
    return found
