"""CLI-edge input errors carry the flag or argument at fault (field) and what was given (value)."""

from __future__ import annotations

import pytest

from hashwatt.cli.chain import parse_bits
from hashwatt.cli.fleet import parse_address
from hashwatt.errors import InputError


@pytest.mark.parametrize("text", ["zz", "1d00ffff00"])
def test_bad_bits_name_the_argument(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_bits(text)
    assert (info.value.field, info.value.value) == ("bits", text)


@pytest.mark.parametrize("text", ["10.0.0.1:99999", "10.0.0.1:abc"])
def test_bad_device_addresses_name_the_address(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_address(text)
    assert (info.value.field, info.value.value) == ("address", text)
