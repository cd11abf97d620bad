#ifndef AUDIONET_CAUDIOKERNELS_H
#define AUDIONET_CAUDIOKERNELS_H

/// Audio kernels in C, beside the audio reader that uses them.

/// Polyphase resampling by a rational ratio P/Q: outputs `firstOutput ..< firstOutput + outputCount` (absolute),
/// output t = Σ_j bank[(t mod Q)·taps + j] · x[⌊t·P/Q⌋ − (left − 1) + j], where `input` holds the absolute
/// samples `inputStart ..< inputStart + inputCount` of a `totalInput`-sample signal and any other sample is zero.
void an_polyphase(const float *input, long inputStart, long inputCount, long totalInput, const float *bank, int taps,
                  int left, int inputPeriod, int outputPeriod, long firstOutput, long outputCount, float *output);

#endif
