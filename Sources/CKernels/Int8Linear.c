// Dynamic-range int8 matrix products (the scheme of LiteRT's hybrid kernels): int8 weights quantized per
// output column ahead of time, uint8 activations quantized per row at run time, exact int32 accumulation.
#include "CKernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "Int8Tile.h"

// AMX_MIN_K: under 64 codes a row the AMX body's fixed costs (the row copy, zeroing, storing and reloading its tiles)
// outweigh its products: MobileNetV2's pointwise layers of 16 to 32 inputs took 1.1–2× the VNNI body's time.
enum { ROW_TILE = 12, ROW_BLOCK = 192, AMX_MIN_K = 64 };

size_t an_int8_packed_size(int k, int n) { return (size_t)round_up(k, 4) * (size_t)round_up(n, PANEL) + AMX_OVERREAD; }

// Packed layout: panels of 32 columns; in a panel, for each group of 4 rows k, 32 lanes of 4 bytes
// (the 4 consecutive k of one column), which is what one `vpdpbusd` per 16 columns consumes.
static size_t packed_index(int k4count, int k, int column) {
    return (size_t)(column / PANEL) * k4count * 4 * PANEL + (size_t)(k / 4) * 4 * PANEL + (column % PANEL) * 4 + k % 4;
}

void an_int8_pack_weights(const float *w, int k, int n, int8_t *packed, float *scales, int32_t *sums) {
    int k4count = round_up(k, 4) / 4;
    memset(packed, 0, an_int8_packed_size(k, n));
    for (int column = 0; column < n; column++) {
        float largest = 0;
        for (int row = 0; row < k; row++) largest = fmaxf(largest, fabsf(w[(size_t)row * n + column]));
        float scale = largest > 0 ? largest / 127 : 1;
        int32_t sum = 0;
        for (int row = 0; row < k; row++) {
            long q = lrintf(w[(size_t)row * n + column] / scale);
            q = q > 127 ? 127 : (q < -127 ? -127 : q);
            packed[packed_index(k4count, row, column)] = (int8_t)q;
            sum += (int32_t)q;
        }
        scales[column] = scale;
        sums[column] = sum;
    }
}

void an_int8_unpack_weights(const int8_t *packed, int k, int n, int8_t *w) {
    int k4count = round_up(k, 4) / 4;
    for (int row = 0; row < k; row++) {
        for (int column = 0; column < n; column++) w[(size_t)row * n + column] = packed[packed_index(k4count, row, column)];
    }
}

// The scale (and its inverse) and zero point of values in [low, high], a range that contains 0, so that 0 (padding,
// ReLU zeros) is exact: 255 steps over the range; a range of nothing (all zeros) takes scale 1.
static inline void range_quantization(float low, float high, float *scale, float *inverse, int32_t *zero) {
    if (high - low > 0) {
        *scale = (high - low) / 255;
        *inverse = 1 / *scale;
        long z = lrintf(-low * *inverse);
        *zero = (int32_t)(z < 0 ? 0 : (z > 255 ? 255 : z));
    } else {
        *scale = 1; *inverse = 1; *zero = 0;
    }
}

// Row quantization: the row's range widened to contain 0.
static void row_range(const float *row, int k, float *scale, float *inverse, int32_t *zero) {
    float low = 0, high = 0;
    for (int i = 0; i < k; i++) { low = fminf(low, row[i]); high = fmaxf(high, row[i]); }
    range_quantization(low, high, scale, inverse, zero);
}

static uint8_t quantize(float value, float inverse, int32_t zero) {
    long q = lrintf(value * inverse) + zero;
    return (uint8_t)(q < 0 ? 0 : (q > 255 ? 255 : q));
}

AN_PORTABLE_CLONES
static void quantize_rows_portable(const float *a, int lda, int rows, int k, int kpad, uint8_t *q, float *scales, int32_t *zeros) {
    for (int r = 0; r < rows; r++) {
        const float *row = a + (size_t)r * lda;
        float inverse;
        row_range(row, k, &scales[r], &inverse, &zeros[r]);
        uint8_t *out = q + (size_t)r * kpad;
        for (int i = 0; i < k; i++) out[i] = quantize(row[i], inverse, zeros[r]);
        memset(out + k, 0, (size_t)(kpad - k));
    }
}

// One output element before its clamp: the int32 dot product dequantized, plus the bias.
static inline float dequantized(int32_t dot, int32_t zero, int32_t sum, float rowScale, float columnScale, float bias) {
    return fmaf((float)(dot - zero * sum), rowScale * columnScale, bias);
}

static inline float clamped(float value, float lo, float hi) { return fminf(fmaxf(value, lo), hi); }

// Columns `first ..< last` of one output row (`store` at the row): dequantized, plus the residual, clamped (the fused
// activation), stored. One loop per step, each over plain pointers, so that each vectorizes: under a branch inside one
// loop, the residual's loads became masked loads of NULL, which only an emulator's unsuppressed fault stops, but stops.
static inline void finish_row(int first, int last, const int32_t *dots, int32_t zero, const int32_t *sums, float rowScale,
                              const float *scales, const float *bias, Store store) {
    float values[PANEL];
    int count = last - first;
    float shift = store.addendCodes ? residual_shift(store) : 0;
    for (int i = 0; i < count; i++) {
        float columnBias = bias ? bias[first + i] : 0;
        if (store.addendCodes) columnBias += shift;
        values[i] = dequantized(dots[i], zero, sums[first + i], rowScale, scales[first + i], columnBias);
    }
    if (store.addend) {
        const float *addend = store.addend + first;
        for (int i = 0; i < count; i++) values[i] += addend[i];
    } else if (store.addendCodes) {
        const uint8_t *addend = store.addendCodes + first;
        for (int i = 0; i < count; i++) values[i] = fmaf((float)addend[i], store.addendScale, values[i]);
    }
    for (int i = 0; i < count; i++) values[i] = clamped(values[i], store.lo, store.hi);
    if (store.codes) {
        uint8_t *codes = store.codes + first;
        for (int i = 0; i < count; i++) codes[i] = code_of(values[i], store.codeInverse, store.codeZero);
    } else {
        float *c = store.c + first;
        for (int i = 0; i < count; i++) c[i] = values[i];
    }
}

