// Depthwise convolution on NHWC tensors (channel multiplier 1), vectorized over channels: each output
// pixel's 16-channel block accumulates its taps in a register, then gets its bias and clamp.
#include "CKernels.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define AN_X86 1
#endif

enum { BLOCK = 16 };

AN_PORTABLE_CLONES
static void depthwise_portable(const AnWindowShape *s, const float *input, const float *weights, const float *bias,
                               int firstRow, int rowCount, float lo, float hi, float *output) {
    enum { TILE = 4 };  // output pixels accumulated side by side
    const int channels = s->inputChannels;
    for (int row = firstRow; row < firstRow + rowCount; row++) {
        int image = row / s->outputHeight, oy = row % s->outputHeight;
        const float *source = input + (size_t)image * s->inputHeight * s->inputWidth * channels;
        float *line = output + (size_t)row * s->outputWidth * channels;
        for (int c0 = 0; c0 < channels; c0 += BLOCK) {
            int width = channels - c0 < BLOCK ? channels - c0 : BLOCK;
            for (int ox0 = 0; ox0 < s->outputWidth; ox0 += TILE) {
                int pixels = s->outputWidth - ox0 < TILE ? s->outputWidth - ox0 : TILE;
                float acc[TILE][BLOCK];
                for (int j = 0; j < TILE; j++)
                    for (int c = 0; c < BLOCK; c++) acc[j][c] = c < width ? bias[c0 + c] : 0;
                for (int ky = 0; ky < s->kernelHeight; ky++) {
                    int iy = oy * s->strideY - s->padTop + ky * s->dilationY;
                    if (iy < 0 || iy >= s->inputHeight) continue;
                    const float *inputRow = source + (size_t)iy * s->inputWidth * channels + c0;
                    for (int kx = 0; kx < s->kernelWidth; kx++) {
                        const float *tap = weights + (size_t)(ky * s->kernelWidth + kx) * channels + c0;
                        for (int j = 0; j < pixels; j++) {
                            int ix = (ox0 + j) * s->strideX - s->padLeft + kx * s->dilationX;
                            if (ix < 0 || ix >= s->inputWidth) continue;
                            const float *pixel = inputRow + (size_t)ix * channels;
                            for (int c = 0; c < width; c++) acc[j][c] += pixel[c] * tap[c];
                        }
                    }
                }
                for (int j = 0; j < pixels; j++)
                    for (int c = 0; c < width; c++) line[(size_t)(ox0 + j) * channels + c0 + c] = fminf(fmaxf(acc[j][c], lo), hi);
            }
        }
    }
}

#if AN_X86
enum { PIXELS = 8 };  // output pixels accumulated side by side, to hide the FMA latency

__attribute__((target("avx512f")))
static void depthwise_avx512(const AnWindowShape *s, const float *input, const float *weights, const float *bias,
                             int firstRow, int rowCount, float lo, float hi, float *output) {
    const int height = s->inputHeight, width = s->inputWidth, channels = s->inputChannels;
    const int kernelHeight = s->kernelHeight, kernelWidth = s->kernelWidth, strideY = s->strideY, strideX = s->strideX;
    const int dilationY = s->dilationY, dilationX = s->dilationX, padTop = s->padTop, padLeft = s->padLeft;
    const int outputHeight = s->outputHeight, outputWidth = s->outputWidth;
    __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    for (int row = firstRow; row < firstRow + rowCount; row++) {
        int image = row / outputHeight, oy = row % outputHeight;
        const float *source = input + (size_t)image * height * width * channels;
        float *line = output + (size_t)row * outputWidth * channels;
        for (int c0 = 0; c0 < channels; c0 += BLOCK) {
            int left = channels - c0;
            __mmask16 mask = left >= BLOCK ? 0xFFFF : (__mmask16)((1u << left) - 1);
            __m512 start = _mm512_maskz_loadu_ps(mask, bias + c0);
            for (int ox0 = 0; ox0 < outputWidth; ox0 += PIXELS) {
                int pixels = outputWidth - ox0 < PIXELS ? outputWidth - ox0 : PIXELS;
                __m512 acc[PIXELS];
#pragma clang loop unroll(full)
                for (int j = 0; j < PIXELS; j++) acc[j] = start;
                for (int ky = 0; ky < kernelHeight; ky++) {
                    int iy = oy * strideY - padTop + ky * dilationY;
                    if (iy < 0 || iy >= height) continue;
                    const float *inputRow = source + (size_t)iy * width * channels + c0;
                    for (int kx = 0; kx < kernelWidth; kx++) {
                        __m512 tap = _mm512_maskz_loadu_ps(mask, weights + (size_t)(ky * kernelWidth + kx) * channels + c0);
                        int ix0 = ox0 * strideX - padLeft + kx * dilationX;
#pragma clang loop unroll(full)
                        for (int j = 0; j < PIXELS; j++) {
                            int ix = ix0 + j * strideX;
                            if (j < pixels && ix >= 0 && ix < width)
                                acc[j] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, inputRow + (size_t)ix * channels), tap, acc[j]);
                        }
                    }
                }
#pragma clang loop unroll(full)
                for (int j = 0; j < PIXELS; j++)
                    if (j < pixels)
                        _mm512_mask_storeu_ps(line + (size_t)(ox0 + j) * channels + c0, mask,
                                              _mm512_min_ps(_mm512_max_ps(acc[j], low), high));
            }
        }
    }
}

