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
#include <stdlib.h>
#include <string.h>

/// The input rows a tile of output pixels reads, for the SIMD bodies: each kernel row inside the image points at the
/// tile's first input column — in the image for tiles clear of the left and right padding, in a zero-padded copy for the
/// tiles that reach it — so that no tap is tested against the image's edges (tiles tested tap by tap made ResNet-50's
/// 7×7 stem a quarter slower: 4.1 against 3.3 ms a pass of two images, measured on the kernel alone).
typedef struct {
    const float **image;  // `kernelHeight` pointers: each kernel row's input row of the current output row
    const float **tile;   // the same rows at the current tile's first column
    float *padded;        // `kernelHeight × span × inputChannels` floats for tiles that reach the padding
    int span;             // input columns a whole tile reads
    int first, end;       // the kernel rows inside the image
} TileRows;

/// Allocates `t`'s pointers and padded copy for tiles of `pixels` output pixels: 0 when there is no memory for them.
static int tile_rows_alloc(TileRows *t, const AnWindowShape *s, int pixels) {
    t->span = (pixels - 1) * s->strideX + (s->kernelWidth - 1) * s->dilationX + 1;
    size_t pointers = 2 * (size_t)s->kernelHeight * sizeof(float *);
    char *block = malloc(pointers + (size_t)s->kernelHeight * t->span * s->inputChannels * sizeof(float));
    if (!block) return 0;
    t->image = (const float **)block;
    t->tile = t->image + s->kernelHeight;
    t->padded = (float *)(block + pointers);
    return 1;
}

/// Points `t` at the input rows of output row `row` (counted over the batch).
static void tile_rows_at_row(TileRows *t, const AnWindowShape *s, const float *input, int row) {
    int image = row / s->outputHeight, oy = row % s->outputHeight;
    const float *source = input + (size_t)image * s->inputHeight * s->inputWidth * s->inputChannels;
    t->first = s->kernelHeight;
    t->end = 0;
    for (int ky = 0; ky < s->kernelHeight; ky++) {
        int iy = oy * s->strideY - s->padTop + ky * s->dilationY;
        if (iy < 0 || iy >= s->inputHeight) continue;
        if (ky < t->first) t->first = ky;
        t->end = ky + 1;
        t->image[ky] = source + (size_t)iy * s->inputWidth * s->inputChannels;
    }
}

/// Points `t->tile` at the columns the `pixels` output pixels from `ox0` read, copying them with their zero padding
/// when they reach past the image's left or right edge.
static void tile_rows_at_column(TileRows *t, const AnWindowShape *s, int ox0, int pixels) {
    const int cin = s->inputChannels, firstColumn = ox0 * s->strideX - s->padLeft;
    const int endColumn = firstColumn + (pixels - 1) * s->strideX + (s->kernelWidth - 1) * s->dilationX + 1;
    if (firstColumn >= 0 && endColumn <= s->inputWidth) {
        for (int ky = t->first; ky < t->end; ky++) t->tile[ky] = t->image[ky] + (size_t)firstColumn * cin;
        return;
    }
    int from = firstColumn < 0 ? 0 : firstColumn, to = endColumn < s->inputWidth ? endColumn : s->inputWidth;
    for (int ky = t->first; ky < t->end; ky++) {
        float *copy = t->padded + (size_t)ky * t->span * cin;
        memset(copy, 0, (size_t)t->span * cin * sizeof(float));
        if (to > from)
            memcpy(copy + (size_t)(from - firstColumn) * cin, t->image[ky] + (size_t)from * cin, (size_t)(to - from) * cin * sizeof(float));
        t->tile[ky] = copy;
    }
}

enum { TILE_PIXELS = 14 };  // output pixels accumulated side by side: 28 accumulators, two weight vectors and a broadcast

