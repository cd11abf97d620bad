// What the int8 products' bodies share (Int8Linear.c, Int8AMX.c): the packed panels' shape, where a block's rows
// are, the store, and the AVX-512 epilogue that turns a row's int32 sums into its floats or codes.
#ifndef AUDIONET_INT8_TILE_H
#define AUDIONET_INT8_TILE_H

#include "CKernels.h"

#include <string.h>

#include "X86Lanes.h"

/// Packed weights come in panels of 32 columns (`an_int8_pack_weights`), each a group of 4 k after another. The AMX
/// body reads 16 groups at a time: past the last panel's last group it reads up to 15 more (which meet zero codes), so
/// a packed matrix is that much longer.
enum { PANEL = 32, AMX_OVERREAD = 15 * 4 * PANEL };

static inline int round_up(int value, int step) { return (value + step - 1) / step * step; }

typedef an_int8_store Store;

// `store` moved to row `row`, column `column` (its NULL pointers staying NULL).
static inline Store store_at(Store store, int row, int column) {
    size_t offset = (size_t)row * store.ld + column;
    if (store.c) store.c += offset;
    if (store.codes) store.codes += offset;
    if (store.addend) store.addend += offset;
    if (store.addendCodes) store.addendCodes += offset;
    return store;
}

// Where a block of rows' bytes are: row `r`'s `kpad` bytes are `runs` runs of `kpad / runs` bytes, run `s` at
// `starts[r] + s × runStride` (one run at `starts[r]` for rows quantized in place or copied together).
typedef struct {
    const uint8_t *const *starts;
    int runs;
    size_t runStride;
} Runs;

// A value's uint8 code: `an_int8_quantize`'s rounding (to nearest even), clamp and code for NaN (0).
static inline uint8_t code_of(float value, float inverse, int32_t zero) {
    float v = __builtin_rintf(value * inverse) + (float)zero;
    v = v > 0 ? v : 0;
    v = v < 255 ? v : 255;
    return (uint8_t)v;
}

// What a residual of codes adds to the bias: `addendScale × (code − addendZero)` is `addendScale × code` plus this, so
// every body adds the residual as one multiply-add on the code.
static inline float residual_shift(Store store) { return -(store.addendScale * (float)store.addendZero); }

// What a tile's store does, a compile-time constant in each copy of a tile: the residual it adds (none, floats or
// codes) and what it writes (floats or codes). Tested at run time, the store's branches and the values they keep
// took half of a tile's time on rows of 32 bytes (YAMNet's first pointwise layer).
// CODES_FROM_ZERO: codes whose zero point is 0 and whose clamp's low bound has code 0 (a ReLU's output, calibrated on
// [0, max]), which the saturating narrowing clamps from below by itself.
enum { ADD_NOTHING = 0, ADD_FLOATS = 1, ADD_CODES = 2, WRITE_CODES = 4, CODES_FROM_ZERO = 8 };

static inline int store_kind(Store store) {
    int add = store.addend ? ADD_FLOATS : (store.addendCodes ? ADD_CODES : ADD_NOTHING);
    if (!store.codes) return add;
    int fromZero = store.codeZero == 0 && code_of(store.lo, store.codeInverse, 0) == 0;
    return add | WRITE_CODES | (fromZero ? CODES_FROM_ZERO : 0);
}

// `BODY(kind)` with `store`'s kind as a compile-time constant: a body copied for each kind of store.
#define FOR_STORE_KIND(store, BODY) \
    switch (store_kind(store)) { \
    case ADD_NOTHING: BODY(ADD_NOTHING); break; \
    case ADD_FLOATS: BODY(ADD_FLOATS); break; \
    case ADD_CODES: BODY(ADD_CODES); break; \
    case WRITE_CODES | ADD_NOTHING: BODY(WRITE_CODES | ADD_NOTHING); break; \
    case WRITE_CODES | ADD_FLOATS: BODY(WRITE_CODES | ADD_FLOATS); break; \
    case WRITE_CODES | ADD_CODES: BODY(WRITE_CODES | ADD_CODES); break; \
    case CODES_FROM_ZERO | WRITE_CODES | ADD_NOTHING: BODY(CODES_FROM_ZERO | WRITE_CODES | ADD_NOTHING); break; \
    case CODES_FROM_ZERO | WRITE_CODES | ADD_FLOATS: BODY(CODES_FROM_ZERO | WRITE_CODES | ADD_FLOATS); break; \
    case CODES_FROM_ZERO | WRITE_CODES | ADD_CODES: BODY(CODES_FROM_ZERO | WRITE_CODES | ADD_CODES); break; \
    }

#if AN_X86
#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

