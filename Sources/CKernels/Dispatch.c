#include "CKernels.h"
#include "Dispatch.h"

_Atomic int an_simd_level = 2;

void an_set_simd_level(int level) { an_simd_level = level < 0 ? 0 : (level > 2 ? 2 : level); }
