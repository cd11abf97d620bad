// Convolution with few input channels (a network's stem) on NHWC tensors: im2col would make a GEMM with a
// depth of only kh·kw·Cin; instead each input value is broadcast against 16 output channels' weights.
#include "CKernels.h"

#include <math.h>

#include "X86Lanes.h"

enum { BLOCK = 16 };

AN_PORTABLE_CLONES
static void few_inputs_portable(const AnWindowShape *s, const float *input, const float *weights, const float *bias,
                                int firstRow, int rowCount, float lo, float hi, float *output) {
    const int cin = s->inputChannels, cout = s->outputChannels;
    float acc[BLOCK];
    for (int row = firstRow; row < firstRow + rowCount; row++) {
        int image = row / s->outputHeight, oy = row % s->outputHeight;
        const float *source = input + (size_t)image * s->inputHeight * s->inputWidth * cin;
        for (int ox = 0; ox < s->outputWidth; ox++) {
            float *target = output + ((size_t)row * s->outputWidth + ox) * cout;
            for (int c0 = 0; c0 < cout; c0 += BLOCK) {
                int width = cout - c0 < BLOCK ? cout - c0 : BLOCK;
                for (int c = 0; c < width; c++) acc[c] = bias[c0 + c];
                for (int ky = 0; ky < s->kernelHeight; ky++) {
                    int iy = oy * s->strideY - s->padTop + ky * s->dilationY;
                    if (iy < 0 || iy >= s->inputHeight) continue;
                    for (int kx = 0; kx < s->kernelWidth; kx++) {
                        int ix = ox * s->strideX - s->padLeft + kx * s->dilationX;
                        if (ix < 0 || ix >= s->inputWidth) continue;
                        const float *pixel = source + ((size_t)iy * s->inputWidth + ix) * cin;
                        const float *tap = weights + (size_t)(ky * s->kernelWidth + kx) * cin * cout + c0;
                        for (int ci = 0; ci < cin; ci++)
                            for (int c = 0; c < width; c++) acc[c] += pixel[ci] * tap[(size_t)ci * cout + c];
                    }
                }
                for (int c = 0; c < width; c++) target[c0 + c] = fminf(fmaxf(acc[c], lo), hi);
            }
        }
    }
}

#if AN_X86
enum { PIXELS = 8 };  // output pixels accumulated side by side, to hide the FMA latency

// Output columns whose every tap lies inside the image: from the first clear of the left padding to the last clear of
// the right (`*end` 0 when none is).
static void interior_columns(const AnWindowShape *s, int *first, int *end) {
    *first = (s->padLeft + s->strideX - 1) / s->strideX;
    int lastReach = s->inputWidth - 1 + s->padLeft - (s->kernelWidth - 1) * s->dilationX;
    *end = lastReach < 0 ? 0 : lastReach / s->strideX + 1;
}

