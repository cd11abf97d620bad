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

// Weights a tile of rows asks for ahead of its loads (k steps; 2 KB of each panel). The AVX2 body asks in the first
// tile only, which reads them from memory where the ones after it read them from cache: a 49 × 512 × 4608 product
// (ResNet-50's last 3×3 convolutions by im2col at batch 1) on weights that have left the caches 3.2 → 2.7 ms, and asking
// in every tile cost a 12544-row product 28 %. The AVX-512 body asks in every tile (`tile_avx512`).
enum { PREFETCH_AHEAD = 32 };

// `rows` (a constant where inlined) rows × one panel's 16 columns, `columns` of them kept: the accumulators start
// at the bias, take every k, and are clamped and stored once; the weights asked for ahead when `prefetch`.
AVX2_TARGET static inline __attribute__((always_inline)) void tile_avx2(
    int rows, int k, const float *a, int lda, const float *panel, __m256 bias0, __m256 bias1, const float *addend, __m256 low,
    __m256 high, float *c, int ldc, int columns, __m256i mask0, __m256i mask1, int prefetch) {
    __m256 acc[ROW_TILE][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < ROW_TILE; r++) { acc[r][0] = bias0; acc[r][1] = bias1; }
    for (int i = 0; i < k; i++) {
        if (prefetch) _mm_prefetch((const char *)(panel + (size_t)(i + PREFETCH_AHEAD) * PANEL), _MM_HINT_T0);
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
        if (m >= ROW_TILE) {
            tile_avx2(ROW_TILE, k, a, lda, weights, bias0, bias1, add, low, high, target, ldc, columns, mask0, mask1, 1);
            r = ROW_TILE;
        }
        for (; r + ROW_TILE <= m; r += ROW_TILE)
            tile_avx2(ROW_TILE, k, a + (size_t)r * lda, lda, weights, bias0, bias1, row_or_null(add, r, ldc), low, high, target + (size_t)r * ldc, ldc, columns, mask0, mask1, 0);
        const float *rest = a + (size_t)r * lda;
        float *restTarget = target + (size_t)r * ldc;
        switch (m - r) {
        case 5: tile_avx2(5, k, rest, lda, weights, bias0, bias1, row_or_null(add, r, ldc), low, high, restTarget, ldc, columns, mask0, mask1, 0); break;
        case 4: tile_avx2(4, k, rest, lda, weights, bias0, bias1, row_or_null(add, r, ldc), low, high, restTarget, ldc, columns, mask0, mask1, 0); break;
        case 3: tile_avx2(3, k, rest, lda, weights, bias0, bias1, row_or_null(add, r, ldc), low, high, restTarget, ldc, columns, mask0, mask1, 0); break;
        case 2: tile_avx2(2, k, rest, lda, weights, bias0, bias1, row_or_null(add, r, ldc), low, high, restTarget, ldc, columns, mask0, mask1, 0); break;
        case 1: tile_avx2(1, k, rest, lda, weights, bias0, bias1, row_or_null(add, r, ldc), low, high, restTarget, ldc, columns, mask0, mask1, 0); break;
        default: break;
        }
    }
}

#define AVX512_TARGET __attribute__((target("avx512f")))
enum { WIDE_ROW_TILE = 12 };  // 12 rows × 2 panels: 24 zmm accumulators + 2 weight vectors, broadcasts from memory