/// The lanes of an 8-float vector below `count` (a channel tail), as `_mm256_maskload_ps` wants them.
__attribute__((target("avx2")))
static inline __m256i lanes_below(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Loads 8 floats, or the lanes of `mask` in a channel tail (`vmaskmovps` is slow on AMD cores: full blocks avoid it).
#define LOAD8(tail, pointer, mask) ((tail) ? _mm256_maskload_ps(pointer, mask) : _mm256_loadu_ps(pointer))

/// One 8-channel block of `PIXELS` output pixels from `ox0` on: `interior` (every tap of every pixel inside the
/// input) and `tail` (a channel block under 8) are constants where it is inlined, so their tests vanish.
__attribute__((target("avx2,fma"), always_inline))
static inline void depthwise_tile_avx2(const AnWindowShape *s, const float *source, int oy, int ox0, int pixels, int c0,
                                       const float *weights, const float *bias, __m256 low, __m256 high, float *line,
                                       int interior, int tail) {
    static const float zeros[8];
    const int width = s->inputWidth, channels = s->inputChannels;
    __m256i mask = lanes_below(channels - c0);
    __m256 acc[PIXELS];
    __m256 start = LOAD8(tail, bias + c0, mask);
#pragma clang loop unroll(full)
    for (int j = 0; j < PIXELS; j++) acc[j] = start;
    for (int ky = 0; ky < s->kernelHeight; ky++) {
        int iy = oy * s->strideY - s->padTop + ky * s->dilationY;
        if (iy < 0 || iy >= s->inputHeight) continue;
        const float *inputRow = source + (size_t)iy * width * channels + c0;
        for (int kx = 0; kx < s->kernelWidth; kx++) {
            __m256 tap = LOAD8(tail, weights + (size_t)(ky * s->kernelWidth + kx) * channels + c0, mask);
            int ix0 = ox0 * s->strideX - s->padLeft + kx * s->dilationX;
#pragma clang loop unroll(full)
            for (int j = 0; j < PIXELS; j++) {
                int ix = ix0 + j * s->strideX;
                // At the border a missing pixel reads zeros (a select, not a branch per tap).
                const float *pixel = interior || (j < pixels && ix >= 0 && ix < width) ? inputRow + (size_t)ix * channels : zeros;
                acc[j] = _mm256_fmadd_ps(LOAD8(tail, pixel, mask), tap, acc[j]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < PIXELS; j++)
        if (interior || j < pixels) {
            float *target = line + (size_t)(ox0 + j) * channels + c0;
            __m256 value = _mm256_min_ps(_mm256_max_ps(acc[j], low), high);
            if (tail) _mm256_maskstore_ps(target, mask, value);
            else _mm256_storeu_ps(target, value);
        }
}

// The AVX-512 body on 8 lanes, for processors with AVX2 and FMA but no AVX-512 (Zen 2/3, Haswell to Comet Lake).
// Channel blocks are the inner loop: a tile's input pixels (kh rows of ≈ 8·stride pixels, all channels) stay in L1.
__attribute__((target("avx2,fma")))
static void depthwise_avx2(const AnWindowShape *s, const float *input, const float *weights, const float *bias,
                           int firstRow, int rowCount, float lo, float hi, float *output) {
    enum { LANES = 8 };
    const int channels = s->inputChannels, full = channels / LANES * LANES;
    __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    for (int row = firstRow; row < firstRow + rowCount; row++) {
        int image = row / s->outputHeight, oy = row % s->outputHeight;
        const float *source = input + (size_t)image * s->inputHeight * s->inputWidth * channels;
        float *line = output + (size_t)row * s->outputWidth * channels;
        for (int ox0 = 0; ox0 < s->outputWidth; ox0 += PIXELS) {
            int pixels = s->outputWidth - ox0 < PIXELS ? s->outputWidth - ox0 : PIXELS;
            int first = ox0 * s->strideX - s->padLeft;
            int last = (ox0 + PIXELS - 1) * s->strideX - s->padLeft + (s->kernelWidth - 1) * s->dilationX;
            int interior = pixels == PIXELS && first >= 0 && last < s->inputWidth;
            for (int c0 = 0; c0 < full; c0 += LANES) {
                if (interior) depthwise_tile_avx2(s, source, oy, ox0, pixels, c0, weights, bias, low, high, line, 1, 0);
                else depthwise_tile_avx2(s, source, oy, ox0, pixels, c0, weights, bias, low, high, line, 0, 0);
            }
            if (full < channels) depthwise_tile_avx2(s, source, oy, ox0, pixels, full, weights, bias, low, high, line, 0, 1);
        }
    }
}
#endif

void an_depthwise(const AnWindowShape *shape, const float *input, const float *weights, const float *bias,
                  int firstRow, int rowCount, float lo, float hi, float *output) {
#if AN_X86
    if (an_cpu_has(AN_CPU_AVX512)) { depthwise_avx512(shape, input, weights, bias, firstRow, rowCount, lo, hi, output); return; }
    if (an_cpu_has(AN_CPU_AVX2)) { depthwise_avx2(shape, input, weights, bias, firstRow, rowCount, lo, hi, output); return; }
#endif
    depthwise_portable(shape, input, weights, bias, firstRow, rowCount, lo, hi, output);
}
