/* hashwatt SHA-256d nonce search kernel (compiled on first use by hashwatt.pow._cpu).
 *
 * One call scans nonces [nonce_start, nonce_start + count) of one 76-byte header prefix.
 * The first 64 header bytes are compressed once per call (midstate); per nonce only the
 * second block of the first hash and the single block of the second hash are computed.
 * The second hash stops after 61 rounds (portable) or 62 rounds (SHA-NI): the last word
 * of the state, the most significant 32 bits of the hash read as a little-endian number,
 * is already known there, and a nonce whose top word exceeds the target's is rejected.
 * Survivors (about one in 2**32 at real difficulties) are recomputed in full and compared
 * with all 256 bits of the target.
 *
 * Kernels: 0 = portable C, 1 = SHA-NI one nonce at a time, 2 = SHA-NI two nonces
 * interleaved (hides the latency of sha256rnds2), 3 = SHA-NI four nonces, 4 = AVX2 eight
 * nonces in vector lanes, 5/6 = one 16-lane generic-vector source built for AVX2 and for
 * AVX-512, 7/8 = SHA-NI x2 interleaved with that 16-lane block in one thread.  Which one
 * runs is chosen by measurement in hashwatt.pow._cpu.  hw_cpu_features() reports bit 0 when
 * the CPU has the SHA extensions and SSE4.1 (cpuid leaf 7 EBX bit 29, leaf 1 ECX bit 19),
 * bit 1 when it has AVX2 and the OS saves YMM state (leaf 7 EBX bit 5, XGETBV), bit 2 when
 * it has AVX512F and AVX512VL (leaf 7 EBX bits 16, 31) and the OS saves opmask and ZMM state.
 *
 * The scrypt kernels are a library of their own (_kernel_scrypt.c includes this file with
 * HW_SCRYPT_LIBRARY defined, which keeps the SHA-256 compression, the SHA-NI rounds, the cpuid
 * probe and the target compare and leaves out the SHA-256d scan kernels): Bitcoin-only users
 * do not compile scrypt, and scrypt users do not compile the SHA-256d kernels.
 */
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define HW_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#define HW_API __attribute__((visibility("default")))

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define BSIG0(x) (ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x) (ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))

static inline uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint32_t bswap32(uint32_t x) { return __builtin_bswap32(x); }

/* Full compression of one block given as 16 big-endian words; state updated in place. */
static void compress(uint32_t s[8], const uint32_t w_in[16]) {
    uint32_t w[64];
    memcpy(w, w_in, 64);
    for (int i = 16; i < 64; i++) w[i] = SSIG1(w[i - 2]) + w[i - 7] + SSIG0(w[i - 15]) + w[i - 16];
    uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + BSIG1(e) + CH(e, f, g) + K[i] + w[i];
        uint32_t t2 = BSIG0(a) + MAJ(a, b, c);
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s[0] += a; s[1] += b; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
}

#ifndef HW_SCRYPT_LIBRARY
/* Full sha256d of header76 || nonce (little-endian); out = final state words. */
static void sha256d_full(const uint32_t mid[8], const uint32_t tail[3], uint32_t nonce, uint32_t out[8]) {
    uint32_t w[16] = {tail[0], tail[1], tail[2], bswap32(nonce), 0x80000000u, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 640};
    uint32_t s[8];
    memcpy(s, mid, 32);
    compress(s, w);
    uint32_t w2[16] = {s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], 0x80000000u, 0, 0, 0, 0, 0, 0, 256};
    memcpy(out, IV, 32);
    compress(out, w2);
}
#endif /* HW_SCRYPT_LIBRARY */

/* hash (as a little-endian 256-bit number) <= target (8 little-endian 32-bit limbs)? */
static int meets_target(const uint32_t h[8], const uint32_t target[8]) {
    for (int i = 7; i >= 0; i--) {
        uint32_t limb = bswap32(h[i]);
        if (limb != target[i]) return limb < target[i];
    }
    return 1;
}

#ifndef HW_SCRYPT_LIBRARY
/* ---------------------------------------------------------------- portable kernel */

/* Rounds 0..2 of the second block read only header words W0..W2: every kernel runs them
 * once per call and starts its nonces from this state. */
