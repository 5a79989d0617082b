/* hashwatt scrypt(N=1024, r=1, p=1) nonce search: Litecoin's and Dogecoin's proof of work.
 *
 * A library of its own: this file includes _kernel.c with HW_SCRYPT_LIBRARY defined, for its
 * SHA-256 compression (portable C and the SHA-NI rounds), its cpuid probe and its target
 * compare, without the SHA-256d scan kernels (their build is Bitcoin's cost, not Litecoin's).
 *
 * Per nonce, over the 80-byte header H (password = salt = H):
 *   1. PBKDF2-HMAC-SHA256(H, H, 1, 128 bytes): the HMAC key is SHA-256(H) (H is longer than
 *      a block).  The first 64 header bytes are compressed once per call (the midstate) and
 *      shared by every nonce; then the key's ipad/opad states, the inner hash's first block
 *      (header bytes 0..63 after ipad) and 4 x 2 blocks for the four 32-byte output blocks.
 *   2. ROMix: 1024 BlockMix steps writing a 128 KiB scratchpad, 1024 reading it back at
 *      data-dependent offsets.  BlockMix (r = 1) is two salsa20/8 cores over 64-byte blocks.
 *   3. PBKDF2-HMAC-SHA256(H, X, 1, 32 bytes) with the same key states: the PoW hash.
 * The SHA-256 blocks of several nonces go through SHA-NI side by side when the CPU has it
 * (kernel id bit 0x100 forces portable C, for measurement); they are about 3 % of the work.
 *
 * Salsa20/8 runs on 4-word vectors in the diagonal layout, so that each quarter-round step
 * is one vector add, rotate and xor and a round ends with three word rotations:
 *     a = (x0, x5, x10, x15)  b = (x4, x9, x14, x3)  c = (x8, x13, x2, x7)  d = (x12, x1, x6, x11)
 * One nonce needs 8 such vectors (two blocks).  The sse2-xN kernels interleave N nonces in
 * 128-bit vectors (GCC generic vectors: SSE2 on x86-64, NEON elsewhere); the avx2-xN kernels
 * put two nonces in one 256-bit vector (one per 128-bit half: the word rotations stay within
 * a half) and interleave N/2 such pairs.  Interleaving hides the latency of each nonce's
 * serial chain of adds, rotates and xors, and of the scratchpad reads, whose offsets are
 * known only when the previous BlockMix ends.  Which width wins depends on the core's
 * shift/shuffle ports and on its L2 size (128 KiB per nonce): chosen by measurement in
 * hashwatt.pow._cpu.  The scalar kernel is the plain algorithm, one nonce at a time.
 * avx2-x6, the usual winner, is the same algorithm with its registers fixed in inline
 * assembly on x86-64 (see "avx2-x6 in inline assembly" below); elsewhere it is the C template.
 */
#define HW_SCRYPT_LIBRARY 1
#include "_kernel.c"

#include <stdlib.h>
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define SCRYPT_THREAD_PADS 1
#endif

#define SCRYPT_N 1024u
#define SCRYPT_WORDS 32                       /* one BlockMix state: 2 x 64 bytes */
#define SCRYPT_PAD_WORDS (SCRYPT_N * SCRYPT_WORDS) /* one nonce's scratchpad: 128 KiB */
#define SCRYPT_MAX_LANES 16
#define SCRYPT_NO_NI 0x100
#define SCRYPT_AI static inline __attribute__((always_inline))

struct scrypt_job {
    uint32_t mid[8];   /* SHA-256 state after header bytes 0..63 (hashing the HMAC key) */
    uint32_t head[16]; /* header bytes 0..63, big-endian words */
    uint32_t tail[3];  /* header bytes 64..75, big-endian words */
    int ni;            /* run the SHA-256 blocks on SHA-NI */
};

/* ---------------------------------------------------------------- SHA-256 blocks, several nonces */
#ifdef HW_X86
/* nl blocks side by side on the SHA units: st[l] <- compress(st[l], w[l]) (with feed-forward). */
NI_INLINE void ni_compress_n(const int nl, uint32_t (*st)[8], uint32_t (*w)[16]) {
    __m128i S0[4], S1[4], I0[4], I1[4], M[4][4];
    LANES {
        ni_load_state(st[l], &S0[l], &S1[l]);
        I0[l] = S0[l];
        I1[l] = S1[l];
        for (int k = 0; k < 4; k++) M[l][k] = _mm_loadu_si128((const __m128i *)&w[l][4 * k]);
    }
    ni_rounds(nl, S0, S1, M, 1, 0);
    LANES {
        __m128i abcd, efgh;
        ni_unshuffle(_mm_add_epi32(S0[l], I0[l]), _mm_add_epi32(S1[l], I1[l]), &abcd, &efgh);
        _mm_storeu_si128((__m128i *)&st[l][0], abcd);
        _mm_storeu_si128((__m128i *)&st[l][4], efgh);
    }
}

NI_TARGET static void ni_compress_lanes(int nl, uint32_t (*st)[8], uint32_t (*w)[16]) {
    int l = 0;
    for (; l + 4 <= nl; l += 4) ni_compress_n(4, st + l, w + l);
    if (nl - l >= 2) {
        ni_compress_n(2, st + l, w + l);
        l += 2;
    }
    if (l < nl) ni_compress_n(1, st + l, w + l);
}
#endif

static void sha_lanes(int ni, int nl, uint32_t (*st)[8], uint32_t (*w)[16]) {
#ifdef HW_X86
    if (ni) {
        ni_compress_lanes(nl, st, w);
        return;
    }
#endif
    (void)ni;
    for (int l = 0; l < nl; l++) compress(st[l], w[l]);
}

/* Message block: words 0..n-1 from src, then the 0x80 pad, zeros, and the length in bits. */
static void sha_final_block(uint32_t w[16], const uint32_t *src, int n, uint32_t bits) {
    for (int i = 0; i < n; i++) w[i] = src[i];
    w[n] = 0x80000000u;
    for (int i = n + 1; i < 15; i++) w[i] = 0;
    w[15] = bits;
}

/* PBKDF2-HMAC-SHA256(H, H, 1, 128) for nonces n0 .. n0+nl-1: the HMAC key states of each
 * nonce (ist, ost) and B as 32 little-endian words per nonce (x). */
