"""Generate the straight-line SHA-256d nonce test that the numba kernels (CUDA and CPU) run.

Why generate: a GPU keeps a hash's 8 state words and 16 live message words in registers only
when every index is a compile-time constant; a Python loop over ``w[i]`` becomes a local-memory
array. The generator unrolls all rounds into scalar assignments and folds what it can:

- values known at generation time (padding words, the second hash's IV, K) are folded into
  constants, so ``x + 0`` and rounds over constant state vanish;
- values that depend only on the job (the midstate, header words 16..18, rounds 0..2 of the
  second block, the parts of the message schedule and of ``K[i] + W[i]`` that do not involve
  the nonce) go to a *prologue* that runs once per thread, not once per nonce;
- the second hash stops after 61 rounds: the state word ``e`` after round 61 becomes the
  final ``h`` (the hash's most significant 32 bits as a little-endian number), which is all
  the early-reject test needs.

The output is the source of one Python function; every 32-bit result is wrapped in ``U(...)``
(``numba.uint32``) so numba keeps 32-bit arithmetic (LLVM narrows ``trunc(add(zext, zext))``
and recognises the rotate pattern as a funnel shift). The same source runs on numba's CUDA
simulator, where ``U`` is ``numpy.uint32``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_MASK = 0xFFFFFFFF
K = (
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
)  # fmt: skip
IV = (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)

#: Rounds of the second hash the kernels run before the early-reject test.
SECOND_HASH_ROUNDS = 61


@dataclass(frozen=True, slots=True)
class _Val:
    """A 32-bit value: a constant, or a variable that is job-invariant or nonce-dependent."""

    const: int | None = None
    name: str = ""
    dep: bool = False


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (32 - n))) & _MASK


@dataclass
class _Gen:
    prologue: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    counter: int = 0
    #: Constants used, emitted as module-level uint32 globals (numba freezes them).
    constants: dict[int, str] = field(default_factory=dict)
    ops_per_nonce: int = 0

    def const_name(self, value: int) -> str:
        value &= _MASK
        if value not in self.constants:
            self.constants[value] = f"C{len(self.constants)}"
        return self.constants[value]

    def ref(self, v: _Val) -> str:
        return self.const_name(v.const) if v.const is not None else v.name

    def emit(self, expr: str, dep: bool, ops: int) -> _Val:
        name = f"v{self.counter}"
        self.counter += 1
        (self.body if dep else self.prologue).append(f"{name} = U({expr})")
        if dep:
            self.ops_per_nonce += ops
        return _Val(name=name, dep=dep)

    def add(self, *vals: _Val) -> _Val:
        const = sum(v.const for v in vals if v.const is not None) & _MASK
        inv = [v for v in vals if v.const is None and not v.dep]
        dep = [v for v in vals if v.dep]
        if not inv and not dep:
            return _Val(const=const)
        if dep and (len(inv) + (const != 0)) > 1:  # fold the invariant part once, in the prologue
            inv = [self.add(*inv, _Val(const=const))]
            const = 0
        terms = [self.ref(v) for v in (*dep, *inv)] + ([self.const_name(const)] if const else [])
        if len(terms) == 1:
            return (dep or inv)[0]
        return self.emit(" + ".join(terms), bool(dep), len(terms) - 1)

    def unary(self, x: _Val, const_fn: object, template: str, ops: int) -> _Val:
        if x.const is not None:
            assert callable(const_fn)
            return _Val(const=const_fn(x.const) & _MASK)
        return self.emit(template.format(x=x.name), x.dep, ops)

    def ternary(self, a: _Val, b: _Val, c: _Val, const_fn: object, template: str, ops: int) -> _Val:
        if a.const is not None and b.const is not None and c.const is not None:
            assert callable(const_fn)
            return _Val(const=const_fn(a.const, b.const, c.const) & _MASK)
        return self.emit(
            template.format(a=self.ref(a), b=self.ref(b), c=self.ref(c)), a.dep or b.dep or c.dep, ops
        )


def _rot_expr(x: str, n: int) -> str:
    return f"(({x} >> {n}) | ({x} << {32 - n}))"


def _bsig0(g: _Gen, x: _Val) -> _Val:
    return g.unary(
        x,
        lambda v: _rotr(v, 2) ^ _rotr(v, 13) ^ _rotr(v, 22),
        f"{_rot_expr('{x}', 2)} ^ {_rot_expr('{x}', 13)} ^ {_rot_expr('{x}', 22)}",
        5,
    )


def _bsig1(g: _Gen, x: _Val) -> _Val:
    return g.unary(
        x,
        lambda v: _rotr(v, 6) ^ _rotr(v, 11) ^ _rotr(v, 25),
        f"{_rot_expr('{x}', 6)} ^ {_rot_expr('{x}', 11)} ^ {_rot_expr('{x}', 25)}",
        5,
    )


def _ssig0(g: _Gen, x: _Val) -> _Val:
    return g.unary(
        x,
        lambda v: _rotr(v, 7) ^ _rotr(v, 18) ^ (v >> 3),
        f"{_rot_expr('{x}', 7)} ^ {_rot_expr('{x}', 18)} ^ ({{x}} >> 3)",
        5,
    )


def _ssig1(g: _Gen, x: _Val) -> _Val:
    return g.unary(
        x,
        lambda v: _rotr(v, 17) ^ _rotr(v, 19) ^ (v >> 10),
        f"{_rot_expr('{x}', 17)} ^ {_rot_expr('{x}', 19)} ^ ({{x}} >> 10)",
        5,
    )


def _ch(g: _Gen, e: _Val, f: _Val, h: _Val) -> _Val:
    return g.ternary(e, f, h, lambda x, y, z: z ^ (x & (y ^ z)), "{c} ^ ({a} & ({b} ^ {c}))", 3)


def _maj(g: _Gen, a: _Val, b: _Val, c: _Val) -> _Val:
    return g.ternary(a, b, c, lambda x, y, z: (x & y) | (z & (x | y)), "({a} & {b}) | ({c} & ({a} | {b}))", 4)


def _compress(g: _Gen, state: list[_Val], w: list[_Val], rounds: int) -> list[_Val]:
    """``rounds`` rounds over 16 message words; returns the working variables (no feed-forward)."""
    sched = list(w)
    for i in range(16, rounds):
        sched.append(g.add(_ssig1(g, sched[i - 2]), sched[i - 7], _ssig0(g, sched[i - 15]), sched[i - 16]))
    a, b, c, d, e, f, h6, h = state
    for i in range(rounds):
        t1 = g.add(h, _bsig1(g, e), _ch(g, e, f, h6), _Val(const=K[i]), sched[i])
        t2 = g.add(_bsig0(g, a), _maj(g, a, b, c))
        h, h6, f, e, d, c, b, a = h6, f, e, g.add(d, t1), c, b, a, g.add(t1, t2)
    return [a, b, c, d, e, f, h6, h]


@dataclass(frozen=True, slots=True)
class GeneratedTest:
    """Source of ``nonce_top_word(params, nonce)``-style code, split for a kernel wrapper."""

    prologue: tuple[str, ...]  # reads params[0..10] into m0..m7, t0..t2; job-invariant values
    body: tuple[str, ...]  # reads ``nonce``; leaves the final top word in ``top``
    constants: dict[str, int]
    ops_per_nonce: int


def generate() -> GeneratedTest:
    """The unrolled sha256d of ``header76 || nonce`` up to the top word, with its prologue.

    ``params`` holds the midstate (8 words) and header words 16..18 (big-endian), 11 uint32.
    The body leaves ``top``: the hash's most significant 32 bits as a little-endian number.
    """
    g = _Gen()
    for i in range(8):
        g.prologue.append(f"m{i} = U(params[{i}])")
    for i in range(3):
        g.prologue.append(f"t{i} = U(params[{8 + i}])")
    mid = [_Val(name=f"m{i}") for i in range(8)]
    nonce_be = _Val(name="wn", dep=True)
    w1 = [_Val(name=f"t{i}") for i in range(3)]
    w1 += [nonce_be, _Val(const=0x80000000)] + [_Val(const=0)] * 10 + [_Val(const=640)]
    s1 = _compress(g, mid, w1, 64)
    digest = [g.add(mid[i], s1[i]) for i in range(8)]
    w2 = digest + [_Val(const=0x80000000)] + [_Val(const=0)] * 6 + [_Val(const=256)]
    s2 = _compress(g, [_Val(const=v) for v in IV], w2, SECOND_HASH_ROUNDS)
    final_h = g.add(_Val(const=IV[7]), s2[4])  # e after round 61 is h after round 64
    body = [
        "wn = U(((nonce & C_FF) << 24) | ((nonce & C_FF00) << 8) | ((nonce >> 8) & C_FF00) | (nonce >> 24))",
        *g.body,
        f"hw = {g.ref(final_h)}",
        "top = U(((hw & C_FF) << 24) | ((hw & C_FF00) << 8) | ((hw >> 8) & C_FF00) | (hw >> 24))",
    ]
    constants = {name: value for value, name in g.constants.items()}
    constants["C_FF"] = 0xFF
    constants["C_FF00"] = 0xFF00
    return GeneratedTest(tuple(g.prologue), tuple(body), constants, g.ops_per_nonce + 2 * 10)


def indent(lines: tuple[str, ...] | list[str], depth: int) -> str:
    pad = "    " * depth
    return "\n".join(pad + line for line in lines)
