"""Offline overrides of the network inputs, as Braiins' and WhatToMine's calculators allow.

The shipped data end on known days (see :class:`hashwatt.data.AsOf`); a user who knows
today's difficulty, price or fees gives them here and the calculation says which inputs were
given. Each override replaces exactly one input:

* ``difficulty`` (raw, as ``hashwatt chain target`` prints it, or with a T/P suffix) or
  ``hashrate_ehs`` (converted to difficulty at 600-s blocks: D = h x 600 / 2**32);
* ``btc_price_usd``;
* ``fees_btc_per_block`` or ``fee_share`` (fees / (subsidy + fees), so fees = s x f / (1 - f));
* ``hashprice_usd_per_ph_day``: keeps difficulty and fees and solves for the BTC price that
  gives this hashprice, or, when the price is also given, solves for the difficulty.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

import pydantic

from hashwatt._toml import read_toml
from hashwatt.chain import HASHES_PER_DIFFICULTY, TARGET_BLOCK_INTERVAL_S
from hashwatt.data import AsOf, utc_today
from hashwatt.economics._profit import NetworkState
from hashwatt.economics._revenue import hashprice_btc_per_ph_day
from hashwatt.economics.errors import EconomicsInputError

__all__ = ["NetworkOverrides", "apply_overrides", "parse_difficulty"]

_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15, "e": 1e18}
_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGtTpPeE]?)\s*$")
#: Bitcoin's difficulty has never reached 1e16 (10,000 T); far above is a typo, not a forecast.
_MAX_DIFFICULTY = 1e18


def parse_difficulty(text: str | float) -> float:
    """A difficulty from ``"124932866000000"``, ``"1.249e14"``, ``"124.93T"`` or ``"0.125P"``."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = _NUMBER.match(str(text))
        if m is None:
            raise EconomicsInputError(
                f"difficulty must be a number with an optional T/P suffix, got {text!r}",
                field="difficulty",
                value=text,
            )
        value = float(m.group(1)) * _SUFFIX[m.group(2).lower()]
    if not (math.isfinite(value) and 1.0 <= value <= _MAX_DIFFICULTY):
        raise EconomicsInputError(
            f"difficulty must be between 1 and 1e18, got {text!r}", field="difficulty", value=text
        )
    return value


def read_inputs_file(path: Path, *, what: str) -> object:
    """A TOML or (by suffix) JSON file of user inputs, or one :class:`EconomicsInputError`."""
    if path.suffix.lower() != ".json":
        return read_toml(path, what=what, error=EconomicsInputError)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EconomicsInputError(
            f"{what} not found: {path}", field=what, value=str(path), path=str(path)
        ) from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EconomicsInputError(
            f"{path}: not valid JSON ({exc})", field=what, value=str(path), path=str(path)
        ) from exc


_M = TypeVar("_M", bound=pydantic.BaseModel)


def validate_or_raise(model: type[_M], doc: Mapping[str, object], *, source: str) -> _M:
    """``model`` from ``doc``, or one :class:`EconomicsInputError` naming the source and the field."""
    try:
        return model.model_validate(doc)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise EconomicsInputError(
            f"{source}: {where}: {msg}", field=where, value=first.get("input"), path=source
        ) from exc


def _finite_positive(name: str, value: float | None, *, upper: float) -> None:
    if value is not None and not (math.isfinite(value) and 0 < value <= upper):
        raise EconomicsInputError(
            f"{name} must be positive, finite and at most {upper:g}, got {value!r}", field=name, value=value
        )


