#ifndef AUDIONET_CBASE_H
#define AUDIONET_CBASE_H

#include <stddef.h>

/// The foundation under every kernel: the one CPU-feature API, the parallel-loop nesting flag and the
/// allocator policy. Kernel targets (CKernels, CAudioKernels) ask `an_cpu_has` before they run a body.

/// Instruction-set extensions that some kernel body needs, one bit each.
enum {
    AN_CPU_AVX2 = 1,         ///< AVX2 and FMA (tier 1)
    AN_CPU_AVX_VNNI = 2,     ///< AVX-VNNI, the 256-bit `vpdpbusd` of Intel's client cores (tier 1)
    AN_CPU_AVX512 = 4,       ///< AVX-512 F (tier 2)
    AN_CPU_AVX512_VNNI = 8,  ///< AVX-512 F, BW, VL and VNNI (tier 2)
    AN_CPU_AMX_INT8 = 16,    ///< AMX tiles and their int8 products, with AVX-512 VNNI and the kernel's permission (tier 3)
};

/// The extensions this processor has (and its operating system enables), read once through cpuid.
int an_cpu_detected(void);

/// Whether a kernel may use all of `features`: the processor has them and the SIMD level allows their tier.
int an_cpu_has(int features);

/// The widest tier kernels may use on the calling thread: 3 (the default) AMX, 2 AVX-512, 1 AVX2-class, 0 portable — the
/// thread's own level when set (``an_set_thread_simd_level``), else `$AUDIONET_SIMD_LEVEL` when set. A level above
/// what the processor has changes nothing: `an_cpu_has` also asks the processor. On x86-64 Linux the loader still
/// picks the AVX2 clones of the portable bodies (`AN_PORTABLE_CLONES`) at level 0 when the processor has AVX2.
int an_simd_level(void);

/// Sets the SIMD level (clamped to 0…3; −1: back to the process's) of the calling thread and of the parallel loops
/// it starts (``an_pool_run``), for tests that compare bodies while other tests run.
void an_set_thread_simd_level(int level);

/// The calling thread's own SIMD level, or −1 where it has the process's.
int an_thread_simd_level(void);

/// The OpenBLAS kernels this processor and SIMD level allow ("SkylakeX", "Haswell"), or NULL to leave OpenBLAS's
/// own choice (its `OPENBLAS_CORETYPE` names).
const char *an_openblas_kernels(void);

/// On x86-64 Linux a portable body marked with this is compiled twice, for AVX2 + FMA (x86-64-v3) and for
/// the baseline, and the loader picks one: processors without AVX-512 still get vectorized loops.
#if defined(__x86_64__) && defined(__linux__)
#define AN_PORTABLE_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define AN_PORTABLE_CLONES
#endif

/// ``AN_PORTABLE_CLONES`` with a third copy for AVX-512 (x86-64-v4), for bodies that have no AVX-512 tier of their own
/// and gain from 512-bit vectors (the log-mel front end's frame pairs: 885 ns against 1030 at 256 bits on a Zen 5).
#if defined(__x86_64__) && defined(__linux__)
#define AN_PORTABLE_CLONES_AVX512 __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define AN_PORTABLE_CLONES_AVX512
#endif

/// Marks the calling thread as running inside a parallel loop (enter/leave nest), so that work it starts
/// runs inline instead of splitting again across the already busy cores.
void an_parallel_enter(void);
void an_parallel_leave(void);
int an_parallel_is_nested(void);

/// An item of a parallel loop: `body(context, index)`.
typedef void (*an_pool_body)(void *context, long index);

/// Runs `body(context, i)` for every i in 0..<count on the calling thread and up to `threads − 1` pooled workers (no
/// more threads than online processors), which take items as they come free, and returns once every item is done. Workers wait for the next loop by
/// spinning (2 ms) before they sleep. One loop runs at a time: a loop started while another runs, or with one thread,
/// runs on its caller alone.
void an_pool_run(long count, int threads, an_pool_body body, void *context);

/// glibc only (a no-op elsewhere): blocks below `mapThreshold` come from the heap instead of fresh mappings,
/// and the heap keeps up to `trimThreshold` free bytes instead of returning them to the kernel.
void an_keep_freed_memory(size_t mapThreshold, size_t trimThreshold);

/// glibc only (a no-op elsewhere): returns the heap's free pages to the kernel (`malloc_trim(0)`).
void an_release_freed_memory(void);

#endif
