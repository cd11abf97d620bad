// The one CPU-feature API: what the processor has (read once through cpuid), capped by the SIMD level, is
// what every kernel may use. A kernel asks `an_cpu_has` for the features of a body before it runs it, so no
// cap or environment setting can make it run an instruction the processor lacks.
#include "CBase.h"

#include <stdatomic.h>
#include <stdlib.h>
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

/// Features the processor has; -1 until first read.
static _Atomic int detected = -1;
/// The widest tier allowed: 3 AMX, 2 AVX-512, 1 AVX2-class (AVX2, AVX-VNNI), 0 portable; -1 until first read.
static _Atomic int cap = -1;

// Linux hands a process the tile registers' state only when asked (`ARCH_REQ_XCOMP_PERM` for XTILEDATA, state
// component 18; Linux 5.16 on); without it the first tile instruction faults. Asked once, for the whole process.
static int amx_permitted(void) {
#if defined(__x86_64__) && defined(__linux__)
    enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
    return 0;
#endif
}

static int detect(void) {
    int bits = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) bits |= AN_CPU_AVX2;
    if ((bits & AN_CPU_AVX2) && __builtin_cpu_supports("avxvnni")) bits |= AN_CPU_AVX_VNNI;
    if (__builtin_cpu_supports("avx512f")) bits |= AN_CPU_AVX512;
    if ((bits & AN_CPU_AVX512) && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512vnni"))
        bits |= AN_CPU_AVX512_VNNI;
    if ((bits & AN_CPU_AVX512_VNNI) && __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-int8") && amx_permitted())
        bits |= AN_CPU_AMX_INT8;
#endif
    return bits;
}

static int clamp_level(int level) { return level < 0 ? 0 : (level > 3 ? 3 : level); }

/// The tier a feature belongs to.
static int tier(int feature) {
    if (feature & AN_CPU_AMX_INT8) return 3;
    return (feature & (AN_CPU_AVX512 | AN_CPU_AVX512_VNNI)) ? 2 : 1;
}

int an_cpu_detected(void) {
    int bits = atomic_load(&detected);
    if (bits < 0) {
        bits = detect();
        atomic_store(&detected, bits);
    }
    return bits;
}

/// The calling thread's level, or −1: a test comparing bodies lowers its own thread's, not those of the tests beside it.
static _Thread_local int thread_level = -1;

void an_set_thread_simd_level(int level) { thread_level = level < 0 ? -1 : clamp_level(level); }

int an_thread_simd_level(void) { return thread_level; }

int an_simd_level(void) {
    if (thread_level >= 0) return thread_level;
    int level = atomic_load(&cap);
    if (level < 0) {
        const char *text = getenv("AUDIONET_SIMD_LEVEL");
        level = text && *text ? clamp_level(atoi(text)) : 3;
        int unset = -1;
        atomic_compare_exchange_strong(&cap, &unset, level);
        level = atomic_load(&cap);
    }
    return level;
}

int an_cpu_has(int features) {
    if ((an_cpu_detected() & features) != features) return 0;
    int level = an_simd_level();
    for (int bit = 1; bit <= AN_CPU_AMX_INT8; bit <<= 1)
        if ((features & bit) && tier(bit) > level) return 0;
    return 1;
}
