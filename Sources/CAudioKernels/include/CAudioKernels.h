#ifndef AUDIONET_CAUDIOKERNELS_H
#define AUDIONET_CAUDIOKERNELS_H

/// Audio kernels in C, beside the audio reader and the front ends that use them.

/// Polyphase resampling by a rational ratio P/Q: outputs `firstOutput ..< firstOutput + outputCount` (absolute),
/// output t = Σ_j bank[(t mod Q)·taps + j] · x[⌊t·P/Q⌋ − (left − 1) + j], where `input` holds the absolute
/// samples `inputStart ..< inputStart + inputCount` of a `totalInput`-sample signal and any other sample is zero.
void an_polyphase(const float *input, long inputStart, long inputCount, long totalInput, const float *bank, int taps,
                  int left, int inputPeriod, int outputPeriod, long firstOutput, long outputCount, float *output);

/// Two frames as one complex signal for one FFT of both, in split form: `real[n] = first[n] · window[n]`, `imaginary[n] =
/// second[n] · window[n]` (0 when `second` is NULL) for n < `length`, in double precision (the FFT's zero padding after
/// them is left as it is). Returns 0 when a product is not finite (a NaN or infinite sample), which the FFT would
/// spread into the other frame: the caller then transforms the two apart.
int an_window_frame_pair(const float *first, const float *second, const double *window, int length, double *real,
                         double *imaginary);

/// The magnitudes |X[k]| and |Y[k]|, bins `lo ..< hi`, of two real frames x and y from the `size`-point complex
/// spectrum Z (`real`, `imaginary`) of x + i·y.
void an_pair_magnitudes(const double *real, const double *imaginary, int size, int lo, int hi, float *first, float *second);

/// The tables `an_fft512` reads: 1008 doubles.
void an_fft512_twiddles(double *twiddles);

/// The 512-point DFT X[k] = Σₙ x[n]·e^(−2πi·nk/512) of x = `re` + i·`im` into `outRe`, `outIm` (not the input's
/// arrays), with `twiddles` from `an_fft512_twiddles` and 1024 doubles of `scratch`: 1 where the processor has
/// AVX-512; 0, writing nothing, elsewhere (the caller's FFT serves).
int an_fft512(const double *re, const double *im, const double *twiddles, double *scratch, double *outRe, double *outIm);

/// Mel bands summed together by `an_log_mel_frames`.
#define AN_MEL_GROUP 8

/// `frames` (1 or 2) log-mel frames from magnitudes |X[k]| (frame f's at `magnitudes + f · magnitudeStride`):
/// `mel[f · bands + b] = log(Σ_k w_b[k] · |X_f[k]| + logOffset)`, the bands summed `AN_MEL_GROUP` at a time: group g
/// reads bins `groupFirst[g] ..< groupFirst[g] + groupLength[g]`, and for each of them `groupWeights` holds the group's
/// `AN_MEL_GROUP` weights (zero past `bands`), after the previous group's.
void an_log_mel_frames(const float *magnitudes, int magnitudeStride, int frames, const int *groupFirst, const int *groupLength,
                       const float *groupWeights, int bands, float logOffset, float *mel);

#endif