static void first_three_rounds(const uint32_t mid[8], const uint32_t tail[3], uint32_t out[8]) {
    uint32_t a = mid[0], b = mid[1], c = mid[2], d = mid[3], e = mid[4], f = mid[5], g = mid[6], h = mid[7];
    for (int i = 0; i < 3; i++) {
        uint32_t t1 = h + BSIG1(e) + CH(e, f, g) + K[i] + tail[i];
        uint32_t t2 = BSIG0(a) + MAJ(a, b, c);
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    const uint32_t st[8] = {a, b, c, d, e, f, g, h};
    memcpy(out, st, 32);
}


/* Second hash of one nonce: returns only the last state word (H7), after 61 rounds. */
static inline uint32_t second_hash_h7(const uint32_t d[8]) {
    uint32_t w[64];
    for (int i = 0; i < 8; i++) w[i] = d[i];
    w[8] = 0x80000000u;
    for (int i = 9; i < 15; i++) w[i] = 0;
    w[15] = 256;
    for (int i = 16; i < 61; i++) w[i] = SSIG1(w[i - 2]) + w[i - 7] + SSIG0(w[i - 15]) + w[i - 16];
    uint32_t a = IV[0], b = IV[1], c = IV[2], dd = IV[3], e = IV[4], f = IV[5], g = IV[6], h = IV[7];
    for (int i = 0; i < 61; i++) {
        uint32_t t1 = h + BSIG1(e) + CH(e, f, g) + K[i] + w[i];
        uint32_t t2 = BSIG0(a) + MAJ(a, b, c);
        h = g; g = f; f = e; e = dd + t1; dd = c; c = b; b = a; a = t1 + t2;
    }
    return IV[7] + e; /* e after round 61 becomes h after round 64 */
}

static uint64_t scan_portable(const uint32_t mid[8], const uint32_t tail[3], uint32_t nonce_start,
                              uint64_t count, const uint32_t target[8], uint32_t *out, uint32_t out_cap,
                              uint32_t *n_out) {
    uint32_t pre[8];
    first_three_rounds(mid, tail, pre);
    uint32_t wc[64]; /* schedule words that do not depend on the nonce */
    wc[0] = tail[0]; wc[1] = tail[1]; wc[2] = tail[2]; wc[3] = 0; wc[4] = 0x80000000u;
    for (int i = 5; i < 15; i++) wc[i] = 0;
    wc[15] = 640;
    const uint32_t top = target[7];
    uint64_t i;
    for (i = 0; i < count; i++) {
        uint32_t nonce = nonce_start + (uint32_t)i;
        uint32_t w[64];
        memcpy(w, wc, 16 * sizeof(uint32_t));
        w[3] = bswap32(nonce);
        for (int j = 16; j < 64; j++) w[j] = SSIG1(w[j - 2]) + w[j - 7] + SSIG0(w[j - 15]) + w[j - 16];
        uint32_t A = pre[0], B = pre[1], C = pre[2], D = pre[3], E = pre[4], F = pre[5], G = pre[6], H = pre[7];
        for (int j = 3; j < 64; j++) {
            uint32_t t1 = H + BSIG1(E) + CH(E, F, G) + K[j] + w[j];
            uint32_t t2 = BSIG0(A) + MAJ(A, B, C);
            H = G; G = F; F = E; E = D + t1; D = C; C = B; B = A; A = t1 + t2;
        }
        uint32_t dg[8] = {mid[0] + A, mid[1] + B, mid[2] + C, mid[3] + D,
                          mid[4] + E, mid[5] + F, mid[6] + G, mid[7] + H};
        uint32_t h7 = second_hash_h7(dg);
        if (bswap32(h7) <= top) {
            uint32_t full[8];
            sha256d_full(mid, tail, nonce, full);
            if (meets_target(full, target)) {
                out[(*n_out)++] = nonce;
                if (*n_out == out_cap) return i + 1;
            }
        }
    }
    return i;
}

#endif /* HW_SCRYPT_LIBRARY */

#define SECOND_ROUNDS 61
#ifdef HW_X86
/* ---------------------------------------------------------------- AVX2 kernel (8 nonces per vector)
 * For x86 CPUs without the SHA extensions (most Intel server CPUs before Ice Lake): the
 * portable algorithm on GCC vector types, one nonce per 32-bit lane. */
#define AVX2_TARGET __attribute__((target("avx2")))
typedef uint32_t v8u __attribute__((vector_size(32)));
#ifndef HW_SCRYPT_LIBRARY
#define V(x) ((v8u){(x), (x), (x), (x), (x), (x), (x), (x)})
#define VROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define VBSIG0(x) (VROTR(x, 2) ^ VROTR(x, 13) ^ VROTR(x, 22))
#define VBSIG1(x) (VROTR(x, 6) ^ VROTR(x, 11) ^ VROTR(x, 25))
#define VSSIG0(x) (VROTR(x, 7) ^ VROTR(x, 18) ^ ((x) >> 3))
#define VSSIG1(x) (VROTR(x, 17) ^ VROTR(x, 19) ^ ((x) >> 10))
#define VCH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define VMAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
#define VBSWAP(x) ((((x) & V(0xffu)) << 24) | (((x) & V(0xff00u)) << 8) | (((x) >> 8) & V(0xff00u)) | ((x) >> 24))
#define VROUND(kw)                                              \
    do {                                                        \
        __typeof__(A) t1_ = H + VBSIG1(E) + VCH(E, F, G) + (kw); \
        __typeof__(A) t2_ = VBSIG0(A) + VMAJ(A, B, C);           \
        H = G; G = F; F = E; E = D + t1_; D = C; C = B; B = A;  \
        A = t1_ + t2_;                                          \
    } while (0)

AVX2_TARGET static uint64_t scan_avx2(const uint32_t mid[8], const uint32_t tail[3], uint32_t nonce_start,
                                      uint64_t count, const uint32_t target[8], uint32_t *out,
                                      uint32_t out_cap, uint32_t *n_out) {
    uint32_t pre[8];
    first_three_rounds(mid, tail, pre);
    const v8u lane = {0, 1, 2, 3, 4, 5, 6, 7};
    const uint32_t top = target[7];
    uint64_t i = 0;
    for (; i + 8 <= count; i += 8) {
        v8u w[64];
        v8u nonce = V(nonce_start + (uint32_t)i) + lane;
        w[0] = V(tail[0]); w[1] = V(tail[1]); w[2] = V(tail[2]); w[3] = VBSWAP(nonce);
        w[4] = V(0x80000000u);
        for (int j = 5; j < 15; j++) w[j] = V(0u);
        w[15] = V(640u);
        for (int j = 16; j < 64; j++) w[j] = VSSIG1(w[j - 2]) + w[j - 7] + VSSIG0(w[j - 15]) + w[j - 16];
        v8u A = V(pre[0]), B = V(pre[1]), C = V(pre[2]), D = V(pre[3]);
        v8u E = V(pre[4]), F = V(pre[5]), G = V(pre[6]), H = V(pre[7]);
        for (int j = 3; j < 64; j++) VROUND(w[j] + V(K[j]));
        w[0] = A + V(mid[0]); w[1] = B + V(mid[1]); w[2] = C + V(mid[2]); w[3] = D + V(mid[3]);
        w[4] = E + V(mid[4]); w[5] = F + V(mid[5]); w[6] = G + V(mid[6]); w[7] = H + V(mid[7]);
        w[8] = V(0x80000000u);
        for (int j = 9; j < 15; j++) w[j] = V(0u);
        w[15] = V(256u);
        for (int j = 16; j < SECOND_ROUNDS; j++) w[j] = VSSIG1(w[j - 2]) + w[j - 7] + VSSIG0(w[j - 15]) + w[j - 16];
        A = V(IV[0]); B = V(IV[1]); C = V(IV[2]); D = V(IV[3]);
        E = V(IV[4]); F = V(IV[5]); G = V(IV[6]); H = V(IV[7]);
        for (int j = 0; j < SECOND_ROUNDS; j++) VROUND(w[j] + V(K[j]));
        /* e after 61 rounds becomes h after 64 */
        v8u h7 = E + V(IV[7]);
        for (int l = 0; l < 8; l++) {
            if (__builtin_expect(bswap32(h7[l]) <= top, 0)) {
                uint32_t n = nonce_start + (uint32_t)(i + (uint64_t)l);
                uint32_t full[8];
                sha256d_full(mid, tail, n, full);
                if (meets_target(full, target)) {
                    out[(*n_out)++] = n;
                    if (*n_out == out_cap) return i + (uint64_t)l + 1;
                }
            }
        }
    }
    return i + scan_portable(mid, tail, nonce_start + (uint32_t)i, count - i, target, out, out_cap, n_out);
}
#endif /* HW_SCRYPT_LIBRARY */
#endif /* HW_X86 */

/* ---------------------------------------------------------------- SHA-NI kernels */
#ifdef HW_X86

#define NI_TARGET __attribute__((target("sha,sse4.1,ssse3")))
#define NI_INLINE static inline __attribute__((always_inline)) NI_TARGET

/* 64 (or 62) rounds on nl independent lanes.  S0 = ABEF, S1 = CDGH per lane; M = 4 message
 * vectors per lane (lane 0 of M[0] is W0).  Rounds follow Intel's reference sequence. */
#define KV(i) _mm_set_epi32((int)K[i + 3], (int)K[i + 2], (int)K[i + 1], (int)K[i])
#define LANES for (int l = 0; l < nl; l++)

NI_INLINE void ni_rounds(const int nl, __m128i *S0, __m128i *S1, __m128i (*M)[4], const int last_pair,
                         const int first_pair_done) {
    __m128i T[4], X[4];
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
        const int cur = g & 3, prev = (g + 3) & 3, next = (g + 1) & 3;
        const __m128i k = KV(4 * g);
        LANES X[l] = _mm_add_epi32(M[l][cur], k);
        if (g > 0 || !first_pair_done) LANES S1[l] = _mm_sha256rnds2_epu32(S1[l], S0[l], X[l]);
        if (g >= 3 && g <= 14) {
            LANES {
                T[l] = _mm_alignr_epi8(M[l][cur], M[l][prev], 4);
                M[l][next] = _mm_add_epi32(M[l][next], T[l]);
                M[l][next] = _mm_sha256msg2_epu32(M[l][next], M[l][cur]);
            }
        }
        if (g == 15 && !last_pair) break; /* S1 holds ABEF after 62 rounds */
        LANES X[l] = _mm_shuffle_epi32(X[l], 0x0E);
        LANES S0[l] = _mm_sha256rnds2_epu32(S0[l], S1[l], X[l]);
        if (g >= 1 && g <= 12) LANES M[l][prev] = _mm_sha256msg1_epu32(M[l][prev], M[l][cur]);
    }
}

