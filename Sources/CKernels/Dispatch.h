#ifndef AUDIONET_CKERNELS_DISPATCH_H
#define AUDIONET_CKERNELS_DISPATCH_H

/// On x86-64 Linux the portable bodies are compiled twice, for AVX2 + FMA (x86-64-v3) and for the baseline,
/// and the loader picks one: processors without AVX-512 still get vectorized loops.
#if defined(__x86_64__) && defined(__linux__)
#define AN_PORTABLE_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define AN_PORTABLE_CLONES
#endif

#endif
