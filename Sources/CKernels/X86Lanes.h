// What the kernels' x86 bodies share: the intrinsics, `AN_X86`, and the mask of an 8-lane tail.
#ifndef AUDIONET_X86_LANES_H
#define AUDIONET_X86_LANES_H

#if defined(__x86_64__)
#include <immintrin.h>
#define AN_X86 1

/// The lanes of an 8-lane vector below `count` (a tail of channels or columns; all for 8 or more, none for 0 or
/// fewer), as `vmaskmovps` wants them.
__attribute__((target("avx2"))) static inline __m256i lanes_below(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

#endif