/* state words a..h -> (ABEF, CDGH) */
NI_INLINE void ni_load_state(const uint32_t s[8], __m128i *abef, __m128i *cdgh) {
    __m128i t = _mm_loadu_si128((const __m128i *)&s[0]);
    __m128i u = _mm_loadu_si128((const __m128i *)&s[4]);
    t = _mm_shuffle_epi32(t, 0xB1);
    u = _mm_shuffle_epi32(u, 0x1B);
    *abef = _mm_alignr_epi8(t, u, 8);
    *cdgh = _mm_blend_epi16(u, t, 0xF0);
}

/* (ABEF, CDGH) -> (a,b,c,d), (e,f,g,h) with lane 0 = a / e */
NI_INLINE void ni_unshuffle(__m128i abef, __m128i cdgh, __m128i *abcd, __m128i *efgh) {
    __m128i t = _mm_shuffle_epi32(abef, 0x1B);
    __m128i u = _mm_shuffle_epi32(cdgh, 0xB1);
    *abcd = _mm_blend_epi16(t, u, 0xF0);
    *efgh = _mm_alignr_epi8(u, t, 8);
}

#ifndef HW_SCRYPT_LIBRARY
/* What the SHA-NI lanes need per call: midstate, IV, and the state after rounds 0-1 of the
 * second block, which read only header words (W0, W1). */
