// Log-mel frames around the FFT: two frames windowed in double precision as one complex signal before it, their
// magnitudes pulled apart after it, then the sparse mel bank and the log.
#include "CAudioKernels.h"
#include "CBase.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/// Whether a float is infinite or NaN (all exponent bits set), as an integer test the compiler vectorizes.
static inline uint32_t not_finite(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return (bits & 0x7f800000u) == 0x7f800000u;
}

AN_PORTABLE_CLONES
int an_window_frame_pair(const float *first, const float *second, const double *window, int length, double *signal) {
    static const float silence[1] = {0};
    // The second frame's n-th sample is second[n · step]: zeros when there is none.
    const float *other = second ? second : silence;
    int step = second ? 1 : 0;
    uint32_t bad = 0;
    for (int n = 0; n < length; n++) {
        float x = first[n], y = other[n * step];
        signal[2 * n] = (double)x * window[n];
        signal[2 * n + 1] = (double)y * window[n];
        bad |= not_finite(x) | not_finite(y);
    }
    return bad == 0;
}

/// |X[k]| and |Y[k]| from Z[k] and Z[N − k] (at `mirror`): 2X[k] = Z[k] + conj Z[N − k], 2iY[k] = Z[k] − conj Z[N − k].
/// The powers in double, their roots in single precision (the magnitudes are stored as float).
static inline void split_bin(const double *z, const double *mirror, float *first, float *second) {
    double xr = z[0] + mirror[0], xi = z[1] - mirror[1], yr = z[1] + mirror[1], yi = mirror[0] - z[0];
    *first = (float)(0.25 * (xr * xr + xi * xi));
    *second = (float)(0.25 * (yr * yr + yi * yi));
}

AN_PORTABLE_CLONES
void an_pair_magnitudes(const double *spectrum, int size, int lo, int hi, float *first, float *second) {
    int k = lo;
    if (k == 0 && hi > 0) {
        split_bin(spectrum, spectrum, first, second);  // DC is its own mirror
        k = 1;
    }
    // Z[N − k] runs backwards as k runs forwards; the powers first, then their roots, so that both loops vectorize
    // (fabsf of a power changes nothing but tells the compiler that sqrtf needs no errno path).
    for (int j = k; j < hi; j++) split_bin(spectrum + 2 * j, spectrum + 2 * (size - j), first + j, second + j);
    for (int j = lo; j < hi; j++) first[j] = sqrtf(fabsf(first[j]));
    for (int j = lo; j < hi; j++) second[j] = sqrtf(fabsf(second[j]));
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
void an_log_mel_frame(const float *magnitudes, const int *groupFirst, const int *groupLength, const float *groupWeights,
                      int bands, float logOffset, float *mel) {
    const float *weights = groupWeights;
    for (int group = 0; group * AN_MEL_GROUP < bands; group++) {
        // Four partial sums per band, bins taken in turn, so that four multiply-add chains run side by side.
        float sums[4][AN_MEL_GROUP] = {{0}};
        const float *source = magnitudes + groupFirst[group];
        int length = groupLength[group], i = 0;
        for (; i + 4 <= length; i += 4, weights += 4 * AN_MEL_GROUP) {
            for (int chain = 0; chain < 4; chain++) {
                for (int band = 0; band < AN_MEL_GROUP; band++) {
                    sums[chain][band] += weights[chain * AN_MEL_GROUP + band] * source[i + chain];
                }
            }
        }
        for (; i < length; i++, weights += AN_MEL_GROUP) {
            for (int band = 0; band < AN_MEL_GROUP; band++) sums[0][band] += weights[band] * source[i];
        }
        int count = bands - group * AN_MEL_GROUP < AN_MEL_GROUP ? bands - group * AN_MEL_GROUP : AN_MEL_GROUP;
        for (int band = 0; band < count; band++) {
            mel[group * AN_MEL_GROUP + band] = (sums[0][band] + sums[1][band]) + (sums[2][band] + sums[3][band]) + logOffset;
        }
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
