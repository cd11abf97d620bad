// Float products against weights packed once at load (the layout of BLIS/GotoBLAS micro-kernels): `c = clamp(a · w
// + bias)` in one pass, with no per-call packing of either operand, no zeroing pass and no separate bias or
// activation pass — what a 1×1 convolution costs around its multiplies when each call goes through BLAS.
#include "CKernels.h"

#include <string.h>

#include "X86Lanes.h"

enum { PANEL = 16, ROW_TILE = 6 };  // 6 rows × 2 ymm accumulators + 2 weight vectors + a broadcast: 15 of 16 ymm
enum { HALF_ROW_TILE = 12 };       // a panel's first 8 columns: 12 accumulators + a weight vector + a broadcast

int an_packed_panels(int n) { return (n + PANEL - 1) / PANEL; }

size_t an_packed_size(int k, int n) { return (size_t)k * PANEL * an_packed_panels(n); }

void an_pack_panels(const float *w, int k, int n, float *packed) {
    memset(packed, 0, an_packed_size(k, n) * sizeof(float));
    for (int panel = 0; panel < an_packed_panels(n); panel++) {
        int first = panel * PANEL, width = n - first < PANEL ? n - first : PANEL;
        float *target = packed + (size_t)panel * k * PANEL;
        for (int row = 0; row < k; row++) memcpy(target + (size_t)row * PANEL, w + (size_t)row * n + first, (size_t)width * sizeof(float));
    }
}

// The portable body: one panel of one row at a time, the same sums in the same order as the AVX2 body's lanes (bias
// first, then every k), so the two differ only by fused multiply-add rounding.
AN_PORTABLE_CLONES
static void gemm_portable(int m, int n, int k, const float *a, int lda, const float *packed, const float *bias,
                          const float *addend, float lo, float hi, float *c, int ldc, int firstPanel, int panelCount) {
    for (int panel = firstPanel; panel < firstPanel + panelCount; panel++) {
        int first = panel * PANEL, columns = n - first < PANEL ? n - first : PANEL;
        const float *weights = packed + (size_t)panel * k * PANEL;
        for (int r = 0; r < m; r++) {
            float acc[PANEL];
            for (int j = 0; j < PANEL; j++) acc[j] = bias && j < columns ? bias[first + j] : 0;
            const float *row = a + (size_t)r * lda;
            for (int i = 0; i < k; i++)
                for (int j = 0; j < PANEL; j++) acc[j] += row[i] * weights[(size_t)i * PANEL + j];
            if (addend)
                for (int j = 0; j < columns; j++) acc[j] += addend[(size_t)r * ldc + first + j];
            // NaN stays NaN (as the SIMD body's operand order keeps it).
            for (int j = 0; j < columns; j++) c[(size_t)r * ldc + first + j] = acc[j] < lo ? lo : (acc[j] > hi ? hi : acc[j]);
        }
    }
}

#if AN_X86
#define AVX2_TARGET __attribute__((target("avx2,fma")))