// A tile's column terms (its up to 32 columns' scales, sums and bias: `mask0`, `mask1` the lanes of each half) and the
// store's constants, as vectors.
typedef struct {
    __m512 scale0, scale1, bias0, bias1, low, high, addendScale, codeInverse;
    __m512i sum0, sum1, codeZero;
    __mmask16 mask0, mask1;
} TileEnds;

// With a residual of codes the biases carry its `residual_shift`. Storing codes, the clamp's bounds are the codes of `lo`
// and `hi` less the zero point: the code of a clamped value is its code clamped to the codes of the bounds (`code_of` is
// monotone), and whole bounds commute with rounding.
VNNI_TARGET static inline __attribute__((always_inline)) TileEnds
tile_ends(const float *scales, const int32_t *sums, const float *bias, Store store, __mmask16 mask0, __mmask16 mask1) {
    TileEnds ends;
    ends.scale0 = _mm512_maskz_loadu_ps(mask0, scales);
    ends.scale1 = _mm512_maskz_loadu_ps(mask1, scales + 16);
    ends.sum0 = _mm512_maskz_loadu_epi32(mask0, sums);
    ends.sum1 = _mm512_maskz_loadu_epi32(mask1, sums + 16);
    ends.bias0 = bias ? _mm512_maskz_loadu_ps(mask0, bias) : _mm512_setzero_ps();
    ends.bias1 = bias ? _mm512_maskz_loadu_ps(mask1, bias + 16) : _mm512_setzero_ps();
    if (store.addendCodes) {
        __m512 shift = _mm512_set1_ps(residual_shift(store));
        ends.bias0 = _mm512_add_ps(ends.bias0, shift);
        ends.bias1 = _mm512_add_ps(ends.bias1, shift);
    }
    if (store.codes) {
        ends.low = _mm512_set1_ps((float)(code_of(store.lo, store.codeInverse, store.codeZero) - store.codeZero));
        ends.high = _mm512_set1_ps((float)(code_of(store.hi, store.codeInverse, store.codeZero) - store.codeZero));
    } else {
        ends.low = _mm512_set1_ps(store.lo);
        ends.high = _mm512_set1_ps(store.hi);
    }
    ends.addendScale = _mm512_set1_ps(store.addendScale);
    ends.codeInverse = _mm512_set1_ps(store.codeInverse);
    ends.codeZero = _mm512_set1_epi32(store.codeZero);
    ends.mask0 = mask0;
    ends.mask1 = mask1;
    return ends;
}

// A row's terms: its zero point times the column sums, and its scale times the columns'.
typedef struct {
    __m512i offset0, offset1;
    __m512 scale0, scale1;
} RowTerms;

VNNI_TARGET static inline __attribute__((always_inline)) RowTerms row_terms(const TileEnds *ends, int32_t zero, float rowScale) {
    __m512i z = _mm512_set1_epi32(zero);
    __m512 s = _mm512_set1_ps(rowScale);
    return (RowTerms){_mm512_mullo_epi32(z, ends->sum0), _mm512_mullo_epi32(z, ends->sum1), _mm512_mul_ps(s, ends->scale0),
                      _mm512_mul_ps(s, ends->scale1)};
}

// Whether rows share one scale and zero point (static quantization: every row), and so the terms computed once for a
// tile: the same values, so the same bits.
static inline int rows_share_terms(int rows, const int32_t *zeros, const float *rowScales) {
    for (int r = 1; r < rows; r++)
        if (zeros[r] != zeros[0] || rowScales[r] != rowScales[0]) return 0;
    return 1;
}

// One output row's values before the clamp, `v[0]` (columns 0–15) and `v[1]` (16–31; unused when `halves` is 1), from its
// int32 sums less the row's zero-point terms (`RowTerms`' offsets): dequantized, the bias, the residual at `row` elements
// from the store's pointers — `finish_row`'s operations, so its bits.
VNNI_TARGET static inline __attribute__((always_inline)) void row_values(int kind, int halves, const TileEnds *ends,
                                                                         const RowTerms *terms, const __m512i acc[2], Store store,
                                                                         size_t row, __m512 v[2]) {
    v[0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[0]), terms->scale0, ends->bias0);
    v[1] = halves == 2 ? _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[1]), terms->scale1, ends->bias1) : v[0];
    if ((kind & 3) == ADD_FLOATS) {
        v[0] = _mm512_add_ps(v[0], _mm512_maskz_loadu_ps(ends->mask0, store.addend + row));
        if (halves == 2) v[1] = _mm512_add_ps(v[1], _mm512_maskz_loadu_ps(ends->mask1, store.addend + row + 16));
    } else if ((kind & 3) == ADD_CODES) {
        __m512i c0 = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(ends->mask0, store.addendCodes + row));
        v[0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c0), ends->addendScale, v[0]);
        if (halves == 2) {
            __m512i c1 = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(ends->mask1, store.addendCodes + row + 16));
            v[1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c1), ends->addendScale, v[1]);
        }
    }
}

