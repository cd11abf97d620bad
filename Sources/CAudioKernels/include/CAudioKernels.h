#ifndef AUDIONET_CAUDIOKERNELS_H
#define AUDIONET_CAUDIOKERNELS_H

/// Audio kernels in C, beside the audio reader and the front ends that use them.

/// Polyphase resampling by a rational ratio P/Q: outputs `firstOutput ..< firstOutput + outputCount` (absolute),
/// output t = Σ_j bank[(t mod Q)·taps + j] · x[⌊t·P/Q⌋ − (left − 1) + j], where `input` holds the absolute
/// samples `inputStart ..< inputStart + inputCount` of a `totalInput`-sample signal and any other sample is zero.
void an_polyphase(const float *input, long inputStart, long inputCount, long totalInput, const float *bank, int taps,
                  int left, int inputPeriod, int outputPeriod, long firstOutput, long outputCount, float *output);

/// `frame[n] = samples[n] · window[n]` for n < `length`, in double precision (the FFT's zero padding after it is
/// left as it is).
void an_window_frame(const float *samples, const double *window, int length, double *frame);

/// One log-mel frame from an FFT's `bins` interleaved (re, im) values: `mel[b] = log(Σ_i w · |X[first_b + i]| +
/// logOffset)` over band b's `bandLength[b]` weights, which follow band b − 1's in `bandWeights`. `magnitudes`
/// is scratch of `bins` floats.
void an_log_mel_frame(const double *spectrum, int bins, const int *bandFirst, const int *bandLength,
                      const float *bandWeights, int bands, float logOffset, float *magnitudes, float *mel);

#endif