// `rows` (a constant where inlined) rows × `panels` (1 or 2, a constant) panels of 16 columns, the second's columns
// masked by `mask1` (and the first's by `mask0`) when it is the last, partial panel, the weights asked for ahead
// (``PREFETCH_AHEAD``) by every tile — a deep layer's panel outgrows the L1 and the tiles after the first read it from
// L2: on the kernel alone 3136 × 576 → 64 1.60 → 1.39 ms, 196 × 1024 → 256 0.65 → 0.61, 12544 × 147 → 64 1.59–1.61 →
// 1.61–1.65 (the first tile alone asking: 2.3 → 1.5 ms on ResNet-50's last 3×3 convolutions at batch 1) — and `ahead`'s
// lines (NULL: none) one a step into L2 (`rows_avx512`). The tile's residual lines, then its output lines, are asked
// for one per step over the first steps of k: they come from beyond the L2 (a pass's activations), and the hardware
// prefetcher does not follow 12 rows a kilobyte or more apart (ResNet-50's layer1 projection with its residual, 6272 ×
// 64 → 256: 2.30–2.44 ms without the requests, 1.96–2.08 with them; without the residual 1.70–1.77 and 1.45–1.51; a
// request for writing, PREFETCHW, measured the same as a plain one).
// Every lane sums as ``tile_avx2``'s does (bias, then a fused multiply-add per k in order), so the two bodies give the
// same bits.
AVX512_TARGET static inline __attribute__((always_inline)) void tile_avx512(
    int rows, int panels, int k, const float *a, int lda, const float *panel0, __m512 bias0, __m512 bias1,
    const float *addend, __m512 low, __m512 high, float *c, int ldc, __mmask16 mask0, __mmask16 mask1, const float *ahead) {
    __m512 acc[WIDE_ROW_TILE][2];
    const float *panel1 = panel0 + (size_t)k * PANEL;
#pragma clang loop unroll(full)
    for (int r = 0; r < WIDE_ROW_TILE; r++) { acc[r][0] = bias0; acc[r][1] = bias1; }
    const int lines = rows * panels;
    for (int i = 0; i < k; i++) {
        if (i < 2 * lines) {
            int line = i < lines ? i : i - lines;
            size_t at = (size_t)(line / panels) * ldc + (line % panels) * PANEL;
            if (i >= lines) _mm_prefetch((const char *)(c + at), _MM_HINT_T0);
            else if (addend) _mm_prefetch((const char *)(addend + at), _MM_HINT_T0);
        }
        _mm_prefetch((const char *)(panel0 + (size_t)(i + PREFETCH_AHEAD) * PANEL), _MM_HINT_T0);
        if (panels == 2) _mm_prefetch((const char *)(panel1 + (size_t)(i + PREFETCH_AHEAD) * PANEL), _MM_HINT_T0);
        if (ahead) _mm_prefetch((const char *)(ahead + (size_t)i * PANEL), _MM_HINT_T1);
        __m512 w0 = _mm512_loadu_ps(panel0 + (size_t)i * PANEL);
        __m512 w1 = panels == 2 ? _mm512_loadu_ps(panel1 + (size_t)i * PANEL) : w0;
#pragma clang loop unroll(full)
        for (int r = 0; r < WIDE_ROW_TILE; r++) {
            if (r < rows) {
                __m512 value = _mm512_set1_ps(a[(size_t)r * lda + i]);
                acc[r][0] = _mm512_fmadd_ps(value, w0, acc[r][0]);
                if (panels == 2) acc[r][1] = _mm512_fmadd_ps(value, w1, acc[r][1]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < WIDE_ROW_TILE; r++) {
        if (r < rows) {
            float *target = c + (size_t)r * ldc;
            const float *add = addend ? addend + (size_t)r * ldc : NULL;
#pragma clang loop unroll(full)
            for (int p = 0; p < 2; p++) {
                if (p < panels) {
                    __mmask16 mask = p == 0 ? mask0 : mask1;
                    __m512 value = acc[r][p];
                    if (add) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, add + 16 * p));
                    // max/min return their second operand when either is NaN: NaN stays NaN, as in the AVX2 body.
                    _mm512_mask_storeu_ps(target + 16 * p, mask, _mm512_min_ps(high, _mm512_max_ps(low, value)));
                }
            }
        }
    }
}

// All rows against `panels` (1 or 2) panels from `first`: whole tiles of 12 rows, then one tile of the rest. The first
// two tiles ask for the `next` panels' lines (NULL: none) into L2, a panel each, one a step: a network's weights come
// from L3 or memory, once a pass, and the first tile's requests alone cannot keep up with its products.
AVX512_TARGET static inline __attribute__((always_inline)) void rows_avx512(
    int panels, int m, int k, const float *a, int lda, const float *weights, __m512 bias0, __m512 bias1,
    const float *addend, __m512 low, __m512 high, float *c, int ldc, __mmask16 mask0, __mmask16 mask1, const float *next) {
#define AHEAD(r) (next && (r) < 2 * WIDE_ROW_TILE ? next + (size_t)((r) / WIDE_ROW_TILE) * k * PANEL : NULL)
    int r = 0;
    for (; r + WIDE_ROW_TILE <= m; r += WIDE_ROW_TILE)
        tile_avx512(WIDE_ROW_TILE, panels, k, a + (size_t)r * lda, lda, weights, bias0, bias1,
                    row_or_null(addend, r, ldc), low, high, c + (size_t)r * ldc, ldc, mask0, mask1, AHEAD(r));
    const float *rest = a + (size_t)r * lda, *restAddend = row_or_null(addend, r, ldc);
    float *restTarget = c + (size_t)r * ldc;
    const float *restAhead = AHEAD(r);
#undef AHEAD
#define AN_REST_TILE(count) \
    case count: tile_avx512(count, panels, k, rest, lda, weights, bias0, bias1, restAddend, low, high, restTarget, ldc, mask0, mask1, restAhead); break;
    switch (m - r) {
        AN_REST_TILE(11) AN_REST_TILE(10) AN_REST_TILE(9) AN_REST_TILE(8) AN_REST_TILE(7) AN_REST_TILE(6)
        AN_REST_TILE(5) AN_REST_TILE(4) AN_REST_TILE(3) AN_REST_TILE(2) AN_REST_TILE(1)
        default: break;
    }
#undef AN_REST_TILE
}

// Panels two at a time (each row's value broadcast once for 32 columns), a last odd panel alone.
AVX512_TARGET static void gemm_avx512(int m, int n, int k, const float *a, int lda, const float *packed, const float *bias,
                                      const float *addend, float lo, float hi, float *c, int ldc, int firstPanel, int panelCount) {
    __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    for (int panel = firstPanel; panel < firstPanel + panelCount;) {
        int panels = panel + 1 < firstPanel + panelCount ? 2 : 1;
        int first = panel * PANEL, columns = n - first < 2 * PANEL ? n - first : 2 * PANEL;
        __mmask16 mask0 = columns >= 16 ? 0xFFFF : (__mmask16)((1u << columns) - 1);
        __mmask16 mask1 = columns >= 32 ? 0xFFFF : (columns > 16 ? (__mmask16)((1u << (columns - 16)) - 1) : 0);
        __m512 bias0 = bias ? _mm512_maskz_loadu_ps(mask0, bias + first) : _mm512_setzero_ps();
        __m512 bias1 = bias && panels == 2 ? _mm512_maskz_loadu_ps(mask1, bias + first + PANEL) : _mm512_setzero_ps();
        const float *weights = packed + (size_t)panel * k * PANEL, *add = addend ? addend + first : NULL;
        const float *next = panel + panels < firstPanel + panelCount ? weights + (size_t)panels * k * PANEL : NULL;
        if (panels == 2) rows_avx512(2, m, k, a, lda, weights, bias0, bias1, add, low, high, c + first, ldc, mask0, mask1, next);
        else rows_avx512(1, m, k, a, lda, weights, bias0, bias1, add, low, high, c + first, ldc, mask0, mask1, next);
        panel += panels;
    }
}
#endif

int an_packed_gemm_has_body(void) {
#if AN_X86
    return an_cpu_has(AN_CPU_AVX2);
#else
    return 0;
#endif
}

void an_packed_gemm(int m, int n, int k, const float *a, int lda, const float *packed, const float *bias, const float *addend,
                    float lo, float hi, float *c, int ldc, int firstPanel, int panelCount) {
#if AN_X86
    if (an_cpu_has(AN_CPU_AVX512)) {
        gemm_avx512(m, n, k, a, lda, packed, bias, addend, lo, hi, c, ldc, firstPanel, panelCount);
        return;
    }
    if (an_cpu_has(AN_CPU_AVX2)) {
        gemm_avx2(m, n, k, a, lda, packed, bias, addend, lo, hi, c, ldc, firstPanel, panelCount);
        return;
    }
#endif
    gemm_portable(m, n, k, a, lda, packed, bias, addend, lo, hi, c, ldc, firstPanel, panelCount);
}