static void scrypt_pbkdf2_in(const struct scrypt_job *j, uint32_t n0, int nl, uint32_t (*ist)[8],
                             uint32_t (*ost)[8], uint32_t (*x)[SCRYPT_WORDS]) {
    uint32_t key[SCRYPT_MAX_LANES][8], tst[SCRYPT_MAX_LANES][8], st[SCRYPT_MAX_LANES][8];
    uint32_t w[SCRYPT_MAX_LANES][16];
    for (int l = 0; l < nl; l++) { /* key = SHA-256(H): the second block, after the midstate */
        const uint32_t last[4] = {j->tail[0], j->tail[1], j->tail[2], bswap32(n0 + (uint32_t)l)};
        memcpy(key[l], j->mid, 32);
        sha_final_block(w[l], last, 4, 80 * 8);
    }
    sha_lanes(j->ni, nl, key, w);
    for (int l = 0; l < nl; l++) {
        for (int i = 0; i < 8; i++) w[l][i] = key[l][i] ^ 0x36363636u;
        for (int i = 8; i < 16; i++) w[l][i] = 0x36363636u;
        memcpy(ist[l], IV, 32);
    }
    sha_lanes(j->ni, nl, ist, w);
    for (int l = 0; l < nl; l++) {
        for (int i = 0; i < 8; i++) w[l][i] = key[l][i] ^ 0x5c5c5c5cu;
        for (int i = 8; i < 16; i++) w[l][i] = 0x5c5c5c5cu;
        memcpy(ost[l], IV, 32);
    }
    sha_lanes(j->ni, nl, ost, w);
    for (int l = 0; l < nl; l++) { /* inner hash: header bytes 0..63 are its first block */
        memcpy(tst[l], ist[l], 32);
        memcpy(w[l], j->head, 64);
    }
    sha_lanes(j->ni, nl, tst, w);
    for (uint32_t blk = 1; blk <= 4; blk++) {
        for (int l = 0; l < nl; l++) { /* header bytes 64..79, then INT(blk): 64 + 84 bytes */
            const uint32_t last[5] = {j->tail[0], j->tail[1], j->tail[2], bswap32(n0 + (uint32_t)l), blk};
            memcpy(st[l], tst[l], 32);
            sha_final_block(w[l], last, 5, (64 + 84) * 8);
        }
        sha_lanes(j->ni, nl, st, w);
        for (int l = 0; l < nl; l++) { /* outer hash: opad block, then the 32-byte inner digest */
            sha_final_block(w[l], st[l], 8, (64 + 32) * 8);
            memcpy(st[l], ost[l], 32);
        }
        sha_lanes(j->ni, nl, st, w);
        for (int l = 0; l < nl; l++)
            for (int i = 0; i < 8; i++) x[l][8 * (blk - 1) + i] = bswap32(st[l][i]);
    }
}

/* PBKDF2-HMAC-SHA256(H, X, 1, 32): the PoW hash as 8 SHA-256 state words per nonce. */
static void scrypt_pbkdf2_out(int ni, int nl, uint32_t (*ist)[8], uint32_t (*ost)[8],
                              uint32_t (*x)[SCRYPT_WORDS], uint32_t (*hash)[8]) {
    uint32_t w[SCRYPT_MAX_LANES][16];
    static const uint32_t one[1] = {1};
    for (int half = 0; half < 2; half++) {
        for (int l = 0; l < nl; l++)
            for (int i = 0; i < 16; i++) w[l][i] = bswap32(x[l][16 * half + i]);
        sha_lanes(ni, nl, ist, w);
    }
    for (int l = 0; l < nl; l++) sha_final_block(w[l], one, 1, (64 + 128 + 4) * 8);
    sha_lanes(ni, nl, ist, w);
    for (int l = 0; l < nl; l++) {
        sha_final_block(w[l], ist[l], 8, (64 + 32) * 8);
        memcpy(hash[l], ost[l], 32);
    }
    sha_lanes(ni, nl, hash, w);
}

/* ---------------------------------------------------------------- scalar core (one nonce) */
#define R32(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void salsa8_scalar(uint32_t b[16]) {
    uint32_t x[16];
    memcpy(x, b, 64);
    for (int r = 0; r < 8; r += 2) {
        x[4] ^= R32(x[0] + x[12], 7);   x[8] ^= R32(x[4] + x[0], 9);
        x[12] ^= R32(x[8] + x[4], 13);  x[0] ^= R32(x[12] + x[8], 18);
        x[9] ^= R32(x[5] + x[1], 7);    x[13] ^= R32(x[9] + x[5], 9);
        x[1] ^= R32(x[13] + x[9], 13);  x[5] ^= R32(x[1] + x[13], 18);
        x[14] ^= R32(x[10] + x[6], 7);  x[2] ^= R32(x[14] + x[10], 9);
        x[6] ^= R32(x[2] + x[14], 13);  x[10] ^= R32(x[6] + x[2], 18);
        x[3] ^= R32(x[15] + x[11], 7);  x[7] ^= R32(x[3] + x[15], 9);
        x[11] ^= R32(x[7] + x[3], 13);  x[15] ^= R32(x[11] + x[7], 18);
        x[1] ^= R32(x[0] + x[3], 7);    x[2] ^= R32(x[1] + x[0], 9);
        x[3] ^= R32(x[2] + x[1], 13);   x[0] ^= R32(x[3] + x[2], 18);
        x[6] ^= R32(x[5] + x[4], 7);    x[7] ^= R32(x[6] + x[5], 9);
        x[4] ^= R32(x[7] + x[6], 13);   x[5] ^= R32(x[4] + x[7], 18);
        x[11] ^= R32(x[10] + x[9], 7);  x[8] ^= R32(x[11] + x[10], 9);
        x[9] ^= R32(x[8] + x[11], 13);  x[10] ^= R32(x[9] + x[8], 18);
        x[12] ^= R32(x[15] + x[14], 7); x[13] ^= R32(x[12] + x[15], 9);
        x[14] ^= R32(x[13] + x[12], 13); x[15] ^= R32(x[14] + x[13], 18);
    }
    for (int i = 0; i < 16; i++) b[i] += x[i];
}

