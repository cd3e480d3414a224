"""Which facts a rule can read: exact for literal paths, everything when the path is computed."""

from __future__ import annotations

from typing import Any

import pytest

from touchpoints.logic import read_paths


@pytest.mark.parametrize(
    ("logic", "expected"),
    [
        ({"!": {"var": "order.is_cancelled"}}, {"order.is_cancelled"}),
        ({">": [{"var": ["event.rating", 5]}, 3]}, {"event.rating"}),
        ({"missing": ["order.paid_at", "customer.email"]}, {"order.paid_at", "customer.email"}),
        ({"missing": [["order.paid_at", "order.placed_at"]]}, {"order.paid_at", "order.placed_at"}),
        ({"missing_some": [1, ["customer.email", "customer.phone"]]}, {"customer.email", "customer.phone"}),
        ({"var": ["order.total.amount", {"var": "event.amount"}]}, {"order.total.amount", "event.amount"}),
        ({"some": [{"var": "order.reviews"}, {"<": [{"var": "rating"}, 3]}]}, {"order.reviews", "rating"}),
        (True, set()),
    ],
)
def test_literal_paths_are_listed(logic: Any, expected: set[str]) -> None:
    # GIVEN a condition reading literal paths  WHEN its paths are read  THEN exactly those are listed
    assert read_paths(logic) == expected


@pytest.mark.parametrize(
    "logic",
    [
        {"var": {"cat": ["order.", "status"]}},
        {"var": ""},
        {"var": []},
        {"var": None},
        {"missing": {"merge": [["order.paid_at"]]}},
        {"missing_some": [1, {"var": "keys"}]},
        {"and": [{"var": "order.is_paid"}, {"var": [{"var": "event.field"}]}]},
    ],
)
def test_computed_or_whole_data_paths_read_everything(logic: Any) -> None:
    # GIVEN a condition whose path is computed, or that reads the whole data
    # WHEN its paths are read  THEN it may read anything (all facts are built for it)
    assert read_paths(logic) is None
