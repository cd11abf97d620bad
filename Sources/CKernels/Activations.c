// Activations that need e^x, in a form the compiler vectorizes: glibc's expf is one call per value, and a swish
// after each convolution of EfficientNet-B0 took as long as the convolution (about 4 ns a value here).
#include "CKernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

// The portable bodies' clones and one for AVX-512 (16 lanes): every value takes the same operations in each, so the
// same bits.
#if defined(__x86_64__)
#define AN_ACTIVATION_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define AN_ACTIVATION_CLONES
#endif

/// e^x by Cephes's `expf`: x = n·ln 2 + r with |r| ≤ ½ ln 2 (ln 2 in two parts), e^r by its degree-5 polynomial
/// (relative error under 2e-7), times 2^n built in the exponent bits. x is first clamped to [−87, 88], where 2^n
/// stays a normal float: e^x saturates there (about 1.6e-38 and 1.7e38) instead of reaching 0 or infinity. NaN
/// passes through.
static inline float clamped_exp(float x) {
    x = x > 88.0f ? 88.0f : x;
    x = x < -87.0f ? -87.0f : x;
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t exponent = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &exponent, sizeof scale);
    return p * scale;
}

AN_ACTIVATION_CLONES
void an_sigmoid(float *values, size_t count) {
#pragma clang loop interleave_count(4)  // as an_swish's
    for (size_t i = 0; i < count; i++) values[i] = 1.0f / (1.0f + clamped_exp(-values[i]));
}

AN_ACTIVATION_CLONES
void an_swish(float *values, size_t count) {
    // Below −100, x · e^x is under the smallest float: −0, as x / (1 + e^−x) would give with an exact e^x (with the
    // saturated one, −1e30 would give −6e-9).
    // Four vectors an iteration, so that their dependency chains (e^x's polynomial, then the division) overlap: one at a
    // time, each waited on the last; 0.58 → 0.46 ns a value on a Zen 3 core (AVX2 clone).
#pragma clang loop interleave_count(4)
    for (size_t i = 0; i < count; i++) {
        float x = values[i];
        values[i] = x < -100.0f ? -0.0f : x / (1.0f + clamped_exp(-x));
    }
}
