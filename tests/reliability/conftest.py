"""Reliability tier: template.yaml's stack in in-process moto, driven through the real handlers.

The session setup mirrors tests/integration/conftest.py (fake credentials, Powertools settings,
one `mock_aws` for the session, shared clients); it is repeated here because a conftest of a
sibling folder cannot be imported. On top of it, `fast_moto_transactions` keeps moto's
TransactWriteItems and Query linear in the work done, so a 1,000-order stream fits in CI.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.pipeline import Pipeline, fast_moto_transactions

REPO_ROOT = Path(__file__).resolve().parents[2]

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "TouchpointsTest",
    "POWERTOOLS_SERVICE_NAME": "touchpoints",
}


@pytest.fixture(scope="module")
def reliability_aws() -> Iterator[dict[str, Any]]:
    """Fake credentials, an in-process moto per test module (linear-time transactions), shared clients.

    Module scope: the moto speed-up is undone when the module ends, so no other test tier runs
    with it (a server thread of another tier must see moto as it is).
    """
    from moto import mock_aws

    saved = {name: os.environ.get(name) for name in _ENV}
    os.environ.update(_ENV)
    with mock_aws(), fast_moto_transactions():
        from touchpoints.local import make_clients

        yield make_clients()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


_stages = itertools.count(1)


@pytest.fixture(scope="module")
def make_pipeline(reliability_aws: dict[str, Any]) -> Callable[..., Pipeline]:
    """Create a fresh stack (its own table, queues, schedule group) with the handlers bound to it."""

    def make(*, rules_dir: Path | None = None) -> Pipeline:
        return Pipeline(reliability_aws, REPO_ROOT, stage=f"rel{next(_stages)}", rules_dir=rules_dir)

    return make


@pytest.fixture(scope="session")
def repo() -> Path:
    """The checkout's root."""
    return REPO_ROOT