/// One tile: `pixels` (at most `PIXELS`) output pixels from `ox0` of output row `oy`, the 32 channels from `c0` as two
/// 16-lane blocks (`mask1` empty when the second is past the channel count), clamped to [low, high] into `line`: each
/// input value, broadcast once, meets both blocks' weights. With `checked`, each tap's column is tested against the
/// image (tiles that reach the padding); interior tiles, the inlined calls with constant arguments, run without the tests.
__attribute__((target("avx512f"), always_inline))
static inline void few_inputs_tile_avx512(const AnWindowShape *s, const float *source, const float *weights, int oy, int ox0,
                                          int pixels, int checked, int c0, __mmask16 mask0, __mmask16 mask1, __m512 start0,
                                          __m512 start1, __m512 low, __m512 high, float *line) {
    const int height = s->inputHeight, width = s->inputWidth, cin = s->inputChannels, cout = s->outputChannels;
    __m512 acc0[PIXELS], acc1[PIXELS];
#pragma clang loop unroll(full)
    for (int j = 0; j < PIXELS; j++) { acc0[j] = start0; acc1[j] = start1; }
    for (int ky = 0; ky < s->kernelHeight; ky++) {
        int iy = oy * s->strideY - s->padTop + ky * s->dilationY;
        if (iy < 0 || iy >= height) continue;
        const float *inputRow = source + (size_t)iy * width * cin;
        for (int kx = 0; kx < s->kernelWidth; kx++) {
            int ix0 = ox0 * s->strideX - s->padLeft + kx * s->dilationX;
            for (int ci = 0; ci < cin; ci++) {
                const float *tap = weights + ((size_t)(ky * s->kernelWidth + kx) * cin + ci) * cout + c0;
                __m512 tap0 = _mm512_maskz_loadu_ps(mask0, tap), tap1 = _mm512_maskz_loadu_ps(mask1, tap + BLOCK);
#pragma clang loop unroll(full)
                for (int j = 0; j < PIXELS; j++) {
                    int ix = ix0 + j * s->strideX;
                    if (j < pixels && (!checked || (ix >= 0 && ix < width))) {
                        __m512 value = _mm512_set1_ps(inputRow[(size_t)ix * cin + ci]);
                        acc0[j] = _mm512_fmadd_ps(value, tap0, acc0[j]);
                        acc1[j] = _mm512_fmadd_ps(value, tap1, acc1[j]);
                    }
                }
            }
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < PIXELS; j++)
        if (j < pixels) {
            float *target = line + (size_t)(ox0 + j) * cout + c0;
            _mm512_mask_storeu_ps(target, mask0, _mm512_min_ps(_mm512_max_ps(acc0[j], low), high));
            if (mask1) _mm512_mask_storeu_ps(target + BLOCK, mask1, _mm512_min_ps(_mm512_max_ps(acc1[j], low), high));
        }
}

enum { ONE_INPUT_TILE = 16, ONE_INPUT_MAX_WIDTH = 1024 };

/// `pixels` (a constant where inlined) output pixels from `ox0` of one 16-channel block of a 3×3 kernel on one input
/// channel at `stride` (1 or 2, a constant): from the padded input rows `rows` (`rowLength` apart), each input value
/// multiplied in as an FMA's broadcast operand, against the block's nine taps in registers; the taps added row by row
/// as the other bodies add them.
__attribute__((target("avx512f"), always_inline))
static inline void one_input_tile_avx512(int stride, int pixels, int ox0, const float *rows, size_t rowLength, const __m512 *taps,
                                         __m512 start, __m512 low, __m512 high, __mmask16 mask, size_t pixelStride, float *line) {
    __m512 acc[ONE_INPUT_TILE];
#pragma clang loop unroll(full)
    for (int j = 0; j < pixels; j++) acc[j] = start;
#pragma clang loop unroll(full)
    for (int ky = 0; ky < 3; ky++)
#pragma clang loop unroll(full)
        for (int kx = 0; kx < 3; kx++) {
            const float *x = rows + (size_t)ky * rowLength + (size_t)ox0 * stride + kx;
#pragma clang loop unroll(full)
            for (int j = 0; j < pixels; j++) acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(x[j * stride]), taps[ky * 3 + kx], acc[j]);
        }
#pragma clang loop unroll(full)
    for (int j = 0; j < pixels; j++)
        _mm512_mask_storeu_ps(line + (size_t)(ox0 + j) * pixelStride, mask, _mm512_min_ps(_mm512_max_ps(acc[j], low), high));
}

/// The stem of a network on one input channel (YAMNet's log-mel patch: 96×64 → 48×32×32 at stride 2) for 3×3
/// kernels at `stride` (1 or 2, a constant) along rows: each output row's three input rows copied once with their zero
/// padding, then every 16-channel block in tiles of 16, 8, 4, 2 and 1 pixels without a test per tap (the general
/// body's loops and tests took two thirds of its time here: 11.3 µs a patch).
__attribute__((target("avx512f"), always_inline))
static inline void one_input_avx512(int stride, const AnWindowShape *s, const float *input, const float *weights, const float *bias,
                                    int firstRow, int rowCount, float lo, float hi, float *output) {
    const int height = s->inputHeight, width = s->inputWidth, cout = s->outputChannels, outputWidth = s->outputWidth;
    const size_t rowLength = (size_t)stride * (outputWidth - 1) + 3;
    float rows[3 * (ONE_INPUT_MAX_WIDTH + 2)];
    __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    for (int row = firstRow; row < firstRow + rowCount; row++) {
        int image = row / s->outputHeight, oy = row % s->outputHeight;
        const float *source = input + (size_t)image * height * width;
        for (int ky = 0; ky < 3; ky++) {
            int iy = oy * s->strideY - s->padTop + ky;
            for (size_t i = 0; i < rowLength; i++) {
                long ix = (long)i - s->padLeft;
                rows[ky * rowLength + i] = iy >= 0 && iy < height && ix >= 0 && ix < width ? source[(size_t)iy * width + ix] : 0;
            }
        }
        float *line = output + (size_t)row * outputWidth * cout;
        for (int c0 = 0; c0 < cout; c0 += BLOCK) {
            __mmask16 mask = cout - c0 >= BLOCK ? 0xFFFF : (__mmask16)((1u << (cout - c0)) - 1);
            __m512 taps[9];
            for (int t = 0; t < 9; t++) taps[t] = _mm512_maskz_loadu_ps(mask, weights + (size_t)t * cout + c0);
            __m512 start = _mm512_maskz_loadu_ps(mask, bias + c0);
            int ox0 = 0;
#define PIXELS(n) one_input_tile_avx512(stride, n, ox0, rows, rowLength, taps, start, low, high, mask, (size_t)cout, line + c0)
            for (; ox0 + 16 <= outputWidth; ox0 += 16) PIXELS(16);
            if (ox0 + 8 <= outputWidth) { PIXELS(8); ox0 += 8; }
            if (ox0 + 4 <= outputWidth) { PIXELS(4); ox0 += 4; }
            if (ox0 + 2 <= outputWidth) { PIXELS(2); ox0 += 2; }
            if (ox0 < outputWidth) PIXELS(1);
#undef PIXELS
        }
    }
}