static void blockmix_scalar(uint32_t x[SCRYPT_WORDS]) {
    for (int i = 0; i < 16; i++) x[i] ^= x[16 + i];
    salsa8_scalar(x);
    for (int i = 0; i < 16; i++) x[16 + i] ^= x[i];
    salsa8_scalar(x + 16);
}

static void scrypt_core_scalar(uint32_t (*x)[SCRYPT_WORDS], uint32_t *pad) {
    for (uint32_t i = 0; i < SCRYPT_N; i++) {
        memcpy(pad + i * SCRYPT_WORDS, x[0], 4 * SCRYPT_WORDS);
        blockmix_scalar(x[0]);
    }
    for (uint32_t i = 0; i < SCRYPT_N; i++) {
        const uint32_t *v = pad + (x[0][16] & (SCRYPT_N - 1)) * SCRYPT_WORDS;
        for (int k = 0; k < SCRYPT_WORDS; k++) x[0][k] ^= v[k];
        blockmix_scalar(x[0]);
    }
}

/* ---------------------------------------------------------------- vector cores
 * SALSA8_LANES(T, SH, nw, X, o): salsa20/8 of the 64-byte block X[l][o..o+3] (diagonal
 * layout, vector type T, word rotation SH) for lanes l < nw, feed-forward included.  Every
 * step is written once for all lanes, so the lanes' independent chains interleave. */
/* Keep the lanes' BlockMix state in memory (a compiler barrier on its address): in registers
 * it crowds out the salsa rounds' working vectors, and the compiler then spills those. */
#define SCRYPT_IN_MEMORY(X) __asm__ volatile("" : : "r"(X) : "memory")
#define SCRYPT_UNROLL _Pragma("GCC unroll 8")
#define VROT(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define SALSA_STEP(nw, dst, p, q, n) SCRYPT_UNROLL for (int l = 0; l < (nw); l++) dst[l] ^= VROT(p[l] + q[l], n)
#define SALSA_TURN(nw, SH, b, c, d, b0, b1, b2, b3, d0, d1, d2, d3) \
    SCRYPT_UNROLL for (int l = 0; l < (nw); l++) {                   \
        b[l] = SH(b[l], b0, b1, b2, b3);                             \
        c[l] = SH(c[l], 2, 3, 0, 1);                                 \
        d[l] = SH(d[l], d0, d1, d2, d3);                             \
    }
#define SALSA8_LANES(T, SH, nw, X, o)                                                  \
    do {                                                                               \
        T a_[SCRYPT_MAX_LANES], b_[SCRYPT_MAX_LANES], c_[SCRYPT_MAX_LANES], d_[SCRYPT_MAX_LANES]; \
        SCRYPT_UNROLL for (int l = 0; l < (nw); l++) {                                 \
            a_[l] = X[l][(o)]; b_[l] = X[l][(o) + 1];                                  \
            c_[l] = X[l][(o) + 2]; d_[l] = X[l][(o) + 3];                              \
        }                                                                              \
        _Pragma("GCC unroll 4") for (int r_ = 0; r_ < 4; r_++) {                       \
            /* column round */                                                        \
            SALSA_STEP(nw, b_, a_, d_, 7);                                             \
            SALSA_STEP(nw, c_, b_, a_, 9);                                             \
            SALSA_STEP(nw, d_, c_, b_, 13);                                            \
            SALSA_STEP(nw, a_, d_, c_, 18);                                            \
            /* to the row layout: b = (x3,x4,x9,x14), c = (x2,x7,x8,x13), d = (x1,x6,x11,x12) */ \
            SALSA_TURN(nw, SH, b_, c_, d_, 3, 0, 1, 2, 1, 2, 3, 0);                    \
            /* row round */                                                           \
            SALSA_STEP(nw, d_, a_, b_, 7);                                             \
            SALSA_STEP(nw, c_, d_, a_, 9);                                             \
            SALSA_STEP(nw, b_, c_, d_, 13);                                            \
            SALSA_STEP(nw, a_, b_, c_, 18);                                            \
            SALSA_TURN(nw, SH, b_, c_, d_, 1, 2, 3, 0, 3, 0, 1, 2);                    \
        }                                                                              \
        SCRYPT_UNROLL for (int l = 0; l < (nw); l++) {                                 \
            X[l][(o)] += a_[l]; X[l][(o) + 1] += b_[l];                                \
            X[l][(o) + 2] += c_[l]; X[l][(o) + 3] += d_[l];                            \
        }                                                                              \
    } while (0)

/* BlockMix (r = 1) of every lane: B0 ^= B1, B0 = salsa(B0), B1 ^= B0, B1 = salsa(B1). */
#define BLOCKMIX_LANES(T, SH, nw, X)                                                                    \
    do {                                                                                                \
        SCRYPT_IN_MEMORY(X);                                                                            \
        SCRYPT_UNROLL for (int l = 0; l < (nw); l++) for (int k = 0; k < 4; k++) X[l][k] ^= X[l][4 + k]; \
        SALSA8_LANES(T, SH, nw, X, 0);                                                                  \
        SCRYPT_UNROLL for (int l = 0; l < (nw); l++) for (int k = 0; k < 4; k++) X[l][4 + k] ^= X[l][k]; \
        SALSA8_LANES(T, SH, nw, X, 4);                                                                  \
    } while (0)

/* Word index of each vector element in the diagonal layout: vector v, element e -> word. */
static const int DIAG[4][4] = {{0, 5, 10, 15}, {4, 9, 14, 3}, {8, 13, 2, 7}, {12, 1, 6, 11}};

/* The vector cores' state as memory: `groups` groups of 8 vectors (two blocks of a, b, c, d),
 * each vector holding `per` nonces, 4 words each (one nonce per 128-bit lane).  Nonce
 * per * g + h is lane h of group g.  To the diagonal layout and back, for every core width. */
static void diag_pack(uint32_t *X, const uint32_t (*xw)[SCRYPT_WORDS], int groups, int per) {
    for (int g = 0; g < groups; g++)
        for (int h = 0; h < per; h++)
            for (int blk = 0; blk < 2; blk++)
                for (int v = 0; v < 4; v++)
                    for (int e = 0; e < 4; e++)
                        X[(g * 8 + 4 * blk + v) * 4 * per + 4 * h + e] = xw[per * g + h][16 * blk + DIAG[v][e]];
}