AN_PORTABLE_CLONES
static void gemm_portable(int rows, int n, int kpad, const uint8_t *q, const float *rowScales, const int32_t *zeros,
                          const int8_t *packed, const float *scales, const int32_t *sums, const float *bias, Store store) {
    int k4count = kpad / 4;
    for (int panel = 0; panel * PANEL < n; panel++) {
        const int8_t *b = packed + (size_t)panel * k4count * 4 * PANEL;
        int width = n - panel * PANEL < PANEL ? n - panel * PANEL : PANEL;
        for (int r = 0; r < rows; r++) {
            int32_t dots[PANEL] = {0};
            const uint8_t *a = q + (size_t)r * kpad;
            for (int k4 = 0; k4 < k4count; k4++) {
                // The four activations of this group times each lane's four weights (vectorizes over lanes).
                const int8_t *w = b + (size_t)k4 * 4 * PANEL;
                int32_t a0 = a[k4 * 4], a1 = a[k4 * 4 + 1], a2 = a[k4 * 4 + 2], a3 = a[k4 * 4 + 3];
                for (int lane = 0; lane < PANEL; lane++)
                    dots[lane] += a0 * w[lane * 4] + a1 * w[lane * 4 + 1] + a2 * w[lane * 4 + 2] + a3 * w[lane * 4 + 3];
            }
            finish_row(panel * PANEL, panel * PANEL + width, dots, zeros[r], sums, rowScales[r], scales, bias, store_at(store, r, 0));
        }
    }
}

#if AN_X86
// Lane r of the result: the minimum (`max` 0) or the maximum (1) of the lanes of v[r], for 16 vectors: four rounds
// that pair the vectors, each halving the lanes a vector keeps of each row (a row's own 16 lanes reduced alone took
// twice as long on rows of 32 values, YAMNet's first pointwise layer).
VNNI_TARGET static inline __m512 across_rows(__m512 *v, int max) {
    static const int32_t firsts[4][16] = {
        {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23}, {0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27},
        {0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29}, {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30}};
    static const int32_t seconds[4][16] = {
        {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31}, {4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31},
        {2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31}, {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31}};
    for (int round = 0, count = 16; round < 4; round++, count /= 2) {
        __m512i first = _mm512_loadu_si512(firsts[round]), second = _mm512_loadu_si512(seconds[round]);
        for (int i = 0; i < count / 2; i++) {
            __m512 x = _mm512_permutex2var_ps(v[2 * i], first, v[2 * i + 1]), y = _mm512_permutex2var_ps(v[2 * i], second, v[2 * i + 1]);
            v[i] = max ? _mm512_max_ps(x, y) : _mm512_min_ps(x, y);
        }
    }
    return v[0];
}

// `code_of` on the 16 values of `x`, as int32 lanes before the clamp.
VNNI_TARGET static inline __m512i unclamped_codes(__m512 x, __m512 inverse, __m512i zero) {
    return _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(x, inverse)), zero);
}

// Rows in blocks of 16: each row's range (NaN skipped: min/max(v, running) return `running` when v is NaN), the 16
// rows' scales and zero points at once by `range_quantization`'s operations (so its bits), then each row's codes.
// Codes go out 64 (or 32) at a time, narrowed by a signed then an unsigned saturating pack — the clamp to 0…255 —
// instead of `vpmovdb` per 16, which took half the time here (a two-µop instruction on AMD cores).
// One block of `count` (≤ 16) rows from row `first`; inlined with constant shapes for the short rows of YAMNet's first
// pointwise layers, whose loops then unroll (rows of 32 values: 19 → 13 cycles a row).
VNNI_TARGET static inline __attribute__((always_inline)) void quantize_block_vnni(
    const float *a, int lda, int first, int count, int k, int kpad, uint8_t *q, float *scales, int32_t *zeros) {
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);  // the packs' lanes
    __m512 low[16], high[16];
    for (int r = 0; r < 16; r++) {
        __m512 l = _mm512_setzero_ps(), h = _mm512_setzero_ps();
        const float *row = a + (size_t)(first + r) * lda;
        int i = 0;
        for (; r < count && i + 16 <= k; i += 16) {
            __m512 v = _mm512_loadu_ps(row + i);
            l = _mm512_min_ps(v, l);
            h = _mm512_max_ps(v, h);
        }
        if (r < count && i < k) {
            __m512 v = _mm512_maskz_loadu_ps((__mmask16)((1u << (k - i)) - 1), row + i);
            l = _mm512_min_ps(v, l);
            h = _mm512_max_ps(v, h);
        }
        low[r] = l;
        high[r] = h;
    }
    __m512 lowest = across_rows(low, 0), width = _mm512_sub_ps(across_rows(high, 1), lowest), one = _mm512_set1_ps(1);
    __mmask16 ranged = _mm512_cmp_ps_mask(width, _mm512_setzero_ps(), _CMP_GT_OQ);
    __m512 scale = _mm512_div_ps(width, _mm512_set1_ps(255)), inverse = _mm512_div_ps(one, scale);
    __m512i zero = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), lowest), inverse));
    zero = _mm512_maskz_mov_epi32(ranged, _mm512_min_epi32(_mm512_max_epi32(zero, _mm512_setzero_si512()), _mm512_set1_epi32(255)));
    __mmask16 valid = (__mmask16)((1u << count) - 1);
    _mm512_mask_storeu_ps(scales + first, valid, _mm512_mask_blend_ps(ranged, one, scale));
    _mm512_mask_storeu_epi32(zeros + first, valid, zero);
    float inverses[16];
    _mm512_storeu_ps(inverses, _mm512_mask_blend_ps(ranged, one, inverse));
    for (int r = 0; r < count; r++) {
        const float *row = a + (size_t)(first + r) * lda;
        uint8_t *out = q + (size_t)(first + r) * kpad;
        __m512 s = _mm512_set1_ps(inverses[r]);
        __m512i z = _mm512_set1_epi32(zeros[first + r]);
        int i = 0;
        for (; i + 64 <= k; i += 64) {
            __m512i v0 = unclamped_codes(_mm512_loadu_ps(row + i), s, z), v1 = unclamped_codes(_mm512_loadu_ps(row + i + 16), s, z);
            __m512i v2 = unclamped_codes(_mm512_loadu_ps(row + i + 32), s, z), v3 = unclamped_codes(_mm512_loadu_ps(row + i + 48), s, z);
            __m512i bytes = _mm512_packus_epi16(_mm512_packs_epi32(v0, v1), _mm512_packs_epi32(v2, v3));
            _mm512_storeu_si512(out + i, _mm512_permutexvar_epi32(order, bytes));
        }
        if (i + 32 <= k) {
            __m512i v0 = unclamped_codes(_mm512_loadu_ps(row + i), s, z), v1 = unclamped_codes(_mm512_loadu_ps(row + i + 16), s, z);
            __m512i bytes = _mm512_packus_epi16(_mm512_packs_epi32(v0, v1), _mm512_setzero_si512());
            _mm256_storeu_si256((__m256i *)(out + i), _mm512_castsi512_si256(_mm512_permutexvar_epi32(order, bytes)));
            i += 32;
        }
        for (; i < kpad; i += 16) {  // the last values, then zeros up to kpad
            int left = k - i;
            __mmask16 mask = left >= 16 ? 0xFFFF : (left > 0 ? (__mmask16)((1u << left) - 1) : 0);
            __m512i v = _mm512_maskz_max_epi32(mask, unclamped_codes(_mm512_maskz_loadu_ps(mask, row + i), s, z), _mm512_setzero_si512());
            __mmask16 store = kpad - i >= 16 ? 0xFFFF : (__mmask16)((1u << (kpad - i)) - 1);
            _mm512_mask_cvtusepi32_storeu_epi8(out + i, store, v);
        }
    }
}