struct ni_job {
    uint32_t mid[8], tail[3];
    __m128i mid0, mid1, iv0, iv1, mid1_after2;
};

NI_INLINE void ni_prepare(struct ni_job *j, const uint32_t mid[8], const uint32_t tail[3]) {
    memcpy(j->mid, mid, 32);
    memcpy(j->tail, tail, 12);
    ni_load_state(mid, &j->mid0, &j->mid1);
    ni_load_state(IV, &j->iv0, &j->iv1);
    const __m128i first = _mm_add_epi32(_mm_set_epi32(0, 0, (int)tail[1], (int)tail[0]), KV(0));
    j->mid1_after2 = _mm_sha256rnds2_epu32(j->mid1, j->mid0, first);
}

/* Top state word (H7, before the byte swap) of nl nonces n0 .. n0+nl-1. */
NI_INLINE void ni_block(const int nl, const struct ni_job *j, uint32_t n0, uint32_t *h7) {
    const __m128i blk1 = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
    const __m128i blk2 = _mm_setzero_si128();
    const __m128i blk3 = _mm_set_epi32(640, 0, 0, 0);
    const __m128i pad2 = _mm_set_epi32(0, 0, 0, (int)0x80000000u);
    const __m128i pad3 = _mm_set_epi32(256, 0, 0, 0);
    __m128i S0[4], S1[4], M[4][4];
    LANES {
        uint32_t nonce = n0 + (uint32_t)l;
        S0[l] = j->mid0;
        S1[l] = j->mid1_after2;
        M[l][0] = _mm_set_epi32((int)bswap32(nonce), (int)j->tail[2], (int)j->tail[1], (int)j->tail[0]);
        M[l][1] = blk1;
        M[l][2] = blk2;
        M[l][3] = blk3;
    }
    ni_rounds(nl, S0, S1, M, 1, 1);
    LANES {
        S0[l] = _mm_add_epi32(S0[l], j->mid0);
        S1[l] = _mm_add_epi32(S1[l], j->mid1);
        ni_unshuffle(S0[l], S1[l], &M[l][0], &M[l][1]);
        M[l][2] = pad2;
        M[l][3] = pad3;
        S0[l] = j->iv0;
        S1[l] = j->iv1;
    }
    ni_rounds(nl, S0, S1, M, 0, 0);
    LANES h7[l] = (uint32_t)_mm_cvtsi128_si32(S1[l]) + IV[7];
}

/* Lanes whose top word passes: full recomputation and 256-bit compare.  Returns 1 when the
 * output buffer filled up; *stop = nonces of this block examined, so the next call resumes
 * right after the last hit and no lane is skipped or repeated. */
NI_INLINE int ni_collect(const int nl, const struct ni_job *j, uint32_t n0, const uint32_t *h7,
                         const uint32_t target[8], uint32_t *out, uint32_t out_cap, uint32_t *n_out,
                         uint64_t *stop) {
    for (int l = 0; l < nl; l++) {
        if (__builtin_expect(bswap32(h7[l]) <= target[7], 0)) {
            uint32_t nonce = n0 + (uint32_t)l;
            uint32_t full[8];
            sha256d_full(j->mid, j->tail, nonce, full);
            if (meets_target(full, target)) {
                out[(*n_out)++] = nonce;
                if (*n_out == out_cap) {
                    *stop = (uint64_t)l + 1;
                    return 1;
                }
            }
        }
    }
    return 0;
}

NI_INLINE uint64_t scan_ni_lanes(const int nl, const uint32_t mid[8], const uint32_t tail[3],
                                 uint32_t nonce_start, uint64_t count, const uint32_t target[8],
                                 uint32_t *out, uint32_t out_cap, uint32_t *n_out) {
    struct ni_job job;
    ni_prepare(&job, mid, tail);
    uint64_t i = 0;
    for (; i + (uint64_t)nl <= count; i += (uint64_t)nl) {
        uint32_t n0 = nonce_start + (uint32_t)i, h7[4];
        uint64_t stop = 0;
        ni_block(nl, &job, n0, h7);
        if (ni_collect(nl, &job, n0, h7, target, out, out_cap, n_out, &stop)) return i + stop;
    }
    /* tail nonces: portable path */
    return i + scan_portable(mid, tail, nonce_start + (uint32_t)i, count - i, target, out, out_cap, n_out);
}

NI_TARGET static uint64_t scan_ni1(const uint32_t mid[8], const uint32_t tail[3], uint32_t nonce_start,
                                   uint64_t count, const uint32_t target[8], uint32_t *out, uint32_t out_cap,
                                   uint32_t *n_out) {
    return scan_ni_lanes(1, mid, tail, nonce_start, count, target, out, out_cap, n_out);
}

NI_TARGET static uint64_t scan_ni2(const uint32_t mid[8], const uint32_t tail[3], uint32_t nonce_start,
                                   uint64_t count, const uint32_t target[8], uint32_t *out, uint32_t out_cap,
                                   uint32_t *n_out) {
    return scan_ni_lanes(2, mid, tail, nonce_start, count, target, out, out_cap, n_out);
}

NI_TARGET static uint64_t scan_ni4(const uint32_t mid[8], const uint32_t tail[3], uint32_t nonce_start,
                                   uint64_t count, const uint32_t target[8], uint32_t *out, uint32_t out_cap,
                                   uint32_t *n_out) {
    return scan_ni_lanes(4, mid, tail, nonce_start, count, target, out, out_cap, n_out);
}
#endif /* HW_SCRYPT_LIBRARY */
#endif /* HW_X86 */

