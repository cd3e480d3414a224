"""Integration tier: the stack of template.yaml in moto (in-process), with clients shared per session."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "TouchpointsTest",
    "POWERTOOLS_SERVICE_NAME": "touchpoints",
}


@pytest.fixture(scope="session")
def aws_env() -> Iterator[None]:
    """Fake credentials and Powertools settings for the whole session, restored afterwards."""
    saved = {name: os.environ.get(name) for name in _ENV}
    os.environ.update(_ENV)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def moto(aws_env: None) -> Iterator[None]:
    """One in-process moto for the session (creating clients under it costs ~150 ms each)."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture(scope="session")
def clients(moto: None) -> dict[str, Any]:
    """boto3 clients for every service of the stack, shared by the session."""
    from touchpoints.local import make_clients

    return make_clients()


@pytest.fixture(scope="session")
def stack(clients: dict[str, Any], repo_root: Path) -> Any:
    """The resources of template.yaml, created once in moto (outputs, attributes, environment)."""
    from touchpoints.local import create_stack

    return create_stack(repo_root / "template.yaml", clients)


@pytest.fixture(scope="session")
def local(clients: dict[str, Any], stack: Any, repo_root: Path) -> Any:
    """The stack with the handlers' runtime wired to it (shipped rules) and the driver."""
    from touchpoints.local import start_local_stack

    return start_local_stack(clients=clients, resources=stack, rules_dir=repo_root / "rules")


@pytest.fixture(scope="session")
def table_name(stack: Any) -> str:
    """The decision table's physical name."""
    return str(stack.outputs["TableName"])


@pytest.fixture(autouse=True)
def _handlers_use_this_stack(request: pytest.FixtureRequest) -> None:
    """Every test that uses the wired stack gets its runtime installed (e2e tests install their own)."""
    if "local" in request.fixturenames:
        request.getfixturevalue("local").install()


@pytest.fixture(scope="session")
def sample_events(repo_root: Path) -> dict[str, list[dict[str, Any]]]:
    """The sample journeys in events/<scenario>/*.json, by scenario, in file order."""
    scenarios: dict[str, list[dict[str, Any]]] = {}
    for folder in sorted((repo_root / "events").iterdir()):
        files = sorted(folder.glob("*.json")) if folder.is_dir() and folder.name != "schemas" else []
        if files:
            scenarios[folder.name] = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    return scenarios