/// One tile: `pixels` (at most `TILE_PIXELS`) output pixels, the 32 channels from `c0` as two 16-lane blocks (`mask1` empty
/// when the second is past the channel count), from the kernel rows `rows` holds, clamped to [low, high] into `target`:
/// each input value, broadcast once, meets both blocks' weights.
__attribute__((target("avx512f"), always_inline))
static inline void few_inputs_tile_avx512(const AnWindowShape *s, const TileRows *rows, const float *weights, int pixels, int c0,
                                          __mmask16 mask0, __mmask16 mask1, __m512 start0, __m512 start1, __m512 low,
                                          __m512 high, float *target) {
    const int cin = s->inputChannels, cout = s->outputChannels, step = s->strideX * cin, reach = s->dilationX * cin;
    __m512 acc0[TILE_PIXELS], acc1[TILE_PIXELS];
#pragma clang loop unroll(full)
    for (int j = 0; j < TILE_PIXELS; j++) { acc0[j] = start0; acc1[j] = start1; }
    for (int ky = rows->first; ky < rows->end; ky++) {
        const float *tap = weights + (size_t)ky * s->kernelWidth * cin * cout + c0;
        for (int kx = 0; kx < s->kernelWidth; kx++)
            for (int ci = 0; ci < cin; ci++, tap += cout) {
                const float *x = rows->tile[ky] + (size_t)kx * reach + ci;
                __m512 tap0 = _mm512_maskz_loadu_ps(mask0, tap), tap1 = _mm512_maskz_loadu_ps(mask1, tap + BLOCK);
#pragma clang loop unroll(full)
                for (int j = 0; j < TILE_PIXELS; j++)
                    if (j < pixels) {
                        __m512 value = _mm512_set1_ps(x[j * step]);
                        acc0[j] = _mm512_fmadd_ps(value, tap0, acc0[j]);
                        acc1[j] = _mm512_fmadd_ps(value, tap1, acc1[j]);
                    }
            }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < TILE_PIXELS; j++)
        if (j < pixels) {
            _mm512_mask_storeu_ps(target + (size_t)j * cout, mask0, _mm512_min_ps(_mm512_max_ps(acc0[j], low), high));
            if (mask1) _mm512_mask_storeu_ps(target + (size_t)j * cout + BLOCK, mask1, _mm512_min_ps(_mm512_max_ps(acc1[j], low), high));
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
    const int cout = s->outputChannels, outputWidth = s->outputWidth;
    if (s->inputChannels == 1 && s->kernelHeight == 3 && s->kernelWidth == 3 && s->dilationX == 1 && s->dilationY == 1 &&
        (s->strideX == 1 || s->strideX == 2) && (size_t)s->strideX * (outputWidth - 1) + 3 <= ONE_INPUT_MAX_WIDTH + 2) {
        if (s->strideX == 1) one_input_avx512(1, s, input, weights, bias, firstRow, rowCount, lo, hi, output);
        else one_input_avx512(2, s, input, weights, bias, firstRow, rowCount, lo, hi, output);
        return;
    }
    TileRows rows;
    if (!tile_rows_alloc(&rows, s, TILE_PIXELS)) {
        few_inputs_portable(s, input, weights, bias, firstRow, rowCount, lo, hi, output);
        return;
    }
    __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    for (int row = firstRow; row < firstRow + rowCount; row++) {
        tile_rows_at_row(&rows, s, input, row);
        float *line = output + (size_t)row * outputWidth * cout;
        for (int ox0 = 0; ox0 < outputWidth; ox0 += TILE_PIXELS) {
            int pixels = outputWidth - ox0 < TILE_PIXELS ? outputWidth - ox0 : TILE_PIXELS;
            tile_rows_at_column(&rows, s, ox0, pixels);
            for (int c0 = 0; c0 < cout; c0 += 2 * BLOCK) {
                int left = cout - c0;
                __mmask16 mask0 = left >= BLOCK ? 0xFFFF : (__mmask16)((1u << left) - 1);
                __mmask16 mask1 = left >= 2 * BLOCK ? 0xFFFF : (left > BLOCK ? (__mmask16)((1u << (left - BLOCK)) - 1) : 0);
                __m512 start0 = _mm512_maskz_loadu_ps(mask0, bias + c0), start1 = _mm512_maskz_loadu_ps(mask1, bias + c0 + BLOCK);
                float *target = line + (size_t)ox0 * cout + c0;
                if (pixels == TILE_PIXELS)
                    few_inputs_tile_avx512(s, &rows, weights, TILE_PIXELS, c0, mask0, mask1, start0, start1, low, high, target);
                else
                    few_inputs_tile_avx512(s, &rows, weights, pixels, c0, mask0, mask1, start0, start1, low, high, target);
            }
        }
    }
    free(rows.image);
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

/// One tile: `pixels` (at most `AVX2_PIXELS`) output pixels, the channel block at `c0`, from the kernel rows `rows`
/// holds, clamped to [low, high] into `target`.
__attribute__((target("avx2,fma"), always_inline))
static inline void few_inputs_tile_avx2(const AnWindowShape *s, const TileRows *rows, const float *weights, int pixels, int c0,
                                        ChannelHalves halves, __m256 startLow, __m256 startHigh, __m256 low, __m256 high,
                                        float *target) {
    const int cin = s->inputChannels, cout = s->outputChannels, step = s->strideX * cin, reach = s->dilationX * cin;
    __m256 accLow[AVX2_PIXELS], accHigh[AVX2_PIXELS];
#pragma clang loop unroll(full)
    for (int j = 0; j < AVX2_PIXELS; j++) { accLow[j] = startLow; accHigh[j] = startHigh; }
    for (int ky = rows->first; ky < rows->end; ky++) {
        const float *tap = weights + (size_t)ky * s->kernelWidth * cin * cout + c0;
        for (int kx = 0; kx < s->kernelWidth; kx++)
            for (int ci = 0; ci < cin; ci++, tap += cout) {
                const float *x = rows->tile[ky] + (size_t)kx * reach + ci;
                __m256 tapLow = LOAD_LOW(halves, tap), tapHigh = LOAD_HIGH(halves, tap);
#pragma clang loop unroll(full)
                for (int j = 0; j < AVX2_PIXELS; j++)
                    if (j < pixels) {
                        __m256 value = _mm256_set1_ps(x[j * step]);
                        accLow[j] = _mm256_fmadd_ps(value, tapLow, accLow[j]);
                        accHigh[j] = _mm256_fmadd_ps(value, tapHigh, accHigh[j]);
                    }
            }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < AVX2_PIXELS; j++)
        if (j < pixels) {
            float *pixel = target + (size_t)j * cout;
            __m256 valueLow = _mm256_min_ps(_mm256_max_ps(accLow[j], low), high);
            __m256 valueHigh = _mm256_min_ps(_mm256_max_ps(accHigh[j], low), high);
            if (halves.lowFull) _mm256_storeu_ps(pixel, valueLow);
            else _mm256_maskstore_ps(pixel, halves.lowMask, valueLow);
            if (halves.highFull) _mm256_storeu_ps(pixel + 8, valueHigh);
            else _mm256_maskstore_ps(pixel + 8, halves.highMask, valueHigh);
        }
}

__attribute__((target("avx2,fma")))
static void few_inputs_avx2(const AnWindowShape *s, const float *input, const float *weights, const float *bias,
                            int firstRow, int rowCount, float lo, float hi, float *output) {
    const int cout = s->outputChannels, outputWidth = s->outputWidth;
    TileRows rows;
    if (!tile_rows_alloc(&rows, s, AVX2_PIXELS)) {
        few_inputs_portable(s, input, weights, bias, firstRow, rowCount, lo, hi, output);
        return;
    }
    __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    for (int row = firstRow; row < firstRow + rowCount; row++) {
        tile_rows_at_row(&rows, s, input, row);
        float *line = output + (size_t)row * outputWidth * cout;
        for (int ox0 = 0; ox0 < outputWidth; ox0 += AVX2_PIXELS) {
            int pixels = outputWidth - ox0 < AVX2_PIXELS ? outputWidth - ox0 : AVX2_PIXELS;
            tile_rows_at_column(&rows, s, ox0, pixels);
            for (int c0 = 0; c0 < cout; c0 += BLOCK) {
                ChannelHalves halves = {lanes_below(cout - c0), lanes_below(cout - c0 - 8), cout - c0 >= 8, cout - c0 >= BLOCK};
                __m256 startLow = LOAD_LOW(halves, bias + c0), startHigh = LOAD_HIGH(halves, bias + c0);
                float *target = line + (size_t)ox0 * cout + c0;
                if (pixels == AVX2_PIXELS)
                    few_inputs_tile_avx2(s, &rows, weights, AVX2_PIXELS, c0, halves, startLow, startHigh, low, high, target);
                else
                    few_inputs_tile_avx2(s, &rows, weights, pixels, c0, halves, startLow, startHigh, low, high, target);
            }
        }
    }
    free(rows.image);
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
