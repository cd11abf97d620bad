#include "CKernels.h"
#include "Dispatch.h"

_Atomic int an_simd_enabled = 1;

void an_set_simd_enabled(int enabled) { an_simd_enabled = enabled != 0; }