__attribute__((target("avx512f")))
static void few_inputs_avx512(const AnWindowShape *s, const float *input, const float *weights, const float *bias,
                              int firstRow, int rowCount, float lo, float hi, float *output) {
    const int cout = s->outputChannels, outputHeight = s->outputHeight, outputWidth = s->outputWidth;
    if (s->inputChannels == 1 && s->kernelHeight == 3 && s->kernelWidth == 3 && s->dilationX == 1 && s->dilationY == 1 &&
        (s->strideX == 1 || s->strideX == 2) && (size_t)s->strideX * (outputWidth - 1) + 3 <= ONE_INPUT_MAX_WIDTH + 2) {
        if (s->strideX == 1) one_input_avx512(1, s, input, weights, bias, firstRow, rowCount, lo, hi, output);
        else one_input_avx512(2, s, input, weights, bias, firstRow, rowCount, lo, hi, output);
        return;
    }
    __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    int interiorFirst, interiorEnd;
    interior_columns(s, &interiorFirst, &interiorEnd);
    for (int row = firstRow; row < firstRow + rowCount; row++) {
        int image = row / outputHeight, oy = row % outputHeight;
        const float *source = input + (size_t)image * s->inputHeight * s->inputWidth * s->inputChannels;
        float *line = output + (size_t)row * outputWidth * cout;
        for (int c0 = 0; c0 < cout; c0 += 2 * BLOCK) {
            int left = cout - c0;
            __mmask16 mask0 = left >= BLOCK ? 0xFFFF : (__mmask16)((1u << left) - 1);
            __mmask16 mask1 = left >= 2 * BLOCK ? 0xFFFF : (left > BLOCK ? (__mmask16)((1u << (left - BLOCK)) - 1) : 0);
            __m512 start0 = _mm512_maskz_loadu_ps(mask0, bias + c0), start1 = _mm512_maskz_loadu_ps(mask1, bias + c0 + BLOCK);
            for (int ox0 = 0; ox0 < outputWidth; ox0 += PIXELS) {
                int pixels = outputWidth - ox0 < PIXELS ? outputWidth - ox0 : PIXELS;
                if (pixels == PIXELS && ox0 >= interiorFirst && ox0 + PIXELS <= interiorEnd)
                    few_inputs_tile_avx512(s, source, weights, oy, ox0, PIXELS, 0, c0, mask0, mask1, start0, start1, low, high, line);
                else
                    few_inputs_tile_avx512(s, source, weights, oy, ox0, pixels, 1, c0, mask0, mask1, start0, start1, low, high, line);
            }
        }
    }
}

// The AVX-512 body's sums on two 8-lane halves, for processors with AVX2 and FMA but no AVX-512. Output channels come
// in blocks of 16 (a channel tail of 8 or fewer is one half, masked), output pixels in tiles of 6: 12 accumulators,
// two weight vectors and a broadcast fill the 16 ymm registers.
enum { AVX2_PIXELS = 6 };

/// Where a block's 16 channels end: the lanes of each half inside the channel count (`vmaskmovps` is slow on AMD
/// cores: full halves avoid it).
typedef struct {
    __m256i lowMask, highMask;
    int lowFull, highFull;
} ChannelHalves;

#define LOAD_LOW(h, p) ((h).lowFull ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, (h).lowMask))
#define LOAD_HIGH(h, p) ((h).highFull ? _mm256_loadu_ps((p) + 8) : _mm256_maskload_ps((p) + 8, (h).highMask))