VNNI_TARGET static void quantize_rows_vnni(const float *a, int lda, int rows, int k, int kpad, uint8_t *q, float *scales, int32_t *zeros) {
    for (int first = 0; first < rows; first += 16) {
        int count = rows - first < 16 ? rows - first : 16;
        if (count == 16 && k == 32) quantize_block_vnni(a, lda, first, 16, 32, 32, q, scales, zeros);
        else if (count == 16 && k == 64) quantize_block_vnni(a, lda, first, 16, 64, 64, q, scales, zeros);
        else quantize_block_vnni(a, lda, first, count, k, kpad, q, scales, zeros);
    }
}

// A tile of up to ROW_TILE rows × 32 columns — or 16 (`halves` 1: a panel of at most 16 columns, whose second half
// would multiply zero weights); `rowsInTile`, `halves` and `kind` (`store_kind(store)`) are compile-time constants
// after inlining. The rows' bytes are `runs`' from row `first` on.
VNNI_TARGET static inline __attribute__((always_inline)) void tile_vnni(
    int kind, int rowsInTile, int halves, int k4count, Runs runs, int first, const int8_t *b, const float *rowScales,
    const int32_t *zeros, const float *scales, const int32_t *sums, const float *bias, Store store, __mmask16 mask0, __mmask16 mask1,
    const int8_t *ahead) {
    __m512i acc[ROW_TILE][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < ROW_TILE; r++) { acc[r][0] = _mm512_setzero_si512(); acc[r][1] = _mm512_setzero_si512(); }
    int runK4 = k4count / runs.runs;
    for (int run = 0; run < runs.runs; run++) {
        const uint8_t *rows[ROW_TILE];
#pragma clang loop unroll(full)
        for (int r = 0; r < ROW_TILE; r++) rows[r] = r < rowsInTile ? runs.starts[first + r] + (size_t)run * runs.runStride : NULL;
        const int8_t *w = b + (size_t)run * runK4 * 128;
        const int8_t *next = ahead ? ahead + (size_t)run * runK4 * 64 : NULL;
        for (int k4 = 0; k4 < runK4; k4++) {
            if (next) _mm_prefetch((const char *)(next + (size_t)k4 * 64), _MM_HINT_T1);
            __m512i b0 = _mm512_loadu_si512(w + (size_t)k4 * 128), b1 = halves == 2 ? _mm512_loadu_si512(w + (size_t)k4 * 128 + 64) : b0;
#pragma clang loop unroll(full)
            for (int r = 0; r < ROW_TILE; r++) {
                if (r < rowsInTile) {
                    int32_t word;
                    memcpy(&word, rows[r] + 4 * k4, 4);
                    __m512i broadcast = _mm512_set1_epi32(word);
                    acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], broadcast, b0);
                    if (halves == 2) acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], broadcast, b1);
                }
            }
        }
    }
    // The rows' zero-point terms come off the sums only where a zero point is not 0 (a ReLU's codes have 0).
    TileEnds ends = tile_ends(scales, sums, bias, store, mask0, mask1);
    int uniform = rows_share_terms(rowsInTile, zeros, rowScales), offsets = !uniform || zeros[0] != 0;
    RowTerms terms[2];
    terms[0] = terms[1] = row_terms(&ends, zeros[0], rowScales[0]);
#pragma clang loop unroll(full)
    for (int r = 0; r < ROW_TILE; r += 2) {
        if (r < rowsInTile) {
            int rows = r + 1 < rowsInTile ? 2 : 1;
            for (int i = 0; i < rows; i++) {
                if (!uniform) terms[i] = row_terms(&ends, zeros[r + i], rowScales[r + i]);
                if (offsets) {
                    acc[r + i][0] = _mm512_sub_epi32(acc[r + i][0], terms[i].offset0);
                    acc[r + i][1] = _mm512_sub_epi32(acc[r + i][1], terms[i].offset1);
                }
            }
            store_rows_vnni(kind, halves, rows, &ends, terms, &acc[r], store, (size_t)r * store.ld);
        }
    }
}

