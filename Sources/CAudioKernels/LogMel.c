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

AN_PORTABLE_CLONES_AVX512
int an_window_frame_pair(const float *first, const float *second, const double *window, int length, double *real,
                         double *imaginary) {
    uint32_t bad = 0;
    for (int n = 0; n < length; n++) {
        float x = first[n];
        real[n] = (double)x * window[n];
        bad |= not_finite(x);
    }
    if (second) {
        for (int n = 0; n < length; n++) {
            float y = second[n];
            imaginary[n] = (double)y * window[n];
            bad |= not_finite(y);
        }
    } else {
        for (int n = 0; n < length; n++) imaginary[n] = 0;
    }
    return bad == 0;
}

/// The powers |X[k]|² and |Y[k]|² from Z[k] and Z[N − k] (`mirrorRe`, `mirrorIm`): 2X[k] = Z[k] + conj Z[N − k],
/// 2iY[k] = Z[k] − conj Z[N − k]; in double, stored as float.
static inline void split_bin(double re, double im, double mirrorRe, double mirrorIm, float *first, float *second) {
    double xr = re + mirrorRe, xi = im - mirrorIm, yr = im + mirrorIm, yi = mirrorRe - re;
    *first = (float)(0.25 * (xr * xr + xi * xi));
    *second = (float)(0.25 * (yr * yr + yi * yi));
}

AN_PORTABLE_CLONES_AVX512
void an_pair_magnitudes(const double *real, const double *imaginary, int size, int lo, int hi, float *first, float *second) {
    int k = lo;
    if (k == 0 && hi > 0) {
        split_bin(real[0], imaginary[0], real[0], imaginary[0], first, second);  // DC is its own mirror
        k = 1;
    }
    // Z[N − k] runs backwards as k runs forwards; the powers first, then their roots, so that both loops vectorize
    // (fabsf of a power changes nothing but tells the compiler that sqrtf needs no errno path).
    for (int j = k; j < hi; j++) split_bin(real[j], imaginary[j], real[size - j], imaginary[size - j], first + j, second + j);
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

/// A group's `AN_MEL_GROUP` bands side by side.
typedef float MelVector __attribute__((vector_size(AN_MEL_GROUP * sizeof(float))));

/// ``an_log_mel_frames``'s sums for `first`, and with `pair` for `second` too, sharing each load of the weights: per band
/// and frame four partial sums, bins taken in turn, so that four multiply-add chains a frame run side by side.
__attribute__((always_inline))
static inline void mel_sums(int pair, const float *first, const float *second, const int *groupFirst, const int *groupLength,
                            const float *groupWeights, int bands, float logOffset, float *mel) {
    const float *weights = groupWeights;
    for (int group = 0; group * AN_MEL_GROUP < bands; group++) {
        MelVector a[4] = {0}, b[4] = {0};
        const float *x = first + groupFirst[group], *y = pair ? second + groupFirst[group] : first;
        int length = groupLength[group], i = 0;
        for (; i + 4 <= length; i += 4, weights += 4 * AN_MEL_GROUP) {
            for (int chain = 0; chain < 4; chain++) {
                MelVector w;
                memcpy(&w, weights + chain * AN_MEL_GROUP, sizeof w);
                a[chain] += w * x[i + chain];
                if (pair) b[chain] += w * y[i + chain];
            }
        }
        for (; i < length; i++, weights += AN_MEL_GROUP) {
            MelVector w;
            memcpy(&w, weights, sizeof w);
            a[0] += w * x[i];
            if (pair) b[0] += w * y[i];
        }
        MelVector sumA = (a[0] + a[1]) + (a[2] + a[3]) + logOffset, sumB = (b[0] + b[1]) + (b[2] + b[3]) + logOffset;
        int count = bands - group * AN_MEL_GROUP < AN_MEL_GROUP ? bands - group * AN_MEL_GROUP : AN_MEL_GROUP;
        for (int band = 0; band < count; band++) {
            mel[group * AN_MEL_GROUP + band] = sumA[band];
            if (pair) mel[bands + group * AN_MEL_GROUP + band] = sumB[band];
        }
    }
}

AN_PORTABLE_CLONES_AVX512
void an_log_mel_frames(const float *magnitudes, int magnitudeStride, int frames, const int *groupFirst, const int *groupLength,
                       const float *groupWeights, int bands, float logOffset, float *mel) {
    if (frames == 2)
        mel_sums(1, magnitudes, magnitudes + magnitudeStride, groupFirst, groupLength, groupWeights, bands, logOffset, mel);
    else
        mel_sums(0, magnitudes, NULL, groupFirst, groupLength, groupWeights, bands, logOffset, mel);
    // The logs in one loop that vectorizes; a value that is not a normal positive float (a NaN or infinite sample, a
    // zero offset) takes libm's log after it.
    for (int first = 0; first < frames * bands; first += 16) {
        int count = frames * bands - first < 16 ? frames * bands - first : 16;
        float values[16];
        uint32_t abnormal = 0;
        for (int i = 0; i < count; i++) {
            float x = mel[first + i];
            values[i] = x;
            abnormal |= !(x >= FLT_MIN && x <= FLT_MAX);
            mel[first + i] = normal_log(x);
        }
        if (abnormal) {
            for (int i = 0; i < count; i++)
                if (!(values[i] >= FLT_MIN && values[i] <= FLT_MAX)) mel[first + i] = logf(values[i]);
        }
    }
}
