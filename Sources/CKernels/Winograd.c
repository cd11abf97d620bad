// The transforms of Winograd's F(4×4, 3×3) (Lavin & Gray 2016, interpolation points 0, ±1, ±2), vectorized
// over channels: 36 products per 4×4 output tile instead of 144. The 36 sgemms between them are the caller's.
// (F(2×2, 3×3) was measured slower here: 209 against 319 GFLOP/s on one thread, 56²×64→64.)
//   input:  V = Bᵀ d B on 6×6 input tiles (stride 4)
//     Bᵀ = [[4, 0, −5, 0, 1, 0], [0, −4, −4, 1, 1, 0], [0, 4, −4, −1, 1, 0],
//           [0, −2, −1, 2, 1, 0], [0, 2, −1, −2, 1, 0], [0, 4, 0, −5, 0, 1]]
//   output: Y = Aᵀ M A, Aᵀ = [[1, 1, 1, 1, 1, 0], [0, 1, −1, 2, −2, 0], [0, 1, 1, 4, 4, 0], [0, 1, −1, 8, −8, 1]]
#include "CKernels.h"

#include <math.h>

#include "X86Lanes.h"

enum { BLOCK = 16 };

// Tile `index` of the batch (tiles of `size`×`size` output pixels, row-major per image): its image and the
// top-left output pixel.
static void tile_origin(const AnWindowShape *s, int size, int index, int *image, int *y0, int *x0) {
    int tilesY = (s->outputHeight + size - 1) / size, tilesX = (s->outputWidth + size - 1) / size;
    *image = index / (tilesY * tilesX);
    int rest = index % (tilesY * tilesX);
    *y0 = rest / tilesX * size;
    *x0 = rest % tilesX * size;
}


// Bᵀ applied to six values (a column or a row of a tile), in scalar and vector forms.
#define BT_ROWS(d, t, ADD, SUB, MUL)                                                                       \
    t[0] = ADD(SUB(MUL(4, d[0]), MUL(5, d[2])), d[4]);                                                    \
    t[1] = ADD(SUB(d[3], MUL(4, ADD(d[1], d[2]))), d[4]);                                                 \
    t[2] = ADD(SUB(MUL(4, SUB(d[1], d[2])), d[3]), d[4]);                                                 \
    t[3] = ADD(SUB(MUL(2, SUB(d[3], d[1])), d[2]), d[4]);                                                 \
    t[4] = ADD(SUB(MUL(2, SUB(d[1], d[3])), d[2]), d[4]);                                                 \
    t[5] = ADD(SUB(MUL(4, d[1]), MUL(5, d[3])), d[5]);

// Aᵀ applied to six values.
#define AT_ROWS(m, r, ADD, SUB, MUL)                                                                       \
    r[0] = ADD(ADD(ADD(m[0], m[1]), ADD(m[2], m[3])), m[4]);                                              \
    r[1] = ADD(SUB(m[1], m[2]), MUL(2, SUB(m[3], m[4])));                                                 \
    r[2] = ADD(ADD(m[1], m[2]), MUL(4, ADD(m[3], m[4])));                                                 \
    r[3] = ADD(ADD(SUB(m[1], m[2]), MUL(8, SUB(m[3], m[4]))), m[5]);

#define S_ADD(a, b) ((a) + (b))
#define S_SUB(a, b) ((a) - (b))
#define S_MUL(k, a) ((float)(k) * (a))

AN_PORTABLE_CLONES
static void input_portable(const AnWindowShape *s, const float *input, int firstTile, int tileCount, float *v, size_t stride) {
    const int cin = s->inputChannels;
    for (int local = 0; local < tileCount; local++) {
        int image, y0, x0;
        tile_origin(s, 4, firstTile + local, &image, &y0, &x0);
        for (int k = 0; k < cin; k++) {
            float t[6][6];
            for (int c = 0; c < 6; c++) {
                float d[6], column[6];
                for (int r = 0; r < 6; r++) {
                    int y = y0 - s->padTop + r, x = x0 - s->padLeft + c;
                    d[r] = y >= 0 && y < s->inputHeight && x >= 0 && x < s->inputWidth
                               ? input[(((size_t)image * s->inputHeight + y) * s->inputWidth + x) * cin + k] : 0;
                }
                BT_ROWS(d, column, S_ADD, S_SUB, S_MUL)
                for (int r = 0; r < 6; r++) t[r][c] = column[r];
            }
            for (int r = 0; r < 6; r++) {
                float row[6];
                BT_ROWS(t[r], row, S_ADD, S_SUB, S_MUL)
                for (int c = 0; c < 6; c++) v[(size_t)(r * 6 + c) * stride + (size_t)local * cin + k] = row[c];
            }
        }
    }
}

