/* targets.h - every fuzz target, once (the Makefile's FUZZ_NAMES and
 * replay.c's table); TARGET(name) is defined by the includer. */
TARGET(png)
TARGET(jpeg)
TARGET(label_json)
TARGET(wav)
TARGET(flac)
TARGET(ogg)
TARGET(mp3)
TARGET(mp4)
TARGET(text)
TARGET(imgwm)
TARGET(audwm)
TARGET(verify_any)
