// Depthwise convolution on NHWC tensors (channel multiplier 1), vectorized over channels: each output
// pixel's 16-channel block accumulates its taps in a register, then gets its bias and clamp.
#include "CKernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "X86Lanes.h"

enum { BLOCK = 16 };
// Output rows per padded band, and the bytes of padded input rows a band may take: the AVX2 body's padded copy of a
// 112-pixel, 96-channel map's rows (43 KB each) was 736 KB for 8 rows at stride 2, more than a Zen 3 core's L2.
enum { MAX_BAND_ROWS = 8, PADDED_BAND_BYTES = 160 * 1024 };
enum { MAX_ROW_PASS_PIXELS = 64 };  // the widest padded rows ``depthwise_padded_3x3_avx2`` takes

// Where ``an_depthwise_padded_codes`` stores its output: uint8 codes of one scale (its inverse) and zero point.
typedef struct {
    uint8_t *codes;
    float inverse;
    int32_t zero;
} CodeStore;

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

/// ``an_depthwise_padded``'s portable body: per channel, the bias, then every tap in order (the SIMD body's sums).
AN_PORTABLE_CLONES
static void depthwise_padded_portable(const AnWindowShape *s, const float *padded, size_t rowStride, int rows, int firstChannel,
                                      int endChannel, const float *weights, const float *bias, float lo, float hi, float *output) {
    const int channels = s->inputChannels;
    for (int r = 0; r < rows; r++) {
        const float *top = padded + (size_t)r * s->strideY * rowStride;
        for (int ox = 0; ox < s->outputWidth; ox++) {
            float *pixel = output + ((size_t)r * s->outputWidth + ox) * channels;
            for (int c = firstChannel; c < endChannel; c++) {
                float acc = bias[c];
                for (int ky = 0; ky < s->kernelHeight; ky++)
                    for (int kx = 0; kx < s->kernelWidth; kx++)
                        acc += top[(size_t)ky * s->dilationY * rowStride + ((size_t)ox * s->strideX + (size_t)kx * s->dilationX) * channels
                                   + c] * weights[(size_t)(ky * s->kernelWidth + kx) * channels + c];
                pixel[c] = fminf(fmaxf(acc, lo), hi);
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

/// Loads 8 floats, or the lanes of `mask` in a channel tail (`vmaskmovps` is slow on AMD cores: full blocks avoid it).
#define LOAD8(tail, pointer, mask) ((tail) ? _mm256_maskload_ps(pointer, mask) : _mm256_loadu_ps(pointer))

/// An output pixel's 8-channel block, clamped to [low, high]; in a channel tail, only the lanes of `mask`.
__attribute__((target("avx2,fma"), always_inline))
static inline void store_clamped8(float *target, __m256 acc, __m256 low, __m256 high, int tail, __m256i mask) {
    __m256 value = _mm256_min_ps(_mm256_max_ps(acc, low), high);
    if (tail) _mm256_maskstore_ps(target, mask, value);
    else _mm256_storeu_ps(target, value);
}

/// One 8-channel block of `pixels` output pixels from `ox0` on, reading zero-padded input rows (`top`: the row of
/// tap ky = 0, `rowStride` floats apart), so no tap needs a bounds test. `pixels` and `tail` (a channel block under
/// 8) are constants where it is inlined.
__attribute__((target("avx2,fma"), always_inline))
static inline void depthwise_tile_avx2(const AnWindowShape *s, const float *top, size_t rowStride, int ox0, int pixels, int c0,
                                       const float *weights, const float *bias, __m256 low, __m256 high, float *line, int tail) {
    const int channels = s->inputChannels;
    const size_t pixelStride = (size_t)s->strideX * channels;
    __m256i mask = lanes_below(channels - c0);
    __m256 acc[PIXELS];
    __m256 start = LOAD8(tail, bias + c0, mask);
#pragma clang loop unroll(full)
    for (int j = 0; j < PIXELS; j++) acc[j] = start;
    for (int ky = 0; ky < s->kernelHeight; ky++) {
        const float *inputRow = top + (size_t)ky * s->dilationY * rowStride + (size_t)ox0 * pixelStride + c0;
        for (int kx = 0; kx < s->kernelWidth; kx++) {
            __m256 tap = LOAD8(tail, weights + (size_t)(ky * s->kernelWidth + kx) * channels + c0, mask);
            const float *pixel = inputRow + (size_t)kx * s->dilationX * channels;
#pragma clang loop unroll(full)
            for (int j = 0; j < PIXELS; j++)
                if (j < pixels) acc[j] = _mm256_fmadd_ps(LOAD8(tail, pixel + j * pixelStride, mask), tap, acc[j]);
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < PIXELS; j++)
        if (j < pixels) store_clamped8(line + (size_t)(ox0 + j) * channels + c0, acc[j], low, high, tail, mask);
}

/// Channel blocks `firstChannel ..< endChannel` of `pixels` output pixels (a constant where inlined): the tile's input
/// stays in L1.
__attribute__((target("avx2,fma"), always_inline))
static inline void depthwise_pixels_avx2(const AnWindowShape *s, const float *top, size_t rowStride, int ox0, int pixels,
                                         int firstChannel, int endChannel, const float *weights, const float *bias,
                                         __m256 low, __m256 high, float *line) {
    const int full = firstChannel + (endChannel - firstChannel) / 8 * 8;
    for (int c0 = firstChannel; c0 < full; c0 += 8)
        depthwise_tile_avx2(s, top, rowStride, ox0, pixels, c0, weights, bias, low, high, line, 0);
    if (full < endChannel) depthwise_tile_avx2(s, top, rowStride, ox0, pixels, full, weights, bias, low, high, line, 1);
}

/// 3×3 kernels (dilated: the others slide) on rows up to 64 pixels wide: per 8-channel block, the nine taps stay in registers while tiles of 6
/// pixels run along the row, the three input rows' cache lines staying in L1 (12 KB) for the next block, which reads
/// their other half. With no tap reloaded per tile and the tap loops unrolled, MobileNetV2's 14×14 and 7×7 maps ran
/// in 0.6–0.9 of the time of the tiles above, 56×56 in 0.86; rows of 113 padded pixels at stride 2 took 1.08.
__attribute__((target("avx2,fma")))
static void depthwise_padded_3x3_avx2(const AnWindowShape *s, const float *padded, size_t rowStride, int rows, int firstChannel,
                                      int endChannel, const float *weights, const float *bias, float lo, float hi, float *output) {
    enum { TILE = 6 };  // 6 accumulators beside the 9 taps: 15 of 16 ymm registers
    const int channels = s->inputChannels, outputWidth = s->outputWidth;
    const size_t pixelStride = (size_t)s->strideX * channels, tapX = (size_t)s->dilationX * channels;
    const size_t tapY = (size_t)s->dilationY * rowStride;
    __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    for (int r = 0; r < rows; r++) {
        const float *top = padded + (size_t)r * s->strideY * rowStride;
        float *line = output + (size_t)r * outputWidth * channels;
        for (int c0 = firstChannel; c0 < endChannel; c0 += 8) {
            int tail = endChannel - c0 < 8;
            __m256i mask = lanes_below(endChannel - c0);
            __m256 taps[9];
            for (int t = 0; t < 9; t++) taps[t] = LOAD8(tail, weights + (size_t)t * channels + c0, mask);
            __m256 start = LOAD8(tail, bias + c0, mask);
            for (int ox0 = 0; ox0 < outputWidth; ox0 += TILE) {
                int pixels = outputWidth - ox0 < TILE ? outputWidth - ox0 : TILE;
                __m256 acc[TILE];
#pragma clang loop unroll(full)
                for (int j = 0; j < TILE; j++) acc[j] = start;
                const float *corner = top + (size_t)ox0 * pixelStride + c0;
#pragma clang loop unroll(full)
                for (int t = 0; t < 9; t++) {
                    const float *tap = corner + (size_t)(t / 3) * tapY + (size_t)(t % 3) * tapX;
#pragma clang loop unroll(full)
                    for (int j = 0; j < TILE; j++)
                        if (j < pixels) acc[j] = _mm256_fmadd_ps(LOAD8(tail, tap + j * pixelStride, mask), taps[t], acc[j]);
                }
#pragma clang loop unroll(full)
                for (int j = 0; j < TILE; j++)
                    if (j < pixels) store_clamped8(line + (size_t)(ox0 + j) * channels + c0, acc[j], low, high, tail, mask);
            }
        }
    }
}

/// `pixels` output pixels (a constant where inlined) of a whole 8-channel block of a `kernel` × `kernel` kernel (3 or 5)
/// at `stride` (1 or 2): ``pixels_sliding_avx512`` on 8 lanes — each input pixel loaded once for the outputs it serves,
/// the same sums in the same order, so the same bits. At most 8 accumulators beside 5 taps (14 of 16 ymm registers).
__attribute__((target("avx2,fma"), always_inline))
static inline void pixels_sliding_avx2(int kernel, int stride, int pixels, const float *corner, size_t pixelStride, size_t tapY,
                                       const float *weights, __m256 start, __m256 low, __m256 high, float *output) {
    __m256 acc[8];
#pragma clang loop unroll(full)
    for (int j = 0; j < pixels; j++) acc[j] = start;
#pragma clang loop unroll(full)
    for (int ky = 0; ky < kernel; ky++) {
        __m256 taps[5];
#pragma clang loop unroll(full)
        for (int kx = 0; kx < kernel; kx++) taps[kx] = _mm256_loadu_ps(weights + (size_t)(ky * kernel + kx) * pixelStride);
        const float *pixel = corner + (size_t)ky * tapY;
#pragma clang loop unroll(full)
        for (int i = 0; i < stride * (pixels - 1) + kernel; i++) {
            __m256 x = _mm256_loadu_ps(pixel);
            pixel += pixelStride;
            __asm__("" : "+r"(pixel));  // one pointer stepped along the row, not an offset in a register per pixel
#pragma clang loop unroll(full)
            for (int kx = 0; kx < kernel; kx++) {
                int d = i - kx;
                if (d >= 0 && d % stride == 0 && d / stride < pixels) acc[d / stride] = _mm256_fmadd_ps(x, taps[kx], acc[d / stride]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < pixels; j++) _mm256_storeu_ps(output + (size_t)j * pixelStride, _mm256_min_ps(_mm256_max_ps(acc[j], low), high));
}

/// ``depthwise_padded_sliding_avx512`` on 8 lanes, for processors with AVX2 and FMA: whole 8-channel blocks in tiles of
/// 8, 4, 2 and 1 output pixels, a block down all the rows; a tail of fewer than 8 channels by the tile body.
__attribute__((target("avx2,fma"), always_inline))
static inline void depthwise_padded_sliding_avx2(int kernel, int stride, const AnWindowShape *s, const float *padded, size_t rowStride,
                                                 int rows, int firstChannel, int endChannel, const float *weights, const float *bias,
                                                 float lo, float hi, float *output) {
    const int channels = s->inputChannels, outputWidth = s->outputWidth;
    const size_t pixelStride = (size_t)channels, tapY = (size_t)s->dilationY * rowStride;
    __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    int c0 = firstChannel;
    for (; c0 + 8 <= endChannel; c0 += 8) {
        __m256 start = _mm256_loadu_ps(bias + c0);
        for (int r = 0; r < rows; r++) {
            const float *top = padded + (size_t)r * s->strideY * rowStride + c0;
            float *line = output + (size_t)r * outputWidth * channels + c0;
            int ox0 = 0;
#define PIXELS(n) \
    pixels_sliding_avx2(kernel, stride, n, top + (size_t)ox0 * stride * pixelStride, pixelStride, tapY, weights + c0, start, low, high, \
                        line + (size_t)ox0 * pixelStride)
            for (; ox0 + 8 <= outputWidth; ox0 += 8) PIXELS(8);
            if (ox0 + 4 <= outputWidth) { PIXELS(4); ox0 += 4; }
            if (ox0 + 2 <= outputWidth) { PIXELS(2); ox0 += 2; }
            if (ox0 < outputWidth) PIXELS(1);
#undef PIXELS
        }
    }
    if (c0 < endChannel) {
        for (int r = 0; r < rows; r++) {
            const float *top = padded + (size_t)r * s->strideY * rowStride;
            float *line = output + (size_t)r * outputWidth * channels;
            for (int ox0 = 0; ox0 < outputWidth; ox0 += PIXELS) {
                int pixels = outputWidth - ox0 < PIXELS ? outputWidth - ox0 : PIXELS;
                depthwise_tile_avx2(s, top, rowStride, ox0, pixels, c0, weights, bias, low, high, line, 1);
            }
        }
    }
}

/// Output rows `0 ..< rows` of one image from its padded input rows (``an_depthwise_padded``): undilated 3×3 and 5×5 rows
/// at strides 1 and 2 by the sliding body (on this Zen 5 run at its AVX2 level: 5×5 1.8–1.9 times the tiles' speed,
/// 3×3 1.1–1.6 at stride 1, 0.9–1.4 at stride 2), other 3×3 rows by the row pass above, the rest in tiles of 8, 4, 2
/// and 1 pixels.
__attribute__((target("avx2,fma")))
static void depthwise_padded_avx2(const AnWindowShape *s, const float *padded, size_t rowStride, int rows, int firstChannel,
                                  int endChannel, const float *weights, const float *bias, float lo, float hi, float *output) {
    const int sliding = s->kernelHeight == s->kernelWidth && s->dilationX == 1;
    if (sliding && s->kernelWidth == 3 && s->strideX == 1)
        return depthwise_padded_sliding_avx2(3, 1, s, padded, rowStride, rows, firstChannel, endChannel, weights, bias, lo, hi, output);
    if (sliding && s->kernelWidth == 3 && s->strideX == 2)
        return depthwise_padded_sliding_avx2(3, 2, s, padded, rowStride, rows, firstChannel, endChannel, weights, bias, lo, hi, output);
    if (sliding && s->kernelWidth == 5 && s->strideX == 1)
        return depthwise_padded_sliding_avx2(5, 1, s, padded, rowStride, rows, firstChannel, endChannel, weights, bias, lo, hi, output);
    if (sliding && s->kernelWidth == 5 && s->strideX == 2)
        return depthwise_padded_sliding_avx2(5, 2, s, padded, rowStride, rows, firstChannel, endChannel, weights, bias, lo, hi, output);
    if (s->kernelHeight == 3 && s->kernelWidth == 3 && an_depthwise_padded_width(s) <= MAX_ROW_PASS_PIXELS) {
        depthwise_padded_3x3_avx2(s, padded, rowStride, rows, firstChannel, endChannel, weights, bias, lo, hi, output);
        return;
    }
    const int outputWidth = s->outputWidth;
    __m256 low = _mm256_set1_ps(lo), high = _mm256_set1_ps(hi);
    for (int r = 0; r < rows; r++) {
        const float *top = padded + (size_t)r * s->strideY * rowStride;
        float *line = output + (size_t)r * outputWidth * s->inputChannels;
#define PIXELS_FROM(ox0, pixels) \
    depthwise_pixels_avx2(s, top, rowStride, ox0, pixels, firstChannel, endChannel, weights, bias, low, high, line)
        int ox0 = 0;
        for (; ox0 + 8 <= outputWidth; ox0 += 8) PIXELS_FROM(ox0, 8);
        if (ox0 + 4 <= outputWidth) { PIXELS_FROM(ox0, 4); ox0 += 4; }
        if (ox0 + 2 <= outputWidth) { PIXELS_FROM(ox0, 2); ox0 += 2; }
        if (ox0 < outputWidth) PIXELS_FROM(ox0, 1);
#undef PIXELS_FROM
    }
}

/// `pixels` (a constant where it is inlined) output pixels of one 16-channel block of a 3×3 kernel from `corner`, the
/// padded input of the first one's top-left tap: the bias, then the nine taps in order, clamped and stored at `offset`
/// of `output`, or of `codes` as codes. A whole block (`whole`, a constant too) loads without a mask, so that each load
/// folds into its multiply-add.
__attribute__((target("avx512f"), always_inline))
static inline void pixels_3x3_avx512(int pixels, int whole, const float *corner, size_t pixelStride, size_t tapX, size_t tapY,
                                     const __m512 *taps, __m512 start, __mmask16 mask, __m512 low, __m512 high, float *output,
                                     const CodeStore *codes, size_t offset, size_t outStride) {
    __m512 acc[12];
#pragma clang loop unroll(full)
    for (int j = 0; j < pixels; j++) acc[j] = start;
#pragma clang loop unroll(full)
    for (int t = 0; t < 9; t++) {
        const float *tap = corner + (size_t)(t / 3) * tapY + (size_t)(t % 3) * tapX;
#pragma clang loop unroll(full)
        for (int j = 0; j < pixels; j++) {
            __m512 x = whole ? _mm512_loadu_ps(tap + j * pixelStride) : _mm512_maskz_loadu_ps(mask, tap + j * pixelStride);
            acc[j] = _mm512_fmadd_ps(x, taps[t], acc[j]);
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < pixels; j++) {
        __m512 y = _mm512_min_ps(_mm512_max_ps(acc[j], low), high);
        size_t at = offset + j * outStride;
        if (codes) store_codes_avx512(codes->codes + at, mask, y, _mm512_set1_ps(codes->inverse), _mm512_set1_ps((float)codes->zero));
        else if (whole) _mm512_storeu_ps(output + at, y);
        else _mm512_mask_storeu_ps(output + at, mask, y);
    }
}

/// One row of a 16-channel block of a 3×3 kernel, with ``pixels_3x3_avx512``'s arguments at pixel 0 (`corner`,
/// `offset`): in tiles of 12, then of 4, 2 and 1 — each a constant-size body, whole or masked (`whole`, a constant where
/// inlined).
__attribute__((target("avx512f"), always_inline))
static inline void row_3x3_part_avx512(int whole, int outputWidth, const float *corner, size_t pixelStride, size_t tapX, size_t tapY,
                                       const __m512 *taps, __m512 start, __mmask16 mask, __m512 low, __m512 high, float *output,
                                       const CodeStore *codes, size_t offset, size_t outStride) {
    int ox0 = 0;
#define PIXELS(n) \
    pixels_3x3_avx512(n, whole, corner + (size_t)ox0 * pixelStride, pixelStride, tapX, tapY, taps, start, mask, low, high, output, \
                      codes, offset + (size_t)ox0 * outStride, outStride)
    for (; ox0 + 12 <= outputWidth; ox0 += 12) PIXELS(12);
    for (; ox0 + 4 <= outputWidth; ox0 += 4) PIXELS(4);
    for (; ox0 + 2 <= outputWidth; ox0 += 2) PIXELS(2);
    if (ox0 < outputWidth) PIXELS(1);
#undef PIXELS
}

/// ``row_3x3_part_avx512`` with the whole-block body where the block has all 16 channels.
__attribute__((target("avx512f"), always_inline))
static inline void row_3x3_avx512(int outputWidth, const float *corner, size_t pixelStride, size_t tapX, size_t tapY, const __m512 *taps,
                                  __m512 start, __mmask16 mask, __m512 low, __m512 high, float *output, const CodeStore *codes,
                                  size_t offset, size_t outStride) {
    if (mask == 0xFFFF)
        row_3x3_part_avx512(1, outputWidth, corner, pixelStride, tapX, tapY, taps, start, mask, low, high, output, codes, offset, outStride);
    else
        row_3x3_part_avx512(0, outputWidth, corner, pixelStride, tapX, tapY, taps, start, mask, low, high, output, codes, offset, outStride);
}

/// ``depthwise_padded_avx2`` on 16 lanes (processors with AVX-512): the same sums in the same order (bias, then the
/// taps row by row), so the same bits. 3×3 kernels keep their nine taps in registers beside 12 accumulators (21 of the
/// 32 zmm registers) while whole tiles of 12 pixels run along the row without a test per pixel (the row's last pixels
/// in tiles of 4, 2 and 1); other kernels load each tap per tile of 12. With `codes`, each clamped value is stored as
/// its code (``an_int8_codes``'s) instead of as a float: `output` is not written. It takes what the sliding body
/// (``depthwise_padded_sliding_avx512``) does not: a tail of fewer than 16 channels, dilated rows, other kernels.
__attribute__((target("avx512f")))
static void depthwise_padded_avx512(const AnWindowShape *s, const float *padded, size_t rowStride, int rows, int firstChannel,
                                    int endChannel, const float *weights, const float *bias, float lo, float hi, float *output,
                                    const CodeStore *codes) {
    enum { TILE = 12 };
    const int channels = s->inputChannels, outputWidth = s->outputWidth, kernelHeight = s->kernelHeight, kernelWidth = s->kernelWidth;
    const size_t pixelStride = (size_t)s->strideX * channels, tapX = (size_t)s->dilationX * channels;
    const size_t tapY = (size_t)s->dilationY * rowStride;
    const int threeByThree = kernelHeight == 3 && kernelWidth == 3;
    __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    for (int r = 0; r < rows; r++) {
        const float *top = padded + (size_t)r * s->strideY * rowStride;
        size_t lineOffset = (size_t)r * outputWidth * channels;
        for (int c0 = firstChannel; c0 < endChannel; c0 += BLOCK) {
            __mmask16 mask = endChannel - c0 >= BLOCK ? 0xFFFF : (__mmask16)((1u << (endChannel - c0)) - 1);
            __m512 start = _mm512_maskz_loadu_ps(mask, bias + c0);
            if (threeByThree) {
                __m512 taps[9];
                for (int t = 0; t < 9; t++) taps[t] = _mm512_maskz_loadu_ps(mask, weights + (size_t)t * channels + c0);
                row_3x3_avx512(outputWidth, top + c0, pixelStride, tapX, tapY, taps, start, mask, low, high, output, codes,
                               lineOffset + c0, (size_t)channels);
                continue;
            }
            for (int ox0 = 0; ox0 < outputWidth; ox0 += TILE) {
                int pixels = outputWidth - ox0 < TILE ? outputWidth - ox0 : TILE;
                __m512 acc[TILE];
#pragma clang loop unroll(full)
                for (int j = 0; j < TILE; j++) acc[j] = start;
                const float *corner = top + (size_t)ox0 * pixelStride + c0;
                for (int ky = 0; ky < kernelHeight; ky++) {
                    for (int kx = 0; kx < kernelWidth; kx++) {
                        __m512 weight = _mm512_maskz_loadu_ps(mask, weights + (size_t)(ky * kernelWidth + kx) * channels + c0);
                        const float *tap = corner + (size_t)ky * tapY + (size_t)kx * tapX;
#pragma clang loop unroll(full)
                        for (int j = 0; j < TILE; j++)
                            if (j < pixels) acc[j] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, tap + j * pixelStride), weight, acc[j]);
                    }
                }
#pragma clang loop unroll(full)
                for (int j = 0; j < TILE; j++) {
                    if (j < pixels) {
                        __m512 y = _mm512_min_ps(_mm512_max_ps(acc[j], low), high);
                        size_t at = lineOffset + (size_t)(ox0 + j) * channels + c0;
                        if (codes)
                            store_codes_avx512(codes->codes + at, mask, y, _mm512_set1_ps(codes->inverse), _mm512_set1_ps((float)codes->zero));
                        else
                            _mm512_mask_storeu_ps(output + at, mask, y);
                    }
                }
            }
        }
    }
}

/// One tap row of ``pixels_sliding_avx512``: the row's `kernel` taps from `weights` in registers, each input pixel
/// `firstInput ..< endInput` from `pixel` on loaded once and multiplied into the accumulators of the outputs it serves.
__attribute__((target("avx512f"), always_inline))
static inline void tap_row_sliding_avx512(int kernel, int stride, int pixels, int firstInput, int endInput, const float *pixel,
                                          size_t pixelStride, const float *weights, __m512 *acc) {
    __m512 taps[5];
#pragma clang loop unroll(full)
    for (int kx = 0; kx < kernel; kx++) taps[kx] = _mm512_loadu_ps(weights + (size_t)kx * pixelStride);
#pragma clang loop unroll(full)
    for (int i = 0; i < stride * (pixels - 1) + kernel; i++) {
        const float *at = pixel;
        pixel += pixelStride;
        __asm__("" : "+r"(pixel));  // one pointer stepped along the row, not an offset in a register per pixel
        if (i < firstInput || i >= endInput) continue;
        __m512 x = _mm512_loadu_ps(at);
#pragma clang loop unroll(full)
        for (int kx = 0; kx < kernel; kx++) {
            int d = i - kx;
            if (d >= 0 && d % stride == 0 && d / stride < pixels) acc[d / stride] = _mm512_fmadd_ps(x, taps[kx], acc[d / stride]);
        }
    }
}

// The AVX-512 sliding bodies' tiles along a row of `width` output pixels from `ox0`, each by the caller's `PIXELS(n)`:
// for 3×3 kernels, 16 where the width is a multiple of 16 and 8 for a row of 8 (YAMNet's 32- to 8-pixel rows: 14 + 2
// and 7 + 1 before, 24×16×128 7.1 → 6.0 µs, 12×8×256 4.35 → 3.45); else 14 (a 28- or 56-pixel row is whole tiles),
// then 7 (a 7×7 map's row is one tile), 4, 2 and 1.
#define SLIDING_TILES(width) \
    if (kernel == 3 && (width) % 16 == 0) for (; ox0 + 16 <= (width); ox0 += 16) PIXELS(16); \
    if (kernel == 3 && (width) == 8) { PIXELS(8); ox0 += 8; } \
    for (; ox0 + 14 <= (width); ox0 += 14) PIXELS(14); \
    if (ox0 + 7 <= (width)) { PIXELS(7); ox0 += 7; } \
    if (ox0 + 4 <= (width)) { PIXELS(4); ox0 += 4; } \
    if (ox0 + 2 <= (width)) { PIXELS(2); ox0 += 2; } \
    if (ox0 < (width)) PIXELS(1);

/// `pixels` output pixels (a constant where inlined) of a whole 16-channel block of a `kernel` × `kernel` kernel (3 or 5)
/// at `stride` (1 or 2, constants) from `corner`, the padded input of the first one's top-left tap: tap row by tap row,
/// the row's taps in registers and each input pixel loaded once for the outputs it serves (input pixel i is tap kx of
/// output (i − kx) / stride), so that each output sums the bias, then the taps row by row in order — the sums of
/// ``depthwise_padded_avx512``, the same bits — with a fifth of its loads for 5×5 at stride 1. `tapRows` of the
/// kernel's rows from `weights` on (all of them, `kernel`, from padded rows; fewer at an unpadded image's top or bottom),
/// and only the input pixels `firstInput ..< endInput` of the `stride × (pixels − 1) + kernel` a row's outputs read
/// (all of them from padded rows; the others lie outside an unpadded image, and a skipped tap adds nothing where the
/// padded bodies add zero times it).
__attribute__((target("avx512f"), always_inline))
static inline void pixels_sliding_avx512(int kernel, int stride, int pixels, int tapRows, int firstInput, int endInput, const float *corner,
                                         size_t pixelStride, size_t tapY, const float *weights, __m512 start, __m512 low, __m512 high,
                                         float *output, const CodeStore *codes, size_t offset) {
    __m512 acc[16];
#pragma clang loop unroll(full)
    for (int j = 0; j < pixels; j++) acc[j] = start;
    if (tapRows == kernel) {
#pragma clang loop unroll(full)
        for (int ky = 0; ky < kernel; ky++)
            tap_row_sliding_avx512(kernel, stride, pixels, firstInput, endInput, corner + (size_t)ky * tapY, pixelStride,
                                   weights + (size_t)ky * kernel * pixelStride, acc);
    } else {
        for (int ky = 0; ky < tapRows; ky++)
            tap_row_sliding_avx512(kernel, stride, pixels, firstInput, endInput, corner + (size_t)ky * tapY, pixelStride,
                                   weights + (size_t)ky * kernel * pixelStride, acc);
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < pixels; j++) {
        __m512 y = _mm512_min_ps(_mm512_max_ps(acc[j], low), high);
        size_t at = offset + (size_t)j * pixelStride;
        if (codes) store_codes_avx512(codes->codes + at, 0xFFFF, y, _mm512_set1_ps(codes->inverse), _mm512_set1_ps((float)codes->zero));
        else _mm512_storeu_ps(output + at, y);
    }
}

/// ``depthwise_padded_avx512`` for `kernel` × `kernel` kernels (3 or 5) at `stride` (1 or 2; constants where inlined)
/// and dilation 1 along rows: whole channel blocks by ``pixels_sliding_avx512`` in tiles of 14 output pixels (a 28- or
/// 56-pixel row is whole tiles), then of 7, 4, 2 and 1 (a 7×7 map's row is one tile); a tail block of fewer than 16
/// channels by the other body. A channel block runs down all the rows, so that the input rows it reads stay in L1 for
/// the next output rows. 5×5 at stride 1 ran at 2.0 times the other body's speed on 28×28×240, 1.7 on 14×14×672 and
/// 1.85 on 7×7×1152; at stride 2, 1.8 on 28×28×144.
__attribute__((target("avx512f"), always_inline))
static inline void depthwise_padded_sliding_avx512(int kernel, int stride, const AnWindowShape *s, const float *padded, size_t rowStride,
                                                   int rows, int firstChannel, int endChannel, const float *weights, const float *bias,
                                                   float lo, float hi, float *output, const CodeStore *codes) {
    const int channels = s->inputChannels, outputWidth = s->outputWidth;
    const size_t pixelStride = (size_t)channels, tapY = (size_t)s->dilationY * rowStride;
    __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    int c0 = firstChannel;
    for (; c0 + BLOCK <= endChannel; c0 += BLOCK) {
        __m512 start = _mm512_loadu_ps(bias + c0);
        for (int r = 0; r < rows; r++) {
            const float *top = padded + (size_t)r * s->strideY * rowStride + c0;
            size_t lineOffset = (size_t)r * outputWidth * channels + c0;
            int ox0 = 0;
#define PIXELS(n) \
    pixels_sliding_avx512(kernel, stride, n, kernel, 0, stride * (n - 1) + kernel, top + (size_t)ox0 * stride * pixelStride, pixelStride, \
                          tapY, weights + c0, start, low, high, \
                          output, codes, lineOffset + (size_t)ox0 * pixelStride)
            SLIDING_TILES(outputWidth)
#undef PIXELS
        }
    }
    if (c0 < endChannel)
        depthwise_padded_avx512(s, padded, rowStride, rows, c0, endChannel, weights, bias, lo, hi, output, codes);
}

/// `pixels` output pixels (a constant where inlined) of a whole 16-channel block from `ox0` on of an unpadded row
/// (`corner` at the block's first input pixel of tap row `firstTapRow`, column `ix0`): ``pixels_sliding_avx512`` over
/// the tap rows `firstTapRow ..< endTapRow` and the input columns inside the image — for the columns a 3×3 kernel's
/// padding leaves out at a row's ends (none or one at either end), with the columns as constants, so without a test
/// per input pixel (YAMNet's 4-pixel rows of 512 channels: 3.07 → 2.6 µs).
__attribute__((target("avx512f"), always_inline))
static inline void tile_unpadded_avx512(int kernel, int stride, int pixels, int ox0, int ix0, int inputWidth, const float *corner,
                                        size_t pixelStride, size_t tapY, int tapRows, const float *tapWeights, __m512 start, __m512 low,
                                        __m512 high, float *line) {
    const int count = stride * (pixels - 1) + kernel;
    const int firstInput = ix0 < 0 ? -ix0 : 0, endInput = inputWidth - ix0 < count ? inputWidth - ix0 : count;
#define SLIDE(first, end) \
    pixels_sliding_avx512(kernel, stride, pixels, tapRows, first, end, corner, pixelStride, tapY, tapWeights, start, low, high, line, NULL, \
                          (size_t)ox0 * pixelStride)
    if (firstInput == 0 && endInput == count) SLIDE(0, count);
    else if (firstInput == 1 && endInput == count) SLIDE(1, count);
    else if (firstInput == 0 && endInput == count - 1) SLIDE(0, count - 1);
    else if (firstInput == 1 && endInput == count - 1) SLIDE(1, count - 1);
    else SLIDE(firstInput, endInput);
#undef SLIDE
}

/// Output row `row` (over the batch) of every 16-channel block, from the unpadded input: the row's geometry once, then
/// each block by ``tile_unpadded_avx512`` in tiles of 14, 7, 4, 2 and 1 output pixels.
__attribute__((target("avx512f"), always_inline))
static inline void row_unpadded_avx512(int kernel, int stride, const AnWindowShape *s, const float *input, const float *weights,
                                       const float *bias, int row, __m512 low, __m512 high, float *output) {
    const int channels = s->inputChannels, height = s->inputHeight, inputWidth = s->inputWidth, outputWidth = s->outputWidth;
    const int padLeft = s->padLeft, oy = row % s->outputHeight, iy0 = oy * s->strideY - s->padTop;
    const int firstTapRow = iy0 < 0 ? -iy0 : 0, endTapRow = height - iy0 < kernel ? height - iy0 : kernel;
    const size_t pixelStride = (size_t)channels, tapY = (size_t)inputWidth * pixelStride;
    const float *image = input + (size_t)(row / s->outputHeight) * height * tapY;
    const float *top = image + (ptrdiff_t)(iy0 + firstTapRow) * (ptrdiff_t)tapY;
    const float *tapWeights = weights + (size_t)firstTapRow * kernel * pixelStride;
    float *line = output + (size_t)row * outputWidth * pixelStride;
    for (int c0 = 0; c0 < channels; c0 += BLOCK) {
        __m512 start = _mm512_loadu_ps(bias + c0);
        int ox0 = 0;
#define PIXELS(n) \
    tile_unpadded_avx512(kernel, stride, n, ox0, ox0 * stride - padLeft, inputWidth, \
                         top + (ptrdiff_t)(ox0 * stride - padLeft) * (ptrdiff_t)pixelStride + c0, pixelStride, tapY, \
                         endTapRow - firstTapRow, tapWeights + c0, start, low, high, line + c0)
        SLIDING_TILES(outputWidth)
#undef PIXELS
    }
}

/// ``an_depthwise``'s rows `firstRow ..< firstRow + rowCount` for `kernel` × `kernel` kernels (3 or 5) at `stride` (1
/// or 2 along rows; constants where inlined), undilated, on whole 16-channel blocks, straight from the unpadded input
/// by ``row_unpadded_avx512``, the sums of the padded bodies. No padded copy: YAMNet's maps (2 to 32 pixels wide, 1024
/// channels at 3×2) spent a fifth of their depthwise time writing padded rows, mostly zeros, and its stride-2 maps took
/// the direct body's bounds tests. Each output row runs all its channel blocks before the next, its input rows staying in
/// cache (a block down all the rows read the whole input again per block: MobileNetV2's 112×112×32 at stride 2 took 45
/// µs against 30; 56×56×144 at stride 2, 53 against 35).
__attribute__((target("avx512f"), always_inline))
static inline void depthwise_sliding_avx512(int kernel, int stride, const AnWindowShape *s, const float *input, const float *weights,
                                            const float *bias, int firstRow, int rowCount, float lo, float hi, float *output) {
    __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    for (int row = firstRow; row < firstRow + rowCount; row++)
        row_unpadded_avx512(kernel, stride, s, input, weights, bias, row, low, high, output);
}

/// ``an_depthwise`` by ``depthwise_sliding_avx512`` where it applies (3×3 and 5×5 kernels at strides 1 and 2 along
/// rows, undilated, whole channel blocks): 1, or 0 for the other bodies.
__attribute__((target("avx512f")))
static int unpadded_avx512(const AnWindowShape *s, const float *input, const float *weights, const float *bias, int firstRow,
                           int rowCount, float lo, float hi, float *output) {
    const int sliding = s->kernelHeight == s->kernelWidth && s->dilationX == 1 && s->dilationY == 1 && s->inputChannels % BLOCK == 0;
    if (sliding && s->kernelWidth == 3 && s->strideX == 1)
        depthwise_sliding_avx512(3, 1, s, input, weights, bias, firstRow, rowCount, lo, hi, output);
    else if (sliding && s->kernelWidth == 3 && s->strideX == 2)
        depthwise_sliding_avx512(3, 2, s, input, weights, bias, firstRow, rowCount, lo, hi, output);
    else if (sliding && s->kernelWidth == 5 && s->strideX == 1)
        depthwise_sliding_avx512(5, 1, s, input, weights, bias, firstRow, rowCount, lo, hi, output);
    else if (sliding && s->kernelWidth == 5 && s->strideX == 2)
        depthwise_sliding_avx512(5, 2, s, input, weights, bias, firstRow, rowCount, lo, hi, output);
    else
        return 0;
    return 1;
}

/// The AVX-512 body for `s`: the sliding one for 3×3 and 5×5 kernels at strides 1 and 2 along rows, undilated.
/// Against the other body (3×3 taps kept in registers over tiles of 12): 1.0–1.5 times its speed at stride 1 on
/// MobileNetV2's maps (14×14×384 the most), 1.2–1.3 at stride 2; 0.95 on 7×7×960.
__attribute__((target("avx512f")))
static void padded_avx512(const AnWindowShape *s, const float *padded, size_t rowStride, int rows, int firstChannel, int endChannel,
                          const float *weights, const float *bias, float lo, float hi, float *output, const CodeStore *codes) {
    const int sliding = s->kernelHeight == s->kernelWidth && s->dilationX == 1;
    if (sliding && s->kernelWidth == 3 && s->strideX == 1)
        depthwise_padded_sliding_avx512(3, 1, s, padded, rowStride, rows, firstChannel, endChannel, weights, bias, lo, hi, output, codes);
    else if (sliding && s->kernelWidth == 3 && s->strideX == 2)
        depthwise_padded_sliding_avx512(3, 2, s, padded, rowStride, rows, firstChannel, endChannel, weights, bias, lo, hi, output, codes);
    else if (sliding && s->kernelWidth == 5 && s->strideX == 1)
        depthwise_padded_sliding_avx512(5, 1, s, padded, rowStride, rows, firstChannel, endChannel, weights, bias, lo, hi, output, codes);
    else if (sliding && s->kernelWidth == 5 && s->strideX == 2)
        depthwise_padded_sliding_avx512(5, 2, s, padded, rowStride, rows, firstChannel, endChannel, weights, bias, lo, hi, output, codes);
    else
        depthwise_padded_avx512(s, padded, rowStride, rows, firstChannel, endChannel, weights, bias, lo, hi, output, codes);
}

/// Input rows `firstY ..< firstY + count` of one image (negative or past the end: zeros), each padded with zero
/// pixels so that column `x` of `padded` is input column `x − padLeft`, ``an_depthwise_padded_width`` pixels wide.
static void copy_padded_rows(const AnWindowShape *s, const float *image, int firstY, int count, float *padded) {
    const int channels = s->inputChannels, paddedWidth = an_depthwise_padded_width(s);
    const size_t rowStride = (size_t)paddedWidth * channels;
    // Padded columns `begin ..< end` hold input columns 0 ..< end − begin.
    int begin = s->padLeft < paddedWidth ? s->padLeft : paddedWidth;
    int end = s->padLeft + s->inputWidth < paddedWidth ? s->padLeft + s->inputWidth : paddedWidth;
    for (int r = 0; r < count; r++) {
        int iy = firstY + r;
        float *target = padded + (size_t)r * rowStride;
        if (iy < 0 || iy >= s->inputHeight) { memset(target, 0, rowStride * sizeof(float)); continue; }
        memset(target, 0, (size_t)begin * channels * sizeof(float));
        memcpy(target + (size_t)begin * channels, image + (size_t)iy * s->inputWidth * channels, (size_t)(end - begin) * channels * sizeof(float));
        memset(target + (size_t)end * channels, 0, (size_t)(paddedWidth - end) * channels * sizeof(float));
    }
}

// ``an_depthwise``'s rows through the padded bodies: each band of output rows first copies the input rows it reads with
// their zero padding into a 64-byte-aligned buffer, so every tile runs without bounds tests (narrow maps — YAMNet's are
// 2 to 32 pixels wide — are all border otherwise), on the AVX-512 body (`wide`) or the AVX2 one. With `codes` the output
// is written as codes at the offsets of `output`'s floats from `codes->codes`: by the AVX-512 body from its registers,
// by the AVX2 one as a band of floats in a second buffer, then their codes. Returns 0, or -1 when a buffer could not be
// allocated.
static int depthwise_bands(const AnWindowShape *s, const float *input, const float *weights, const float *bias, int firstRow,
                           int rowCount, float lo, float hi, float *output, int wide, const CodeStore *codes) {
    const int channels = s->inputChannels;
    const size_t rowStride = (size_t)an_depthwise_padded_width(s) * channels, lineSize = (size_t)s->outputWidth * channels;
    const int band = an_depthwise_band_rows(s, PADDED_BAND_BYTES);
    const int bandHeight = (band - 1) * s->strideY + (s->kernelHeight - 1) * s->dilationY + 1;
    float *padded = aligned_alloc(64, ((size_t)bandHeight * rowStride * sizeof(float) + 63) / 64 * 64);
    float *floats = codes && !wide ? malloc((size_t)band * lineSize * sizeof(float)) : NULL;
    if (!padded || (codes && !wide && !floats)) {
        free(padded);
        free(floats);
        return -1;
    }
    for (int row = firstRow; row < firstRow + rowCount;) {
        int image = row / s->outputHeight, oy = row % s->outputHeight;
        int rows = firstRow + rowCount - row, left = s->outputHeight - oy;  // a band stays in one image
        rows = rows < band ? rows : band;
        rows = rows < left ? rows : left;
        copy_padded_rows(s, input + (size_t)image * s->inputHeight * s->inputWidth * channels, oy * s->strideY - s->padTop,
                         (rows - 1) * s->strideY + (s->kernelHeight - 1) * s->dilationY + 1, padded);
        size_t first = (size_t)row * lineSize;
        CodeStore store = codes ? (CodeStore){codes->codes + first, codes->inverse, codes->zero} : (CodeStore){0};
        if (wide) {
            padded_avx512(s, padded, rowStride, rows, 0, channels, weights, bias, lo, hi, codes ? NULL : output + first, codes ? &store : NULL);
        } else if (codes) {
            depthwise_padded_avx2(s, padded, rowStride, rows, 0, channels, weights, bias, lo, hi, floats);
            an_int8_codes(floats, (size_t)rows * lineSize, store.inverse, store.zero, store.codes);
        } else {
            depthwise_padded_avx2(s, padded, rowStride, rows, 0, channels, weights, bias, lo, hi, output + first);
        }
        row += rows;
    }
    free(padded);
    free(floats);
    return 0;
}

/// Whether ``an_depthwise`` runs `s` through the padded bands on AVX-512: stride 1 on rows over 64 pixels.
static int bands_on_avx512(const AnWindowShape *s) {
    return s->strideX == 1 && s->inputWidth > 64;
}
#endif

int an_depthwise_padded_width(const AnWindowShape *s) {
    return (s->outputWidth - 1) * s->strideX + (s->kernelWidth - 1) * s->dilationX + 1;
}

int an_depthwise_band_rows(const AnWindowShape *s, size_t bytes) {
    size_t row = (size_t)an_depthwise_padded_width(s) * s->inputChannels * sizeof(float);
    size_t fitting = bytes / row, halo = (size_t)(s->kernelHeight - 1) * s->dilationY + 1;
    size_t rows = fitting > halo ? (fitting - halo) / s->strideY + 1 : 1;
    return rows < MAX_BAND_ROWS ? (int)rows : MAX_BAND_ROWS;
}

void an_depthwise_padded(const AnWindowShape *shape, const float *padded, size_t rowStride, int rows, int firstChannel,
                         int channelCount, const float *weights, const float *bias, float lo, float hi, float *output) {
    int end = firstChannel + channelCount;
#if AN_X86
    if (an_cpu_has(AN_CPU_AVX512)) {
        padded_avx512(shape, padded, rowStride, rows, firstChannel, end, weights, bias, lo, hi, output, NULL);
        return;
    }
    if (an_cpu_has(AN_CPU_AVX2)) {
        depthwise_padded_avx2(shape, padded, rowStride, rows, firstChannel, end, weights, bias, lo, hi, output);
        return;
    }
#endif
    depthwise_padded_portable(shape, padded, rowStride, rows, firstChannel, end, weights, bias, lo, hi, output);
}

void an_depthwise_padded_codes(const AnWindowShape *shape, const float *padded, size_t rowStride, int rows, int firstChannel,
                               int channelCount, const float *weights, const float *bias, float lo, float hi, float inverse,
                               int32_t zero, float *line, uint8_t *codes) {
    int end = firstChannel + channelCount;
#if AN_X86
    if (an_cpu_has(AN_CPU_AVX512)) {
        CodeStore store = {codes, inverse, zero};
        padded_avx512(shape, padded, rowStride, rows, firstChannel, end, weights, bias, lo, hi, NULL, &store);
        return;
    }
#endif
    // Elsewhere a row at a time: its floats, then their codes.
    size_t lineSize = (size_t)shape->outputWidth * shape->inputChannels;
    for (int r = 0; r < rows; r++) {
        an_depthwise_padded(shape, padded + (size_t)r * shape->strideY * rowStride, rowStride, 1, firstChannel, channelCount,
                            weights, bias, lo, hi, line);
        for (int x = 0; x < shape->outputWidth; x++) {
            size_t at = (size_t)x * shape->inputChannels + firstChannel;
            an_int8_codes(line + at, (size_t)channelCount, inverse, zero, codes + r * lineSize + at);
        }
    }
}

void an_depthwise(const AnWindowShape *shape, const float *input, const float *weights, const float *bias,
                  int firstRow, int rowCount, float lo, float hi, float *output) {
#if AN_X86
    if (an_cpu_has(AN_CPU_AVX512)) {
        // Unpadded at stride 2 and on rows up to 64 pixels (YAMNet's); wider rows at stride 1 keep the padded bands
        // (calibrated int8 MobileNetV2 at batch 1 on two cores, its 112×112×32 unpadded: 770–782 images/s, 783–862 with
        // the bands, 817–868 at the start of the day's last session — the rest of that gap not found).
        if (!bands_on_avx512(shape) && unpadded_avx512(shape, input, weights, bias, firstRow, rowCount, lo, hi, output)) return;
        // Stride 1 through padded rows: 1.04 to 1.7 times the direct body's speed on YAMNet's and MobileNetV2's maps (one
        // copy of the input; stride 2 copies four input pixels an output pixel, and ran at 0.85–0.93).
        if (bands_on_avx512(shape) && depthwise_bands(shape, input, weights, bias, firstRow, rowCount, lo, hi, output, 1, NULL) == 0) return;
        depthwise_avx512(shape, input, weights, bias, firstRow, rowCount, lo, hi, output);
        return;
    }
    if (an_cpu_has(AN_CPU_AVX2) && depthwise_bands(shape, input, weights, bias, firstRow, rowCount, lo, hi, output, 0, NULL) == 0) return;
#endif
    depthwise_portable(shape, input, weights, bias, firstRow, rowCount, lo, hi, output);
}

void an_depthwise_codes(const AnWindowShape *shape, const float *input, const float *weights, const float *bias, int firstRow,
                        int rowCount, float lo, float hi, float inverse, int32_t zero, float *line, uint8_t *codes) {
#if AN_X86
    // The padded bands where ``an_depthwise`` takes them: on AVX-512 storing codes from the registers, on AVX2 a band of
    // floats at a time.
    CodeStore store = {codes, inverse, zero};
    if (an_cpu_has(AN_CPU_AVX512) && bands_on_avx512(shape) &&
        depthwise_bands(shape, input, weights, bias, firstRow, rowCount, lo, hi, NULL, 1, &store) == 0) return;
    if (!an_cpu_has(AN_CPU_AVX512) && an_cpu_has(AN_CPU_AVX2) &&
        depthwise_bands(shape, input, weights, bias, firstRow, rowCount, lo, hi, NULL, 0, &store) == 0) return;
#endif
    // Elsewhere a row at a time: its floats, then their codes. ``an_depthwise`` writes row `row` at `row × lineSize`
    // floats from the pointer it is given, so it is given the address that many floats before `line`.
    size_t lineSize = (size_t)shape->outputWidth * shape->inputChannels;
    for (int row = firstRow; row < firstRow + rowCount; row++) {
        float *origin = (float *)((uintptr_t)line - (size_t)row * lineSize * sizeof(float));
        an_depthwise(shape, input, weights, bias, row, 1, lo, hi, origin);
        an_int8_codes(line, lineSize, inverse, zero, codes + (size_t)row * lineSize);
    }
}
