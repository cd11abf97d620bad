// Polyphase resampling: output t is the dot product of filter (t mod Q) with the `taps` input samples that
// start `left − 1` samples before its anchor ⌊t · P / Q⌋. Samples outside the signal count as zero.
#include "CAudioKernels.h"
#include "CBase.h"

AN_PORTABLE_CLONES
void an_polyphase(const float *input, long inputStart, long inputCount, long totalInput, const float *bank, int taps,
                  int left, int inputPeriod, int outputPeriod, long firstOutput, long outputCount, float *output) {
    long available0 = inputStart > 0 ? inputStart : 0;
    long available1 = inputStart + inputCount < totalInput ? inputStart + inputCount : totalInput;
    for (long t = firstOutput; t < firstOutput + outputCount; t++) {
        long anchor = t / outputPeriod * inputPeriod + (t % outputPeriod) * inputPeriod / outputPeriod;
        const float *filter = bank + (size_t)(t % outputPeriod) * taps;
        long start = anchor - (left - 1);
        float sum = 0;
        if (start >= available0 && start + taps <= available1) {
            // Sixteen running sums, so that the loop vectorizes (a single sum is a serial chain).
            const float *x = input + (start - inputStart);
            float lanes[16] = {0};
            int j = 0;
            for (; j + 16 <= taps; j += 16)
                for (int l = 0; l < 16; l++) lanes[l] += filter[j + l] * x[j + l];
            for (; j < taps; j++) lanes[j % 16] += filter[j] * x[j];
            for (int l = 0; l < 16; l++) sum += lanes[l];
        } else {
            for (int j = 0; j < taps; j++) {
                long index = start + j;
                if (index >= available0 && index < available1) sum += filter[j] * input[index - inputStart];
            }
        }
        output[t - firstOutput] = sum;
    }
}
