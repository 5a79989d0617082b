"""The exception tree of hashwatt.

Every error a user can cause derives from :class:`HashwattError` and carries a message they
can act on; the CLI prints it as one line on stderr and exits with code 2.

::

    HashwattError
    ├── InputError                 bad user input at an edge (CLI flag, config file) (.field, .value, .path)
    ├── ChainError                 consensus layer (hashwatt.chain)
    │   ├── ChainInputError        an argument outside its consensus range (also an InputError) (.field, .value)
    │   │   └── InvalidField       a value type's field of the wrong size or range (.structure, .field)
    │   ├── DecodeError            bytes that are not a valid encoding (.what, .offset)
    │   │   ├── InvalidHex         (.position, .length)
    │   │   ├── Truncated          (.needed, .got)
    │   │   ├── TrailingBytes      (.extra)
    │   │   └── NonCanonical       e.g. a non-minimal CompactSize, an oversized count (.value, .limit)
    │   ├── TargetError            compact bits that are negative or overflow
    │   ├── AddressError           an address that does not decode (checksum, network, length)
    │   ├── PowLibraryMissing      an optional proof-of-work library is not installed (.module, .extra)
    │   └── BlockInvalid           a consensus check failed (one subclass per rule)
    │       ├── BadMixDigest       an Ethash mix digest that the header and nonce do not produce
    │       ├── BadEquihashSolution  a Zcash Equihash solution that breaks a rule (.rule)
    │       └── AuxPowInvalid      a merged-mining proof failed (.expected, .actual; one subclass per check)
    └── DataError                  shipped or user datasets that are missing or malformed
        └── DataInputError         a data request out of range (unknown region, year) (also an InputError)

Other rooms (``StratumError``, ``PowError``, ``EconomicsError``, ...) subclass
:class:`HashwattError` in their own ``errors`` modules; docs/ERRORS.md draws the whole tree.
"""

from __future__ import annotations


class HashwattError(Exception):
    """Root of every error hashwatt raises on purpose."""