static void diag_unpack(uint32_t (*xw)[SCRYPT_WORDS], const uint32_t *X, int groups, int per) {
    for (int g = 0; g < groups; g++)
        for (int h = 0; h < per; h++)
            for (int blk = 0; blk < 2; blk++)
                for (int v = 0; v < 4; v++)
                    for (int e = 0; e < 4; e++)
                        xw[per * g + h][16 * blk + DIAG[v][e]] = X[(g * 8 + 4 * blk + v) * 4 * per + 4 * h + e];
}

typedef uint32_t v4u __attribute__((vector_size(16)));
#if defined(__clang__)
#define SH4(v, p, q, r, s) __builtin_shufflevector((v), (v), p, q, r, s)
#else
#define SH4(v, p, q, r, s) __builtin_shuffle((v), (v4u){p, q, r, s})
#endif

/* nw nonces, one per 128-bit vector; scratchpads of 128 KiB each, one after the other. */
SCRYPT_AI void scrypt_core_v4(const int nw, uint32_t (*xw)[SCRYPT_WORDS], uint32_t *pad) {
    v4u X[SCRYPT_MAX_LANES][8];
    diag_pack((uint32_t *)X, xw, nw, 1);
    v4u *V = (v4u *)pad;
    const uint32_t lane_step = SCRYPT_PAD_WORDS / 4;
    for (uint32_t i = 0; i < SCRYPT_N; i++) {
        SCRYPT_UNROLL for (int l = 0; l < nw; l++) for (int k = 0; k < 8; k++) V[l * lane_step + 8 * i + k] = X[l][k];
        BLOCKMIX_LANES(v4u, SH4, nw, X);
    }
    for (uint32_t i = 0; i < SCRYPT_N; i++) {
        SCRYPT_UNROLL for (int l = 0; l < nw; l++) {
            const v4u *src = V + l * lane_step + 8 * (X[l][4][0] & (SCRYPT_N - 1));
            for (int k = 0; k < 8; k++) X[l][k] ^= src[k];
        }
        BLOCKMIX_LANES(v4u, SH4, nw, X);
    }
    diag_unpack(xw, (const uint32_t *)X, nw, 1);
}

static void scrypt_core_sse2_x1(uint32_t (*x)[SCRYPT_WORDS], uint32_t *pad) { scrypt_core_v4(1, x, pad); }
static void scrypt_core_sse2_x2(uint32_t (*x)[SCRYPT_WORDS], uint32_t *pad) { scrypt_core_v4(2, x, pad); }
static void scrypt_core_sse2_x3(uint32_t (*x)[SCRYPT_WORDS], uint32_t *pad) { scrypt_core_v4(3, x, pad); }
static void scrypt_core_sse2_x4(uint32_t (*x)[SCRYPT_WORDS], uint32_t *pad) { scrypt_core_v4(4, x, pad); }

#ifdef HW_X86
/* Two nonces per 256-bit vector (nonce 2p in the low half, 2p+1 in the high half).  The
 * pair's scratchpads are interleaved: one 256-bit store per vector while writing; reading,
 * each half comes from its own nonce's offset. */
#define SH8(v, p, q, r, s) __builtin_shuffle((v), (v8u){p, q, r, s, (p) + 4, (q) + 4, (r) + 4, (s) + 4})
#if defined(__clang__)
#undef SH8
#define SH8(v, p, q, r, s) __builtin_shufflevector((v), (v), p, q, r, s, (p) + 4, (q) + 4, (r) + 4, (s) + 4)
#endif

SCRYPT_AI __attribute__((target("avx2"))) void scrypt_core_v8(const int np, uint32_t (*xw)[SCRYPT_WORDS], uint32_t *pad) {
    v8u X[SCRYPT_MAX_LANES / 2][8];
    diag_pack((uint32_t *)X, xw, np, 2);
    v8u *V = (v8u *)pad;
    const v4u *V4 = (const v4u *)pad;
    const uint32_t pair_step = 2 * SCRYPT_PAD_WORDS / 8;
    for (uint32_t i = 0; i < SCRYPT_N; i++) {
        SCRYPT_UNROLL for (int p = 0; p < np; p++) for (int k = 0; k < 8; k++) V[p * pair_step + 8 * i + k] = X[p][k];
        BLOCKMIX_LANES(v8u, SH8, np, X);
    }
    for (uint32_t i = 0; i < SCRYPT_N; i++) {
        SCRYPT_UNROLL for (int p = 0; p < np; p++) {
            const v4u *lo = V4 + 2 * (p * pair_step + 8 * (X[p][4][0] & (SCRYPT_N - 1)));
            const v4u *hi = V4 + 2 * (p * pair_step + 8 * (X[p][4][4] & (SCRYPT_N - 1))) + 1;
            for (int k = 0; k < 8; k++) {
                __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256((__m128i)lo[2 * k]), (__m128i)hi[2 * k], 1);
                X[p][k] ^= (v8u)both;
            }
        }
        BLOCKMIX_LANES(v8u, SH8, np, X);
    }
    diag_unpack(xw, (const uint32_t *)X, np, 2);
}

__attribute__((target("avx2"))) static void scrypt_core_avx2_x2(uint32_t (*x)[SCRYPT_WORDS], uint32_t *pad) {
    scrypt_core_v8(1, x, pad);
}
__attribute__((target("avx2"))) static void scrypt_core_avx2_x4(uint32_t (*x)[SCRYPT_WORDS], uint32_t *pad) {
    scrypt_core_v8(2, x, pad);
}
#if defined(__x86_64__) && defined(__GNUC__)
/* ---------------------------------------------------------------- avx2-x6 in inline assembly
 * Six nonces as three pairs, both ROMix loops in assembly.  Why not the C template above: with
 * three pairs the salsa rounds need all 16 ymm registers (12 state vectors + 4 temporaries), and
 * GCC, left to allocate them, moves the BlockMix state through the stack between the rounds.
 * Here the registers are fixed: pair p's diagonal vectors a, b, c, d live in ymm(4p)..ymm(4p+3)
 * for the whole loop, ymm12-15 are the temporaries, and only what must outlive a salsa call goes
 * to memory.  Measured beside the C template and pooler's minerd in docs/PERFORMANCE.md.
 *
 * Register of each (pair, role): the token pasting below turns SX_REG(b, 1) into 5. */