VNNI_TARGET static inline __attribute__((always_inline)) void panels_vnni(
    int kind, int rows, int n, int kpad, Runs runs, const float *rowScales, const int32_t *zeros, const int8_t *packed,
    const float *scales, const int32_t *sums, const float *bias, Store store) {
    int k4count = kpad / 4;
    for (int panel = 0; panel * PANEL < n; panel++) {
        int first = panel * PANEL, width = n - first < PANEL ? n - first : PANEL;
        __mmask16 mask0 = half_mask(width, 0), mask1 = half_mask(width, 1);
        const int8_t *b = packed + (size_t)panel * k4count * 4 * PANEL;
        const float *panelBias = bias ? bias + first : NULL;
        // The first two tiles ask for the next panel's lines, a half each, one a step.
        const int8_t *next = first + PANEL < n ? b + (size_t)k4count * 4 * PANEL : NULL;
#define AHEAD(r) (next && (r) < 2 * ROW_TILE ? next + (size_t)((r) / ROW_TILE) * k4count * 64 : NULL)
        int r = 0;
#define TILES(halves) \
    for (; r + ROW_TILE <= rows; r += ROW_TILE) \
        tile_vnni(kind, ROW_TILE, halves, k4count, runs, r, b, rowScales + r, zeros + r, scales + first, sums + first, panelBias, \
                  store_at(store, r, first), mask0, mask1, AHEAD(r)); \
    for (; r + 4 <= rows; r += 4) \
        tile_vnni(kind, 4, halves, k4count, runs, r, b, rowScales + r, zeros + r, scales + first, sums + first, panelBias, \
                  store_at(store, r, first), mask0, mask1, AHEAD(r)); \
    for (; r < rows; r++) \
        tile_vnni(kind, 1, halves, k4count, runs, r, b, rowScales + r, zeros + r, scales + first, sums + first, panelBias, \
                  store_at(store, r, first), mask0, mask1, AHEAD(r));
        if (width > 16) { TILES(2) } else { TILES(1) }
#undef TILES
#undef AHEAD
    }
}

// `panels_vnni` copied for each kind of store; the AMX body instead where the processor has it, for blocks of 16 rows
// or more (a tile's) and rows of AMX_MIN_K codes or more (it falls back here when its scratch cannot be had).
VNNI_TARGET static void gemm_vnni_runs(int rows, int n, int kpad, Runs runs, const float *rowScales, const int32_t *zeros,
                                       const int8_t *packed, const float *scales, const int32_t *sums, const float *bias, Store store) {
    if (rows >= 16 && kpad >= AMX_MIN_K && an_cpu_has(AN_CPU_AMX_INT8) &&
        an_int8_gemm_amx(rows, n, kpad, runs, rowScales, zeros, packed, scales, sums, bias, store) == 0)
        return;
#define PANELS(kind) panels_vnni(kind, rows, n, kpad, runs, rowScales, zeros, packed, scales, sums, bias, store)
    FOR_STORE_KIND(store, PANELS);
#undef PANELS
}

// `gemm_vnni_runs` on `rows` rows of `kpad` bytes one after another from `q`, a ROW_BLOCK at a time.
VNNI_TARGET static void gemm_vnni(int rows, int n, int kpad, const uint8_t *q, const float *rowScales, const int32_t *zeros,
                                  const int8_t *packed, const float *scales, const int32_t *sums, const float *bias, Store store) {
    const uint8_t *starts[ROW_BLOCK];
    for (int first = 0; first < rows; first += ROW_BLOCK) {
        int count = rows - first < ROW_BLOCK ? rows - first : ROW_BLOCK;
        for (int r = 0; r < count; r++) starts[r] = q + (size_t)(first + r) * kpad;
        gemm_vnni_runs(count, n, kpad, (Runs){starts, 1, 0}, rowScales + first, zeros + first, packed, scales, sums, bias,
                       store_at(store, first, 0));
    }
}

#define AVXVNNI_TARGET __attribute__((target("avx2,fma,avxvnni")))
enum { SHORT_ROW_TILE = 6 };  // 6 rows × 2 ymm accumulators + 2 weight vectors + a broadcast: 15 of the 16 ymm

// The 256-bit form of `tile_vnni` for processors with AVX-VNNI but not AVX-512 (Intel's client cores), on the
// same packed weights: 16 of a panel's 32 columns (`half`) as two 8-lane vectors; results pass through a
// small buffer to the shared `finish`.
AVXVNNI_TARGET static inline __attribute__((always_inline)) void tile_avxvnni(
    int rowsInTile, int half, int k4count, const uint8_t *a, int kpad, const int8_t *b, const float *rowScales,
    const int32_t *zeros, const float *scales, const int32_t *sums, const float *bias, Store store, int width) {
    __m256i acc[SHORT_ROW_TILE][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < SHORT_ROW_TILE; r++) { acc[r][0] = _mm256_setzero_si256(); acc[r][1] = _mm256_setzero_si256(); }
    for (int k4 = 0; k4 < k4count; k4++) {
        const int8_t *w = b + (size_t)k4 * 128 + 64 * half;
        __m256i w0 = _mm256_loadu_si256((const __m256i *)w), w1 = _mm256_loadu_si256((const __m256i *)(w + 32));
#pragma clang loop unroll(full)
        for (int r = 0; r < SHORT_ROW_TILE; r++) {
            if (r < rowsInTile) {
                int32_t word;
                memcpy(&word, a + (size_t)r * kpad + 4 * k4, 4);
                __m256i broadcast = _mm256_set1_epi32(word);
                acc[r][0] = _mm256_dpbusd_avx_epi32(acc[r][0], broadcast, w0);
                acc[r][1] = _mm256_dpbusd_avx_epi32(acc[r][1], broadcast, w1);
            }
        }
    }
    int first = 16 * half, last = width < first + 16 ? width : first + 16;
    for (int r = 0; r < rowsInTile; r++) {
        int32_t dots[16];
        _mm256_storeu_si256((__m256i *)dots, acc[r][0]);
        _mm256_storeu_si256((__m256i *)(dots + 8), acc[r][1]);
        finish_row(first, last, dots, zeros[r], sums, rowScales[r], scales, bias, store_at(store, r, 0));
    }
}