// `rows` (a constant where inlined) rows × one panel's 16 columns, `columns` of them kept: the accumulators start
// at the bias, take every k, and are clamped and stored once.
AVX2_TARGET static inline __attribute__((always_inline)) void tile_avx2(
    int rows, int k, const float *a, int lda, const float *panel, __m256 bias0, __m256 bias1, const float *addend, __m256 low,
    __m256 high, float *c, int ldc, int columns, __m256i mask0, __m256i mask1) {
    __m256 acc[ROW_TILE][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < ROW_TILE; r++) { acc[r][0] = bias0; acc[r][1] = bias1; }
    for (int i = 0; i < k; i++) {
        __m256 w0 = _mm256_loadu_ps(panel + (size_t)i * PANEL), w1 = _mm256_loadu_ps(panel + (size_t)i * PANEL + 8);
#pragma clang loop unroll(full)
        for (int r = 0; r < ROW_TILE; r++) {
            if (r < rows) {
                __m256 value = _mm256_broadcast_ss(a + (size_t)r * lda + i);
                acc[r][0] = _mm256_fmadd_ps(value, w0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(value, w1, acc[r][1]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < ROW_TILE; r++) {
        if (r < rows) {
            if (addend) {
                const float *add = addend + (size_t)r * ldc;
                acc[r][0] = _mm256_add_ps(acc[r][0], columns == PANEL ? _mm256_loadu_ps(add) : _mm256_maskload_ps(add, mask0));
                acc[r][1] = _mm256_add_ps(acc[r][1], columns == PANEL ? _mm256_loadu_ps(add + 8) : _mm256_maskload_ps(add + 8, mask1));
            }
            // max/min return their second operand when either is NaN: NaN stays NaN, as in a separate activation pass.
            __m256 v0 = _mm256_min_ps(high, _mm256_max_ps(low, acc[r][0])), v1 = _mm256_min_ps(high, _mm256_max_ps(low, acc[r][1]));
            float *target = c + (size_t)r * ldc;
            if (columns == PANEL) {
                _mm256_storeu_ps(target, v0);
                _mm256_storeu_ps(target + 8, v1);
            } else {  // the last panel's columns (`vmaskmovps` is slow on AMD: full panels avoid it)
                _mm256_maskstore_ps(target, mask0, v0);
                _mm256_maskstore_ps(target + 8, mask1, v1);
            }
        }
    }
}

// `rows` (a constant where inlined) rows × the first 8 columns of a panel, `columns` of them kept: a last panel of at
// most 8 columns (MobileNetV2's 24-channel projections) in twelve rows at a time, none of its multiply-adds on the
// panel's padding. Each output sums as in ``tile_avx2``.
AVX2_TARGET static inline __attribute__((always_inline)) void half_tile_avx2(
    int rows, int k, const float *a, int lda, const float *panel, __m256 bias0, const float *addend, __m256 low, __m256 high,
    float *c, int ldc, int columns, __m256i mask0) {
    __m256 acc[HALF_ROW_TILE];
#pragma clang loop unroll(full)
    for (int r = 0; r < HALF_ROW_TILE; r++) acc[r] = bias0;
    for (int i = 0; i < k; i++) {
        __m256 w0 = _mm256_loadu_ps(panel + (size_t)i * PANEL);
#pragma clang loop unroll(full)
        for (int r = 0; r < HALF_ROW_TILE; r++)
            if (r < rows) acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(a + (size_t)r * lda + i), w0, acc[r]);
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < HALF_ROW_TILE; r++) {
        if (r < rows) {
            if (addend) {
                const float *add = addend + (size_t)r * ldc;
                acc[r] = _mm256_add_ps(acc[r], columns == 8 ? _mm256_loadu_ps(add) : _mm256_maskload_ps(add, mask0));
            }
            __m256 v0 = _mm256_min_ps(high, _mm256_max_ps(low, acc[r]));
            if (columns == 8) _mm256_storeu_ps(c + (size_t)r * ldc, v0);
            else _mm256_maskstore_ps(c + (size_t)r * ldc, mask0, v0);
        }
    }
}

/// Row `row` of a matrix `ld` floats a row apart, or NULL for none.
static inline const float *row_or_null(const float *matrix, int row, int ld) { return matrix ? matrix + (size_t)row * ld : NULL; }

AVX2_TARGET static void gemm_avx2(int m, int n, int k, const float *a, int lda, const float *packed, const float *bias,
                                  const float *addend, float lo, float hi, float *c, int ldc, int firstPanel, int panelCount) {
    __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    for (int panel = firstPanel; panel < firstPanel + panelCount; panel++) {
        int first = panel * PANEL, columns = n - first < PANEL ? n - first : PANEL;
        __m256i mask0 = lanes_below(columns), mask1 = lanes_below(columns - 8);
        __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
        if (bias && columns == PANEL) { bias0 = _mm256_loadu_ps(bias + first); bias1 = _mm256_loadu_ps(bias + first + 8); }
        else if (bias) { bias0 = _mm256_maskload_ps(bias + first, mask0); bias1 = _mm256_maskload_ps(bias + first + 8, mask1); }
        const float *weights = packed + (size_t)panel * k * PANEL;
        float *target = c + first;
        const float *add = addend ? addend + first : NULL;
        int r = 0;
        if (columns <= 8) {
            for (; r + HALF_ROW_TILE <= m; r += HALF_ROW_TILE)
                half_tile_avx2(HALF_ROW_TILE, k, a + (size_t)r * lda, lda, weights, bias0, row_or_null(add, r, ldc), low, high, target + (size_t)r * ldc, ldc, columns, mask0);
            if (r + 6 <= m) {
                half_tile_avx2(6, k, a + (size_t)r * lda, lda, weights, bias0, row_or_null(add, r, ldc), low, high, target + (size_t)r * ldc, ldc, columns, mask0);
                r += 6;
            }
            for (; r < m; r++) half_tile_avx2(1, k, a + (size_t)r * lda, lda, weights, bias0, row_or_null(add, r, ldc), low, high, target + (size_t)r * ldc, ldc, columns, mask0);
            continue;
        }
        for (; r + ROW_TILE <= m; r += ROW_TILE)
            tile_avx2(ROW_TILE, k, a + (size_t)r * lda, lda, weights, bias0, bias1, row_or_null(add, r, ldc), low, high, target + (size_t)r * ldc, ldc, columns, mask0, mask1);
        const float *rest = a + (size_t)r * lda;
        float *restTarget = target + (size_t)r * ldc;
        switch (m - r) {
        case 5: tile_avx2(5, k, rest, lda, weights, bias0, bias1, row_or_null(add, r, ldc), low, high, restTarget, ldc, columns, mask0, mask1); break;
        case 4: tile_avx2(4, k, rest, lda, weights, bias0, bias1, row_or_null(add, r, ldc), low, high, restTarget, ldc, columns, mask0, mask1); break;
        case 3: tile_avx2(3, k, rest, lda, weights, bias0, bias1, row_or_null(add, r, ldc), low, high, restTarget, ldc, columns, mask0, mask1); break;
        case 2: tile_avx2(2, k, rest, lda, weights, bias0, bias1, row_or_null(add, r, ldc), low, high, restTarget, ldc, columns, mask0, mask1); break;
        case 1: tile_avx2(1, k, rest, lda, weights, bias0, bias1, row_or_null(add, r, ldc), low, high, restTarget, ldc, columns, mask0, mask1); break;
        default: break;
        }
    }
}
#endif

int an_packed_gemm_has_body(void) {
#if AN_X86
    // With AVX-512 allowed, OpenBLAS's 16-lane kernels outrun these 8 lanes (twice on cores with full-width units).
    return an_cpu_has(AN_CPU_AVX2) && !an_cpu_has(AN_CPU_AVX512);
#else
    return 0;
#endif
}

void an_packed_gemm(int m, int n, int k, const float *a, int lda, const float *packed, const float *bias, const float *addend,
                    float lo, float hi, float *c, int ldc, int firstPanel, int panelCount) {
#if AN_X86
    if (an_cpu_has(AN_CPU_AVX2)) {
        gemm_avx2(m, n, k, a, lda, packed, bias, addend, lo, hi, c, ldc, firstPanel, panelCount);
        return;
    }
#endif
    gemm_portable(m, n, k, a, lda, packed, bias, addend, lo, hi, c, ldc, firstPanel, panelCount);
}
