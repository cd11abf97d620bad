// The transforms of Winograd's F(2×2, 3×3) (Lavin & Gray 2016), vectorized over channels. The 16 products
// between them are sgemms run by the caller.
//   input:  V = Bᵀ d B, Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]
//   output: Y = Aᵀ M A, Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]
#include "CKernels.h"
#include "Dispatch.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define AN_X86 1
#endif

enum { BLOCK = 16 };

// Tile `index` of the batch: its image and the top-left output pixel.
static void tile_origin(const AnWindowShape *s, int index, int *image, int *y0, int *x0) {
    int tilesY = (s->outputHeight + 1) / 2, tilesX = (s->outputWidth + 1) / 2;
    *image = index / (tilesY * tilesX);
    int rest = index % (tilesY * tilesX);
    *y0 = rest / tilesX * 2;
    *x0 = rest % tilesX * 2;
}

static void input_portable(const AnWindowShape *s, const float *input, int firstTile, int tileCount, float *v, size_t stride) {
    const int cin = s->inputChannels;
    for (int local = 0; local < tileCount; local++) {
        int image, y0, x0;
        tile_origin(s, firstTile + local, &image, &y0, &x0);
        for (int k = 0; k < cin; k++) {
            float d[4][4], t[4][4];
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++) {
                    int y = y0 - s->padTop + r, x = x0 - s->padLeft + c;
                    d[r][c] = y >= 0 && y < s->inputHeight && x >= 0 && x < s->inputWidth
                                  ? input[(((size_t)image * s->inputHeight + y) * s->inputWidth + x) * cin + k] : 0;
                }
            for (int c = 0; c < 4; c++) {
                t[0][c] = d[0][c] - d[2][c]; t[1][c] = d[1][c] + d[2][c]; t[2][c] = d[2][c] - d[1][c]; t[3][c] = d[1][c] - d[3][c];
            }
            for (int r = 0; r < 4; r++) {
                float *out = v + (size_t)(r * 4) * stride + (size_t)local * cin + k;
                out[0] = t[r][0] - t[r][2]; out[stride] = t[r][1] + t[r][2]; out[2 * stride] = t[r][2] - t[r][1]; out[3 * stride] = t[r][1] - t[r][3];
            }
        }
    }
}

static void output_portable(const AnWindowShape *s, const float *m, size_t stride, int firstTile, int tileCount,
                            const float *bias, float lo, float hi, float *output) {
    const int cout = s->outputChannels;
    for (int local = 0; local < tileCount; local++) {
        int image, y0, x0;
        tile_origin(s, firstTile + local, &image, &y0, &x0);
        const float *base = m + (size_t)local * cout;
        for (int k = 0; k < cout; k++) {
            float p[16], y[2][2];
            for (int i = 0; i < 16; i++) p[i] = base[(size_t)i * stride + k];
            float r0[4], r1[4];
            for (int c = 0; c < 4; c++) { r0[c] = p[c] + p[4 + c] + p[8 + c]; r1[c] = p[4 + c] - p[8 + c] - p[12 + c]; }
            y[0][0] = r0[0] + r0[1] + r0[2]; y[0][1] = r0[1] - r0[2] - r0[3];
            y[1][0] = r1[0] + r1[1] + r1[2]; y[1][1] = r1[1] - r1[2] - r1[3];
            for (int dy = 0; dy < 2 && y0 + dy < s->outputHeight; dy++)
                for (int dx = 0; dx < 2 && x0 + dx < s->outputWidth; dx++)
                    output[(((size_t)image * s->outputHeight + y0 + dy) * s->outputWidth + x0 + dx) * cout + k] =
                        fminf(fmaxf(y[dy][dx] + bias[k], lo), hi);
        }
    }
}

