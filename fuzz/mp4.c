/*
 * mp4.c - fuzz target: MP4 through our own box walker (container/video_mp4.c:
 * moov/udta/meta/ilst, mdta keys, the XMP uuid box) and Matroska through
 * libavformat and our reading of its tags.  Input that sniffs as
 * Matroska is opened as such, the rest is forced to MP4.  No save: it
 * re-encodes the video.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int f = mark_sniff(data, size) == MARK_FORMAT_MKV ? MARK_FORMAT_MKV
                                                       : MARK_FORMAT_MP4;

    return fuzz_media(f, data, size, 0);
}
