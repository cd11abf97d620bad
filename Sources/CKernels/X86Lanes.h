// What the kernels' x86 bodies share: the intrinsics, `AN_X86`, the mask of an 8-lane tail and the uint8 code store.
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

/// The lanes of `mask` of `x` stored at `q` as uint8 codes of a scale's `inverse` and a `zero` point (both broadcast):
/// rounded to nearest even, the zero point added, clamped to 0…255 (NaN to 0: max returns its second operand) —
/// ``an_int8_codes``'s bytes, wherever a kernel stores codes from its registers.
__attribute__((target("avx512f"), always_inline))
static inline void store_codes_avx512(uint8_t *q, __mmask16 mask, __m512 x, __m512 inverse, __m512 zero) {
    __m512 v = _mm512_add_ps(_mm512_roundscale_ps(_mm512_mul_ps(x, inverse), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zero);
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_setzero_ps()), _mm512_set1_ps(255));
    _mm512_mask_cvtepi32_storeu_epi8(q, mask, _mm512_cvttps_epi32(v));
}
#endif

#endif
