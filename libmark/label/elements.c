/*
 * elements.c - the two elements every explicit label carries (GB 45438
 * ch. 5): an AI element ("AI" or "人工智能") and a generation element
 * ("生成" or "合成").  Shared by the image, video, audio and text labels.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int latin_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* "AI" counts as a word: not inside a Latin word ("SAID" has no AI
 * element), in any letter case, also in full-width form (ＡＩ). */
static int has_ai(const char *t)
{
    const char *p;
    size_t n = strlen(t);

    if (strstr(t, "\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd"))
        return 1;                                    /* 人工智能 */
    if (strstr(t, "\xef\xbc\xa1\xef\xbc\xa9"))       /* ＡＩ */
        return 1;
    for (p = t; p + 1 < t + n; p++) {
        if ((p[0] == 'A' || p[0] == 'a') && (p[1] == 'I' || p[1] == 'i') &&
            (p == t || !latin_letter((unsigned char)p[-1])) &&
            !latin_letter((unsigned char)p[2]))
            return 1;
    }
    return 0;
}

static int has_generation(const char *t)
{
    return strstr(t, "\xe7\x94\x9f\xe6\x88\x90") != NULL ||  /* 生成 */
           strstr(t, "\xe5\x90\x88\xe6\x88\x90") != NULL;    /* 合成 */
}

int mark_explicit_text_check(const char *text, char *why, size_t cap)
{
    int ai, gen;

    if (why != NULL && cap > 0)
        why[0] = '\0';
    if (text == NULL)
        return MARK_EINVAL;
    ai = has_ai(text);
    gen = has_generation(text);
    if (ai && gen)
        return MARK_OK;
    if (why != NULL && cap > 0)
        snprintf(why, cap, "label text lacks %s%s%s (GB 45438 asks for "
                 "both an AI element, \"AI\" or \"\xe4\xba\xba\xe5\xb7\xa5"
                 "\xe6\x99\xba\xe8\x83\xbd\", and a generation element, "
                 "\"\xe7\x94\x9f\xe6\x88\x90\" or \"\xe5\x90\x88\xe6\x88"
                 "\x90\")", ai ? "" : "the AI element",
                 ai || gen ? "" : " and ",
                 gen ? "" : "the generation element");
    return MARK_ELABEL;
}