#ifndef HW_SCRYPT_LIBRARY
/* ---------------------------------------------------------------- 16-lane generic-vector kernel
 * One source, two builds: the function bodies below use GCC/Clang generic vectors of sixteen
 * uint32 lanes (64 bytes).  Inlined into a function compiled for AVX-512F/VL they become zmm
 * registers with vprold rotates and vpternlogd for Ch/Maj/the three-way xors; inlined into a
 * function compiled for AVX2 each vector is split into two ymm halves (rotates as two shifts
 * and an or).  Per call, everything that does not depend on the nonce is done once in scalar
 * code (struct v16_job): the midstate, rounds 0..3 of the second block except the W3 term,
 * the message words W16 and W17 and the constant parts of W18 and W19.  The second hash stops
 * after 61 rounds, where the last state word is known (early reject, as in the other kernels). */
#ifdef HW_X86
typedef uint32_t v16u __attribute__((vector_size(64)));
#define AI static inline __attribute__((always_inline))
#ifndef V16_UNROLL
#define V16_UNROLL 64
#endif
#define V16_PRAGMA(x) _Pragma(#x)
#define V16_UNROLL_N(n) V16_PRAGMA(GCC unroll n)
#define V16_UNROLL_LOOP V16_UNROLL_N(V16_UNROLL)
#define VS(x) ((v16u){0} + (uint32_t)(x))
/* Σ, σ, Ch, Maj and the round are the AVX2 section's macros: they are written for any vector type. */

struct v16_job {
    uint32_t mid[8], tail[3];
    uint32_t st3[8];     /* state after rounds 0..2 of the second block */
    uint32_t a4, e4;     /* A and E after round 3, minus W3 (the nonce word) */
    uint32_t w16, w17;   /* nonce-independent schedule words */
    uint32_t w18c, w19c; /* W18 - SSIG0(W3), W19 - W3 */
    uint32_t pad1, pad2; /* 0x80000000, the first padding word of each block */
    uint32_t len1, len2; /* 640 and 256, the bit lengths (W15 of each block) */
    uint32_t iv[8];
    /* Round constants with the nonce-independent message words folded in (K[i] + W[i] for the
     * first block's W4..W17 and the second's W8..W15, K[i] elsewhere).  Kept as data of the job,
     * not compile-time constants: the vector code adds them as broadcast memory operands, where
     * GCC builds each literal in a register (a mov and a vpbroadcastd): 3,341 instead of 3,497
     * instructions for the AVX-512 block, 30.1 instead of 28.9 MH per CPU-second on Zen 4. */
    uint32_t kw1[64], kw2[64];
};

static void v16_prepare(struct v16_job *j, const uint32_t mid[8], const uint32_t tail[3]) {
    memcpy(j->mid, mid, 32);
    memcpy(j->tail, tail, 12);
    memcpy(j->iv, IV, 32);
    first_three_rounds(mid, tail, j->st3);
    const uint32_t a = j->st3[0], b = j->st3[1], c = j->st3[2], d = j->st3[3];
    const uint32_t e = j->st3[4], f = j->st3[5], g = j->st3[6], h = j->st3[7];
    uint32_t t1 = h + BSIG1(e) + CH(e, f, g) + K[3]; /* + W3 per lane */
    j->e4 = d + t1;
    j->a4 = t1 + BSIG0(a) + MAJ(a, b, c);
    /* W16 = s1(W14) + W9 + s0(W1) + W0 with W9 = W14 = 0; W17 = s1(W15) + W10 + s0(W2) + W1. */
    j->w16 = SSIG0(tail[1]) + tail[0];
    j->w17 = SSIG1(640u) + SSIG0(tail[2]) + tail[1];
    j->w18c = SSIG1(j->w16) + tail[2];      /* W18 = s1(W16) + W11 + s0(W3) + W2 */
    j->w19c = SSIG1(j->w17) + SSIG0(0x80000000u); /* W19 = s1(W17) + W12 + s0(W4) + W3 */
    j->pad1 = j->pad2 = 0x80000000u;
    j->len1 = 640u;
    j->len2 = 256u;
    memcpy(j->kw1, K, sizeof K);
    memcpy(j->kw2, K, sizeof K);
    j->kw1[4] += 0x80000000u;
    j->kw1[15] += 640u;
    j->kw1[16] += j->w16;
    j->kw1[17] += j->w17;
    j->kw2[8] += 0x80000000u;
    j->kw2[15] += 256u;
}

/* Top state word (H7, before the byte swap) of sha256d for nonces n0 .. n0+15, 61 rounds of
 * the second hash; *h7 receives it.  Vectors cross only through pointers (no vector ABI).
 * fused: each schedule word is computed in the round that first needs it, so about sixteen
 * are live at once: with 32 zmm registers that removes every spill (computed all ahead, the
 * AVX-512 build spilled them to the stack and ran 25.8 instead of 30.1 MH per CPU-second on
 * Zen 4).  With 16 ymm registers, each vector two of them, the AVX2 build spills either way
 * and runs faster with the words computed ahead (fused 10.7, ahead 11.8). */
