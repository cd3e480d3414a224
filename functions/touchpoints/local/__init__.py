"""The embedded AWS emulation: the stack of template.yaml in moto, with the real handlers driven locally."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from touchpoints.local.driver import Driver, FakeLambdaContext, matches_pattern
from touchpoints.local.template import (
    ACCOUNT_ID,
    REGION,
    StackResources,
    TemplateError,
    create_stack,
    default_template_path,
    load_template,
)

__all__ = [
    "ACCOUNT_ID",
    "REGION",
    "SERVICES",
    "Driver",
    "FakeLambdaContext",
    "LocalStack",
    "StackResources",
    "TemplateError",
    "create_stack",
    "default_template_path",
    "free_port",
    "load_template",
    "make_clients",
    "matches_pattern",
    "start_local_stack",
    "start_moto_server",
]

SERVICES = ("dynamodb", "dynamodbstreams", "sqs", "events", "scheduler", "sesv2", "sns")


def make_clients(endpoint_url: str | None = None, region: str = REGION) -> dict[str, Any]:
    """One boto3 client per service the stack uses (share them: each costs ~150 ms to create)."""
    import boto3

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    session = boto3.session.Session(region_name=region)
    endpoints = dict.fromkeys(SERVICES, endpoint_url)
    if endpoint_url is None:
        # moto in-process routes DynamoDB Streams only on a URL ending in "/", which botocore omits.
        endpoints["dynamodbstreams"] = f"https://streams.dynamodb.{region}.amazonaws.com/"
    return {name: session.client(name, endpoint_url=endpoints[name]) for name in SERVICES}  # type: ignore[call-overload]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto_server(port: int | None = None) -> tuple[Any, str]:
    """Start moto's threaded server on 127.0.0.1; returns (server, endpoint URL). `server.stop()` ends it."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server logs every request otherwise

    port = port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


@dataclass
class LocalStack:
    """A created stack with its clients, the handlers' runtime installed, and the driver."""

    resources: StackResources
    clients: Mapping[str, Any]
    driver: Driver
    endpoint_url: str | None
    rules_dir: Path
    runtime: Any = None

    @property
    def store(self) -> Any:
        """The DecisionStore this stack's handlers use."""
        return self.runtime.store

    def install(self) -> None:
        """Make this stack's runtime the one the handlers use (several stacks may share a process)."""
        from touchpoints.handlers.runtime import set_runtime

        set_runtime(self.runtime)

    @property
    def table_name(self) -> str:
        """The decision table's name."""
        return str(self.resources.outputs["TableName"])

    def sent_emails(self) -> list[dict[str, Any]]:
        """Emails SES accepted, from moto's backend (`/moto-api/data.json` in server mode)."""
        return [m for m in _moto_data(self.endpoint_url, "ses", "Message") if "subject" in m]

    def sent_sms(self) -> list[dict[str, Any]]:
        """SMS SNS accepted: (message id, phone, text) from moto's backend."""
        from moto.backends import get_backend

        backend = get_backend("sns")[ACCOUNT_ID][REGION]
        return [
            {"message_id": mid, "phone": phone, "body": text}
            for mid, (phone, text) in backend.sms_messages.items()
        ]


def _moto_data(endpoint_url: str | None, service: str, model: str) -> list[dict[str, Any]]:
    """Sent SES messages, over HTTP when a server runs (`/moto-api/data.json`), else from the backend."""
    if endpoint_url is not None:
        import json
        import urllib.request

        # The dump holds every backend of moto's process (a test run's other stacks too): it can take
        # seconds on a busy machine, so the wait is generous; the loopback server answers or dies.
        with urllib.request.urlopen(f"{endpoint_url}/moto-api/data.json", timeout=120) as response:
            data = json.loads(response.read())
        return list(data.get(service, {}).get(model, []))
    from moto.backends import get_backend

    backend = get_backend("ses")[ACCOUNT_ID][REGION]
    return [
        {"id": m.id, "source": m.source, "subject": m.subject, "body": m.body, "destinations": m.destinations}
        for m in backend.sent_messages
        if hasattr(m, "subject")
    ]


def start_local_stack(
    *,
    endpoint_url: str | None = None,
    clients: Mapping[str, Any] | None = None,
    template: Path | None = None,
    rules_dir: Path | None = None,
    parameters: Mapping[str, Any] | None = None,
    resources: StackResources | None = None,
) -> LocalStack:
    """Create template.yaml's resources (moto, in-process or at `endpoint_url`) and wire the handlers.

    The handlers' runtime is built from the functions' environment in the template (what Lambda
    would see), with RULES_DIR pointing at the local catalog and the driver's virtual clock.
    `resources` reuses a stack created before (tests create it once per session).
    """
    from touchpoints.handlers.runtime import build_runtime, set_runtime
    from touchpoints.settings import default_rules_dir, load_settings

    clients = clients or make_clients(endpoint_url)
    if resources is None:
        resources = create_stack(template or default_template_path(), clients, parameters=parameters)
    driver = Driver(resources, clients)
    environment = dict(resources.environment)
    rules = rules_dir or default_rules_dir()
    environment["RULES_DIR"] = str(rules)
    environment["AWS_REGION"] = REGION
    if endpoint_url:
        environment["AWS_ENDPOINT_URL"] = endpoint_url
    settings = load_settings(environment)
    runtime = build_runtime(settings, clients=clients, clock=driver.clock)
    set_runtime(runtime)
    return LocalStack(
        resources=resources,
        clients=clients,
        driver=driver,
        endpoint_url=endpoint_url,
        rules_dir=rules,
        runtime=runtime,
    )