#define SX_a0 0
#define SX_b0 1
#define SX_c0 2
#define SX_d0 3
#define SX_a1 4
#define SX_b1 5
#define SX_c1 6
#define SX_d1 7
#define SX_a2 8
#define SX_b2 9
#define SX_c2 10
#define SX_d2 11
#define SX_STR_(n) #n
#define SX_STR(n) SX_STR_(n)
#define SX_Y(role, p) "%%ymm" SX_STR(SX_##role##p)
/* One lane of a salsa step, after its sum is in ymm`t`: D ^= (t <<< N), as two shifts and two
 * xors (ymm15 holds the left shift; the right shift reuses t). */
#define SX_ROTX(D, N, M, p, t)                                   \
    "vpslld $" #N ", %%ymm" #t ", %%ymm15\n\t"                   \
    "vpsrld $" #M ", %%ymm" #t ", %%ymm" #t "\n\t"               \
    "vpxor %%ymm15, " SX_Y(D, p) ", " SX_Y(D, p) "\n\t"          \
    "vpxor %%ymm" #t ", " SX_Y(D, p) ", " SX_Y(D, p) "\n\t"
/* D ^= (P + Q) <<< N for the three pairs: the three sums first, so their chains overlap. */
#define SX_STEP(D, P, Q, N, M)                                           \
    "vpaddd " SX_Y(P, 0) ", " SX_Y(Q, 0) ", %%ymm12\n\t"                 \
    "vpaddd " SX_Y(P, 1) ", " SX_Y(Q, 1) ", %%ymm13\n\t"                 \
    "vpaddd " SX_Y(P, 2) ", " SX_Y(Q, 2) ", %%ymm14\n\t"                 \
    SX_ROTX(D, N, M, 0, 12) SX_ROTX(D, N, M, 1, 13) SX_ROTX(D, N, M, 2, 14)
#define SX_TURN(R, IMM)                                          \
    "vpshufd $" #IMM ", " SX_Y(R, 0) ", " SX_Y(R, 0) "\n\t"      \
    "vpshufd $" #IMM ", " SX_Y(R, 1) ", " SX_Y(R, 1) "\n\t"      \
    "vpshufd $" #IMM ", " SX_Y(R, 2) ", " SX_Y(R, 2) "\n\t"
/* A double round in the diagonal layout (the same steps as SALSA8_LANES); each word rotation
 * is placed once the vector's last use in the half round has been issued. */
#define SX_DOUBLE_ROUND                                                                        \
    SX_STEP(b, a, d, 7, 25) SX_STEP(c, b, a, 9, 23) SX_STEP(d, c, b, 13, 19) SX_TURN(b, 0x93)  \
    SX_STEP(a, d, c, 18, 14) SX_TURN(c, 0x4e) SX_TURN(d, 0x39)                                 \
    SX_STEP(d, a, b, 7, 25) SX_STEP(c, d, a, 9, 23) SX_STEP(b, c, d, 13, 19) SX_TURN(d, 0x93)  \
    SX_STEP(a, b, c, 18, 14) SX_TURN(c, 0x4e) SX_TURN(b, 0x39)
#define SX_SALSA8 SX_DOUBLE_ROUND SX_DOUBLE_ROUND SX_DOUBLE_ROUND SX_DOUBLE_ROUND
/* M(p, k, k4, r) for each pair p and vector k of a block (k4 = k + 4: the same vector of the
 * second block; r: its register). */
#define SX_EACH(M)                                                               \
    M(0, 0, 4, 0) M(0, 1, 5, 1) M(0, 2, 6, 2) M(0, 3, 7, 3)                      \
    M(1, 0, 4, 4) M(1, 1, 5, 5) M(1, 2, 6, 6) M(1, 3, 7, 7)                      \
    M(2, 0, 4, 8) M(2, 1, 5, 9) M(2, 2, 6, 10) M(2, 3, 7, 11)
/* Memory: S = the lanes' state, 8 vectors per pair (X0 then X1; between the salsa calls a block
 * slot also keeps the salsa's input for its feed-forward).  The scratchpad has one 768-byte row
 * per step i, 256 bytes per pair: (X0 ^ X1, X1) as they were before BlockMix i.  Storing X0 ^ X1
 * instead of X0 lets loop 1 reuse the row as the first salsa's input and saves loop 2 an xor. */
#define SX_S(p, k) #p "*256+" #k "*32(%[s])"
#define SX_W(p, k) #p "*256+" #k "*32(%[w])"
#define SX_R(r) "%%ymm" #r
#define SX_LOAD_X1(p, k, k4, r) "vmovdqa " SX_S(p, k4) ", " SX_R(r) "\n\t"
#define SX_STORE_X1(p, k, k4, r) "vmovdqa " SX_R(r) ", " SX_S(p, k4) "\n\t"
/* Loop 1, before BlockMix: the row gets (X0 ^ X1, X1); the register becomes X0 ^ X1. */
#define SX_FILL_IN(p, k, k4, r)                           \
    "vmovdqa " SX_R(r) ", " SX_W(p, k4) "\n\t"            \
    "vpxor " SX_S(p, k) ", " SX_R(r) ", " SX_R(r) "\n\t"  \
    "vmovdqa " SX_R(r) ", " SX_W(p, k) "\n\t"
/* Between the salsa calls: X0 = salsa + input; the register becomes X0 ^ X1, the second
 * call's input, kept in S's X1 slot.  AT names where the input and X1 are: the row in loop 1
 * (SX_W: the row holds them as written), S in loop 2 (SX_S: X1 ^ V1 was put there). */
