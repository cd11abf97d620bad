// The int8 product on AMX tiles (Intel Sapphire Rapids on): `tdpbusd` multiplies 16 rows × 64 uint8 codes by 64 k × 16
// columns of int8 weights into 16 × 16 int32 sums — the packed panels' groups of 4 k are the layout it reads, 16 groups
// (a tile of 64 bytes a row) 128 bytes apart. The sums are exact, so the VNNI body's epilogue gives its bits.
#include "Int8Tile.h"

#include <stdlib.h>

#if AN_X86
#define AMX_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,amx-tile,amx-int8")))

// A block is two tiles of 16 rows; rows are copied, a few blocks at a time, into at most 512 KB (in the 2 MB L2).
enum { TILE_ROWS = 16, TILE_BYTES = 64, BLOCK_ROWS = 2 * TILE_ROWS, COPY_BYTES = 512 << 10 };

// `ldtilecfg`'s 64 bytes: palette 1, each tile's bytes a row and rows.
typedef struct {
    uint8_t palette, startRow, reserved[14];
    uint16_t bytesPerRow[16];
    uint8_t rows[16];
} TileConfig;

// Every tile is 16 rows of 64 bytes: 0–3 the int32 sums of 32 rows × 32 columns (rows 0–15 × columns 0–15, rows 0–15 ×
// columns 16–31, rows 16–31 × columns 0–15, rows 16–31 × columns 16–31), 4 and 5 the two tiles of rows' codes, 6 and 7
// a panel's two halves of 16 columns.
AMX_TARGET static void configure_tiles(void) {
    TileConfig config = {.palette = 1};
    for (int tile = 0; tile < 8; tile++) {
        config.bytesPerRow[tile] = TILE_BYTES;
        config.rows[tile] = TILE_ROWS;
    }
    _tile_loadconfig(&config);
}

// `rowTiles` × 16 rows of codes (`stride` apart, `blocks` × 64 of them) times a panel `b` (`halves` 1: its first 16
// columns only), the sums through `dots` (32 × 32), then the first `count` rows stored. `kind`, `halves` and `rowTiles`
// are compile-time constants after inlining.
AMX_TARGET static inline __attribute__((always_inline)) void block_amx(
    int kind, int halves, int rowTiles, int blocks, const uint8_t *a, size_t stride, const int8_t *b, int32_t *dots, int count,
    const float *rowScales, const int32_t *zeros, const TileEnds *ends, Store store) {
    _tile_zero(0);
    if (halves == 2) _tile_zero(1);
    if (rowTiles == 2) _tile_zero(2);
    if (rowTiles == 2 && halves == 2) _tile_zero(3);
    for (int block = 0; block < blocks; block++) {
        const int8_t *w = b + (size_t)block * TILE_ROWS * 4 * PANEL;
        const uint8_t *codes = a + (size_t)block * TILE_BYTES;
        _tile_loadd(4, codes, stride);
        _tile_loadd(6, w, 4 * PANEL);
        if (halves == 2) _tile_loadd(7, w + TILE_BYTES, 4 * PANEL);
        _tile_dpbusd(0, 4, 6);
        if (halves == 2) _tile_dpbusd(1, 4, 7);
        if (rowTiles == 2) {
            _tile_loadd(5, codes + TILE_ROWS * stride, stride);
            _tile_dpbusd(2, 5, 6);
            if (halves == 2) _tile_dpbusd(3, 5, 7);
        }
    }
    _tile_stored(0, dots, 4 * PANEL);
    if (halves == 2) _tile_stored(1, dots + 16, 4 * PANEL);
    if (rowTiles == 2) _tile_stored(2, dots + TILE_ROWS * PANEL, 4 * PANEL);
    if (rowTiles == 2 && halves == 2) _tile_stored(3, dots + TILE_ROWS * PANEL + 16, 4 * PANEL);
    RowTerms terms[2];
    terms[0] = terms[1] = row_terms(ends, zeros[0], rowScales[0]);
    int uniform = rows_share_terms(count, zeros, rowScales);
    for (int r = 0; r < count; r += 2) {
        int rows = r + 1 < count ? 2 : 1;
        __m512i acc[2][2];
        for (int i = 0; i < rows; i++) {
            if (!uniform) terms[i] = row_terms(ends, zeros[r + i], rowScales[r + i]);
            acc[i][0] = _mm512_sub_epi32(_mm512_load_si512(dots + (r + i) * PANEL), terms[i].offset0);
            acc[i][1] = halves == 2 ? _mm512_sub_epi32(_mm512_load_si512(dots + (r + i) * PANEL + 16), terms[i].offset1) : acc[i][0];
        }
        if (rows == 2) store_rows_vnni(kind, halves, 2, ends, terms, acc, store, (size_t)r * store.ld);
        else store_rows_vnni(kind, halves, 1, ends, terms, acc, store, (size_t)r * store.ld);
    }
}

