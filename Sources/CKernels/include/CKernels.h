#ifndef AUDIONET_CKERNELS_H
#define AUDIONET_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "CBase.h"

/// Network kernels with run-time CPU dispatch: each entry point asks `an_cpu_has` (CBase) which bodies it may
/// run — an AVX-512 body, then (the int8 product) an AVX-VNNI one, then an AVX2 body — and runs a portable C body
/// otherwise. The int8 bodies give bit-identical results; the float bodies differ only by fused
/// multiply-add rounding.

/// Bytes of packed int8 weights for a `k×n` matrix (k rounded up to 4, n to 32), and 1920 more that the AMX body may read
/// past the last panel.
size_t an_int8_packed_size(int k, int n);

/// Quantizes row-major float weights `w[k×n]` per column (symmetric, scale = max|w|/127) into the packed
/// layout the GEMM reads; writes `scales[n]` and the column sums of the int8 values `sums[n]`.
void an_int8_pack_weights(const float *w, int k, int n, int8_t *packed, float *scales, int32_t *sums);

/// The int8 values of packed weights back in row-major order `w[k×n]` (what ``an_int8_pack_weights`` quantized).
void an_int8_unpack_weights(const int8_t *packed, int k, int n, int8_t *w);

/// `c[m×n] = clamp(dequantize(quantize_rows(a) · packed) + bias, lo, hi)`.
///
/// Each row of the float input `a` (leading dimension `lda`) is quantized to uint8 with its own scale
/// and zero point (dynamic-range quantization); products accumulate exactly in int32 and are rescaled
/// to float. `bias` and `addend` (laid out as `c`: a residual added after the bias, before the clamp) may be NULL.
/// Rows are processed in cache-sized blocks on the calling thread. Returns 0, or -1 when scratch memory could not be
/// allocated.
int an_int8_linear(int m, int n, int k, const float *a, int lda, const int8_t *packed, const float *scales,
                   const int32_t *sums, const float *bias, const float *addend, float lo, float hi, float *c, int ldc);

/// Where the rows of an int8 product go, and what is added to them before the clamp to [`lo`, `hi`]: floats `c`, or
/// uint8 codes `codes` of one scale (`clamp(rint(value × codeInverse) + codeZero, 0, 255)`, NaN to 0), rows `ld`
/// elements apart; a residual of the output's shape, rows `ld` apart, as floats `addend` or as codes `addendCodes`
/// (`addendScale × (code − addendZero)`), or none (both NULL).
typedef struct {
    float *c;
    uint8_t *codes;
    float codeInverse;
    int32_t codeZero;
    const float *addend;
    const uint8_t *addendCodes;
    float addendScale;
    int32_t addendZero;
    float lo, hi;
    int ld;
} an_int8_store;

/// `an_int8_linear` on rows already quantized: `q` holds `m` rows of `kpad` bytes (k rounded up to 4; the bytes past k
/// are read but meet zero weights), row `r` with scale `rowScales[r]` and zero point `zeros[r]`, stored as `store` says.
/// Returns 0, or -1 when scratch memory could not be allocated.
int an_int8_linear_codes(int m, int n, int kpad, const uint8_t *q, const float *rowScales, const int32_t *zeros,
                         const int8_t *packed, const float *scales, const int32_t *sums, const float *bias, an_int8_store store);

/// `an_int8_linear_codes` on rows read where they lie: row `r`'s `kpad` bytes are `runs` runs of `kpad / runs` bytes (a
/// multiple of 4), run `s` at `rows[r] + s × runStride` — a convolution's rows of taps read in place from its padded
/// input, without an im2col copy. The AVX-512 VNNI body reads the runs where they are; the others copy each block of
/// rows together first. Returns 0, or -1 when scratch memory could not be allocated.
int an_int8_linear_runs(int m, int n, int kpad, const uint8_t *const *rows, int runs, size_t runStride, const float *rowScales,
                        const int32_t *zeros, const int8_t *packed, const float *scales, const int32_t *sums, const float *bias,
                        an_int8_store store);

/// The range of `count` floats widened to contain 0 (NaN skipped): what `an_int8_quantize` takes, combined across parts
/// of a tensor by their minimum and maximum.
void an_int8_range(const float *x, size_t count, float *low, float *high);

/// Quantizes `count` floats to uint8 with the one scale and zero point of the range [`low`, `high`] (which contains 0, so
/// that 0 — a convolution's padding — is exact), written to `scale` and `zero`: `an_int8_linear`'s rule for a row.
void an_int8_quantize(const float *x, size_t count, float low, float high, uint8_t *q, float *scale, int32_t *zero);

/// `count` floats as uint8 codes of one scale: `q[i] = clamp(rint(x[i] × inverse) + zero, 0, 255)`, NaN to 0 (the
/// rounding and clamp of ``an_int8_quantize`` and of the int8 product's store).
void an_int8_codes(const float *x, size_t count, float inverse, int32_t zero, uint8_t *q);

/// The values of `count` uint8 codes of one scale and zero point: `x[i] = scale × (q[i] − zero)`.
void an_int8_dequantize(const uint8_t *q, size_t count, float scale, int32_t zero, float *x);

/// Panels of 16 columns in packed float weights for `n` columns.
int an_packed_panels(int n);

/// Floats of packed float weights for a `k×n` matrix (n rounded up to 16).
size_t an_packed_size(int k, int n);

/// Row-major float weights `w[k×n]` as panels of 16 columns, each `k` rows of 16 floats (the last zero-padded).
void an_pack_panels(const float *w, int k, int n, float *packed);