AN_PORTABLE_CLONES
static void output_portable(const AnWindowShape *s, const float *m, size_t stride, int firstTile, int tileCount,
                            const float *bias, float lo, float hi, float *output) {
    const int cout = s->outputChannels;
    for (int local = 0; local < tileCount; local++) {
        int image, y0, x0;
        tile_origin(s, 4, firstTile + local, &image, &y0, &x0);
        for (int k = 0; k < cout; k++) {
            float t[4][6];
            for (int c = 0; c < 6; c++) {
                float column[6], r[4];
                for (int i = 0; i < 6; i++) column[i] = m[(size_t)(i * 6 + c) * stride + (size_t)local * cout + k];
                AT_ROWS(column, r, S_ADD, S_SUB, S_MUL)
                for (int i = 0; i < 4; i++) t[i][c] = r[i];
            }
            for (int dy = 0; dy < 4 && y0 + dy < s->outputHeight; dy++) {
                float y[4];
                AT_ROWS(t[dy], y, S_ADD, S_SUB, S_MUL)
                for (int dx = 0; dx < 4 && x0 + dx < s->outputWidth; dx++)
                    output[(((size_t)image * s->outputHeight + y0 + dy) * s->outputWidth + x0 + dx) * cout + k] =
                        fminf(fmaxf(y[dx] + bias[k], lo), hi);
            }
        }
    }
}

#if AN_X86
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_SUB(a, b) _mm512_sub_ps(a, b)
#define V_MUL(k, a) _mm512_mul_ps(_mm512_set1_ps((float)(k)), a)

__attribute__((target("avx512f")))
static void input_avx512(const AnWindowShape *s, const float *input, int firstTile, int tileCount, float *v, size_t stride) {
    const int cin = s->inputChannels;
    for (int local = 0; local < tileCount; local++) {
        int image, y0, x0;
        tile_origin(s, 4, firstTile + local, &image, &y0, &x0);
        const float *pixels[6][6];
        for (int r = 0; r < 6; r++)
            for (int c = 0; c < 6; c++) {
                int y = y0 - s->padTop + r, x = x0 - s->padLeft + c;
                pixels[r][c] = y >= 0 && y < s->inputHeight && x >= 0 && x < s->inputWidth
                                   ? input + (((size_t)image * s->inputHeight + y) * s->inputWidth + x) * cin : NULL;
            }
        for (int k = 0; k < cin; k += BLOCK) {
            __mmask16 mask = cin - k >= BLOCK ? 0xFFFF : (__mmask16)((1u << (cin - k)) - 1);
            __m512 t[6][6];
            for (int c = 0; c < 6; c++) {
                __m512 d[6], column[6];
                for (int r = 0; r < 6; r++) d[r] = pixels[r][c] ? _mm512_maskz_loadu_ps(mask, pixels[r][c] + k) : _mm512_setzero_ps();
                BT_ROWS(d, column, V_ADD, V_SUB, V_MUL)
                for (int r = 0; r < 6; r++) t[r][c] = column[r];
            }
            for (int r = 0; r < 6; r++) {
                __m512 row[6];
                BT_ROWS(t[r], row, V_ADD, V_SUB, V_MUL)
                for (int c = 0; c < 6; c++) _mm512_mask_storeu_ps(v + (size_t)(r * 6 + c) * stride + (size_t)local * cin + k, mask, row[c]);
            }
        }
    }
}

__attribute__((target("avx512f")))
static void output_avx512(const AnWindowShape *s, const float *m, size_t stride, int firstTile, int tileCount,
                          const float *bias, float lo, float hi, float *output) {
    const int cout = s->outputChannels;
    __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    for (int local = 0; local < tileCount; local++) {
        int image, y0, x0;
        tile_origin(s, 4, firstTile + local, &image, &y0, &x0);
        for (int k = 0; k < cout; k += BLOCK) {
            __mmask16 mask = cout - k >= BLOCK ? 0xFFFF : (__mmask16)((1u << (cout - k)) - 1);
            __m512 t[4][6], b = _mm512_maskz_loadu_ps(mask, bias + k);
            for (int c = 0; c < 6; c++) {
                __m512 column[6], r[4];
                for (int i = 0; i < 6; i++) column[i] = _mm512_maskz_loadu_ps(mask, m + (size_t)(i * 6 + c) * stride + (size_t)local * cout + k);
                AT_ROWS(column, r, V_ADD, V_SUB, V_MUL)
                for (int i = 0; i < 4; i++) t[i][c] = r[i];
            }
            for (int dy = 0; dy < 4 && y0 + dy < s->outputHeight; dy++) {
                __m512 y[4];
                AT_ROWS(t[dy], y, V_ADD, V_SUB, V_MUL)
                float *row = output + (((size_t)image * s->outputHeight + y0 + dy) * s->outputWidth + x0) * cout + k;
                for (int dx = 0; dx < 4 && x0 + dx < s->outputWidth; dx++)
                    _mm512_mask_storeu_ps(row + (size_t)dx * cout, mask, _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(y[dx], b), low), high));
            }
        }
    }
}