class InputError(HashwattError, ValueError):
    """A user-supplied value is out of range or malformed.

    ``field`` names the parameter (or a file's key, dotted: ``site.0.miner``; several at once
    comma-joined: ``start,end``) and ``value`` holds what was given, for every room's input
    errors alike (``None`` when the message is about no parameter in particular); ``path`` is
    the file at fault for file-level errors (a config, a price file), else ``None``.
    """

    def __init__(
        self, message: str = "", *, field: str | None = None, value: object = None, path: str | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.path = path


class DataError(HashwattError):
    """A dataset is missing, malformed or does not cover what was asked."""


class DataInputError(DataError, InputError):
    """A request the datasets cannot answer as asked: an unknown region or market, a year not
    covered, a file that is not there."""


class ChainError(HashwattError):
    """Base of the consensus layer's errors."""


class ChainInputError(ChainError, InputError):
    """An argument handed to the consensus layer lies outside its range (a negative height...);
    ``field`` and ``value`` (from :class:`InputError`) say which and what was given."""


class InvalidField(ChainInputError):
    """A consensus value was built with a field of the wrong size or outside its wire range.

    ``structure`` and ``field`` name it (``BlockHeader``, ``prev_hash``): a 31-byte hash must
    not be padded, nor a 33-bit nonce cut, silently on the way to the wire.
    """

    def __init__(self, structure: str, field: str, problem: str) -> None:
        super().__init__(f"{structure}.{field}: {problem}", field=field)
        self.structure = structure


class DecodeError(ChainError, ValueError):
    """Bytes (or hex) that do not decode to the expected structure.

    ``what`` names the structure being read (``scriptSig``, ``transaction count``) and
    ``offset`` where in the input it starts [bytes] (``None`` when not known).
    """

    def __init__(self, message: str, *, what: str = "", offset: int | None = None) -> None:
        super().__init__(message)
        self.what = what
        self.offset = offset


class InvalidHex(DecodeError):
    """A string that is not an even-length hexadecimal string; ``position`` is the first bad
    character (``None`` for an odd length), ``length`` the decoded or cleaned length."""

    def __init__(self, message: str, *, position: int | None = None, length: int | None = None) -> None:
        super().__init__(message, what="hex", offset=position)
        self.position = position
        self.length = length


class Truncated(DecodeError):
    """The input ended before the structure did: ``needed`` bytes (or items) were wanted at
    ``offset`` and only ``got`` bytes were left."""

    def __init__(
        self,
        message: str,
        *,
        what: str = "",
        offset: int | None = None,
        needed: int | None = None,
        got: int | None = None,
    ) -> None:
        super().__init__(message, what=what, offset=offset)
        self.needed = needed
        self.got = got


class TrailingBytes(DecodeError):
    """The structure ended before the input did; ``extra`` bytes were left over."""

    def __init__(self, message: str, *, what: str = "", offset: int | None = None, extra: int = 0) -> None:
        super().__init__(message, what=what, offset=offset)
        self.extra = extra


class NonCanonical(DecodeError):
    """A valid-looking but non-canonical or out-of-bounds encoding: ``value`` as read and the
    ``limit`` it broke (``None`` when the rule is not a bound, e.g. a non-minimal encoding)."""

    def __init__(
        self,
        message: str,
        *,
        what: str = "",
        offset: int | None = None,
        value: int | None = None,
        limit: int | None = None,
    ) -> None:
        super().__init__(message, what=what, offset=offset)
        self.value = value
        self.limit = limit


class AddressError(ChainError, ValueError):
    """An address that does not decode (checksum, length, network) or a script with no address."""


class TargetError(ChainError, ValueError):
    """Compact ``bits`` that encode a negative, zero or overflowing target."""


class BlockInvalid(ChainError):
    """A block failed a consensus check; subclasses name the rule."""


class BadProofOfWork(BlockInvalid):
    """The header hash is above the target its bits encode."""


class BadMerkleRoot(BlockInvalid):
    """The header's merkle root does not commit to the block's transactions."""


class DuplicateTransaction(BlockInvalid):
    """The same txid appears twice (CVE-2012-2459 style mutation)."""


class BadCoinbase(BlockInvalid):
    """No coinbase first, or a coinbase anywhere but first."""


class BadCoinbaseValue(BlockInvalid):
    """The coinbase pays more than subsidy plus fees."""


class BadCoinbaseHeight(BlockInvalid):
    """The coinbase scriptSig does not start with the BIP 34 height push."""


class BadWeight(BlockInvalid):
    """The block weight exceeds 4,000,000 weight units (BIP 141)."""


class BadWitnessCommitment(BlockInvalid):
    """Witness data without a valid BIP 141 commitment in the coinbase."""


class BadTimestamp(BlockInvalid):
    """The block time is too far in the future of the supplied clock."""


class BadTransaction(BlockInvalid):
    """A transaction is malformed in a way the block rules reject (no inputs, value overflow...)."""


class BadMixDigest(BlockInvalid):
    """An Ethash header's mix digest is not the one its header hash and nonce produce."""


class BadEquihashSolution(BlockInvalid):
    """A Zcash header's Equihash solution breaks a rule (size, order, distinct indices, collision).

    ``rule`` names the rule, so a test or a log line can tell which one failed.
    """

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class PowLibraryMissing(ChainError):
    """The optional library a coin's proof-of-work hash needs is not installed.

    ``extra`` is the hashwatt extra that installs it (``pip install hashwatt[coins]``).
    """

    def __init__(self, message: str, *, module: str, extra: str) -> None:
        super().__init__(message)
        self.module = module
        self.extra = extra


class AuxPowInvalid(BlockInvalid):
    """A merged-mining (AuxPoW) proof failed a check; subclasses name the check.

    ``expected`` and ``actual`` hold the two sides of the failed comparison (hex for hashes and
    bytes, ints for counts and indexes) so a log line can show what differed.
    """

    def __init__(
        self, message: str, *, expected: str | int | None = None, actual: str | int | None = None
    ) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class AuxPowNotCoinbase(AuxPowInvalid):
    """The proof's parent transaction is not the parent block's coinbase (index 0, a null input)."""


class AuxPowParentChainId(AuxPowInvalid):
    """The parent block carries the child's own chain id (a chain cannot merge-mine itself)."""


class AuxPowBranchTooLong(AuxPowInvalid):
    """The chain merkle branch is longer than 30 levels (Core's bound)."""


class AuxPowCoinbaseNotInParent(AuxPowInvalid):
    """The coinbase merkle branch does not lead to the parent header's merkle root."""


class AuxPowChainRootMissing(AuxPowInvalid):
    """The chain merkle root (the child block hash folded up the chain branch) is not in the parent coinbase."""


class AuxPowBadCommitment(AuxPowInvalid):
    """The ``fabe6d6d`` commitment is ambiguous: repeated, not just before the root, or too late."""


class AuxPowBadTreeSize(AuxPowInvalid):
    """The tree size after the chain root is not 2 ** (chain branch length), or is missing."""


class AuxPowWrongIndex(AuxPowInvalid):
    """The chain branch's slot is not the one the commitment nonce and chain id select."""


class AuxPowBadProofOfWork(AuxPowInvalid, BadProofOfWork):
    """The parent header's proof-of-work hash is above the child's target."""
