/*
 * png.c - fuzz target: PNG as aimark verify reads it (chunks (IHDR, tEXt,
 * zTXt, iTXt), the XMP packet and the label writer's chunk rewrite). CRCs
 * made right too (fuzz_fix_png).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_media_crc(MARK_FORMAT_PNG, data, size, FUZZ_SAVE,
                          fuzz_fix_png);
}
