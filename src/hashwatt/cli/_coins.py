"""The ``--coin`` choice of the mining commands: which chain's Stratum they speak."""

from __future__ import annotations

import enum

from hashwatt.chain import ChainParams, coin


class MinedCoin(enum.StrEnum):
    """Coins hashwatt's pool and miner mine: Bitcoin (SHA256d) and Litecoin (scrypt; the
    demo pool merge-mines Dogecoin on it, and Dogecoin is never mined alone here)."""

    BTC = "btc"
    LTC = "ltc"

    @property
    def params(self) -> ChainParams:
        return coin(self.value)


COIN_HELP = (
    "Coin: btc (SHA256d) or ltc (scrypt; Stratum difficulty 1 = 65,536 x easier than Bitcoin's, "
    "as cpuminer counts it)."
)
