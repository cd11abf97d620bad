// OpenBLAS (built with DYNAMIC_ARCH, as Debian ships it) picks its kernels once, as the library loads, from the
// processor's family and model; on a processor newer than the build knows it falls back to its generic x86-64
// kernels (Debian 12's 0.3.21 runs Prescott's SSE3 sgemm on Sapphire Rapids, a quarter of the speed). It takes
// OPENBLAS_CORETYPE instead when set; this names the kernels the processor's features allow.
#include "CBase.h"

#include <stddef.h>

const char *an_openblas_kernels(void) {
#if defined(__x86_64__)
    int level = an_simd_level();
    __builtin_cpu_init();
    // OpenBLAS's SkylakeX kernels use AVX-512 F, BW, DQ and VL; its Haswell kernels AVX2 and FMA.
    if (level >= 2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (level >= 1 && (an_cpu_detected() & AN_CPU_AVX2)) return "Haswell";
#endif
    return NULL;
}

// AudioNet splits every product over its own workers, so OpenBLAS runs on one thread. This is set as the program
// loads (libopenblas, a library it links, has initialised by then), before any thread exists. Set lazily by the first
// network layer instead, it could run while another thread was inside a product on OpenBLAS's default threads (a
// front end's, before any network had run) and change OpenBLAS's thread pool under it; and such a product, split by
// OpenBLAS's threads, differed in the last bits from the same product on one thread (OpenL3's mel projection: a
// file's first batch of embeddings 4e-6 off the rest).
extern void openblas_set_num_threads(int);

__attribute__((constructor)) static void an_openblas_one_thread(void) { openblas_set_num_threads(1); }
