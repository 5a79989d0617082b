"""PoW and engine input errors carry the argument at fault (field) and what was given (value)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hashwatt.errors import InputError
from hashwatt.miner.engine import SearchEngine
from hashwatt.pow._common import validate_scan_args
from hashwatt.pow._cpu import resolve_kernel_name
from hashwatt.pow.errors import PowInputError

HEADER76 = bytes(76)


@pytest.mark.parametrize(
    ("call", "field", "value"),
    [
        (lambda: validate_scan_args(HEADER76[:75], 0, 1, 1), "header76", 75),
        (lambda: validate_scan_args(HEADER76, 2**32, 1, 1), "nonce_start", 2**32),
        (lambda: validate_scan_args(HEADER76, 0, -1, 1), "count", -1),
        (lambda: validate_scan_args(HEADER76, 2**32 - 1, 2, 1), "nonce_start,count", (2**32 - 1, 2)),
        (lambda: validate_scan_args(HEADER76, 0, 1, 2**256), "target", 2**256),
        (lambda: validate_scan_args(HEADER76, "0", 1, 1), "nonce_start", "str"),
        (lambda: resolve_kernel_name("warp-drive"), "kernel", "warp-drive"),
        (lambda: SearchEngine(threads=0), "threads", 0),
    ],
)
def test_input_errors_carry_field_and_value(call: Callable[[], object], field: str, value: object) -> None:
    with pytest.raises(PowInputError) as info:
        call()
    assert isinstance(info.value, InputError)
    assert (info.value.field, info.value.value) == (field, value)
