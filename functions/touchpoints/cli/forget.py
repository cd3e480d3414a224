"""`touchpoints forget`: erase a customer's personal data and keep the audit trail's counts."""

from __future__ import annotations

import sys

import click

from touchpoints.cli.audit import table_options
from touchpoints.cli.output import EXIT_PROBLEMS, EXIT_USAGE, echo_json, fail, handle_errors, stdout_console

__all__ = ["forget"]


@click.command()
@click.option("--customer", "customer_id", required=True, metavar="ID", help="The customer to erase.")
@table_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print what was erased as JSON.")
@handle_errors
def forget(
    customer_id: str,
    table: str | None,
    endpoint_url: str | None,
    region: str | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Erase a customer's personal data (right to erasure), keeping the audit counts.

    Deletes the customer's contact ledger; removes their email, phone and name (and who signed
    for a parcel) from the journey state and the stored events of each of their orders; replaces
    the masked address of each decision record with `[erased]`. Decision records themselves stay,
    with their rule, status and times, so audits and rule statistics keep their numbers.
    Messages still pending for the customer fail at send time (no address any more).
    Safe to run again. Every order whose journey named the customer is found (the
    orders-by-customer index), whether or not a rule ever decided anything on it, and under
    each customer id the order was ever committed with.

    \b
    Examples:
      touchpoints forget --customer C1001 --table touchpoints-prod-decisions
      touchpoints forget --customer C1001 --table touchpoints-local-decisions \\
          --endpoint-url http://127.0.0.1:5000 --yes --json      # after `touchpoints demo --keep-running`

    Without --yes it asks first, so it needs a terminal; scripts pass --yes.
    """
    from touchpoints.cli.audit import connect_store
    from touchpoints.ports import StoreError

    if not yes and not _can_ask():
        fail(
            "forget asks for confirmation, and there is no terminal to ask on",
            exit_code=EXIT_USAGE,
            hint="pass --yes to erase without asking (scripts, CI)",
        )
    store = connect_store(table, endpoint_url, region)
    if not yes and not click.confirm(
        f"Erase the personal data of customer {customer_id} in {store.table_name}?"
    ):
        fail("not confirmed: nothing was erased", exit_code=EXIT_PROBLEMS)
    try:
        report = store.forget_customer(customer_id)
    except StoreError as exc:
        fail(
            f"erasing customer {customer_id} stopped: {exc}",
            exit_code=EXIT_PROBLEMS,
            hint="nothing is lost by running it again",
        )
    if as_json:
        echo_json(
            {
                "customer_id": report.customer_id,
                "orders": report.orders,
                "states": report.states,
                "events": report.events,
                "actions": report.actions,
                "ledger_deleted": report.ledger_deleted,
            }
        )
        return
    stdout_console().print(
        f"Erased customer {customer_id}: {len(report.orders)} order(s); "
        f"{report.states} journey state(s), {report.events} stored event(s), "
        f"{report.actions} decision record address(es); "
        f"contact ledger {'deleted' if report.ledger_deleted else 'not found'}."
    )


def _can_ask() -> bool:
    """Whether a confirmation prompt can be answered (stdin is a terminal, not a pipe or /dev/null)."""
    return sys.stdin.isatty()