AI void v16_block(const struct v16_job *j, uint32_t n0, v16u *h7, const int fused) {
    const v16u lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    v16u nonce = VS(n0) + lane;
    v16u w3 = ((nonce & 0xffu) << 24) | ((nonce & 0xff00u) << 8) | ((nonce >> 8) & 0xff00u) | (nonce >> 24);
    v16u w[64];
    w[0] = VS(j->tail[0]); w[1] = VS(j->tail[1]); w[2] = VS(j->tail[2]); w[3] = w3;
    w[4] = VS(j->pad1);
#pragma GCC unroll 16
    for (int i = 5; i < 15; i++) w[i] = VS(0);
    w[15] = VS(j->len1);
    w[16] = VS(j->w16);
    w[17] = VS(j->w17);
    w[18] = VSSIG0(w3) + j->w18c;
    w[19] = w3 + j->w19c;
    v16u A = w3 + j->a4, B = VS(j->st3[0]), C = VS(j->st3[1]), D = VS(j->st3[2]);
    v16u E = w3 + j->e4, F = VS(j->st3[4]), G = VS(j->st3[5]), H = VS(j->st3[6]);
    if (!fused) {
V16_UNROLL_LOOP
        for (int i = 20; i < 64; i++) w[i] = VSSIG1(w[i - 2]) + w[i - 7] + VSSIG0(w[i - 15]) + w[i - 16];
    }
V16_UNROLL_LOOP
    for (int i = 4; i < 64; i++) {
        if (fused && i >= 20) w[i] = VSSIG1(w[i - 2]) + w[i - 7] + VSSIG0(w[i - 15]) + w[i - 16];
        if (i < 18) VROUND(VS(j->kw1[i]));
        else VROUND(w[i] + j->kw1[i]);
    }
    w[0] = A + j->mid[0]; w[1] = B + j->mid[1]; w[2] = C + j->mid[2]; w[3] = D + j->mid[3];
    w[4] = E + j->mid[4]; w[5] = F + j->mid[5]; w[6] = G + j->mid[6]; w[7] = H + j->mid[7];
    w[8] = VS(j->pad2);
#pragma GCC unroll 16
    for (int i = 9; i < 15; i++) w[i] = VS(0);
    w[15] = VS(j->len2);
    A = VS(j->iv[0]); B = VS(j->iv[1]); C = VS(j->iv[2]); D = VS(j->iv[3]);
    E = VS(j->iv[4]); F = VS(j->iv[5]); G = VS(j->iv[6]); H = VS(j->iv[7]);
    if (!fused) {
V16_UNROLL_LOOP
        for (int i = 16; i < SECOND_ROUNDS; i++) w[i] = VSSIG1(w[i - 2]) + w[i - 7] + VSSIG0(w[i - 15]) + w[i - 16];
    }
V16_UNROLL_LOOP
    for (int i = 0; i < SECOND_ROUNDS; i++) {
        if (fused && i >= 16) w[i] = VSSIG1(w[i - 2]) + w[i - 7] + VSSIG0(w[i - 15]) + w[i - 16];
        if (i >= 8 && i < 16) VROUND(VS(j->kw2[i]));
        else VROUND(w[i] + j->kw2[i]);
    }
    *h7 = E + j->iv[7]; /* e after 61 rounds becomes h after 64 */
}

/* Lanes of a 16-nonce block whose top word passes: full recomputation, 256-bit compare.
 * Returns 1 when the output buffer filled up (*stop = nonces examined in this block). */
AI int v16_collect(const struct v16_job *j, uint32_t n0, const v16u *h7, const uint32_t target[8],
                   uint32_t *out, uint32_t out_cap, uint32_t *n_out, uint64_t *stop) {
    v16u hv = *h7;
    v16u top = ((hv & 0xffu) << 24) | ((hv & 0xff00u) << 8) | ((hv >> 8) & 0xff00u) | (hv >> 24);
    v16u pass = (v16u)(top <= target[7]);
    uint32_t any = 0;
#pragma GCC unroll 16
    for (int l = 0; l < 16; l++) any |= pass[l];
    if (__builtin_expect(any == 0, 1)) return 0;
    for (int l = 0; l < 16; l++) {
        if (!pass[l]) continue;
        uint32_t full[8];
        sha256d_full(j->mid, j->tail, n0 + (uint32_t)l, full);
        if (meets_target(full, target)) {
            out[(*n_out)++] = n0 + (uint32_t)l;
            if (*n_out == out_cap) {
                *stop = (uint64_t)l + 1;
                return 1;
            }
        }
    }
    return 0;
}

/* The block, compiled once per instruction set (noinline: the scan loops and the mixed
 * kernel share one copy each, which halves the build time of the library). */
__attribute__((noinline, target("avx2"))) static void v16_block_avx2(const struct v16_job *j, uint32_t n0,
                                                                    v16u *h7) {
    v16_block(j, n0, h7, 0);
}

