"""What a share means on each coin's Stratum: which hash measures it and what difficulty 1 is.

The coin's :class:`~hashwatt.chain.ChainParams` says which proof-of-work hash it uses; Stratum
pools add their own difficulty convention on top. SHA256d pools take Bitcoin's difficulty 1
(target ``0xffff * 2**208``, cgminer's "truediffone"). Scrypt pools take a difficulty 65,536
times smaller for the same target: cpuminer (pooler, ``-a scrypt``) turns ``mining.set_difficulty
d`` into ``diff_to_target(target, d / 65536.0)``, so scrypt share difficulty 1 is the target
``0xffff * 2**224`` (= ``0x0000ffff << 224``), about 2**16 hashes a share. docs/COINS.md
gives the formula; nothing else in hashwatt converts a Stratum difficulty.
"""

from __future__ import annotations

from dataclasses import dataclass

from hashwatt.chain import BTC, DIFFICULTY_1_TARGET, ChainParams, PowAlgorithm
from hashwatt.stratum._codec import difficulty_from_target, target_from_difficulty

#: The target of Stratum share difficulty 1 per proof-of-work hash (SHA256d: cgminer's
#: truediffone; scrypt: cpuminer's ``diff / 65536``, i.e. 65,536 x easier).
STRATUM_DIFFICULTY_1_TARGET: dict[PowAlgorithm, int] = {
    PowAlgorithm.SHA256D: DIFFICULTY_1_TARGET,
    PowAlgorithm.SCRYPT: DIFFICULTY_1_TARGET << 16,
}


@dataclass(frozen=True, slots=True)
class ShareRules:
    """One coin's share convention, from its :class:`ChainParams`: the hash and difficulty 1.

    ``target(d) = floor(difficulty_1_target / d)`` (capped at 2**256 - 1) and
    ``difficulty(t) = difficulty_1_target / t``; ``bitcoin_difficulty_per_difficulty`` converts
    a share's difficulty into Bitcoin difficulty-1 units (2**32 hashes each) for hashrate meters.
    """

    coin: ChainParams
    difficulty_1_target: int

    @property
    def pow_algorithm(self) -> PowAlgorithm:
        return self.coin.pow_algorithm

    @property
    def bitcoin_difficulty_per_difficulty(self) -> float:
        """Bitcoin difficulty-1 shares one share of difficulty 1 is worth [1]."""
        return DIFFICULTY_1_TARGET / self.difficulty_1_target

    def target(self, difficulty: float) -> int:
        """The share target of a Stratum difficulty (a bad value is a ``ProtocolViolation``)."""
        return target_from_difficulty(difficulty, difficulty_1_target=self.difficulty_1_target)

    def difficulty(self, target: int) -> float:
        """The Stratum difficulty of a share target."""
        return difficulty_from_target(target, difficulty_1_target=self.difficulty_1_target)


def share_rules(coin: ChainParams) -> ShareRules:
    """The Stratum share convention of ``coin`` (by its proof-of-work algorithm)."""
    return ShareRules(coin, STRATUM_DIFFICULTY_1_TARGET[coin.pow_algorithm])


#: Bitcoin's rules: what every hashwatt pool and miner used before coins were a parameter.
BITCOIN_SHARES = share_rules(BTC)