#if AN_X86
__attribute__((target("avx512f")))
static void input_avx512(const AnWindowShape *s, const float *input, int firstTile, int tileCount, float *v, size_t stride) {
    const int cin = s->inputChannels;
    for (int local = 0; local < tileCount; local++) {
        int image, y0, x0;
        tile_origin(s, firstTile + local, &image, &y0, &x0);
        const float *pixels[4][4];
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++) {
                int y = y0 - s->padTop + r, x = x0 - s->padLeft + c;
                pixels[r][c] = y >= 0 && y < s->inputHeight && x >= 0 && x < s->inputWidth
                                   ? input + (((size_t)image * s->inputHeight + y) * s->inputWidth + x) * cin : NULL;
            }
        for (int k = 0; k < cin; k += BLOCK) {
            __mmask16 mask = cin - k >= BLOCK ? 0xFFFF : (__mmask16)((1u << (cin - k)) - 1);
            __m512 d[4][4], t[4][4];
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++) d[r][c] = pixels[r][c] ? _mm512_maskz_loadu_ps(mask, pixels[r][c] + k) : _mm512_setzero_ps();
            for (int c = 0; c < 4; c++) {
                t[0][c] = _mm512_sub_ps(d[0][c], d[2][c]); t[1][c] = _mm512_add_ps(d[1][c], d[2][c]);
                t[2][c] = _mm512_sub_ps(d[2][c], d[1][c]); t[3][c] = _mm512_sub_ps(d[1][c], d[3][c]);
            }
            for (int r = 0; r < 4; r++) {
                float *out = v + (size_t)(r * 4) * stride + (size_t)local * cin + k;
                _mm512_mask_storeu_ps(out, mask, _mm512_sub_ps(t[r][0], t[r][2]));
                _mm512_mask_storeu_ps(out + stride, mask, _mm512_add_ps(t[r][1], t[r][2]));
                _mm512_mask_storeu_ps(out + 2 * stride, mask, _mm512_sub_ps(t[r][2], t[r][1]));
                _mm512_mask_storeu_ps(out + 3 * stride, mask, _mm512_sub_ps(t[r][1], t[r][3]));
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
        tile_origin(s, firstTile + local, &image, &y0, &x0);
        float *targets[2][2];
        for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++)
                targets[dy][dx] = y0 + dy < s->outputHeight && x0 + dx < s->outputWidth
                    ? output + (((size_t)image * s->outputHeight + y0 + dy) * s->outputWidth + x0 + dx) * cout : NULL;
        const float *base = m + (size_t)local * cout;
        for (int k = 0; k < cout; k += BLOCK) {
            __mmask16 mask = cout - k >= BLOCK ? 0xFFFF : (__mmask16)((1u << (cout - k)) - 1);
            __m512 p[16], r0[4], r1[4], y[2][2];
            for (int i = 0; i < 16; i++) p[i] = _mm512_maskz_loadu_ps(mask, base + (size_t)i * stride + k);
            for (int c = 0; c < 4; c++) {
                r0[c] = _mm512_add_ps(_mm512_add_ps(p[c], p[4 + c]), p[8 + c]);
                r1[c] = _mm512_sub_ps(_mm512_sub_ps(p[4 + c], p[8 + c]), p[12 + c]);
            }
            y[0][0] = _mm512_add_ps(_mm512_add_ps(r0[0], r0[1]), r0[2]); y[0][1] = _mm512_sub_ps(_mm512_sub_ps(r0[1], r0[2]), r0[3]);
            y[1][0] = _mm512_add_ps(_mm512_add_ps(r1[0], r1[1]), r1[2]); y[1][1] = _mm512_sub_ps(_mm512_sub_ps(r1[1], r1[2]), r1[3]);
            __m512 b = _mm512_maskz_loadu_ps(mask, bias + k);
            for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++)
                    if (targets[dy][dx])
                        _mm512_mask_storeu_ps(targets[dy][dx] + k, mask, _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(y[dy][dx], b), low), high));
        }
    }
}
#endif

void an_winograd_input(const AnWindowShape *shape, const float *input, int firstTile, int tileCount, float *v, size_t stride) {
#if AN_X86
    if (an_depthwise_uses_simd()) { input_avx512(shape, input, firstTile, tileCount, v, stride); return; }
#endif
    input_portable(shape, input, firstTile, tileCount, v, stride);
}

void an_winograd_output(const AnWindowShape *shape, const float *m, size_t stride, int firstTile, int tileCount,
                        const float *bias, float lo, float hi, float *output) {
#if AN_X86
    if (an_depthwise_uses_simd()) { output_avx512(shape, m, stride, firstTile, tileCount, bias, lo, hi, output); return; }
#endif
    output_portable(shape, m, stride, firstTile, tileCount, bias, lo, hi, output);
}