class NetworkOverrides(pydantic.BaseModel):
    """User-given network inputs (all optional); a ``--network FILE`` holds the same keys."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    difficulty: float | None = None
    hashrate_ehs: float | None = None
    btc_price_usd: float | None = None
    fees_btc_per_block: float | None = None
    fee_share: float | None = None
    hashprice_usd_per_ph_day: float | None = None

    @pydantic.field_validator("difficulty", mode="before")
    @classmethod
    def _difficulty(cls, value: object) -> float | None:
        return None if value is None else parse_difficulty(value)  # type: ignore[arg-type]

    @pydantic.model_validator(mode="after")
    def _check(self) -> NetworkOverrides:
        _finite_positive("hashrate_ehs", self.hashrate_ehs, upper=1e9)
        _finite_positive("btc_price_usd", self.btc_price_usd, upper=1e9)
        _finite_positive("hashprice_usd_per_ph_day", self.hashprice_usd_per_ph_day, upper=1e9)
        if self.fees_btc_per_block is not None and not (
            math.isfinite(self.fees_btc_per_block) and 0 <= self.fees_btc_per_block <= 1000
        ):
            raise EconomicsInputError(
                f"fees_btc_per_block must be in [0, 1000], got {self.fees_btc_per_block!r}",
                field="fees_btc_per_block",
                value=self.fees_btc_per_block,
            )
        if self.fee_share is not None and not (0 <= self.fee_share < 1):
            raise EconomicsInputError(
                f"fee_share must be in [0, 1), got {self.fee_share!r}",
                field="fee_share",
                value=self.fee_share,
            )
        if self.difficulty is not None and self.hashrate_ehs is not None:
            raise EconomicsInputError("give difficulty or hashrate_ehs, not both")
        if self.fees_btc_per_block is not None and self.fee_share is not None:
            raise EconomicsInputError("give fees_btc_per_block or fee_share, not both")
        given_difficulty = self.difficulty is not None or self.hashrate_ehs is not None
        if self.hashprice_usd_per_ph_day is not None and self.btc_price_usd is not None and given_difficulty:
            raise EconomicsInputError(
                "hashprice, BTC price and difficulty together over-determine the network; drop one"
            )
        return self

    @classmethod
    def from_file(cls, path: str | Path) -> NetworkOverrides:
        """Read a TOML (``[network]`` table or top level) or JSON file with the same keys."""
        path = Path(path)
        doc = read_inputs_file(path, what="network file")
        if isinstance(doc, dict) and isinstance(doc.get("network"), dict):
            doc = doc["network"]
        if not isinstance(doc, dict):
            raise EconomicsInputError(
                f"{path}: expected a table of network inputs",
                field="file",
                value=type(doc).__name__,
                path=str(path),
            )
        return cls.model_validate_or_raise(doc, source=str(path))

    @classmethod
    def model_validate_or_raise(cls, doc: dict[str, object], *, source: str) -> NetworkOverrides:
        return validate_or_raise(cls, doc, source=source)

    def merged(self, other: NetworkOverrides) -> NetworkOverrides:
        """These overrides with ``other``'s given values on top (flags over a file)."""
        data = self.model_dump(exclude_none=True)
        data.update(other.model_dump(exclude_none=True))
        if "difficulty" in other.model_fields_set and other.difficulty is not None:
            data.pop("hashrate_ehs", None)
        if other.hashrate_ehs is not None:
            data.pop("difficulty", None)
        if other.fee_share is not None:
            data.pop("fees_btc_per_block", None)
        if other.fees_btc_per_block is not None:
            data.pop("fee_share", None)
        return NetworkOverrides.model_validate(data)

    @property
    def empty(self) -> bool:
        return not self.model_dump(exclude_none=True)


def apply_overrides(
    net: NetworkState, overrides: NetworkOverrides, *, today: dt.date | None = None
) -> NetworkState:
    """``net`` with the given inputs replaced; its as-of marks them as given today."""
    day = utc_today() if today is None else today
    as_of = net.as_of if net.as_of is not None else AsOf(())
    difficulty, price, fees = net.difficulty, net.price_usd, net.fees_btc_per_block
    if overrides.difficulty is not None:
        difficulty = overrides.difficulty
        as_of = as_of.with_override("difficulty", day)
    if overrides.hashrate_ehs is not None:
        difficulty = overrides.hashrate_ehs * 1e18 * TARGET_BLOCK_INTERVAL_S / HASHES_PER_DIFFICULTY
        as_of = as_of.with_override("difficulty", day)
    if overrides.btc_price_usd is not None:
        price = overrides.btc_price_usd
        as_of = as_of.with_override("price", day)
    if overrides.fees_btc_per_block is not None:
        fees = overrides.fees_btc_per_block
        as_of = as_of.with_override("fees", day)
    if overrides.fee_share is not None:
        share = overrides.fee_share
        fees = net.subsidy_btc_per_block * share / (1.0 - share)
        as_of = as_of.with_override("fees", day)
    if overrides.hashprice_usd_per_ph_day is not None:
        target = overrides.hashprice_usd_per_ph_day
        if overrides.btc_price_usd is not None:
            # hashprice_btc scales as 1 / difficulty: solve D for the given USD hashprice
            per_d = float(hashprice_btc_per_ph_day(1.0, net.subsidy_btc_per_block, fees))
            difficulty = per_d * price / target
            as_of = as_of.with_override("difficulty", day)
        else:
            btc = float(hashprice_btc_per_ph_day(difficulty, net.subsidy_btc_per_block, fees))
            price = target / btc
            as_of = as_of.with_override("price", day)
    return NetworkState(
        height=net.height,
        difficulty=difficulty,
        price_usd=price,
        fees_btc_per_block=fees,
        subsidy_btc_per_block=net.subsidy_btc_per_block,
        date=net.date,
        as_of=as_of,
    )