// Every panel times the `rows` copied rows, 32 at a time (the panel stays in L2 while its blocks of rows pass).
AMX_TARGET static inline __attribute__((always_inline)) void panels_amx(
    int kind, int rows, int n, int blocks, const uint8_t *a, size_t stride, const float *rowScales, const int32_t *zeros,
    const int8_t *packed, size_t panelBytes, const float *scales, const int32_t *sums, const float *bias, Store store, int32_t *dots) {
    for (int panel = 0; panel * PANEL < n; panel++) {
        int first = panel * PANEL, width = n - first < PANEL ? n - first : PANEL;
        TileEnds ends = tile_ends(scales + first, sums + first, bias ? bias + first : NULL, store, half_mask(width, 0), half_mask(width, 1));
        const int8_t *b = packed + (size_t)panel * panelBytes;
        for (int r = 0; r < rows; r += BLOCK_ROWS) {
            int count = rows - r < BLOCK_ROWS ? rows - r : BLOCK_ROWS;
            Store at = store_at(store, r, first);
#define BLOCK(halves, rowTiles) \
    block_amx(kind, halves, rowTiles, blocks, a + (size_t)r * stride, stride, b, dots, count, rowScales + r, zeros + r, &ends, at)
            if (width > 16) {
                if (count > TILE_ROWS) BLOCK(2, 2); else BLOCK(2, 1);
            } else {
                if (count > TILE_ROWS) BLOCK(1, 2); else BLOCK(1, 1);
            }
#undef BLOCK
        }
    }
}

// Rows `first ..< first + count` of `runs` into `a`, `stride` bytes apart, zeros past `kpad` and in the rows up to the
// next whole tile.
static void copy_rows(Runs runs, int first, int count, int kpad, uint8_t *a, size_t stride) {
    size_t runBytes = (size_t)(kpad / runs.runs);
    for (int r = 0; r < count; r++) {
        uint8_t *row = a + (size_t)r * stride;
        for (int run = 0; run < runs.runs; run++) memcpy(row + run * runBytes, runs.starts[first + r] + run * runs.runStride, runBytes);
        memset(row + kpad, 0, stride - (size_t)kpad);
    }
    memset(a + (size_t)count * stride, 0, (size_t)(round_up(count, TILE_ROWS) - count) * stride);
}

AMX_TARGET int an_int8_gemm_amx(int rows, int n, int kpad, Runs runs, const float *rowScales, const int32_t *zeros,
                                const int8_t *packed, const float *scales, const int32_t *sums, const float *bias, Store store) {
    int blocks = (kpad + TILE_BYTES - 1) / TILE_BYTES;
    size_t stride = (size_t)blocks * TILE_BYTES;
    int copyRows = (int)(COPY_BYTES / stride) / BLOCK_ROWS * BLOCK_ROWS;
    copyRows = copyRows < BLOCK_ROWS ? BLOCK_ROWS : copyRows;
    copyRows = copyRows < round_up(rows, BLOCK_ROWS) ? copyRows : round_up(rows, BLOCK_ROWS);
    uint8_t *a = aligned_alloc(64, (size_t)copyRows * stride);
    int32_t *dots = aligned_alloc(64, sizeof(int32_t) * BLOCK_ROWS * PANEL);
    if (!a || !dots) {
        free(a);
        free(dots);
        return -1;
    }
    configure_tiles();
    size_t panelBytes = (size_t)kpad * PANEL;
    for (int first = 0; first < rows; first += copyRows) {
        int count = rows - first < copyRows ? rows - first : copyRows;
        copy_rows(runs, first, count, kpad, a, stride);
        Store at = store_at(store, first, 0);
#define PANELS(kind) \
    panels_amx(kind, count, n, blocks, a, stride, rowScales + first, zeros + first, packed, panelBytes, scales, sums, bias, at, dots)
        FOR_STORE_KIND(store, PANELS);
#undef PANELS
    }
    _tile_release();
    free(a);
    free(dots);
    return 0;
}
#endif