/* GCC schedules the AVX-512 block better with a named AMD tuning than with its generic one:
 * on Zen 4 30.4 -> 31.2 MH per CPU-second with znver3's (icelake-server's and sapphirerapids'
 * gave 31.0 and 30.9; GCC 12 has no znver4): 3,349 instructions instead of 3,341, in another order.
 * Only this function's scheduling changes, so the library still runs on every AVX-512 CPU. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define V16_AVX512_TARGET "avx512f,avx512vl,tune=znver3"
#else
#define V16_AVX512_TARGET "avx512f,avx512vl"
#endif
__attribute__((noinline, target(V16_AVX512_TARGET))) static void v16_block_avx512(const struct v16_job *j,
                                                                                  uint32_t n0, v16u *h7) {
    v16_block(j, n0, h7, 1);
}

typedef void (*v16_block_fn)(const struct v16_job *, uint32_t, v16u *);

AI uint64_t v16_scan(v16_block_fn block, const uint32_t mid[8], const uint32_t tail[3], uint32_t nonce_start,
                     uint64_t count, const uint32_t target[8], uint32_t *out, uint32_t out_cap, uint32_t *n_out) {
    struct v16_job job;
    v16_prepare(&job, mid, tail);
    uint64_t i = 0;
    for (; i + 16 <= count; i += 16) {
        uint32_t n0 = nonce_start + (uint32_t)i;
        v16u h7;
        uint64_t stop = 0;
        block(&job, n0, &h7);
        if (v16_collect(&job, n0, &h7, target, out, out_cap, n_out, &stop)) return i + stop;
    }
    return i + scan_portable(mid, tail, nonce_start + (uint32_t)i, count - i, target, out, out_cap, n_out);
}

__attribute__((target("avx2"))) static uint64_t scan_vec16_avx2(const uint32_t mid[8], const uint32_t tail[3],
                                                               uint32_t nonce_start, uint64_t count,
                                                               const uint32_t target[8], uint32_t *out,
                                                               uint32_t out_cap, uint32_t *n_out) {
    return v16_scan(v16_block_avx2, mid, tail, nonce_start, count, target, out, out_cap, n_out);
}

__attribute__((target("avx512f,avx512vl"))) static uint64_t scan_vec16_avx512(
    const uint32_t mid[8], const uint32_t tail[3], uint32_t nonce_start, uint64_t count,
    const uint32_t target[8], uint32_t *out, uint32_t out_cap, uint32_t *n_out) {
    return v16_scan(v16_block_avx512, mid, tail, nonce_start, count, target, out, out_cap, n_out);
}

/* SHA-NI and vector lanes in one thread: per step, 16 nonces in vector lanes and NI_PAIRS x 2
 * on the SHA units, so a core whose SHA and SIMD units differ can overlap the two streams.
 * The SHA-NI pair is a call of its own: sha256rnds2/msg1/msg2 exist only in legacy SSE
 * encoding, and the compiler clears the upper vector halves (vzeroupper) before a call, so
 * a core that tracks them pays no state transition per SHA instruction (inlined with a
 * manual vzeroupper it measured 5x slower on Zen 3). */
#define NI_PAIRS 1
__attribute__((noinline)) NI_TARGET static void ni_block_call(const struct ni_job *j, uint32_t n0, uint32_t *h7) {
    ni_block(2 * NI_PAIRS, j, n0, h7);
}

static inline __attribute__((always_inline, target("sha,sse4.1,ssse3,avx"))) uint64_t mixed_scan(
    v16_block_fn block, const uint32_t mid[8], const uint32_t tail[3], uint32_t nonce_start, uint64_t count,
    const uint32_t target[8], uint32_t *out, uint32_t out_cap, uint32_t *n_out) {
    const int nl = 2 * NI_PAIRS, step = 16 + 2 * NI_PAIRS;
    struct v16_job job;
    v16_prepare(&job, mid, tail);
    struct ni_job nij;
    ni_prepare(&nij, mid, tail);
    uint64_t i = 0;
    for (; i + (uint64_t)step <= count; i += (uint64_t)step) {
        uint32_t n0 = nonce_start + (uint32_t)i, nn = n0 + 16;
        v16u h7;
        uint32_t ni_h7[4];
        uint64_t stop = 0;
        block(&job, n0, &h7);
        ni_block_call(&nij, nn, ni_h7);
        if (v16_collect(&job, n0, &h7, target, out, out_cap, n_out, &stop)) return i + stop;
        if (ni_collect(nl, &nij, nn, ni_h7, target, out, out_cap, n_out, &stop)) return i + 16 + stop;
    }
    return i + scan_portable(mid, tail, nonce_start + (uint32_t)i, count - i, target, out, out_cap, n_out);
}

__attribute__((target("sha,sse4.1,ssse3,avx2"))) static uint64_t scan_mixed_avx2(
    const uint32_t mid[8], const uint32_t tail[3], uint32_t nonce_start, uint64_t count,
    const uint32_t target[8], uint32_t *out, uint32_t out_cap, uint32_t *n_out) {
    return mixed_scan(v16_block_avx2, mid, tail, nonce_start, count, target, out, out_cap, n_out);
}

__attribute__((target("sha,sse4.1,ssse3,avx512f,avx512vl"))) static uint64_t scan_mixed_avx512(
    const uint32_t mid[8], const uint32_t tail[3], uint32_t nonce_start, uint64_t count,
    const uint32_t target[8], uint32_t *out, uint32_t out_cap, uint32_t *n_out) {
    return mixed_scan(v16_block_avx512, mid, tail, nonce_start, count, target, out, out_cap, n_out);
}
#endif /* HW_X86 */
#endif /* HW_SCRYPT_LIBRARY */

/* ---------------------------------------------------------------- exported API */

static int cpu_features_probe(void);

#ifdef HW_X86
__attribute__((noinline, target("avx"))) static void upper_state_zero(void) { __asm__ volatile("vzeroupper"); }
#endif

/* Cached: cpuid traps to the hypervisor in a virtual machine (~30 us a call measured on the
 * 2-vCPU development VM), and every scan call asks.  A race only computes the same value twice. */
