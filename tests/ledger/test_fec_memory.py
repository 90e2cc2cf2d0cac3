"""The preview's memory savings (issue 16) change no value: Arrow arrays read from their
buffers as ``to_pylist`` reads them; a planned amount shared with its debit written as the
subtraction would write it; the fingerprint kept as bytes gives back the same hex text."""

import hashlib
from decimal import Decimal

import pyarrow as pa
import pytest

from imports.fec_fast import _numpy
from imports.fec_plan import _difference


@pytest.mark.parametrize("values", [
    pa.array([True, False, True, True, False, False, True, False, True, True]).slice(3),
    pa.array([True] * 17 + [False] * 5).slice(9, 11),
    pa.array([5, -6, 7, 8], pa.int64()).slice(1, 2),
    pa.array([3, 1, 2], pa.int32()),
    pa.chunked_array([pa.array([1, 2]), pa.array([3])]),
    pa.array([], pa.bool_()),
])  # fmt: skip
def test_arrays_read_from_buffers_as_arrow_lists_them(values):
    assert _numpy(values).tolist() == values.to_pylist()


@pytest.mark.parametrize(("debit", "credit", "text"), [
    ("12.34", "0.00", "12.34"), ("12.3", "0.00", "12.30"), ("12.345", "0.00", "12.345"),
    ("12.34", "0", "12.34"), ("12.34", "1.00", "11.34"), ("-5.00", "0.00", "-5.00"),
])  # fmt: skip
def test_amount_shared_with_the_debit_reads_as_the_subtraction(debit, credit, text):
    found = _difference(Decimal(debit), Decimal(credit))
    assert str(found) == text  # the fingerprint hashes str(amount)


def test_planned_cost_gives_back_its_fingerprint_text():
    from imports.fec_plan import PlannedCost

    text = hashlib.sha256(b"fec\x1fHA").hexdigest()
    cost = PlannedCost(2, None, "COMPTA", bytes.fromhex(text), False)  # type: ignore[arg-type]
    assert cost.import_key == text