AVXVNNI_TARGET static void gemm_avxvnni(int rows, int n, int kpad, const uint8_t *q, const float *rowScales, const int32_t *zeros,
                                        const int8_t *packed, const float *scales, const int32_t *sums, const float *bias, Store store) {
    int k4count = kpad / 4;
    for (int panel = 0; panel * PANEL < n; panel++) {
        int first = panel * PANEL, width = n - first < PANEL ? n - first : PANEL;
        const int8_t *b = packed + (size_t)panel * k4count * 4 * PANEL;
        const float *panelBias = bias ? bias + first : NULL;
        for (int half = 0; half * 16 < width; half++) {
            int r = 0;
            for (; r + SHORT_ROW_TILE <= rows; r += SHORT_ROW_TILE)
                tile_avxvnni(SHORT_ROW_TILE, half, k4count, q + (size_t)r * kpad, kpad, b, rowScales + r, zeros + r, scales + first,
                             sums + first, panelBias, store_at(store, r, first), width);
            for (; r < rows; r++)
                tile_avxvnni(1, half, k4count, q + (size_t)r * kpad, kpad, b, rowScales + r, zeros + r, scales + first,
                             sums + first, panelBias, store_at(store, r, first), width);
        }
    }
}

#define AVX2_TARGET __attribute__((target("avx2,fma")))
enum { AVX2_ROW_TILE = 4 };  // 4 rows × 2 accumulators + 4 widened weight vectors + 2 broadcasts: 14 of the 16 ymm

// Without VNNI (AVX2 processors: Zen 2/3, Haswell to Comet Lake) the product is exact as `vpdpbusd` with every
// byte widened to 16 bits, where `vpmaddwd` sums each pair of products into 32 bits without saturating
// (`vpmaddubsw` would: 2·255·127 > 32767). Both sides are widened once, outside the tile's loop: a row block's
// activations as they are quantized (`quantize_pairs_avx2`), a half-panel's weights by `widen_weights_avx2`.

// The 16 columns `half` of a packed panel as 16-bit values: per group of 4 rows k, four vectors — the even k
// (0, 2) of columns 0–7, their odd k (1, 3), then the same for columns 8–15 — by sign-extending shifts.
AVX2_TARGET static void widen_weights_avx2(const int8_t *b, int k4count, int half, __m256i *widened) {
    for (int k4 = 0; k4 < k4count; k4++) {
        const int8_t *w = b + (size_t)k4 * 128 + 64 * half;
        __m256i w0 = _mm256_loadu_si256((const __m256i *)w), w1 = _mm256_loadu_si256((const __m256i *)(w + 32));
        widened[4 * k4] = _mm256_srai_epi16(_mm256_slli_epi16(w0, 8), 8);
        widened[4 * k4 + 1] = _mm256_srai_epi16(w0, 8);
        widened[4 * k4 + 2] = _mm256_srai_epi16(_mm256_slli_epi16(w1, 8), 8);
        widened[4 * k4 + 3] = _mm256_srai_epi16(w1, 8);
    }
}

// A tile of up to 4 rows × the 16 columns `half` of a panel (`tile_avxvnni`'s shape), on widened operands.
AVX2_TARGET static inline __attribute__((always_inline)) void tile_avx2(
    int rowsInTile, int half, int k4count, const uint32_t *pairs, const __m256i *widened, const float *rowScales,
    const int32_t *zeros, const float *scales, const int32_t *sums, const float *bias, Store store, int width) {
    __m256i acc[AVX2_ROW_TILE][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < AVX2_ROW_TILE; r++) { acc[r][0] = _mm256_setzero_si256(); acc[r][1] = _mm256_setzero_si256(); }
    for (int k4 = 0; k4 < k4count; k4++) {
        __m256i even0 = widened[4 * k4], odd0 = widened[4 * k4 + 1], even1 = widened[4 * k4 + 2], odd1 = widened[4 * k4 + 3];
#pragma clang loop unroll(full)
        for (int r = 0; r < AVX2_ROW_TILE; r++) {
            if (r < rowsInTile) {
                const uint32_t *group = pairs + (size_t)r * 2 * k4count + 2 * k4;
                __m256i evenA = _mm256_set1_epi32((int32_t)group[0]), oddA = _mm256_set1_epi32((int32_t)group[1]);
                acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(evenA, even0));
                acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(oddA, odd0));
                acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(evenA, even1));
                acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(oddA, odd1));
            }
        }
    }
    int first = 16 * half, count = (width < first + 16 ? width : first + 16) - first;
    if (store.codes || store.addendCodes) {
        // Codes in or out: `finish_row` (the int8 paths AVX2 processors run are float-to-float).
        for (int r = 0; r < rowsInTile; r++) {
            int32_t dots[16];
            _mm256_storeu_si256((__m256i *)dots, acc[r][0]);
            _mm256_storeu_si256((__m256i *)(dots + 8), acc[r][1]);
            finish_row(first, first + count, dots, zeros[r], sums, rowScales[r], scales, bias, store_at(store, r, 0));
        }
        return;
    }
    // `finish_row` on 8 lanes at a time (the same operations, so the same bits): columns `first ..< first + count`.
    const float *addend = store.addend;
    float *c = store.c;
    int ldc = store.ld;
    __m256i inside[2] = {lanes_below(count), lanes_below(count - 8)};
    __m256 columnScale[2], columnBias[2], low = _mm256_set1_ps(store.lo), high = _mm256_set1_ps(store.hi);
    __m256i columnSum[2];
    for (int v = 0; v < 2; v++) {
        columnScale[v] = _mm256_maskload_ps(scales + first + 8 * v, inside[v]);
        columnSum[v] = _mm256_maskload_epi32(sums + first + 8 * v, inside[v]);
        columnBias[v] = bias ? _mm256_maskload_ps(bias + first + 8 * v, inside[v]) : _mm256_setzero_ps();
    }
    for (int r = 0; r < rowsInTile; r++) {
        __m256i zero = _mm256_set1_epi32(zeros[r]);
        __m256 rowScale = _mm256_set1_ps(rowScales[r]);
        for (int v = 0; v < 2 && 8 * v < count; v++) {
            __m256 value = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc[r][v], _mm256_mullo_epi32(zero, columnSum[v])));
            value = _mm256_fmadd_ps(value, _mm256_mul_ps(rowScale, columnScale[v]), columnBias[v]);
            if (addend) value = _mm256_add_ps(value, _mm256_maskload_ps(addend + (size_t)r * ldc + first + 8 * v, inside[v]));
            value = _mm256_min_ps(_mm256_max_ps(value, low), high);
            float *target = c + (size_t)r * ldc + first + 8 * v;
            if (count - 8 * v >= 8) _mm256_storeu_ps(target, value);
            else _mm256_maskstore_ps(target, inside[v], value);
        }
    }
}