#define SX_MID_AT(AT, p, k, k4, r)                        \
    "vpaddd " AT(p, k) ", " SX_R(r) ", " SX_R(r) "\n\t"   \
    "vmovdqa " SX_R(r) ", " SX_S(p, k) "\n\t"             \
    "vpxor " AT(p, k4) ", " SX_R(r) ", " SX_R(r) "\n\t"   \
    "vmovdqa " SX_R(r) ", " SX_S(p, k4) "\n\t"
#define SX_FILL_MID(p, k, k4, r) SX_MID_AT(SX_W, p, k, k4, r)
#define SX_MIX_MID(p, k, k4, r) SX_MID_AT(SX_S, p, k, k4, r)
/* Either loop, after the second salsa call: X1 = salsa + input, left in the register. */
#define SX_END(p, k, k4, r) "vpaddd " SX_S(p, k4) ", " SX_R(r) ", " SX_R(r) "\n\t"
/* Loop 2: the rows to read.  The low nonce of pair p reads row (X1[0] of its half) mod N, the
 * high nonce row (X1[4]) mod N, each at 768 bytes a row. */
#define SX_ROWS(p, r, LO, HI)                                \
    "vmovd %%xmm" #r ", %k[" #LO "]\n\t"                     \
    "vextracti128 $1, %%ymm" #r ", %%xmm12\n\t"              \
    "vmovd %%xmm12, %k[" #HI "]\n\t"                         \
    "andl $1023, %k[" #LO "]\n\t"                            \
    "andl $1023, %k[" #HI "]\n\t"                            \
    "leaq (%q[" #LO "], %q[" #LO "], 2), %q[" #LO "]\n\t"    \
    "leaq (%q[" #HI "], %q[" #HI "], 2), %q[" #HI "]\n\t"    \
    "shlq $8, %q[" #LO "]\n\t"                               \
    "shlq $8, %q[" #HI "]\n\t"                               \
    "addq %[v], %q[" #LO "]\n\t"                             \
    "addq %[v], %q[" #HI "]\n\t"
/* Vector k of pair p from the two rows: the low 128 bits from the low nonce's row, the high
 * 128 bits from the high nonce's (a blend, which runs on any vector ALU, not the shuffle units
 * that the salsa rounds keep busy). */
#define SX_GATHER(p, k, t)                                                 \
    "vmovdqa " #p "*256+" #k "*32(%q[lo" #p "]), %%ymm" #t "\n\t"          \
    "vpblendd $0xf0, " #p "*256+" #k "*32(%q[hi" #p "]), %%ymm" #t ", %%ymm" #t "\n\t"
/* Loop 2, before BlockMix: X1' = X1 ^ V1 (kept in S), input = X0 ^ X1 ^ (V0 ^ V1): the row's
 * first half already holds V0 ^ V1. */
#define SX_MIX_IN(p, k, k4, r)                                   \
    SX_GATHER(p, k4, 12)                                         \
    "vpxor " SX_R(r) ", %%ymm12, %%ymm12\n\t"                    \
    "vmovdqa %%ymm12, " SX_S(p, k4) "\n\t"                       \
    "vpxor " SX_S(p, k) ", " SX_R(r) ", " SX_R(r) "\n\t"         \
    SX_GATHER(p, k, 13)                                          \
    "vpxor %%ymm13, " SX_R(r) ", " SX_R(r) "\n\t"                \
    "vmovdqa " SX_R(r) ", " SX_S(p, k) "\n\t"
#define SX_CLOBBERS                                                                                 \
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", \
        "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory"

__attribute__((target("avx2"))) static void scrypt_core_avx2_x6(uint32_t (*xw)[SCRYPT_WORDS], uint32_t *pad) {
    v8u X[3][8] __attribute__((aligned(32)));
    diag_pack((uint32_t *)X, xw, 3, 2);
    char *row = (char *)pad;
    char *const end = row + 768 * (size_t)SCRYPT_N;
    __asm__ volatile(SX_EACH(SX_LOAD_X1)
                     "1:\n\t" SX_EACH(SX_FILL_IN) SX_SALSA8 SX_EACH(SX_FILL_MID) SX_SALSA8 SX_EACH(SX_END)
                     "addq $768, %[w]\n\t"
                     "cmpq %[end], %[w]\n\t"
                     "jne 1b\n\t" SX_EACH(SX_STORE_X1)
                     : [w] "+r"(row)
                     : [s] "r"(X), [end] "r"(end)
                     : SX_CLOBBERS);
    uint64_t lo0, hi0, lo1, hi1, lo2, hi2;
    uint32_t steps = SCRYPT_N;
    __asm__ volatile(SX_EACH(SX_LOAD_X1)
                     "1:\n\t" SX_ROWS(0, 0, lo0, hi0) SX_ROWS(1, 4, lo1, hi1) SX_ROWS(2, 8, lo2, hi2)
                     SX_EACH(SX_MIX_IN) SX_SALSA8 SX_EACH(SX_MIX_MID) SX_SALSA8 SX_EACH(SX_END)
                     "decl %[n]\n\t"
                     "jnz 1b\n\t" SX_EACH(SX_STORE_X1)
                     : [n] "+r"(steps), [lo0] "=&r"(lo0), [hi0] "=&r"(hi0), [lo1] "=&r"(lo1), [hi1] "=&r"(hi1),
                       [lo2] "=&r"(lo2), [hi2] "=&r"(hi2)
                     : [s] "r"(X), [v] "r"(pad)
                     : SX_CLOBBERS);
    diag_unpack(xw, (const uint32_t *)X, 3, 2);
}
#else
__attribute__((target("avx2"))) static void scrypt_core_avx2_x6(uint32_t (*x)[SCRYPT_WORDS], uint32_t *pad) {
    scrypt_core_v8(3, x, pad);
}
#endif
__attribute__((target("avx2"))) static void scrypt_core_avx2_x8(uint32_t (*x)[SCRYPT_WORDS], uint32_t *pad) {
    scrypt_core_v8(4, x, pad);
}

/* ---------------------------------------------------------------- 512-bit template (AVX-512)
 * Four nonces per 512-bit vector (one per 128-bit lane, so the word rotations stay inside a
 * lane), nq such quads interleaved.  One source, two builds, as the SHA-256d vec16 kernel:
 * compiled for AVX-512F/VL the rotations become single `vprold` instructions (an add, a
 * rotate and an xor per step instead of five instructions) and the 32 zmm registers hold
 * three or four quads; compiled for AVX2 each vector is two ymm halves, which is slow but runs
 * (and is tested) on machines without AVX-512.  A quad's scratchpads are interleaved (one
 * 512-bit store per vector while writing); reading, each 128-bit lane comes from its own
 * nonce's row. */
