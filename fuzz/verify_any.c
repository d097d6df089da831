/*
 * verify_any.c - fuzz target: the whole verify path on arbitrary bytes,
 * as `aimark verify` runs it: the format sniffed, the medium opened from
 * memory, its labels, problems, explicit label and watermark (every
 * detector), the verdict and the JSON report.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_media(MARK_FORMAT_UNKNOWN, data, size, FUZZ_DETECT);
}
