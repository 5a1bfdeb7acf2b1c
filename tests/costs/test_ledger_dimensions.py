"""Every dimension the ledger sums by has its statement: ``core.costs.queries.SUMS_BY`` is
compiled at import, one per column, from its own list; a dimension added to
``core.costs.ledger.DIMENSIONS`` without its statement would fail only when asked for."""

from __future__ import annotations

from core.costs.ledger import DIMENSIONS
from core.costs.queries import SUMS_BY


def test_each_ledger_dimension_has_its_statement() -> None:
    columns = {column for column in DIMENSIONS.values() if column is not None}
    assert columns == set(SUMS_BY)