// The range search of `quantize_rows_vnni` on 8 lanes: one row's scale, inverse scale and zero point, as the portable
// body finds them. Full blocks of 8 use plain loads (`vmaskmovps` is slow on AMD cores).
AVX2_TARGET static void row_range_avx2(const float *row, int k, float *scale, float *inverse, int32_t *zero) {
    __m256 low = _mm256_setzero_ps(), high = _mm256_setzero_ps();
    // min/max(v, running) return `running` when v is NaN: NaN is skipped, as fminf/fmaxf do; masked-off lanes read 0,
    // inside the range already.
    for (int i = 0; i < k; i += 8) {
        __m256 v = i + 8 <= k ? _mm256_loadu_ps(row + i) : _mm256_maskload_ps(row + i, lanes_below(k - i));
        low = _mm256_min_ps(v, low);
        high = _mm256_max_ps(v, high);
    }
    __m128 low4 = _mm_min_ps(_mm256_castps256_ps128(low), _mm256_extractf128_ps(low, 1));
    __m128 high4 = _mm_max_ps(_mm256_castps256_ps128(high), _mm256_extractf128_ps(high, 1));
    low4 = _mm_min_ps(low4, _mm_movehl_ps(low4, low4));
    high4 = _mm_max_ps(high4, _mm_movehl_ps(high4, high4));
    float lowest = fminf(_mm_cvtss_f32(low4), _mm_cvtss_f32(_mm_shuffle_ps(low4, low4, 1)));
    float highest = fmaxf(_mm_cvtss_f32(high4), _mm_cvtss_f32(_mm_shuffle_ps(high4, high4, 1)));
    range_quantization(lowest, highest, scale, inverse, zero);
}

// The codes of `row[i ..< i + 8]` in 32-bit lanes, 0 past `k`: the portable body's rounding (`vcvtps2dq` rounds to
// nearest even, as `lrintf` does) and clamp, so the same codes.
AVX2_TARGET static inline __m256i codes_avx2(const float *row, int i, int k, __m256 inverse, __m256i zero) {
    __m256 v;
    if (i + 8 <= k) v = _mm256_loadu_ps(row + i);
    else v = _mm256_maskload_ps(row + i, lanes_below(k - i));
    __m256i codes = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(v, inverse)), zero);
    codes = _mm256_min_epi32(_mm256_max_epi32(codes, _mm256_setzero_si256()), _mm256_set1_epi32(255));
    return i + 8 <= k ? codes : _mm256_and_si256(codes, lanes_below(k - i));
}

// Rows quantized with `row_range_avx2`'s scales, either to bytes (`pairs` NULL), the layout `vpdpbusd` reads (the
// AVX-VNNI body), or straight to the AVX2 body's 16-bit pairs (`bytes` NULL): each group of 4 codes c0…c3 as the
// words (c0, c2) and (c1, c3), the pairs that meet a lane's even and odd weights. Inlined into its two callers, each
// with one layout.
AVX2_TARGET static inline __attribute__((always_inline)) void
quantize_avx2(const float *a, int lda, int rows, int k, int kpad, uint8_t *bytes, uint32_t *pairs, float *scales, int32_t *zeros) {
    for (int r = 0; r < rows; r++) {
        const float *row = a + (size_t)r * lda;
        float inverse;
        row_range_avx2(row, k, &scales[r], &inverse, &zeros[r]);
        __m256 scale = _mm256_set1_ps(inverse);
        __m256i zero = _mm256_set1_epi32(zeros[r]);
        for (int i = 0; i < kpad; i += 8) {
            if (pairs) {
                // Per 128-bit half: codes reordered c0 c2 c1 c3, packed to 16 bits (words (c0, c2), (c1, c3),
                // repeated); the low 64 bits of each half hold the two groups' four words.
                uint32_t *out = pairs + (size_t)r * (kpad / 2);
                __m256i v = _mm256_shuffle_epi32(codes_avx2(row, i, k, scale, zero), 0xD8);
                __m256i words = _mm256_permute4x64_epi64(_mm256_packus_epi32(v, v), 0x08);
                if (kpad - i >= 8) _mm_storeu_si128((__m128i *)(out + i / 2), _mm256_castsi256_si128(words));
                else _mm_storel_epi64((__m128i *)(out + i / 2), _mm256_castsi256_si128(words));  // the last group of 4
            } else {
                uint8_t *out = bytes + (size_t)r * kpad;
                __m256i v = codes_avx2(row, i, k, scale, zero);
                __m256i packed = _mm256_packus_epi16(_mm256_packus_epi32(v, v), _mm256_setzero_si256());
                uint32_t first = (uint32_t)_mm_cvtsi128_si32(_mm256_castsi256_si128(packed));
                uint32_t second = (uint32_t)_mm_cvtsi128_si32(_mm256_extracti128_si256(packed, 1));
                memcpy(out + i, &first, 4);
                if (kpad - i > 4) memcpy(out + i + 4, &second, 4);  // kpad is a multiple of 4
            }
        }
    }
}