#define W_ADD(a, b) _mm256_add_ps(a, b)
#define W_SUB(a, b) _mm256_sub_ps(a, b)
#define W_MUL(k, a) _mm256_mul_ps(_mm256_set1_ps((float)(k)), a)
/// 8 floats, or the lanes below `count` (a channel tail: `vmaskmovps` is slow on AMD cores, so only there).
#define LOAD8(count, pointer) ((count) >= 8 ? _mm256_loadu_ps(pointer) : _mm256_maskload_ps(pointer, lanes_below(count)))
#define STORE8(count, pointer, value)                                                                      \
    do {                                                                                                   \
        if ((count) >= 8) _mm256_storeu_ps(pointer, value);                                                \
        else _mm256_maskstore_ps(pointer, lanes_below(count), value);                                      \
    } while (0)

// The AVX-512 transforms on 8 lanes, for processors with AVX2 and FMA but no AVX-512.
__attribute__((target("avx2,fma")))
static void input_avx2(const AnWindowShape *s, const float *input, int firstTile, int tileCount, float *v, size_t stride) {
    const int cin = s->inputChannels;
    for (int local = 0; local < tileCount; local++) {
        int image, y0, x0;
        tile_origin(s, 4, firstTile + local, &image, &y0, &x0);
        const float *pixels[6][6];
        for (int r = 0; r < 6; r++)
            for (int c = 0; c < 6; c++) {
                int y = y0 - s->padTop + r, x = x0 - s->padLeft + c;
                pixels[r][c] = y >= 0 && y < s->inputHeight && x >= 0 && x < s->inputWidth
                                   ? input + (((size_t)image * s->inputHeight + y) * s->inputWidth + x) * cin : NULL;
            }
        for (int k = 0; k < cin; k += 8) {
            __m256 t[6][6];
            for (int c = 0; c < 6; c++) {
                __m256 d[6], column[6];
                for (int r = 0; r < 6; r++) d[r] = pixels[r][c] ? LOAD8(cin - k, pixels[r][c] + k) : _mm256_setzero_ps();
                BT_ROWS(d, column, W_ADD, W_SUB, W_MUL)
                for (int r = 0; r < 6; r++) t[r][c] = column[r];
            }
            for (int r = 0; r < 6; r++) {
                __m256 row[6];
                BT_ROWS(t[r], row, W_ADD, W_SUB, W_MUL)
                for (int c = 0; c < 6; c++) STORE8(cin - k, v + (size_t)(r * 6 + c) * stride + (size_t)local * cin + k, row[c]);
            }
        }
    }
}

__attribute__((target("avx2,fma")))
static void output_avx2(const AnWindowShape *s, const float *m, size_t stride, int firstTile, int tileCount,
                        const float *bias, float lo, float hi, float *output) {
    const int cout = s->outputChannels;
    __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    for (int local = 0; local < tileCount; local++) {
        int image, y0, x0;
        tile_origin(s, 4, firstTile + local, &image, &y0, &x0);
        for (int k = 0; k < cout; k += 8) {
            __m256 t[4][6], b = LOAD8(cout - k, bias + k);
            for (int c = 0; c < 6; c++) {
                __m256 column[6], r[4];
                for (int i = 0; i < 6; i++) column[i] = LOAD8(cout - k, m + (size_t)(i * 6 + c) * stride + (size_t)local * cout + k);
                AT_ROWS(column, r, W_ADD, W_SUB, W_MUL)
                for (int i = 0; i < 4; i++) t[i][c] = r[i];
            }
            for (int dy = 0; dy < 4 && y0 + dy < s->outputHeight; dy++) {
                __m256 y[4];
                AT_ROWS(t[dy], y, W_ADD, W_SUB, W_MUL)
                float *row = output + (((size_t)image * s->outputHeight + y0 + dy) * s->outputWidth + x0) * cout + k;
                for (int dx = 0; dx < 4 && x0 + dx < s->outputWidth; dx++)
                    STORE8(cout - k, row + (size_t)dx * cout, _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(y[dx], b), low), high));
            }
        }
    }
}
#endif

void an_winograd_input(const AnWindowShape *shape, const float *input, int firstTile, int tileCount, float *v, size_t stride) {
#if AN_X86
    if (an_cpu_has(AN_CPU_AVX512)) { input_avx512(shape, input, firstTile, tileCount, v, stride); return; }
    if (an_cpu_has(AN_CPU_AVX2)) { input_avx2(shape, input, firstTile, tileCount, v, stride); return; }
#endif
    input_portable(shape, input, firstTile, tileCount, v, stride);
}

void an_winograd_output(const AnWindowShape *shape, const float *m, size_t stride, int firstTile, int tileCount,
                         const float *bias, float lo, float hi, float *output) {
#if AN_X86
    if (an_cpu_has(AN_CPU_AVX512)) { output_avx512(shape, m, stride, firstTile, tileCount, bias, lo, hi, output); return; }
    if (an_cpu_has(AN_CPU_AVX2)) { output_avx2(shape, m, stride, firstTile, tileCount, bias, lo, hi, output); return; }
#endif
    output_portable(shape, m, stride, firstTile, tileCount, bias, lo, hi, output);
}
