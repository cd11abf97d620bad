#ifndef AUDIONET_CKERNELS_DISPATCH_H
#define AUDIONET_CKERNELS_DISPATCH_H

/// Cleared by `an_set_simd_enabled(0)` so that tests can run the portable bodies.
extern _Atomic int an_simd_enabled;

#endif