/// One tile: `pixels` (at most `AVX2_PIXELS`) output pixels from `ox0` of output row `oy`, the channel block at `c0`,
/// clamped to [low, high] into `line`. With `checked`, each tap's column is tested against the image (tiles that reach
/// the left or right padding); interior tiles, the inlined calls with constant arguments, run without the tests.
__attribute__((target("avx2,fma"), always_inline))
static inline void few_inputs_tile_avx2(const AnWindowShape *s, const float *source, const float *weights, int oy, int ox0,
                                        int pixels, int checked, int c0, ChannelHalves halves, __m256 startLow,
                                        __m256 startHigh, __m256 low, __m256 high, float *line) {
    const int height = s->inputHeight, width = s->inputWidth, cin = s->inputChannels, cout = s->outputChannels;
    __m256 accLow[AVX2_PIXELS], accHigh[AVX2_PIXELS];
#pragma clang loop unroll(full)
    for (int j = 0; j < AVX2_PIXELS; j++) { accLow[j] = startLow; accHigh[j] = startHigh; }
    for (int ky = 0; ky < s->kernelHeight; ky++) {
        int iy = oy * s->strideY - s->padTop + ky * s->dilationY;
        if (iy < 0 || iy >= height) continue;
        const float *inputRow = source + (size_t)iy * width * cin;
        for (int kx = 0; kx < s->kernelWidth; kx++) {
            int ix0 = ox0 * s->strideX - s->padLeft + kx * s->dilationX;
            for (int ci = 0; ci < cin; ci++) {
                const float *tap = weights + ((size_t)(ky * s->kernelWidth + kx) * cin + ci) * cout + c0;
                __m256 tapLow = LOAD_LOW(halves, tap), tapHigh = LOAD_HIGH(halves, tap);
#pragma clang loop unroll(full)
                for (int j = 0; j < AVX2_PIXELS; j++) {
                    int ix = ix0 + j * s->strideX;
                    if (j < pixels && (!checked || (ix >= 0 && ix < width))) {
                        __m256 value = _mm256_set1_ps(inputRow[(size_t)ix * cin + ci]);
                        accLow[j] = _mm256_fmadd_ps(value, tapLow, accLow[j]);
                        accHigh[j] = _mm256_fmadd_ps(value, tapHigh, accHigh[j]);
                    }
                }
            }
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < AVX2_PIXELS; j++)
        if (j < pixels) {
            float *target = line + (size_t)(ox0 + j) * cout + c0;
            __m256 valueLow = _mm256_min_ps(_mm256_max_ps(accLow[j], low), high);
            __m256 valueHigh = _mm256_min_ps(_mm256_max_ps(accHigh[j], low), high);
            if (halves.lowFull) _mm256_storeu_ps(target, valueLow);
            else _mm256_maskstore_ps(target, halves.lowMask, valueLow);
            if (halves.highFull) _mm256_storeu_ps(target + 8, valueHigh);
            else _mm256_maskstore_ps(target + 8, halves.highMask, valueHigh);
        }
}

__attribute__((target("avx2,fma")))
static void few_inputs_avx2(const AnWindowShape *s, const float *input, const float *weights, const float *bias,
                            int firstRow, int rowCount, float lo, float hi, float *output) {
    const int cout = s->outputChannels, outputHeight = s->outputHeight, outputWidth = s->outputWidth;
    __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    int interiorFirst, interiorEnd;
    interior_columns(s, &interiorFirst, &interiorEnd);
    for (int row = firstRow; row < firstRow + rowCount; row++) {
        int image = row / outputHeight, oy = row % outputHeight;
        const float *source = input + (size_t)image * s->inputHeight * s->inputWidth * s->inputChannels;
        float *line = output + (size_t)row * outputWidth * cout;
        for (int c0 = 0; c0 < cout; c0 += BLOCK) {
            ChannelHalves halves = {lanes_below(cout - c0), lanes_below(cout - c0 - 8), cout - c0 >= 8, cout - c0 >= BLOCK};
            __m256 startLow = LOAD_LOW(halves, bias + c0), startHigh = LOAD_HIGH(halves, bias + c0);
            for (int ox0 = 0; ox0 < outputWidth; ox0 += AVX2_PIXELS) {
                int pixels = outputWidth - ox0 < AVX2_PIXELS ? outputWidth - ox0 : AVX2_PIXELS;
                if (pixels == AVX2_PIXELS && ox0 >= interiorFirst && ox0 + AVX2_PIXELS <= interiorEnd)
                    few_inputs_tile_avx2(s, source, weights, oy, ox0, AVX2_PIXELS, 0, c0, halves, startLow, startHigh, low, high, line);
                else
                    few_inputs_tile_avx2(s, source, weights, oy, ox0, pixels, 1, c0, halves, startLow, startHigh, low, high, line);
            }
        }
    }
}
#undef LOAD_LOW
#undef LOAD_HIGH
#endif

void an_conv_few_inputs(const AnWindowShape *shape, const float *input, const float *weights, const float *bias,
                        int firstRow, int rowCount, float lo, float hi, float *output) {
#if AN_X86
    if (an_cpu_has(AN_CPU_AVX512)) { few_inputs_avx512(shape, input, weights, bias, firstRow, rowCount, lo, hi, output); return; }
    if (an_cpu_has(AN_CPU_AVX2)) { few_inputs_avx2(shape, input, weights, bias, firstRow, rowCount, lo, hi, output); return; }
#endif
    few_inputs_portable(shape, input, weights, bias, firstRow, rowCount, lo, hi, output);
}