typedef uint32_t v16w __attribute__((vector_size(64)));
#define SH16(v, p, q, r, s)                                                                                 \
    __builtin_shuffle((v), (v16w){p, q, r, s, (p) + 4, (q) + 4, (r) + 4, (s) + 4, (p) + 8, (q) + 8, (r) + 8, \
                                  (s) + 8, (p) + 12, (q) + 12, (r) + 12, (s) + 12})
#if defined(__clang__)
#undef SH16
#define SH16(v, p, q, r, s)                                                                                    \
    __builtin_shufflevector((v), (v), p, q, r, s, (p) + 4, (q) + 4, (r) + 4, (s) + 4, (p) + 8, (q) + 8, (r) + 8, \
                            (s) + 8, (p) + 12, (q) + 12, (r) + 12, (s) + 12)
#endif
/* Lane h of each vector from its own nonce's row: GATHER(dst, rows, k) sets dst to vector k
 * assembled from rows[0..3] (each a pointer to its nonce's 128-bit piece of vector 0). */
#define V16_GATHER_PORTABLE(dst, rows, k)                          \
    do {                                                           \
        for (int h_ = 0; h_ < 4; h_++) memcpy((char *)&(dst) + 16 * h_, (rows)[h_] + 4 * (k), 16); \
    } while (0)
#define V16_GATHER_AVX512(dst, rows, k)                                                                         \
    do {                                                                                                        \
        __m512i g_ = _mm512_castsi128_si512(_mm_load_si128((const __m128i *)((rows)[0] + 4 * (k))));          \
        g_ = _mm512_inserti32x4(g_, _mm_load_si128((const __m128i *)((rows)[1] + 4 * (k))), 1);                \
        g_ = _mm512_inserti32x4(g_, _mm_load_si128((const __m128i *)((rows)[2] + 4 * (k))), 2);                \
        g_ = _mm512_inserti32x4(g_, _mm_load_si128((const __m128i *)((rows)[3] + 4 * (k))), 3);                \
        (dst) = (v16w)g_;                                                                                       \
    } while (0)
#define SCRYPT_CORE_V16(NAME, TARGET, NQ, GATHER)                                                                    \
    __attribute__((target(TARGET))) static void NAME(uint32_t (*xw)[SCRYPT_WORDS], uint32_t *pad) {                 \
        const int nq = (NQ);                                                                                         \
        v16w X[4][8];                                                                                                \
        diag_pack((uint32_t *)X, xw, nq, 4);                                                                         \
        v16w *V = (v16w *)pad;                                                                                       \
        const uint32_t quad_step = 4 * SCRYPT_PAD_WORDS / 16;                                                        \
        for (uint32_t i = 0; i < SCRYPT_N; i++) {                                                                    \
            SCRYPT_UNROLL for (int q = 0; q < nq; q++) for (int k = 0; k < 8; k++) V[q * quad_step + 8 * i + k] = X[q][k]; \
            BLOCKMIX_LANES(v16w, SH16, nq, X);                                                                       \
        }                                                                                                            \
        for (uint32_t i = 0; i < SCRYPT_N; i++) {                                                                    \
            SCRYPT_UNROLL for (int q = 0; q < nq; q++) {                                                             \
                const uint32_t *rows[4];                                                                             \
                for (int h = 0; h < 4; h++)                                                                          \
                    rows[h] = (const uint32_t *)(V + q * quad_step + 8 * (X[q][4][4 * h] & (SCRYPT_N - 1))) + 4 * h; \
                for (int k = 0; k < 8; k++) {                                                                        \
                    v16w g;                                                                                          \
                    GATHER(g, rows, 4 * k);                                                                          \
                    X[q][k] ^= g;                                                                                    \
                }                                                                                                    \
            }                                                                                                        \
            BLOCKMIX_LANES(v16w, SH16, nq, X);                                                                       \
        }                                                                                                            \
        diag_unpack(xw, (const uint32_t *)X, nq, 4);                                                                 \
    }
SCRYPT_CORE_V16(scrypt_core_avx2_q8, "avx2", 2, V16_GATHER_PORTABLE)
SCRYPT_CORE_V16(scrypt_core_avx512_x8, "avx512f,avx512vl", 2, V16_GATHER_AVX512)
SCRYPT_CORE_V16(scrypt_core_avx512_x12, "avx512f,avx512vl", 3, V16_GATHER_AVX512)
SCRYPT_CORE_V16(scrypt_core_avx512_x16, "avx512f,avx512vl", 4, V16_GATHER_AVX512)
#endif /* HW_X86 */

/* ---------------------------------------------------------------- scratchpads
 * One per thread, kept between calls and grown on demand: a fresh 128 KiB per lane each call
 * would come back from the allocator as new pages and be faulted in (and zeroed) every time,
 * about 7 % of a 96-nonce call measured on the 2-vCPU machine.  A thread-exit destructor
 * frees it, so threads that come and go (benchmarks, engine restarts) leak nothing. */
#ifdef SCRYPT_THREAD_PADS
static pthread_key_t pad_key;
static pthread_once_t pad_once = PTHREAD_ONCE_INIT;
static __thread uint32_t *pad_ptr;
static __thread size_t pad_bytes;

static void pad_key_init(void) { (void)pthread_key_create(&pad_key, free); }

static uint32_t *scrypt_pad(size_t bytes) {
    if (pad_bytes >= bytes) return pad_ptr;
    (void)pthread_once(&pad_once, pad_key_init);
    uint32_t *p = aligned_alloc(64, bytes);
    if (p == NULL) return NULL;
    free(pad_ptr);
    pad_ptr = p;
    pad_bytes = bytes;
    (void)pthread_setspecific(pad_key, p);
    return p;
}
#define scrypt_pad_release(p) ((void)(p))
#else
static uint32_t *scrypt_pad(size_t bytes) { return aligned_alloc(64, bytes); }
#define scrypt_pad_release(p) free(p)
#endif

