#ifndef AUDIONET_CKERNELS_H
#define AUDIONET_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// SIMD kernels with run-time CPU dispatch: each entry point asks `an_cpu_has` which bodies it may run — an
/// AVX-512 body, the int8 product also an AVX-VNNI one — and runs a portable C body otherwise. The int8
/// bodies give bit-identical results; the float bodies differ only by fused multiply-add rounding.

/// Instruction-set extensions that some kernel body needs, one bit each.
enum {
    AN_CPU_AVX2 = 1,         ///< AVX2 and FMA (tier 1)
    AN_CPU_AVX_VNNI = 2,     ///< AVX-VNNI, the 256-bit `vpdpbusd` of Intel's client cores (tier 1)
    AN_CPU_AVX512 = 4,       ///< AVX-512 F (tier 2)
    AN_CPU_AVX512_VNNI = 8,  ///< AVX-512 F, BW, VL and VNNI (tier 2)
};

/// The extensions this processor has (and its operating system enables), read once through cpuid.
int an_cpu_detected(void);

/// Whether a kernel may use all of `features`: the processor has them and the SIMD level allows their tier.
int an_cpu_has(int features);

/// The widest tier kernels may use: 2 (the default) AVX-512, 1 AVX2-class, 0 portable. Starts from
/// `$AUDIONET_SIMD_LEVEL` when set. A level above what the processor has changes nothing: `an_cpu_has`
/// also asks the processor. On x86-64 Linux the loader still picks the AVX2 clones of the portable bodies
/// at level 0 when the processor has AVX2.
int an_simd_level(void);

/// Sets the SIMD level process-wide (clamped to 0…2), for tests and benchmarks that compare bodies.
void an_set_simd_level(int level);

/// Bytes of packed int8 weights for a `k×n` matrix (k rounded up to 4, n to 32).
size_t an_int8_packed_size(int k, int n);

/// Quantizes row-major float weights `w[k×n]` per column (symmetric, scale = max|w|/127) into the packed
/// layout the GEMM reads; writes `scales[n]` and the column sums of the int8 values `sums[n]`.
void an_int8_pack_weights(const float *w, int k, int n, int8_t *packed, float *scales, int32_t *sums);

/// `c[m×n] = clamp(dequantize(quantize_rows(a) · packed) + bias, lo, hi)`.
///
/// Each row of the float input `a` (leading dimension `lda`) is quantized to uint8 with its own scale
/// and zero point (dynamic-range quantization); products accumulate exactly in int32 and are rescaled
/// to float. `bias` may be NULL. Rows are processed in cache-sized blocks on the calling thread.
/// Returns 0, or -1 when scratch memory could not be allocated.
int an_int8_linear(int m, int n, int k, const float *a, int lda, const int8_t *packed, const float *scales,
                   const int32_t *sums, const float *bias, float lo, float hi, float *c, int ldc);

/// Geometry of a windowed layer on NHWC tensors (a depthwise convolution has equal channel counts).
typedef struct {
    int inputHeight, inputWidth, inputChannels, outputChannels;
    int kernelHeight, kernelWidth, strideY, strideX, dilationY, dilationX, padTop, padLeft;
    int outputHeight, outputWidth;
} AnWindowShape;

/// Output rows `firstRow ..< firstRow + rowCount` (counted over the whole batch, `image · outputHeight + y`)
/// of a depthwise convolution with weights `[kh, kw, channels]` and `bias[channels]`, clamped to [lo, hi].
void an_depthwise(const AnWindowShape *shape, const float *input, const float *weights, const float *bias,
                  int firstRow, int rowCount, float lo, float hi, float *output);

/// Output rows `firstRow ..< firstRow + rowCount` (over the whole batch) of a convolution with few input
/// channels (a network's stem: 1 or 3), weights HWIO `[kh, kw, inputChannels, outputChannels]`, `bias`,
/// clamped to [lo, hi]: each input value is broadcast against 16 output channels' weights.
void an_conv_few_inputs(const AnWindowShape *shape, const float *input, const float *weights, const float *bias,
                        int firstRow, int rowCount, float lo, float hi, float *output);

/// Winograd F(4×4, 3×3), stride 1: the input transform `V = Bᵀ d B` of tiles `firstTile ..< firstTile + tileCount`
/// (4×4 output tiles numbered over the batch, row-major), written as 36 blocks `v[position · stride + tile · Cin + c]`.
void an_winograd_input(const AnWindowShape *shape, const float *input, int firstTile, int tileCount, float *v, size_t stride);

/// The output transform `Y = Aᵀ M A` of the same tiles from `m[position · stride + tile · Cout + c]`, plus `bias`,
/// clamped to [lo, hi], written where each tile lies inside the output.
void an_winograd_output(const AnWindowShape *shape, const float *m, size_t stride, int firstTile, int tileCount,
                        const float *bias, float lo, float hi, float *output);

/// Polyphase resampling by a rational ratio P/Q: outputs `firstOutput ..< firstOutput + outputCount` (absolute),
/// output t = Σ_j bank[(t mod Q)·taps + j] · x[⌊t·P/Q⌋ − (left − 1) + j], where `input` holds the absolute
/// samples `inputStart ..< inputStart + inputCount` of a `totalInput`-sample signal and any other sample is zero.
void an_polyphase(const float *input, long inputStart, long inputCount, long totalInput, const float *bank, int taps,
                  int left, int inputPeriod, int outputPeriod, long firstOutput, long outputCount, float *output);

/// Marks the calling thread as running inside a parallel loop (enter/leave nest), so that work it starts
/// runs inline instead of splitting again across the already busy cores.
void an_parallel_enter(void);
void an_parallel_leave(void);
int an_parallel_is_nested(void);

/// glibc only (a no-op elsewhere): blocks below `mapThreshold` come from the heap instead of fresh mappings,
/// and the heap keeps up to `trimThreshold` free bytes instead of returning them to the kernel.
void an_keep_freed_memory(size_t mapThreshold, size_t trimThreshold);

#endif
