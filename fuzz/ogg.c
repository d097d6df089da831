/*
 * ogg.c - fuzz target: OGG as aimark verify reads it (the page walker,
 * Vorbis comments / OpusTags and the page rewrite). CRCs made right too
 * (fuzz_fix_ogg).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_media_crc(MARK_FORMAT_OGG, data, size, FUZZ_SAVE,
                          fuzz_fix_ogg);
}
