/*
 * mp3.c - fuzz target: MP3 as aimark verify reads it (ID3v2 tags (frames,
 * unsynchronisation, extended header) and the tag rewrite).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_media(MARK_FORMAT_MP3, data, size, FUZZ_SAVE);
}