AVX2_TARGET static void quantize_rows_avx2(const float *a, int lda, int rows, int k, int kpad, uint8_t *q, float *scales, int32_t *zeros) {
    quantize_avx2(a, lda, rows, k, kpad, q, NULL, scales, zeros);
}

AVX2_TARGET static void quantize_pairs_avx2(const float *a, int lda, int rows, int k, int kpad, uint32_t *pairs, float *scales, int32_t *zeros) {
    quantize_avx2(a, lda, rows, k, kpad, NULL, pairs, scales, zeros);
}

AVX2_TARGET static void gemm_avx2(int rows, int n, int kpad, const uint32_t *pairs, const float *rowScales, const int32_t *zeros,
                                  const int8_t *packed, const float *scales, const int32_t *sums, const float *bias, Store store,
                                  __m256i *widened) {
    int k4count = kpad / 4;
    size_t rowStride = (size_t)2 * k4count;
    for (int panel = 0; panel * PANEL < n; panel++) {
        int first = panel * PANEL, width = n - first < PANEL ? n - first : PANEL;
        const int8_t *b = packed + (size_t)panel * k4count * 4 * PANEL;
        const float *panelBias = bias ? bias + first : NULL;
        for (int half = 0; half * 16 < width; half++) {
            widen_weights_avx2(b, k4count, half, widened);
            int r = 0;
            for (; r + AVX2_ROW_TILE <= rows; r += AVX2_ROW_TILE)
                tile_avx2(AVX2_ROW_TILE, half, k4count, pairs + r * rowStride, widened, rowScales + r, zeros + r, scales + first,
                          sums + first, panelBias, store_at(store, r, first), width);
            for (; r < rows; r++)
                tile_avx2(1, half, k4count, pairs + r * rowStride, widened, rowScales + r, zeros + r, scales + first,
                          sums + first, panelBias, store_at(store, r, first), width);
        }
    }
}
#endif

/// Which int8 body runs here: 3 AVX-512 VNNI, 2 AVX-VNNI, 1 AVX2, 0 portable.
static int int8_level(void) {
    if (an_cpu_has(AN_CPU_AVX512_VNNI)) return 3;
    if (an_cpu_has(AN_CPU_AVX_VNNI)) return 2;
    if (an_cpu_has(AN_CPU_AVX2)) return 1;
    return 0;
}

/// The buffers of one `an_int8_linear` call: a row block's codes (bytes, or the AVX2 body's 16-bit pairs), scales and
/// zero points, and the AVX2 body's widened half-panel of weights.
typedef struct {
    uint8_t *bytes;
    uint32_t *pairs;
    float *rowScales;
    int32_t *zeros;
    void *widened;
} Scratch;

static void free_scratch(Scratch *scratch) {
    free(scratch->bytes); free(scratch->pairs); free(scratch->rowScales); free(scratch->zeros); free(scratch->widened);
}

// The AVX2 body's 16-bit pairs of rows already quantized to bytes: each group of 4 codes c0…c3 as the words (c0, c2),
// (c1, c3) — what `quantize_pairs_avx2` writes.
AN_PORTABLE_CLONES
static void pairs_from_bytes(const uint8_t *bytes, int rows, int kpad, uint32_t *pairs) {
    for (size_t group = 0; group < (size_t)rows * kpad / 4; group++) {
        const uint8_t *c = bytes + 4 * group;
        pairs[2 * group] = (uint32_t)c[0] | (uint32_t)c[2] << 16;
        pairs[2 * group + 1] = (uint32_t)c[1] | (uint32_t)c[3] << 16;
    }
}

int an_int8_linear(int m, int n, int k, const float *a, int lda, const int8_t *packed, const float *scales,
                   const int32_t *sums, const float *bias, const float *addend, float lo, float hi, float *c, int ldc) {
    int kpad = round_up(k, 4);
    int block = m < ROW_BLOCK ? m : ROW_BLOCK;
    int level = int8_level(), widening = level == 1;  // the AVX2 body quantizes into pairs and widens its weights
    Scratch scratch = {
        widening ? NULL : malloc((size_t)block * kpad + 1), widening ? malloc((size_t)block * kpad * 2 + 1) : NULL,
        malloc(sizeof(float) * (size_t)(block + 1)), malloc(sizeof(int32_t) * (size_t)(block + 1)),
        widening ? aligned_alloc(32, (size_t)(kpad + 1) * 32) : NULL,  // kpad vectors of 32 bytes
    };
    if (!(widening ? scratch.pairs && scratch.widened : scratch.bytes != NULL) || !scratch.rowScales || !scratch.zeros) {
        free_scratch(&scratch);
        return -1;
    }
    float *rowScales = scratch.rowScales;
    int32_t *zeros = scratch.zeros;
    for (int first = 0; first < m; first += block) {
        int rows = m - first < block ? m - first : block;
        const float *source = a + (size_t)first * lda;
        Store store = store_at((Store){.c = c, .addend = addend, .lo = lo, .hi = hi, .ld = ldc}, first, 0);
#if AN_X86
        if (level == 3) {
            quantize_rows_vnni(source, lda, rows, k, kpad, scratch.bytes, rowScales, zeros);
            gemm_vnni(rows, n, kpad, scratch.bytes, rowScales, zeros, packed, scales, sums, bias, store);
            continue;
        }
        if (level == 2) {
            quantize_rows_avx2(source, lda, rows, k, kpad, scratch.bytes, rowScales, zeros);
            gemm_avxvnni(rows, n, kpad, scratch.bytes, rowScales, zeros, packed, scales, sums, bias, store);
            continue;
        }
        if (level == 1) {
            quantize_pairs_avx2(source, lda, rows, k, kpad, scratch.pairs, rowScales, zeros);
            gemm_avx2(rows, n, kpad, scratch.pairs, rowScales, zeros, packed, scales, sums, bias, store, scratch.widened);
            continue;
        }
#endif
        quantize_rows_portable(source, lda, rows, k, kpad, scratch.bytes, rowScales, zeros);
        gemm_portable(rows, n, kpad, scratch.bytes, rowScales, zeros, packed, scales, sums, bias, store);
    }
    free_scratch(&scratch);
    return 0;
}

