// Global average pooling over an image's positions: the squeeze of squeeze-and-excite (sixteen in EfficientNet-B0)
// and the pooling before a classifier. Float sums of 32 positions at a time, in registers, go into double totals.
#include "CKernels.h"

enum { BLOCK = 32, ROWS = 32 };  // 32 channels: four AVX2 vectors of sums; 32 positions summed in float, then flushed

AN_PORTABLE_CLONES
void an_channel_totals(const float *input, size_t positions, int stride, int channels, double *totals) {
    for (int first = 0; first < channels; first += BLOCK) {
        int width = channels - first < BLOCK ? channels - first : BLOCK;
        double block_totals[BLOCK] = {0};
        for (int j = 0; j < width; j++) block_totals[j] = totals[first + j];
        for (size_t block = 0; block < positions; block += ROWS) {
            size_t last = block + ROWS < positions ? block + ROWS : positions;
            float sums[BLOCK] = {0};
            if (width == BLOCK) {
                for (size_t p = block; p < last; p++) {
                    const float *row = input + p * (size_t)stride + first;
                    for (int j = 0; j < BLOCK; j++) sums[j] += row[j];
                }
            } else {
                for (size_t p = block; p < last; p++) {
                    const float *row = input + p * (size_t)stride + first;
                    for (int j = 0; j < width; j++) sums[j] += row[j];
                }
            }
            for (int j = 0; j < BLOCK; j++) block_totals[j] += sums[j];
        }
        for (int j = 0; j < width; j++) totals[first + j] = block_totals[j];
    }
}
