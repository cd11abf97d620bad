// The 512-point complex DFT of the log-mel front ends (YAMNet's and VGGish's FFT length) on split arrays: radix 8 in
// three Stockham passes (Govindaraju et al., "High performance discrete Fourier transforms on graphics processors",
// SC 2008), eight of a pass's 64 butterflies side by side in the lanes of a vector of eight doubles. With AVX-512 only:
// 259 ns a transform on a Zen 5 against FFTW's 480 (FFTW_ESTIMATE split plan); compiled for AVX2 the same code took
// 590 (its vectors in two registers each, half the registers), and there FFTW serves.
#include "CAudioKernels.h"
#include "CBase.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#define AVX512_TARGET __attribute__((target("avx512f")))
#endif

/// Eight doubles, one butterfly each.
typedef double Lanes __attribute__((vector_size(8 * sizeof(double))));

static inline Lanes load(const double *at) {
    Lanes v;
    memcpy(&v, at, sizeof v);
    return v;
}

static inline void store(double *at, Lanes v) { memcpy(at, &v, sizeof v); }

/// The 8-point DFT of each lane's `re[r] + i·im[r]`, r = 0…7, in natural order: the even and odd points' 4-point
/// DFTs, then X[k] = E[k] + W₈ᵏ·O[k] and X[k + 4] = E[k] − W₈ᵏ·O[k].
__attribute__((always_inline))
static inline void dft8(Lanes *re, Lanes *im) {
    const double half = 0.70710678118654752440;  // √½
    Lanes er[4], ei[4], orr[4], oi[4];
    for (int part = 0; part < 2; part++) {
        Lanes *xr = part ? orr : er, *xi = part ? oi : ei;
        // The 4-point DFT of points part, part + 2, part + 4, part + 6.
        Lanes ar = re[part] + re[part + 4], ai = im[part] + im[part + 4];
        Lanes br = re[part] - re[part + 4], bi = im[part] - im[part + 4];
        Lanes cr = re[part + 2] + re[part + 6], ci = im[part + 2] + im[part + 6];
        Lanes dr = im[part + 2] - im[part + 6], di = re[part + 6] - re[part + 2];  // (a₁ − a₃)·(−i)
        xr[0] = ar + cr, xi[0] = ai + ci;
        xr[2] = ar - cr, xi[2] = ai - ci;
        xr[1] = br + dr, xi[1] = bi + di;
        xr[3] = br - dr, xi[3] = bi - di;
    }
    // W₈¹ = (1 − i)/√2, W₈² = −i, W₈³ = −(1 + i)/√2.
    Lanes t1r = (orr[1] + oi[1]) * half, t1i = (oi[1] - orr[1]) * half;
    Lanes t2r = oi[2], t2i = -orr[2];
    Lanes t3r = (oi[3] - orr[3]) * half, t3i = -(orr[3] + oi[3]) * half;
    re[0] = er[0] + orr[0], im[0] = ei[0] + oi[0];
    re[4] = er[0] - orr[0], im[4] = ei[0] - oi[0];
    re[1] = er[1] + t1r, im[1] = ei[1] + t1i;
    re[5] = er[1] - t1r, im[5] = ei[1] - t1i;
    re[2] = er[2] + t2r, im[2] = ei[2] + t2i;
    re[6] = er[2] - t2r, im[6] = ei[2] - t2i;
    re[3] = er[3] + t3r, im[3] = ei[3] + t3i;
    re[7] = er[3] - t3r, im[7] = ei[3] - t3i;
}

