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

// What a tile's store does, a compile-time constant in each copy of a tile: the residual it adds (none, floats or
// codes) and what it writes (floats or codes). Tested at run time, the store's branches and the values they keep
// took half of a tile's time on rows of 32 bytes (YAMNet's first pointwise layer).
enum { ADD_NOTHING = 0, ADD_FLOATS = 1, ADD_CODES = 2, WRITE_CODES = 4 };

static inline int store_kind(Store store) {
    return (store.addend ? ADD_FLOATS : (store.addendCodes ? ADD_CODES : ADD_NOTHING)) | (store.codes ? WRITE_CODES : 0);
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
    }

#if AN_X86
#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

// A tile's column terms (its up to 32 columns' scales, sums and bias: `mask0`, `mask1` the lanes of each half) and the
// store's constants, as vectors.
typedef struct {
    __m512 scale0, scale1, bias0, bias1, low, high, addendScale, codeInverse, codeZero;
    __m512i sum0, sum1, addendZero;
    __mmask16 mask0, mask1;
} TileEnds;

VNNI_TARGET static inline __attribute__((always_inline)) TileEnds
tile_ends(const float *scales, const int32_t *sums, const float *bias, Store store, __mmask16 mask0, __mmask16 mask1) {
    TileEnds ends;
    ends.scale0 = _mm512_maskz_loadu_ps(mask0, scales);
    ends.scale1 = _mm512_maskz_loadu_ps(mask1, scales + 16);
    ends.sum0 = _mm512_maskz_loadu_epi32(mask0, sums);
    ends.sum1 = _mm512_maskz_loadu_epi32(mask1, sums + 16);
    ends.bias0 = bias ? _mm512_maskz_loadu_ps(mask0, bias) : _mm512_setzero_ps();
    ends.bias1 = bias ? _mm512_maskz_loadu_ps(mask1, bias + 16) : _mm512_setzero_ps();
    ends.low = _mm512_set1_ps(store.lo);
    ends.high = _mm512_set1_ps(store.hi);
    ends.addendScale = _mm512_set1_ps(store.addendScale);
    ends.codeInverse = _mm512_set1_ps(store.codeInverse);
    ends.addendZero = _mm512_set1_epi32(store.addendZero);
    ends.codeZero = _mm512_set1_ps((float)store.codeZero);
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

// One output row from its int32 sums `acc0` (columns 0–15) and `acc1` (16–31; unused when `halves` is 1): dequantized,
// the bias, the residual, the clamp, stored at `row` elements from the store's pointers — `finish_row`'s operations, so
// its bits. `kind` and `halves` are compile-time constants after inlining.
VNNI_TARGET static inline __attribute__((always_inline)) void store_row_vnni(int kind, int halves, const TileEnds *ends,
                                                                             const RowTerms *terms, __m512i acc0, __m512i acc1,
                                                                             Store store, size_t row) {
    __mmask16 mask0 = ends->mask0, mask1 = ends->mask1;
    __m512 v0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc0, terms->offset0));
    __m512 v1 = halves == 2 ? _mm512_cvtepi32_ps(_mm512_sub_epi32(acc1, terms->offset1)) : v0;
    v0 = _mm512_fmadd_ps(v0, terms->scale0, ends->bias0);
    if (halves == 2) v1 = _mm512_fmadd_ps(v1, terms->scale1, ends->bias1);
    if ((kind & 3) == ADD_FLOATS) {
        v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(mask0, store.addend + row));
        if (halves == 2) v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(mask1, store.addend + row + 16));
    } else if ((kind & 3) == ADD_CODES) {
        // `finish_row`'s residual: scale × (code − zero), exactly in float.
        __m512i c0 = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask0, store.addendCodes + row));
        v0 = _mm512_add_ps(v0, _mm512_mul_ps(ends->addendScale, _mm512_cvtepi32_ps(_mm512_sub_epi32(c0, ends->addendZero))));
        if (halves == 2) {
            __m512i c1 = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask1, store.addendCodes + row + 16));
            v1 = _mm512_add_ps(v1, _mm512_mul_ps(ends->addendScale, _mm512_cvtepi32_ps(_mm512_sub_epi32(c1, ends->addendZero))));
        }
    }
    v0 = _mm512_min_ps(_mm512_max_ps(v0, ends->low), ends->high);
    if (halves == 2) v1 = _mm512_min_ps(_mm512_max_ps(v1, ends->low), ends->high);
    if (kind & WRITE_CODES) {
        store_codes_avx512(store.codes + row, mask0, v0, ends->codeInverse, ends->codeZero);
        if (halves == 2) store_codes_avx512(store.codes + row + 16, mask1, v1, ends->codeInverse, ends->codeZero);
    } else {
        _mm512_mask_storeu_ps(store.c + row, mask0, v0);
        if (halves == 2) _mm512_mask_storeu_ps(store.c + row + 16, mask1, v1);
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