HW_API int hw_cpu_features(void) {
    static volatile int cached = -1;
    int features = cached;
    if (features < 0) {
        features = cpu_features_probe();
        cached = features;
    }
    return features;
}

static int cpu_features_probe(void) {
#ifdef HW_X86
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int sse41 = (c >> 19) & 1;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    int ymm_os = 0, zmm_os = 0;
    if (osxsave && avx) {
        unsigned int lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        ymm_os = (lo & 6) == 6;         /* the OS saves XMM and YMM state */
        zmm_os = (lo & 0xE6) == 0xE6;   /* ... and the opmask and both halves of ZMM state */
    }
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    int sha = (b >> 29) & 1;
    int avx2 = (b >> 5) & 1;
    int avx512 = ((b >> 16) & 1) && ((b >> 31) & 1); /* AVX512F and AVX512VL */
    return ((sha && sse41) ? 1 : 0) | ((avx2 && ymm_os) ? 2 : 0) | ((avx512 && zmm_os) ? 4 : 0);
#else
    return 0;
#endif
}

enum { NEEDS_SHA = 1, NEEDS_AVX2 = 2, NEEDS_AVX512 = 4 };

/* vzeroupper before a kernel runs (AVX CPUs only): whatever ran before in this thread (the
 * interpreter, libc, another library) may leave the upper halves of the vector registers
 * dirty, and then every legacy-SSE instruction of the SHA-NI code pays for it: sha-ni-x2 ran
 * 11.7-18.6 instead of 27.9 MH per CPU-second on Zen 4, depending on what ran before it. */
static inline void clean_upper_state(int features) {
#ifdef HW_X86
    if (features & NEEDS_AVX2) upper_state_zero();
#else
    (void)features;
#endif
}

#ifndef HW_SCRYPT_LIBRARY
/* Kernel id -> scan function and the hw_cpu_features() bits it needs (ids as in hw_scan). */
typedef uint64_t (*scan_fn)(const uint32_t *, const uint32_t *, uint32_t, uint64_t, const uint32_t *, uint32_t *,
                            uint32_t, uint32_t *);
struct kernel_entry {
    scan_fn scan;
    int needs;
};
static const struct kernel_entry KERNEL_TABLE[] = {
    {scan_portable, 0},
#ifdef HW_X86
    {scan_ni1, NEEDS_SHA},
    {scan_ni2, NEEDS_SHA},
    {scan_ni4, NEEDS_SHA},
    {scan_avx2, NEEDS_AVX2},
    {scan_vec16_avx2, NEEDS_AVX2},
    {scan_vec16_avx512, NEEDS_AVX512},
    {scan_mixed_avx2, NEEDS_SHA | NEEDS_AVX2},
    {scan_mixed_avx512, NEEDS_SHA | NEEDS_AVX512},
#endif
};

/* Scan nonces; kernel: 0 portable, 1 SHA-NI x1, 2 SHA-NI x2, 3 SHA-NI x4, 4 AVX2 x8,
 * 5 vec16 built for AVX2, 6 vec16 built for AVX-512, 7 SHA-NI x2 + vec16 (AVX2),
 * 8 SHA-NI x2 + vec16 (AVX-512).
 * target: 8 little-endian 32-bit limbs (limb 7 most significant).
 * Writes up to out_cap passing nonces (ascending) to out and their number to *n_out.
 * Returns how many nonces were examined (== count unless out filled up first),
 * or (uint64_t)-1 for a kernel this CPU cannot run. */
HW_API uint64_t hw_scan(int kernel, const uint8_t *header76, uint32_t nonce_start, uint64_t count,
                        const uint32_t *target, uint32_t *out, uint32_t out_cap, uint32_t *n_out) {
    uint32_t mid[8], w[16], tail[3];
    *n_out = 0;
    if (out_cap == 0) return 0;
    memcpy(mid, IV, 32);
    for (int i = 0; i < 16; i++) w[i] = be32(header76 + 4 * i);
    compress(mid, w);
    for (int i = 0; i < 3; i++) tail[i] = be32(header76 + 64 + 4 * i);
    if (kernel < 0 || kernel >= (int)(sizeof(KERNEL_TABLE) / sizeof(KERNEL_TABLE[0]))) return (uint64_t)-1;
    const struct kernel_entry *entry = &KERNEL_TABLE[kernel];
    const int features = hw_cpu_features();
    if ((features & entry->needs) != entry->needs) return (uint64_t)-1;
    clean_upper_state(features);
    return entry->scan(mid, tail, nonce_start, count, target, out, out_cap, n_out);
}

/* Full sha256d of header76 || nonce: 32 digest bytes (internal order).  For self-tests. */
HW_API void hw_sha256d(const uint8_t *header76, uint32_t nonce, uint8_t *digest32) {
    uint32_t mid[8], w[16], tail[3], out[8];
    memcpy(mid, IV, 32);
    for (int i = 0; i < 16; i++) w[i] = be32(header76 + 4 * i);
    compress(mid, w);
    for (int i = 0; i < 3; i++) tail[i] = be32(header76 + 64 + 4 * i);
    sha256d_full(mid, tail, nonce, out);
    for (int i = 0; i < 8; i++) {
        digest32[4 * i] = (uint8_t)(out[i] >> 24);
        digest32[4 * i + 1] = (uint8_t)(out[i] >> 16);
        digest32[4 * i + 2] = (uint8_t)(out[i] >> 8);
        digest32[4 * i + 3] = (uint8_t)out[i];
    }
}
#endif /* HW_SCRYPT_LIBRARY */
