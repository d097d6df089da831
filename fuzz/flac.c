/*
 * flac.c - fuzz target: FLAC as aimark verify reads it (metadata blocks,
 * the Vorbis comment block and the block rewrite).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_media(MARK_FORMAT_FLAC, data, size, FUZZ_SAVE);
}
