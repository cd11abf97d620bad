// Convolution with few input channels (a network's stem) on NHWC tensors: im2col would make a GEMM with a
// depth of only kh·kw·Cin; instead each input value is broadcast against 16 output channels' weights.
#include "CKernels.h"

#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define AN_X86 1
#endif

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

__attribute__((target("avx512f")))
static void few_inputs_avx512(const AnWindowShape *s, const float *input, const float *weights, const float *bias,
                              int firstRow, int rowCount, float lo, float hi, float *output) {
    const int height = s->inputHeight, width = s->inputWidth, cin = s->inputChannels, cout = s->outputChannels;
    const int kernelHeight = s->kernelHeight, kernelWidth = s->kernelWidth, strideY = s->strideY, strideX = s->strideX;
    const int dilationY = s->dilationY, dilationX = s->dilationX, padTop = s->padTop, padLeft = s->padLeft;
    const int outputHeight = s->outputHeight, outputWidth = s->outputWidth;
    __m512 low = _mm512_set1_ps(lo), high = _mm512_set1_ps(hi);
    for (int row = firstRow; row < firstRow + rowCount; row++) {
        int image = row / outputHeight, oy = row % outputHeight;
        const float *source = input + (size_t)image * height * width * cin;
        float *line = output + (size_t)row * outputWidth * cout;
        for (int c0 = 0; c0 < cout; c0 += BLOCK) {
            int left = cout - c0;
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
                    const float *inputRow = source + (size_t)iy * width * cin;
                    for (int kx = 0; kx < kernelWidth; kx++) {
                        int ix0 = ox0 * strideX - padLeft + kx * dilationX;
                        for (int ci = 0; ci < cin; ci++) {
                            __m512 tap = _mm512_maskz_loadu_ps(mask, weights + ((size_t)(ky * kernelWidth + kx) * cin + ci) * cout + c0);
#pragma clang loop unroll(full)
                            for (int j = 0; j < PIXELS; j++) {
                                int ix = ix0 + j * strideX;
                                if (j < pixels && ix >= 0 && ix < width)
                                    acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(inputRow[(size_t)ix * cin + ci]), tap, acc[j]);
                            }
                        }
                    }
                }
#pragma clang loop unroll(full)
                for (int j = 0; j < PIXELS; j++)
                    if (j < pixels)
                        _mm512_mask_storeu_ps(line + (size_t)(ox0 + j) * cout + c0, mask, _mm512_min_ps(_mm512_max_ps(acc[j], low), high));
            }
        }
    }
}
#endif

void an_conv_few_inputs(const AnWindowShape *shape, const float *input, const float *weights, const float *bias,
                        int firstRow, int rowCount, float lo, float hi, float *output) {
#if AN_X86
    if (an_cpu_has(AN_CPU_AVX512)) { few_inputs_avx512(shape, input, weights, bias, firstRow, rowCount, lo, hi, output); return; }
#endif
    few_inputs_portable(shape, input, weights, bias, firstRow, rowCount, lo, hi, output);
}