/// Rows of an 8 × 8 block of doubles as its columns: `v[r]` lane l becomes `v[l]` lane r.
__attribute__((always_inline))
static inline void transpose8(Lanes *v) {
    Lanes a[8], b[8];
    for (int r = 0; r < 8; r += 2) {
        a[r] = __builtin_shufflevector(v[r], v[r + 1], 0, 8, 2, 10, 4, 12, 6, 14);
        a[r + 1] = __builtin_shufflevector(v[r], v[r + 1], 1, 9, 3, 11, 5, 13, 7, 15);
    }
    for (int r = 0; r < 8; r += 4) {
        for (int s = 0; s < 2; s++) {
            b[r + s] = __builtin_shufflevector(a[r + s], a[r + s + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            b[r + s + 2] = __builtin_shufflevector(a[r + s], a[r + s + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
    }
    for (int r = 0; r < 4; r++) {
        v[r] = __builtin_shufflevector(b[r], b[r + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        v[r + 4] = __builtin_shufflevector(b[r], b[r + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/// Pass `pass` (0, 1, 2: sub-transforms of 1, 8, 64 points done before it) from `inRe`, `inIm` into `outRe`, `outIm`:
/// butterfly j (lane l of block q, j = 8q + l) reads points j + 64r, r = 0…7, turns each by W₅₁₂ to the power
/// r · (j mod Ns) · 64 / Ns, takes their 8-point DFT and writes point r to (j / Ns) · 8Ns + (j mod Ns) + r · Ns.
__attribute__((always_inline))
static inline void pass8(int pass, const double *inRe, const double *inIm, const double *twiddles, double *outRe, double *outIm) {
    for (int q = 0; q < 8; q++) {
        Lanes re[8], im[8];
        for (int r = 0; r < 8; r++) re[r] = load(inRe + 8 * q + 64 * r), im[r] = load(inIm + 8 * q + 64 * r);
        if (pass > 0) {
            // Pass 1's turns depend on the lane only (j mod 8), pass 2's on the block too.
            const double *turn = twiddles + (pass == 1 ? 0 : 14 * 8 * (1 + q));
            for (int r = 1; r < 8; r++) {
                Lanes cr = load(turn + 16 * (r - 1)), ci = load(turn + 16 * (r - 1) + 8);
                Lanes xr = re[r] * cr - im[r] * ci, xi = re[r] * ci + im[r] * cr;
                re[r] = xr, im[r] = xi;
            }
        }
        dft8(re, im);
        if (pass == 0) {
            // Point r of butterfly j goes to 8j + r: the block's 8 × 8 points transposed, one lane's row at a time.
            transpose8(re);
            transpose8(im);
            for (int l = 0; l < 8; l++) store(outRe + 64 * q + 8 * l, re[l]), store(outIm + 64 * q + 8 * l, im[l]);
        } else if (pass == 1) {
            for (int r = 0; r < 8; r++) store(outRe + 64 * q + 8 * r, re[r]), store(outIm + 64 * q + 8 * r, im[r]);
        } else {
            for (int r = 0; r < 8; r++) store(outRe + 8 * q + 64 * r, re[r]), store(outIm + 8 * q + 64 * r, im[r]);
        }
    }
}

void an_fft512_twiddles(double *twiddles) {
    // Pass 1: W₅₁₂^(r · l · 8) for lane l; pass 2, block q: W₅₁₂^(r · (8q + l)). Each power r as 8 cosines, 8 sines.
    for (int block = 0; block < 9; block++) {
        for (int r = 1; r < 8; r++) {
            for (int l = 0; l < 8; l++) {
                int power = block == 0 ? r * l * 8 : r * (8 * (block - 1) + l);
                double angle = -2 * M_PI * power / 512;
                twiddles[block * 112 + 16 * (r - 1) + l] = cos(angle);
                twiddles[block * 112 + 16 * (r - 1) + 8 + l] = sin(angle);
            }
        }
    }
}

#if defined(__x86_64__)
AVX512_TARGET static void fft512_avx512(const double *re, const double *im, const double *twiddles, double *scratch,
                                        double *outRe, double *outIm) {
    pass8(0, re, im, twiddles, outRe, outIm);
    pass8(1, outRe, outIm, twiddles, scratch, scratch + 512);
    pass8(2, scratch, scratch + 512, twiddles, outRe, outIm);
}
#endif

int an_fft512(const double *re, const double *im, const double *twiddles, double *scratch, double *outRe, double *outIm) {
#if defined(__x86_64__)
    if (an_cpu_has(AN_CPU_AVX512)) {
        fft512_avx512(re, im, twiddles, scratch, outRe, outIm);
        return 1;
    }
#else
    (void)re, (void)im, (void)twiddles, (void)scratch, (void)outRe, (void)outIm;
#endif
    return 0;
}
