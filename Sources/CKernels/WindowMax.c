// Max pooling's window maxima on NHWC tensors (ResNet's 3×3/2 after its stem: 112×112×64 → 56×56×64): the window's
// pixels folded into 64 channels of maxima held in registers, where the layer's own loop kept them in the output
// pixel and loaded and stored it again for every pixel of the window (0.5 ms against ONNX Runtime's 0.2 here).
#include "CKernels.h"

enum { BLOCK = 64 };  // four AVX-512 or eight AVX2 vectors of maxima

AN_PORTABLE_CLONES_AVX512
void an_window_max(const float *first, size_t rowStride, int rows, int columns, int channels, float *target) {
    for (int c0 = 0; c0 < channels; c0 += BLOCK) {
        int width = channels - c0 < BLOCK ? channels - c0 : BLOCK;
        float maxima[BLOCK];
        for (int c = 0; c < BLOCK; c++) maxima[c] = -__builtin_inff();
        for (int r = 0; r < rows; r++)
            for (int x = 0; x < columns; x++) {
                const float *pixel = first + (size_t)r * rowStride + (size_t)x * channels + c0;
                // A NaN is passed over, as Swift's `max(maximum, value)` passes it over.
                if (width == BLOCK)
                    for (int c = 0; c < BLOCK; c++) maxima[c] = pixel[c] >= maxima[c] ? pixel[c] : maxima[c];
                else
                    for (int c = 0; c < width; c++) maxima[c] = pixel[c] >= maxima[c] ? pixel[c] : maxima[c];
            }
        for (int c = 0; c < width; c++) target[c0 + c] = maxima[c];
    }
}
