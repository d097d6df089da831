/*
 * jpeg.c - fuzz target: JPEG as aimark verify reads it (segments, APP1
 * EXIF (TIFF IFDs, UserComment) and XMP, COM, and the segment rewrite).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_media(MARK_FORMAT_JPEG, data, size, FUZZ_SAVE);
}
