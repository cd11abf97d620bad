// One frame of a log-mel spectrogram around the FFT: the window applied in double precision before it, then the
// magnitudes, the sparse mel bank and the log after it.
#include "CAudioKernels.h"
#include "CBase.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

AN_PORTABLE_CLONES
void an_window_frame(const float *samples, const double *window, int length, double *frame) {
    for (int n = 0; n < length; n++) frame[n] = (double)samples[n] * window[n];
}

/// log(x) for normal positive x, in a form the compiler vectorizes (glibc's logf is one call per value, a fifth of
/// the front end's time): x = m · 2^e with m in [√½, √2), log x = e · ln 2 + log m, log m by Cephes's `logf`
/// polynomial in f = m − 1 (relative error under 1e-7 on that interval); ln 2 in two parts, as Cephes adds them.
static inline float normal_log(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int exponent = (int)(bits >> 23) - 127;
    bits = (bits & 0x007fffffu) | 0x3f800000u;
    float m;
    memcpy(&m, &bits, sizeof m);
    if (m > 1.41421356f) {
        m *= 0.5f;
        exponent += 1;
    }
    float f = m - 1.0f, z = f * f, e = (float)exponent;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    float y = f * z * p + e * -2.12194440e-4f - 0.5f * z;
    return f + y + e * 0.693359375f;
}

AN_PORTABLE_CLONES
void an_log_mel_frame(const double *spectrum, int bins, const int *bandFirst, const int *bandLength,
                      const float *bandWeights, int bands, float logOffset, float *magnitudes, float *mel) {
    // |X[k]|: the power summed in double, its square root in single precision (the magnitude is stored as float).
    for (int k = 0; k < bins; k++) {
        double re = spectrum[2 * k], im = spectrum[2 * k + 1];
        magnitudes[k] = sqrtf((float)(re * re + im * im));
    }
    const float *weights = bandWeights;
    for (int band = 0; band < bands; band++) {
        const float *source = magnitudes + bandFirst[band];
        float sum = 0;
        for (int i = 0; i < bandLength[band]; i++) sum += source[i] * weights[i];
        weights += bandLength[band];
        mel[band] = sum + logOffset;
    }
    // Sixteen logs at a time into `logs`, then kept unless the value was not a normal positive float (a NaN or
    // infinite sample, a zero offset): those take libm's log.
    for (int first = 0; first < bands; first += 16) {
        int count = bands - first < 16 ? bands - first : 16;
        float logs[16];
        for (int i = 0; i < count; i++) logs[i] = normal_log(mel[first + i]);
        for (int i = 0; i < count; i++) {
            float x = mel[first + i];
            mel[first + i] = x >= FLT_MIN && x <= FLT_MAX ? logs[i] : logf(x);
        }
    }
}
