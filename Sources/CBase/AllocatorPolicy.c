#include "CBase.h"

#include <stdlib.h>  // defines __GLIBC__ (through features.h) where the C library is glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void an_keep_freed_memory(size_t mapThreshold, size_t trimThreshold) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, (int)mapThreshold);
    mallopt(M_TRIM_THRESHOLD, (int)trimThreshold);
#else
    (void)mapThreshold;
    (void)trimThreshold;
#endif
}

void an_release_freed_memory(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
