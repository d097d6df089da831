/*
 * png.c - fuzz target: PNG as aimark verify reads it (chunks (IHDR, tEXt, zTXt, iTXt), the XMP packet and the label writer's chunk rewrite).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_media(MARK_FORMAT_PNG, data, size, FUZZ_SAVE);
}