/* ---------------------------------------------------------------- scan */

typedef void (*scrypt_core_fn)(uint32_t (*)[SCRYPT_WORDS], uint32_t *);
struct scrypt_entry {
    scrypt_core_fn core;
    int lanes;
    int needs;
};
/* Scrypt kernel id -> ROMix core, nonces per call of it, hw_cpu_features() bits it needs. */
static const struct scrypt_entry SCRYPT_TABLE[] = {
    {scrypt_core_scalar, 1, 0},
    {scrypt_core_sse2_x1, 1, 0},
    {scrypt_core_sse2_x2, 2, 0},
    {scrypt_core_sse2_x3, 3, 0},
    {scrypt_core_sse2_x4, 4, 0},
#ifdef HW_X86
    {scrypt_core_avx2_x2, 2, NEEDS_AVX2},
    {scrypt_core_avx2_x4, 4, NEEDS_AVX2},
    {scrypt_core_avx2_x6, 6, NEEDS_AVX2},
    {scrypt_core_avx2_x8, 8, NEEDS_AVX2},
    {scrypt_core_avx2_q8, 8, NEEDS_AVX2},
    {scrypt_core_avx512_x8, 8, NEEDS_AVX512},
    {scrypt_core_avx512_x12, 12, NEEDS_AVX512},
    {scrypt_core_avx512_x16, 16, NEEDS_AVX512},
#endif
};

static void scrypt_prepare(struct scrypt_job *j, const uint8_t *header76, int ni) {
    for (int i = 0; i < 16; i++) j->head[i] = be32(header76 + 4 * i);
    for (int i = 0; i < 3; i++) j->tail[i] = be32(header76 + 64 + 4 * i);
    memcpy(j->mid, IV, 32);
    compress(j->mid, j->head);
    j->ni = ni;
}

/* The PoW hash (8 SHA-256 state words) of nonces n0 .. n0+nl-1 through one ROMix core. */
static void scrypt_group(const struct scrypt_job *j, scrypt_core_fn core, uint32_t n0, int nl, uint32_t *pad,
                         uint32_t (*hash)[8]) {
    uint32_t ist[SCRYPT_MAX_LANES][8], ost[SCRYPT_MAX_LANES][8];
    uint32_t x[SCRYPT_MAX_LANES][SCRYPT_WORDS];
    scrypt_pbkdf2_in(j, n0, nl, ist, ost, x);
    core(x, pad);
    scrypt_pbkdf2_out(j->ni, nl, ist, ost, x, hash);
}

/* Scan nonces with scrypt kernel `kernel` (bit 0x100: no SHA-NI); the contract of hw_scan.
 * Returns (uint64_t)-1 for a kernel this CPU cannot run, (uint64_t)-2 when the scratchpad
 * cannot be allocated. */
HW_API uint64_t hw_scrypt_scan(int kernel, const uint8_t *header76, uint32_t nonce_start, uint64_t count,
                               const uint32_t *target, uint32_t *out, uint32_t out_cap, uint32_t *n_out) {
    *n_out = 0;
    if (out_cap == 0) return 0;
    const int id = kernel & 0xff, features = hw_cpu_features();
    if (id < 0 || id >= (int)(sizeof(SCRYPT_TABLE) / sizeof(SCRYPT_TABLE[0]))) return (uint64_t)-1;
    const struct scrypt_entry *entry = &SCRYPT_TABLE[id];
    if ((features & entry->needs) != entry->needs) return (uint64_t)-1;
    clean_upper_state(features);
    struct scrypt_job job;
    scrypt_prepare(&job, header76, (features & NEEDS_SHA) && !(kernel & SCRYPT_NO_NI));
    uint32_t *pad = scrypt_pad((size_t)entry->lanes * SCRYPT_PAD_WORDS * sizeof(uint32_t));
    if (pad == NULL) return (uint64_t)-2;
    uint32_t hash[SCRYPT_MAX_LANES][8];
    uint64_t i = 0;
    while (i < count) {
        /* A partial group at the end still runs the whole core; the lanes past the range hash
         * nonces nobody asked for and are not looked at.  One nonce at a time on the 128-bit
         * core instead cost the miner's 256-nonce batches ~5 % on avx2-x6 (4 tail nonces at a
         * quarter of the rate). */
        const int nl = count - i >= (uint64_t)entry->lanes ? entry->lanes : (int)(count - i);
        scrypt_group(&job, entry->core, nonce_start + (uint32_t)i, entry->lanes, pad, hash);
        for (int l = 0; l < nl; l++) {
            if (meets_target(hash[l], target)) {
                out[(*n_out)++] = nonce_start + (uint32_t)(i + (uint64_t)l);
                if (*n_out == out_cap) {
                    scrypt_pad_release(pad);
                    return i + (uint64_t)l + 1;
                }
            }
        }
        i += (uint64_t)nl;
    }
    scrypt_pad_release(pad);
    return i;
}

/* The scrypt PoW hash of one 80-byte header (32 bytes, internal order), scalar core: for
 * self-tests against hashlib. */
HW_API void hw_scrypt_hash(const uint8_t *header80, uint8_t *digest32) {
    struct scrypt_job job;
    uint32_t hash[1][8];
    uint32_t *pad = malloc(SCRYPT_PAD_WORDS * sizeof(uint32_t));
    if (pad == NULL) {
        memset(digest32, 0, 32);
        return;
    }
    scrypt_prepare(&job, header80, 0);
    uint32_t nonce = (uint32_t)header80[76] | ((uint32_t)header80[77] << 8) | ((uint32_t)header80[78] << 16) |
                     ((uint32_t)header80[79] << 24);
    scrypt_group(&job, scrypt_core_scalar, nonce, 1, pad, hash);
    free(pad);
    for (int i = 0; i < 8; i++) {
        digest32[4 * i] = (uint8_t)(hash[0][i] >> 24);
        digest32[4 * i + 1] = (uint8_t)(hash[0][i] >> 16);
        digest32[4 * i + 2] = (uint8_t)(hash[0][i] >> 8);
        digest32[4 * i + 3] = (uint8_t)hash[0][i];
    }
}