int an_int8_linear_codes(int m, int n, int kpad, const uint8_t *q, const float *rowScales, const int32_t *zeros,
                         const int8_t *packed, const float *scales, const int32_t *sums, const float *bias, an_int8_store store) {
    int level = int8_level();
#if AN_X86
    if (level == 3) {
        gemm_vnni(m, n, kpad, q, rowScales, zeros, packed, scales, sums, bias, store);
        return 0;
    }
    if (level == 2) {
        gemm_avxvnni(m, n, kpad, q, rowScales, zeros, packed, scales, sums, bias, store);
        return 0;
    }
    if (level == 1) {
        // Blocks of rows widened to pairs, as `an_int8_linear` quantizes them.
        int block = m < ROW_BLOCK ? m : ROW_BLOCK;
        uint32_t *pairs = malloc((size_t)block * kpad * 2 + 1);
        void *widened = aligned_alloc(32, (size_t)(kpad + 1) * 32);
        if (!pairs || !widened) {
            free(pairs); free(widened);
            return -1;
        }
        for (int first = 0; first < m; first += block) {
            int rows = m - first < block ? m - first : block;
            pairs_from_bytes(q + (size_t)first * kpad, rows, kpad, pairs);
            gemm_avx2(rows, n, kpad, pairs, rowScales + first, zeros + first, packed, scales, sums, bias, store_at(store, first, 0), widened);
        }
        free(pairs); free(widened);
        return 0;
    }
#endif
    (void)level;
    gemm_portable(m, n, kpad, q, rowScales, zeros, packed, scales, sums, bias, store);
    return 0;
}

int an_int8_linear_runs(int m, int n, int kpad, const uint8_t *const *rows, int runs, size_t runStride, const float *rowScales,
                        const int32_t *zeros, const int8_t *packed, const float *scales, const int32_t *sums, const float *bias,
                        an_int8_store store) {
#if AN_X86
    if (int8_level() == 3) {
        gemm_vnni_runs(m, n, kpad, (Runs){rows, runs, runStride}, rowScales, zeros, packed, scales, sums, bias, store);
        return 0;
    }
#endif
    // The other bodies read rows one after another: each block of rows is copied together first.
    int block = m < ROW_BLOCK ? m : ROW_BLOCK, runBytes = kpad / runs;
    uint8_t *q = malloc((size_t)block * kpad + 1);
    if (!q) return -1;
    for (int first = 0; first < m; first += block) {
        int count = m - first < block ? m - first : block;
        for (int r = 0; r < count; r++)
            for (int run = 0; run < runs; run++)
                memcpy(q + (size_t)r * kpad + (size_t)run * runBytes, rows[first + r] + (size_t)run * runStride, (size_t)runBytes);
        int status = an_int8_linear_codes(count, n, kpad, q, rowScales + first, zeros + first, packed, scales, sums, bias,
                                          store_at(store, first, 0));
        if (status != 0) {
            free(q);
            return status;
        }
    }
    free(q);
    return 0;
}

// The range of a tensor, widened to contain 0 (as `row_range`); NaN skipped. Sixteen running minima and maxima, updated
// by comparisons (not fminf/fmaxf, and not one running pair: a reduction the compiler would keep scalar), vectorize.
AN_PORTABLE_CLONES
void an_int8_range(const float *x, size_t count, float *low, float *high) {
    float lows[16] = {0}, highs[16] = {0};
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        for (int j = 0; j < 16; j++) {
            lows[j] = x[i + j] < lows[j] ? x[i + j] : lows[j];
            highs[j] = x[i + j] > highs[j] ? x[i + j] : highs[j];
        }
    }
    for (; i < count; i++) {
        lows[0] = x[i] < lows[0] ? x[i] : lows[0];
        highs[0] = x[i] > highs[0] ? x[i] : highs[0];
    }
    *low = lows[0];
    *high = highs[0];
    for (int j = 1; j < 16; j++) {
        *low = lows[j] < *low ? lows[j] : *low;
        *high = highs[j] > *high ? highs[j] : *high;
    }
}

// `code_of` on each value, written so that the loop vectorizes (AVX2 and the baseline; its AVX2 clone narrows the
// results to bytes lane by lane, the AVX-512 body below with one `vpmovdb`).
AN_PORTABLE_CLONES
static void codes_portable(const float *x, size_t count, float inverse, int32_t zero, uint8_t *q) {
    for (size_t i = 0; i < count; i++) q[i] = code_of(x[i], inverse, zero);
}

#if AN_X86
// `code_of` on 16 values at a time, as the VNNI tile's store.
__attribute__((target("avx512f")))
static void codes_avx512(const float *x, size_t count, float inverse, int32_t zero, uint8_t *q) {
    __m512 scale = _mm512_set1_ps(inverse), offset = _mm512_set1_ps((float)zero);
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 mask = count - i >= 16 ? 0xFFFF : (__mmask16)((1u << (count - i)) - 1);
        store_codes_avx512(q + i, mask, _mm512_maskz_loadu_ps(mask, x + i), scale, offset);
    }
}
#endif

void an_int8_codes(const float *x, size_t count, float inverse, int32_t zero, uint8_t *q) {
#if AN_X86
    if (an_cpu_has(AN_CPU_AVX512)) { codes_avx512(x, count, inverse, zero, q); return; }
#endif
    codes_portable(x, count, inverse, zero, q);
}

void an_int8_quantize(const float *x, size_t count, float low, float high, uint8_t *q, float *scale, int32_t *zero) {
    float inverse;
    range_quantization(low, high, scale, &inverse, zero);
    an_int8_codes(x, count, inverse, *zero, q);
}

AN_PORTABLE_CLONES
void an_int8_dequantize(const uint8_t *q, size_t count, float scale, int32_t zero, float *x) {
    for (size_t i = 0; i < count; i++) x[i] = scale * (float)((int32_t)q[i] - zero);
}