/// `values[i] = 1 / (1 + e^−x)` in place, e^x vectorized (relative error under 1e-6 against the exact sigmoid).
void an_sigmoid(float *values, size_t count);

/// `values[i] = x / (1 + e^−x)` (swish, SiLU) in place, as ``an_sigmoid``.
void an_swish(float *values, size_t count);

/// Whether ``an_packed_gemm`` has a SIMD body at the current level: AVX-512 (12 rows × 32 columns a tile) or AVX2 and
/// FMA (6 × 16), which give the same bits. Otherwise layers keep their plain weights and multiply by BLAS (faster than
/// the portable body).
int an_packed_gemm_has_body(void);

/// Columns of panels `firstPanel ..< firstPanel + panelCount` of `c[m×n] = clamp(a[m×k] · w + bias + addend, lo, hi)`,
/// with `w` packed by ``an_pack_panels``, on the calling thread; `bias` and `addend` (laid out as `c`, `ldc` apart: a
/// residual connection) may be NULL; NaN passes the clamp.
void an_packed_gemm(int m, int n, int k, const float *a, int lda, const float *packed, const float *bias, const float *addend,
                    float lo, float hi, float *c, int ldc, int firstPanel, int panelCount);

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

/// ``an_depthwise`` with its output written as uint8 codes, `codes[i]` = ``an_int8_codes`` of `output[i]` with `inverse`
/// and `zero`: from the registers where AVX-512 runs the padded bands (stride 1, rows over 64 pixels); elsewhere a row at
/// a time through `line` (`outputWidth × inputChannels` floats of scratch).
void an_depthwise_codes(const AnWindowShape *shape, const float *input, const float *weights, const float *bias, int firstRow,
                        int rowCount, float lo, float hi, float inverse, int32_t zero, float *line, uint8_t *codes);

/// Pixels in a row of a depthwise convolution's zero-padded input (``an_depthwise_padded``): the columns its
/// output row reads, `(outputWidth − 1) · strideX + (kernelWidth − 1) · dilationX + 1`.
int an_depthwise_padded_width(const AnWindowShape *shape);

/// Output rows (at most 8, at least 1) whose padded input rows fit in `bytes`.
int an_depthwise_band_rows(const AnWindowShape *shape, size_t bytes);

/// Channels `firstChannel ..< firstChannel + channelCount` (from a multiple of 8) of output rows `0 ..< rows` of one
/// image's depthwise convolution, as ``an_depthwise``, from input rows already zero-padded, `rowStride` floats apart:
/// row `r · strideY + ky · dilationY` of `padded` is the input row output row `r` reads at tap `ky` (zeros above and
/// below the image), its column `x` input column `x − padLeft` (zeros outside the image), ``an_depthwise_padded_width``
/// pixels of all channels. No tap needs a bounds test.
void an_depthwise_padded(const AnWindowShape *shape, const float *padded, size_t rowStride, int rows, int firstChannel,
                         int channelCount, const float *weights, const float *bias, float lo, float hi, float *output);

/// ``an_depthwise_padded`` with its output written as uint8 codes, `codes[i]` = ``an_int8_codes`` of `output[i]` with
/// `inverse` and `zero`, at the offsets the floats would have: on AVX-512 straight from the registers; elsewhere a row
/// at a time through `line` (`outputWidth × inputChannels` floats of scratch).
void an_depthwise_padded_codes(const AnWindowShape *shape, const float *padded, size_t rowStride, int rows, int firstChannel,
                               int channelCount, const float *weights, const float *bias, float lo, float hi, float inverse,
                               int32_t zero, float *line, uint8_t *codes);

/// Output rows `firstRow ..< firstRow + rowCount` (over the whole batch) of a convolution with few input
/// channels (a network's stem: 1 or 3), weights HWIO `[kh, kw, inputChannels, outputChannels]`, `bias`,
/// clamped to [lo, hi]: each input value is broadcast against 16 output channels' weights.
void an_conv_few_inputs(const AnWindowShape *shape, const float *input, const float *weights, const float *bias,
                        int firstRow, int rowCount, float lo, float hi, float *output);

/// `target[c]` = the largest value of channel `c` in a window of `rows` × `columns` pixels of `channels` floats each,
/// from `first` (its top-left pixel), rows `rowStride` floats apart; −∞ for an empty window. NaN is passed over.
void an_window_max(const float *first, size_t rowStride, int rows, int columns, int channels, float *target);

/// `totals[c]` += the sum of channel `c` < `channels` over `positions` (`input[position · stride + c]`): float sums of 32
/// positions at a time added into the double totals, so that shares of positions split at multiples of 32 add the same
/// float sums.
void an_channel_totals(const float *input, size_t positions, int stride, int channels, double *totals);

/// Winograd F(4×4, 3×3), stride 1: the input transform `V = Bᵀ d B` of tiles `firstTile ..< firstTile + tileCount`
/// (4×4 output tiles numbered over the batch, row-major), written as 36 blocks `v[position · stride + tile · Cin + c]`.
void an_winograd_input(const AnWindowShape *shape, const float *input, int firstTile, int tileCount, float *v, size_t stride);

/// The output transform `Y = Aᵀ M A` of the same tiles from `m[position · stride + tile · Cout + c]`, plus `bias`,
/// clamped to [lo, hi], written where each tile lies inside the output.
void an_winograd_output(const AnWindowShape *shape, const float *m, size_t stride, int firstTile, int tileCount,
                        const float *bias, float lo, float hi, float *output);

#endif