// `code_of` of clamped values as int32 lanes: scaled, clamped to the bounds' codes less the zero point (NaN to the low
// one, as `clamped` makes NaN the low bound: `max` returns its second operand), rounded to nearest even, the zero point
// added — within 0…255. CODES_FROM_ZERO leaves the low bound (0) to the narrowing's saturation: what is below it, and
// NaN (the high bound first, so that `min` returns NaN, which converts to INT32_MIN), become 0.
VNNI_TARGET static inline __attribute__((always_inline)) __m512i clamped_codes(int kind, const TileEnds *ends, __m512 v) {
    __m512 x = _mm512_mul_ps(v, ends->codeInverse);
    if (kind & CODES_FROM_ZERO) return _mm512_cvt_roundps_epi32(_mm512_min_ps(ends->high, x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm512_min_ps(_mm512_max_ps(x, ends->low), ends->high);
    return _mm512_add_epi32(_mm512_cvt_roundps_epi32(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), ends->codeZero);
}

// `rows` (1 or 2) output rows, the second `store.ld` elements after the first, from their sums less their zero-point
// terms (`terms[r]`; `acc[r][0]` columns 0–15, `acc[r][1]` 16–31), dequantized, the bias, the residual, the clamp, stored
// at `row` elements from the store's pointers. Codes of two rows are narrowed together by saturating packs (their
// values are within 0…255) and stored 32 a row, instead of a `vpmovdb` per 16 (with this store's other changes,
// calibrated int8 ResNet-50's expansions with a residual, rows of 64 to 512 codes, 28.3–28.9 → 26.0–26.4 ms per 7
// images). `kind`, `halves` and `rows` are compile-time constants after inlining.
VNNI_TARGET static inline __attribute__((always_inline)) void store_rows_vnni(int kind, int halves, int rows, const TileEnds *ends,
                                                                              const RowTerms terms[2], __m512i acc[2][2],
                                                                              Store store, size_t row) {
    __m512 v[2][2];
    for (int r = 0; r < rows; r++) row_values(kind, halves, ends, &terms[r], acc[r], store, row + r * (size_t)store.ld, v[r]);
    if (kind & WRITE_CODES) {
        const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);  // the packs' lanes
        __m512i codes[2][2];
        for (int r = 0; r < 2; r++) {
            codes[r][0] = r < rows ? clamped_codes(kind, ends, v[r][0]) : codes[0][0];
            codes[r][1] = halves == 2 && r < rows ? clamped_codes(kind, ends, v[r][1]) : codes[r][0];
        }
        __m512i bytes = _mm512_packus_epi16(_mm512_packs_epi32(codes[0][0], codes[0][1]), _mm512_packs_epi32(codes[1][0], codes[1][1]));
        bytes = _mm512_permutexvar_epi32(order, bytes);
        __mmask32 mask = (__mmask32)ends->mask0 | (__mmask32)ends->mask1 << 16;
        _mm256_mask_storeu_epi8(store.codes + row, mask, _mm512_castsi512_si256(bytes));
        if (rows == 2) _mm256_mask_storeu_epi8(store.codes + row + store.ld, mask, _mm512_extracti64x4_epi64(bytes, 1));
    } else {
        for (int r = 0; r < rows; r++) {
            float *c = store.c + row + r * (size_t)store.ld;
            _mm512_mask_storeu_ps(c, ends->mask0, _mm512_min_ps(_mm512_max_ps(v[r][0], ends->low), ends->high));
            if (halves == 2) _mm512_mask_storeu_ps(c + 16, ends->mask1, _mm512_min_ps(_mm512_max_ps(v[r][1], ends->low), ends->high));
        }
    }
}

// The lanes of a panel's two halves of 16 columns, for a panel `width` columns wide.
static inline __mmask16 half_mask(int width, int half) {
    int count = width - 16 * half;
    return count >= 16 ? 0xFFFF : (count > 0 ? (__mmask16)((1u << count) - 1) : 0);
}

/// The AMX body of the int8 product (Int8AMX.c): `rows` rows of `kpad` bytes where `runs` says, times `n` columns of
/// packed weights, stored as `store` says — the VNNI body's bits. Returns 0, or -1 when its scratch could not be
/// allocated (nothing stored then).
int an_int8_gemm_amx(int rows, int n, int kpad, Runs runs, const float *rowScales, const int32_t *zeros, const int8_t *packed,
                     const float *scales, const int32_t *sums, const float *bias, Store store);
#endif

#endif
