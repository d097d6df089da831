/*
 * wav.c - fuzz target: WAV as aimark verify reads it (RIFF/RF64 chunks,
 * LIST/INFO and the chunk rewrite).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_media(MARK_FORMAT_WAV, data, size, FUZZ_SAVE);
}
