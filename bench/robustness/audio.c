/*
 * audio.c - `make robustness-audio`: the audio watermark aud-v3 against
 * the attacks of issue 5, over the corpus of make-audio-corpus.sh,
 * reported as Markdown tables (recovery per attack, per excerpt length,
 * SNR and silences per clip, false positives).
 *
 *   robustness-audio [-j JOBS] [-k WORD[,WORD...]] [-p N] [-s S] WORKDIR
 *
 * Originals are read from WORKDIR/audio-corpus/ *.wav; marked and
 * attacked files go to WORKDIR/audio-work/, the report also to
 * WORKDIR/audio-report.md and one line per clip and attack to
 * WORKDIR/audio-results.csv.  Attacks are made by the tools people use,
 * not by us: codecs by ffmpeg ($FFMPEG, else /usr/bin/ffmpeg; LAME,
 * FFmpeg's AAC, libvorbis), which also decodes them back to float WAV;
 * resampling, volume, filters, cuts, speed and tempo by SoX ($SOX, else
 * /usr/bin/sox).  Only the additive noise (fixed seed) and the excerpts
 * (plain sample copies) are done here.
 *
 * The mark is made by mark__audwm_embed on the clip's interleaved floats
 * and written as 16-bit PCM, which is what the attacks start from.
 * Clips are shared between up to two worker processes (fork); results
 * come back through shared memory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#include "signal.h"

#define MAX_CLIPS 128
#define MAX_OPS 8
#define N_LENGTHS 5                      /* excerpt lengths */
#define MAX_OFFSETS 12                   /* excerpts per clip and length */
#define LONG_SECONDS 60                  /* "the long file": at least */
#define FP_EXCERPT 5.0                   /* false positives: 5 s cuts */

enum {                                   /* how an attack is made */
    BY_NONE = 0,                         /* the marked 16-bit WAV */
    BY_CODEC,                            /* ffmpeg encode, decode */
    BY_CODEC2,                           /* the same twice */
    BY_SOX,                              /* sox marked.wav out.wav ops */
    BY_NOISE,                            /* white noise at a set SNR */
    BY_EXCERPT                           /* a cut at a keyed offset */
};

typedef struct attack {
    const char *name;                    /* table row */
    int by;                              /* BY_* */
    const char *ext;                     /* BY_CODEC*: the coded file */
    const char *ops[MAX_OPS];            /* ffmpeg codec options or SoX
                                            effects; "@48": 48 kHz, or
                                            44.1 kHz for a 48 kHz clip */
    double arg;                          /* noise SNR dB; excerpt s;
                                            sox: lowest rate it makes
                                            sense at (n/a below) */
    double target;                       /* recovery rate asked; 0: none */
    int required;                        /* in issue 5's 95 % list */
} attack;

/* Issue 5's list, then the report-only ones. */
static const attack attacks[] = {
    { "none (marked 16-bit WAV)", BY_NONE, NULL, { NULL }, 0, 0, 0 },
    { "MP3 128 kbit/s (LAME)", BY_CODEC, "mp3",
      { "-c:a", "libmp3lame", "-b:a", "128k" }, 0, 0.95, 1 },
    { "MP3 64 kbit/s (LAME)", BY_CODEC, "mp3",
      { "-c:a", "libmp3lame", "-b:a", "64k" }, 0, 0.95, 1 },
    { "AAC 128 kbit/s (FFmpeg aac)", BY_CODEC, "m4a",
      { "-c:a", "aac", "-b:a", "128k" }, 0, 0.95, 1 },
    { "Ogg Vorbis q2", BY_CODEC, "ogg",
      { "-c:a", "libvorbis", "-q:a", "2" }, 0, 0.95, 1 },
    { "resample to 22.05 kHz", BY_SOX, NULL, { "rate", "-v", "22050" }, 0,
      0.95, 1 },
    { "resample to 48 kHz (44.1 kHz if 48)", BY_SOX, NULL,
      { "rate", "-v", "@48" }, 0, 0.95, 1 },
    { "volume x0.5", BY_SOX, NULL, { "vol", "0.5" }, 0, 0.95, 1 },
    { "volume x1.5 + limiter", BY_SOX, NULL, { "gain", "-l", "3.5218" }, 0,
      0.95, 1 },
    { "white noise at 30 dB SNR", BY_NOISE, NULL, { NULL }, 30, 0.95, 1 },
    { "low-pass 8 kHz", BY_SOX, NULL, { "sinc", "-8000" }, 17000, 0.95, 1 },
    { "cut the first 1.3 s", BY_SOX, NULL, { "trim", "1.3" }, 0, 0.95, 1 },
    { "10 s excerpt of the longer file", BY_EXCERPT, NULL, { NULL }, 10,
      0.95, 1 },
    { "speed +1% (pitch too)", BY_SOX, NULL, { "speed", "1.01" }, 0, 0.80,
      0 },
    { "speed -1% (pitch too)", BY_SOX, NULL, { "speed", "0.99" }, 0, 0.80,
      0 },
    { "tempo +1% (pitch kept)", BY_SOX, NULL, { "tempo", "1.01" }, 0, 0.95,
      0 },
    { "tempo -1% (pitch kept)", BY_SOX, NULL, { "tempo", "0.99" }, 0, 0.95,
      0 },
    { "MP3 128 kbit/s twice", BY_CODEC2, "mp3",
      { "-c:a", "libmp3lame", "-b:a", "128k" }, 0, 0.80, 0 },
};
#define N_ATTACKS (sizeof attacks / sizeof attacks[0])

/* The excerpt table: these lengths, each from MAX_OFFSETS keyed offsets
 * in a long file and 3 in every other clip longer than the length. */
static const double lengths[N_LENGTHS] = { 10, 7, 5, 4, 3 };
static const double length_goal[N_LENGTHS] = { 0.95, 0, 0.95, 0, 0.95 };
#define OFFSETS_SHORT 3

enum { OUT_NA = -2, OUT_ERROR = -1, OUT_MISSED = 0, OUT_OK = 1, OUT_WRONG = 2 };

typedef struct outcome {
    signed char status;                  /* OUT_* */
    unsigned char bits;                  /* payload bits right, of 64 */
    unsigned char speed;                 /* the detector's speed flag */
    unsigned char cand;                  /* a payload came back (found,
                                            or a best guess) */
    float score;                         /* the detector's score */
    float tempo;                         /* time scale found */
    float t_start, t_end;                /* where it read the mark, s */
    float offset;                        /* excerpts: start in the clip */
    uint32_t out_rate;                   /* the attacked audio */
    float out_seconds;
} outcome;

typedef struct clip_result {
    int done;                            /* 1 processed, -1 failed */
    uint32_t rate;
    int channels;
    double seconds;
    double snr;                          /* marked (16 bit) vs original */
    double snr_min;                      /* worst 1 s window with sound */
    double silent_s;                     /* digital silence (>= 0.1 s) */
    double silent_max;                   /* biggest change there, LSB */
    double silent_inner;                 /* the same 20 ms from sound */
    long silent_nonzero;                 /* samples not 0 after 16 bit */
    double quiet_s;                      /* 50 ms windows < -60 dBFS */
    double quiet_max;                    /* change RMS there, dBFS */
    int fp, fp_n;                        /* found on unmarked audio */
    double fp_score;
    double t_all, t_tools, t_detect, s_detected;
    outcome o[N_ATTACKS];
    int n_ex[N_LENGTHS];
    outcome ex[N_LENGTHS][MAX_OFFSETS];
} clip_result;

typedef struct shared {
    atomic_int next;
    clip_result r[MAX_CLIPS];
} shared;

typedef struct clip {
    uint32_t rate;
    int ch;
    size_t frames;
    float *x;                            /* frames * ch, interleaved */
} clip;

static char *names[MAX_CLIPS];
static size_t n_clips;
static const char *workdir, *ffmpeg_path, *sox_path;
static double strength = 1.0;
static unsigned long salt;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL) {
        fprintf(stderr, "robustness-audio: out of memory\n");
        exit(1);
    }
    return p;
}

/* --- WAV in and out (libsndfile) ----------------------------------- */

/* Any file libsndfile reads, as floats (16-bit PCM: s / 32768). */
static int read_wav(const char *path, clip *c)
{
    SF_INFO info;
    SNDFILE *f;
    sf_count_t got;

    memset(&info, 0, sizeof info);
    c->x = NULL;
    f = sf_open(path, SFM_READ, &info);
    if (f == NULL) {
        fprintf(stderr, "robustness-audio: cannot read '%s': %s\n", path,
                sf_strerror(NULL));
        return -1;
    }
    if (info.channels < 1 || info.channels > 8 || info.frames < 0) {
        sf_close(f);
        return -1;
    }
    c->rate = (uint32_t)info.samplerate;
    c->ch = info.channels;
    c->x = xmalloc(sizeof(float) * (size_t)info.frames * (size_t)c->ch);
    got = sf_readf_float(f, c->x, info.frames);
    c->frames = got > 0 ? (size_t)got : 0;
    sf_close(f);
    return 0;
}

/* 16-bit PCM, rounded here (s = round(32768 x), clamped), so that a
 * 16-bit input read by read_wav comes back sample for sample; or 32-bit
 * float. */
static int write_wav(const char *path, const clip *c, int pcm16)
{
    SF_INFO info;
    SNDFILE *f;
    size_t i, n = c->frames * (size_t)c->ch;
    sf_count_t put;

    memset(&info, 0, sizeof info);
    info.samplerate = (int)c->rate;
    info.channels = c->ch;
    info.format = SF_FORMAT_WAV | (pcm16 ? SF_FORMAT_PCM_16
                                         : SF_FORMAT_FLOAT);
    f = sf_open(path, SFM_WRITE, &info);
    if (f == NULL) {
        fprintf(stderr, "robustness-audio: cannot write '%s': %s\n", path,
                sf_strerror(NULL));
        return -1;
    }
    if (pcm16) {
        short *s = xmalloc(sizeof(short) * n);

        for (i = 0; i < n; i++) {
            double v = floor(c->x[i] * 32768.0 + 0.5);

            s[i] = (short)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
        }
        put = sf_writef_short(f, s, (sf_count_t)c->frames);
        free(s);
    } else {
        put = sf_writef_float(f, c->x, (sf_count_t)c->frames);
    }
    if (sf_close(f) != 0 || put != (sf_count_t)c->frames)
        return -1;
    return 0;
}

/* x as 16-bit PCM would store it, in place */
static void quantise16(float *x, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        double v = floor(x[i] * 32768.0 + 0.5);

        x[i] = (float)((v < -32768 ? -32768 : v > 32767 ? 32767 : v) /
                       32768.0);
    }
}

/* --- noise and keyed choices -------------------------------------- */

/* xorshift64* and Box-Muller: the noise attack's fixed-seed source. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static double rng_unit(uint64_t *s)
{
    return ((rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_gauss(uint64_t *s)
{
    double u = rng_unit(s), v = rng_unit(s);

    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* FNV-1a of a clip's name: its payload, noise seed and excerpt offsets
 * are the same whatever subset of the corpus runs. */
static uint64_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 0x100000001b3ull;
    return h;
}

static void payload_of(const char *name, mark_payload *p)
{
    char hex[17];

    snprintf(hex, sizeof hex, "%016llx",
             (unsigned long long)splitmix(name_hash(name) + salt));
    if (mark_payload_from_hex(p, hex) != MARK_OK)
        memset(p, 0, sizeof *p);
}

/* The start frame of excerpt j of len frames from a clip of frames:
 * uniform over the clip, from the name, the length and j. */
static size_t excerpt_start(const char *name, size_t frames, size_t len,
                            int j)
{
    uint64_t s = splitmix(name_hash(name) ^ splitmix((uint64_t)len * 131 +
                                                     (uint64_t)j + 7));

    if (frames <= len)
        return 0;
    return (size_t)(rng_unit(&s) * (double)(frames - len + 1));
}

/* The share of frames of x[s .. s + len) that are digital silence (of
 * the original: a mark leaking into silence does not make it sound). */
static double silent_share(const clip *c, size_t s, size_t len)
{
    size_t f, z = 0;
    int k;

    for (f = s; f < s + len; f++) {
        for (k = 0; k < c->ch && c->x[f * c->ch + k] == 0.0f; k++)
            ;
        z += k == c->ch;
    }
    return len ? (double)z / len : 1;
}

/* Excerpt j of len frames: the first keyed offset whose excerpt is at
 * most 20% digital silence (a cut of silence carries no mark), out of
 * eight tries; the last try otherwise. */
static size_t pick_excerpt(const char *name, const clip *c, size_t len,
                           int j)
{
    size_t s = 0;
    int t;

    for (t = 0; t < 8; t++) {
        s = excerpt_start(name, c->frames, len, j + 1000 * t);
        if (silent_share(c, s, len) <= 0.2)
            break;
    }
    return s;
}

/* --- quality ------------------------------------------------------ */

static double db(double ratio)
{
    return ratio > 0 ? 10 * log10(ratio) : -999;
}

/* SNR of m against o, the worst 1 s window among those with sound
 * (original above -50 dBFS RMS), the digital silence (every channel 0
 * for at least 0.1 s) and the changes there, and the quiet 50 ms
 * windows (original under -60 dBFS RMS, not digital silence) and the
 * strongest change there.  mf: marked before 16 bits, m: after. */
static void quality(const clip *o, const float *mf, const float *m,
                    clip_result *r)
{
    size_t i, f, n = o->frames * (size_t)o->ch, run = 0;
    size_t sec = o->rate, win = o->rate / 20, minrun = o->rate / 10;
    double so = 0, se = 0, worst = 999;
    int ch = o->ch, c;

    for (i = 0; i < n; i++) {
        double d = (double)m[i] - o->x[i];

        so += (double)o->x[i] * o->x[i];
        se += d * d;
    }
    r->snr = se > 0 ? db(so / se) : 999;
    for (f = 0; f + sec <= o->frames; f += sec / 2) {
        double a = 0, b = 0;

        for (i = f * ch; i < (f + sec) * ch; i++) {
            double d = (double)m[i] - o->x[i];

            a += (double)o->x[i] * o->x[i];
            b += d * d;
        }
        if (db(a / (double)(sec * ch)) > -50) {
            double s = b > 0 ? db(a / b) : 999;

            if (s < worst)
                worst = s;
        }
    }
    r->snr_min = worst;

    r->silent_s = 0;
    r->silent_max = 0;
    r->silent_inner = 0;
    r->silent_nonzero = 0;
    for (f = 0; f <= o->frames; f++) {
        int zero = f < o->frames;

        for (c = 0; zero && c < ch; c++)
            zero = o->x[f * ch + c] == 0.0f;
        if (zero) {
            run++;
            continue;
        }
        if (run >= minrun) {
            size_t g, edge = o->rate / 50;

            r->silent_s += (double)run / o->rate;
            for (g = (f - run) * ch; g < f * ch; g++) {
                double d = fabs((double)mf[g]) * 32768.0;
                size_t fr = g / ch;

                if (d > r->silent_max)
                    r->silent_max = d;
                if (fr >= f - run + edge && fr + edge < f &&
                    d > r->silent_inner)
                    r->silent_inner = d;
                r->silent_nonzero += m[g] != 0.0f;
            }
        }
        run = 0;
    }

    r->quiet_s = 0;
    r->quiet_max = -999;
    for (f = 0; win > 0 && f + win <= o->frames; f += win) {
        double a = 0, b = 0;
        int allzero = 1;

        for (i = f * ch; i < (f + win) * ch; i++) {
            double d = (double)m[i] - o->x[i];

            a += (double)o->x[i] * o->x[i];
            b += d * d;
            allzero &= o->x[i] == 0.0f;
        }
        if (allzero || db(a / (double)(win * ch)) >= -60)
            continue;
        r->quiet_s += (double)win / o->rate;
        if (db(b / (double)(win * ch)) > r->quiet_max)
            r->quiet_max = db(b / (double)(win * ch));
    }
}

/* --- tools -------------------------------------------------------- */

static double tools_seconds;             /* this worker's, per clip */

/* Run a tool (args NULL-terminated), stdout and stdin to /dev/null. */
static int run(const char *const *args)
{
    double t0 = now();
    pid_t pid = fork();
    int st;

    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *av[MAX_OPS + 24];
        int i, fd = open("/dev/null", O_RDWR);

        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
        }
        for (i = 0; args[i] != NULL && i < MAX_OPS + 23; i++)
            av[i] = strdup(args[i]);
        av[i] = NULL;
        execv(av[0], av);
        fprintf(stderr, "robustness-audio: cannot run '%s': %s\n", av[0],
                strerror(errno));
        _exit(127);
    }
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    tools_seconds += now() - t0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* ffmpeg: in to out with the codec options ops (NULL: decode to 32-bit
 * float WAV). */
static int ffmpeg(const char *in, const char *out, const char *const *ops)
{
    const char *args[MAX_OPS + 16];
    int n = 0, i;

    args[n++] = ffmpeg_path;
    args[n++] = "-nostdin";
    args[n++] = "-y";
    args[n++] = "-v";
    args[n++] = "error";
    args[n++] = "-i";
    args[n++] = in;
    if (ops == NULL) {
        args[n++] = "-c:a";
        args[n++] = "pcm_f32le";
    } else {
        for (i = 0; i < MAX_OPS && ops[i] != NULL; i++)
            args[n++] = ops[i];
    }
    args[n++] = out;
    args[n] = NULL;
    return run(args);
}

/* Make attack a of dir/marked.wav (rate: the clip's), read the result
 * back.  1: not applicable to this clip. */
static int tool_attack(const attack *a, const char *dir, uint32_t rate,
                       clip *out)
{
    char in[4096], coded[4096], mid[4096], wav[4096], r48[16];
    int rc, i, n = 0;

    snprintf(in, sizeof in, "%s/marked.wav", dir);
    snprintf(wav, sizeof wav, "%s/attacked.wav", dir);
    if (a->by == BY_SOX) {
        const char *args[MAX_OPS + 16];

        if (a->arg > 0 && rate < a->arg)
            return 1;
        snprintf(r48, sizeof r48, "%u", rate == 48000 ? 44100u : 48000u);
        args[n++] = sox_path;
        args[n++] = "-R";
        args[n++] = "-V1";
        args[n++] = in;
        args[n++] = "-e";
        args[n++] = "floating-point";
        args[n++] = "-b";
        args[n++] = "32";
        args[n++] = wav;
        for (i = 0; i < MAX_OPS && a->ops[i] != NULL; i++)
            args[n++] = strcmp(a->ops[i], "@48") == 0 ? r48 : a->ops[i];
        args[n] = NULL;
        rc = run(args);
    } else {
        snprintf(coded, sizeof coded, "%s/attacked.%s", dir, a->ext);
        snprintf(mid, sizeof mid, "%s/attacked.mid.wav", dir);
        rc = ffmpeg(in, coded, a->ops);
        if (rc == 0 && a->by == BY_CODEC2) {
            /* decoded and coded again, as a re-upload does */
            rc = ffmpeg(coded, mid, NULL);
            if (rc == 0)
                rc = ffmpeg(mid, coded, a->ops);
            unlink(mid);
        }
        if (rc == 0)
            rc = ffmpeg(coded, wav, NULL);
        unlink(coded);
    }
    if (rc != 0) {
        fprintf(stderr, "robustness-audio: '%s' failed in '%s'\n", a->name,
                dir);
        return -1;
    }
    rc = read_wav(wav, out);
    unlink(wav);
    return rc;
}

/* --- detection ---------------------------------------------------- */

static int bits_right(const mark_payload *a, const mark_payload *b)
{
    int i, n = 0;

    for (i = 0; i < 8; i++) {
        unsigned x = (unsigned)(a->bytes[i] ^ b->bytes[i]) & 0xffu;

        while (x) {
            n += x & 1u;
            x >>= 1;
        }
    }
    return 64 - n;
}

static void judge(mark_ctx *ctx, const mark_key *key, const float *x,
                  size_t frames, uint32_t rate, int ch,
                  const mark_payload *want, outcome *o, clip_result *res)
{
    mark__wm_result r;
    double t0 = now();
    int rc, i;

    memset(&r, 0, sizeof r);
    rc = mark__audwm_detect(ctx, key, x, frames, rate, ch, &r);
    res->t_detect += now() - t0;
    res->s_detected += (double)frames / rate;
    o->out_rate = rate;
    o->out_seconds = (float)((double)frames / rate);
    if (rc != MARK_OK) {
        o->status = OUT_ERROR;
        return;
    }
    o->bits = (unsigned char)bits_right(&r.payload, want);
    for (i = 0; i < 8 && r.payload.bytes[i] == 0; i++)
        ;
    o->cand = r.found || i < 8;
    o->status = !r.found ? OUT_MISSED : o->bits == 64 ? OUT_OK : OUT_WRONG;
    o->score = (float)r.score;
    o->tempo = (float)r.tempo;
    o->speed = (unsigned char)(r.speed != 0);
    o->t_start = (float)r.t_start;
    o->t_end = (float)r.t_end;
}

/* --- one clip ----------------------------------------------------- */

static void process(mark_ctx *ctx, const mark_key *key, size_t idx,
                    clip_result *res)
{
    char path[4096], dir[2048];
    clip orig, marked, att;
    float *mf;
    mark_payload want, none;
    size_t n, i, k;
    double t0 = now(), power = 0;
    int ch;

    tools_seconds = 0;
    snprintf(path, sizeof path, "%s/audio-corpus/%s", workdir, names[idx]);
    snprintf(dir, sizeof dir, "%s/audio-work/%.*s", workdir,
             (int)(strlen(names[idx]) - 4), names[idx]);
    mkdir(dir, 0777);
    if (read_wav(path, &orig) < 0 || orig.frames == 0) {
        free(orig.x);
        res->done = -1;
        return;
    }
    ch = orig.ch;
    res->rate = orig.rate;
    res->channels = ch;
    res->seconds = (double)orig.frames / orig.rate;
    n = orig.frames * (size_t)ch;

    /* false positives: the unmarked clip and two 5 s excerpts of it */
    memset(&none, 0, sizeof none);
    res->fp = 0;
    res->fp_n = 0;
    res->fp_score = 0;
    for (k = 0; k < 3; k++) {
        size_t len = (size_t)(FP_EXCERPT * orig.rate), s = 0, fr;
        outcome o;

        memset(&o, 0, sizeof o);
        if (k > 0 && len >= orig.frames)
            break;
        if (k > 0)
            s = excerpt_start(names[idx], orig.frames, len, 100 + (int)k);
        fr = k > 0 ? len : orig.frames;
        judge(ctx, key, orig.x + s * ch, fr, orig.rate, ch, &none, &o, res);
        if (o.status == OUT_ERROR)
            continue;
        res->fp_n++;
        res->fp += o.status != OUT_MISSED;
        if (o.score > res->fp_score)
            res->fp_score = o.score;
    }

    /* embed; the 16-bit file is the marked clip */
    payload_of(names[idx], &want);
    mf = xmalloc(sizeof(float) * n);
    memcpy(mf, orig.x, sizeof(float) * n);
    if (mark__audwm_embed(ctx, key, &want, mf, orig.frames, orig.rate, ch,
                          strength) != MARK_OK) {
        fprintf(stderr, "robustness-audio: embedding into '%s' failed: "
                "%s\n", names[idx], mark_ctx_errmsg(ctx));
        res->done = -1;
        free(mf);
        free(orig.x);
        return;
    }
    marked = orig;
    marked.x = xmalloc(sizeof(float) * n);
    memcpy(marked.x, mf, sizeof(float) * n);
    quantise16(marked.x, n);
    quality(&orig, mf, marked.x, res);
    free(mf);
    snprintf(path, sizeof path, "%s/marked.wav", dir);
    if (write_wav(path, &marked, 1) < 0) {
        res->done = -1;
        free(marked.x);
        free(orig.x);
        return;
    }
    for (i = 0; i < n; i++)
        power += (double)marked.x[i] * marked.x[i];
    power /= (double)n;

    for (k = 0; k < N_ATTACKS; k++) {
        const attack *a = &attacks[k];
        outcome *o = &res->o[k];
        uint64_t seed = splitmix(name_hash(names[idx]) + k);
        int rc;

        memset(o, 0, sizeof *o);
        if (a->by == BY_NONE) {
            judge(ctx, key, marked.x, marked.frames, marked.rate, ch, &want,
                  o, res);
        } else if (a->by == BY_NOISE) {
            double sigma = sqrt(power / pow(10, a->arg / 10));
            float *y = xmalloc(sizeof(float) * n);

            for (i = 0; i < n; i++)
                y[i] = (float)(marked.x[i] + sigma * rng_gauss(&seed));
            judge(ctx, key, y, marked.frames, marked.rate, ch, &want, o,
                  res);
            free(y);
        } else if (a->by == BY_EXCERPT) {
            size_t len = (size_t)(a->arg * marked.rate);
            size_t s = pick_excerpt(names[idx], &orig, len, 0);

            if (len >= marked.frames) {
                o->status = OUT_NA;
                continue;
            }
            judge(ctx, key, marked.x + s * ch, len, marked.rate, ch, &want,
                  o, res);
            o->offset = (float)((double)s / marked.rate);
        } else if ((rc = tool_attack(a, dir, marked.rate, &att)) == 1) {
            o->status = OUT_NA;
        } else if (rc < 0) {
            o->status = OUT_ERROR;
        } else {
            judge(ctx, key, att.x, att.frames, att.rate, att.ch, &want, o,
                  res);
            free(att.x);
        }
    }

    /* excerpts of each length at keyed offsets */
    for (k = 0; k < N_LENGTHS; k++) {
        size_t len = (size_t)(lengths[k] * marked.rate);
        int j, m = res->seconds >= LONG_SECONDS ? MAX_OFFSETS
                                                : OFFSETS_SHORT;

        res->n_ex[k] = 0;
        if (len + marked.rate / 2 > marked.frames)
            continue;
        for (j = 0; j < m; j++) {
            size_t s = pick_excerpt(names[idx], &orig, len, j);
            outcome *o = &res->ex[k][j];

            memset(o, 0, sizeof *o);
            judge(ctx, key, marked.x + s * ch, len, marked.rate, ch, &want,
                  o, res);
            o->offset = (float)((double)s / marked.rate);
        }
        res->n_ex[k] = m;
    }
    free(marked.x);
    free(orig.x);
    res->t_tools = tools_seconds;
    res->t_all = now() - t0;
    res->done = 1;
}

static void worker(shared *sh, const size_t *order)
{
    mark_ctx *ctx = NULL;
    mark_key *key = NULL;
    int j;

    if (mark_ctx_new(&ctx, NULL) != MARK_OK ||
        mark_key_default(ctx, &key) != MARK_OK) {
        fprintf(stderr, "robustness-audio: cannot set up libmark\n");
        _exit(1);
    }
    while ((j = atomic_fetch_add(&sh->next, 1)) < (int)n_clips) {
        size_t idx = order[j];
        clip_result *r = &sh->r[idx];
        int i, ok = 0, req = 0;

        process(ctx, key, idx, r);
        for (i = 0; i < (int)N_ATTACKS; i++)
            if (attacks[i].required && r->o[i].status != OUT_NA) {
                req++;
                ok += r->o[i].status == OUT_OK;
            }
        fprintf(stderr, "  [%2d/%zu] %-28s %5.1f s %5u Hz %d ch %5.1f s "
                "(tools %.1f, detect %.1f)  SNR %.1f dB  required %d/%d%s\n",
                j + 1, n_clips, names[idx], r->seconds, r->rate,
                r->channels, r->t_all, r->t_tools, r->t_detect, r->snr, ok,
                req, r->done < 0 ? "  FAILED" : "");
    }
    mark_key_free(key);
    mark_ctx_free(ctx);
}

/* --- set-up and report -------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static off_t size_of(size_t idx)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof path, "%s/audio-corpus/%s", workdir, names[idx]);
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static int cmp_size_desc(const void *a, const void *b)
{
    off_t x = size_of(*(const size_t *)a), y = size_of(*(const size_t *)b);

    return x < y ? 1 : x > y ? -1 : 0;
}

/* Whether name contains one of the comma-separated words of filter. */
static int matches(const char *name, const char *filter)
{
    while (*filter != '\0') {
        size_t n = strcspn(filter, ",");
        const char *p;

        for (p = name; n > 0 && *p != '\0'; p++)
            if (strncmp(p, filter, n) == 0)
                return 1;
        filter += n;
        filter += *filter == ',';
    }
    return 0;
}

static int load_names(const char *corpus, const char *filter)
{
    DIR *d = opendir(corpus);
    struct dirent *e;

    if (d == NULL) {
        fprintf(stderr, "robustness-audio: cannot open '%s': %s (run "
                "make-audio-corpus.sh first)\n", corpus, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);

        if (l < 5 || strcmp(e->d_name + l - 4, ".wav") != 0)
            continue;
        if (filter != NULL && !matches(e->d_name, filter))
            continue;
        if (n_clips == MAX_CLIPS)
            break;
        names[n_clips++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n_clips, sizeof names[0], cmp_str);
    return 0;
}

static void kind_of(const char *name, char *kind, size_t n)
{
    size_t l = strcspn(name, "-.");

    if (l >= n)
        l = n - 1;
    memcpy(kind, name, l);
    kind[l] = 0;
}

/* Tally of outcomes: ok of n (errors counted as misses), wrong
 * payloads, bit accuracy and score over the ones that ran. */
typedef struct tally {
    int n, ok, wrong, err, na, cand;
    double bits, score;
} tally;

static void count(tally *t, const outcome *o)
{
    if (o->status == OUT_NA) {
        t->na++;
        return;
    }
    t->n++;
    if (o->status == OUT_ERROR) {
        t->err++;
        return;
    }
    t->ok += o->status == OUT_OK;
    t->wrong += o->status == OUT_WRONG;
    if (o->cand) {
        t->cand++;
        t->bits += o->bits / 64.0;
    }
    t->score += o->score;
}

/* Mean bit accuracy over the outcomes that gave a payload, and how
 * many did when some did not ("-": none did). */
static const char *bit_acc(const tally *t, char *buf)
{
    if (t->cand == 0)
        return "-";
    if (t->cand == t->n - t->err)
        snprintf(buf, 32, "%.4f", t->bits / t->cand);
    else
        snprintf(buf, 32, "%.4f (of %d)", t->bits / t->cand, t->cand);
    return buf;
}

static int passes(const tally *t, double target)
{
    return t->n > 0 && t->err == 0 &&
           t->ok >= (int)ceil(target * t->n - 1e-9);
}

static void report(FILE *f, const shared *sh, double seconds, int jobs)
{
    size_t i, k, nk = 0;
    int done = 0, all_pass = 1, fp = 0, fp_n = 0, shortest = -1;
    double snr_sum = 0, snr_min = 999, seg_min = 999, audio = 0;
    double t_tools = 0, t_detect = 0, s_detected = 0, fpmax = 0;
    double smax = 0, sinner = 0, qmax = -999;
    long snz = 0;
    char kinds[16][32];

    for (i = 0; i < n_clips; i++)
        done += sh->r[i].done == 1;
    fprintf(f, "## aud-v3 robustness (%d clips, default key, strength "
            "%.2g, payload set %lu)\n\n", done, strength, salt);
    fprintf(f, "| attack | recovered (n/N, %%) | wrong payload | mean bit "
            "accuracy | mean score | target | result |\n");
    fprintf(f, "|---|---|---|---|---|---|---|\n");
    for (k = 0; k < N_ATTACKS; k++) {
        tally t;
        const char *verdict = "-";
        char target[24] = "-", na[32] = "", acc[32];

        memset(&t, 0, sizeof t);
        for (i = 0; i < n_clips; i++)
            if (sh->r[i].done == 1)
                count(&t, &sh->r[i].o[k]);
        if (attacks[k].target > 0)
            snprintf(target, sizeof target, ">= %.0f%%",
                     100 * attacks[k].target);
        if (t.n == 0) {
            fprintf(f, "| %s | n/a | n/a | n/a | n/a | %s | n/a |\n",
                    attacks[k].name, target);
            continue;
        }
        if (attacks[k].target > 0) {
            int pass = passes(&t, attacks[k].target);

            verdict = pass ? "pass" : "FAIL";
            if (!pass && attacks[k].required)
                all_pass = 0;
            if (!attacks[k].required)
                verdict = pass ? "pass (report)" : "FAIL (report)";
        }
        if (t.na)
            snprintf(na, sizeof na, " (n/a for %d)", t.na);
        fprintf(f, "| %s | %d/%d (%.1f%%)%s%s | %d | %s | %.3f | %s | %s "
                "|\n", attacks[k].name, t.ok, t.n, 100.0 * t.ok / t.n,
                t.err ? " (errors!)" : "", na, t.wrong, bit_acc(&t, acc),
                t.n > t.err ? t.score / (t.n - t.err) : 0.0, target,
                verdict);
    }
    fprintf(f, "\nRequired attacks (issue 5, >= 95%%): %s\n",
            all_pass ? "all pass" : "NOT all pass");

    /* excerpts */
    fprintf(f, "\n### Excerpts at keyed offsets (%d per length from each "
            "file of %d s or more, %d from every other clip)\n\n",
            MAX_OFFSETS, LONG_SECONDS, OFFSETS_SHORT);
    fprintf(f, "| excerpt | recovered (n/N, %%) | from the long files | "
            "wrong payload | mean bit accuracy | mean score | goal | result "
            "|\n|---|---|---|---|---|---|---|---|\n");
    for (k = 0; k < N_LENGTHS; k++) {
        tally t, tl;
        int j;
        char goal[24] = "-", acc[32];

        memset(&t, 0, sizeof t);
        memset(&tl, 0, sizeof tl);
        for (i = 0; i < n_clips; i++) {
            const clip_result *r = &sh->r[i];

            if (r->done != 1)
                continue;
            for (j = 0; j < r->n_ex[k]; j++) {
                count(&t, &r->ex[k][j]);
                if (r->seconds >= LONG_SECONDS)
                    count(&tl, &r->ex[k][j]);
            }
        }
        if (length_goal[k] > 0)
            snprintf(goal, sizeof goal, ">= %.0f%%", 100 * length_goal[k]);
        if (t.n == 0) {
            fprintf(f, "| %.0f s | n/a | n/a | n/a | n/a | n/a | %s | n/a "
                    "|\n", lengths[k], goal);
            continue;
        }
        if (passes(&t, 0.95) && (shortest < 0 || shortest == (int)k - 1))
            shortest = (int)k;
        fprintf(f, "| %.0f s | %d/%d (%.1f%%)%s | %d/%d | %d | %s | %.3f "
                "| %s | %s |\n", lengths[k], t.ok, t.n, 100.0 * t.ok / t.n,
                t.err ? " (errors!)" : "", tl.ok, tl.n, t.wrong,
                bit_acc(&t, acc),
                t.n > t.err ? t.score / (t.n - t.err) : 0.0, goal,
                length_goal[k] > 0 ? (passes(&t, length_goal[k]) ? "pass"
                                                                 : "FAIL")
                                   : passes(&t, 0.95) ? ">= 95%" : "< 95%");
    }
    if (shortest >= 0)
        fprintf(f, "\nShortest excerpt recovered in >= 95%% (it and every "
                "longer one): %.0f s\n", lengths[shortest]);
    else
        fprintf(f, "\nShortest excerpt recovered in >= 95%%: none of "
                "these (not even %.0f s)\n", lengths[0]);

    /* per clip */
    fprintf(f, "\n### Per clip\n\n| clip | format | length | SNR | worst "
            "1 s SNR | digital silence | its largest change | quiet < -60 "
            "dBFS | change there | false pos. | required recovered | time "
            "|\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (i = 0; i < n_clips; i++) {
        const clip_result *r = &sh->r[i];
        int ok = 0, req = 0;
        char sil[64] = "-", qu[64] = "-";

        if (r->done != 1) {
            fprintf(f, "| %s | not processed (error) | | | | | | | | | "
                    "| |\n", names[i]);
            continue;
        }
        for (k = 0; k < N_ATTACKS; k++)
            if (attacks[k].required && r->o[k].status != OUT_NA) {
                req++;
                ok += r->o[k].status == OUT_OK;
            }
        if (r->silent_s > 0)
            snprintf(sil, sizeof sil, "%.3g LSB (%.3g LSB 20 ms from "
                     "sound), %ld samples not 0", r->silent_max,
                     r->silent_inner, r->silent_nonzero);
        if (r->quiet_s > 0)
            snprintf(qu, sizeof qu, "%.1f dBFS", r->quiet_max);
        fprintf(f, "| %s | %u Hz %s | %.1f s | %.1f dB | %.1f dB | %.1f s "
                "| %s | %.1f s | %s | %d/%d | %d/%d | %.0f s |\n", names[i],
                r->rate, r->channels == 1 ? "mono" : r->channels == 2 ?
                "stereo" : "multi", r->seconds, r->snr, r->snr_min,
                r->silent_s, sil, r->quiet_s, qu, r->fp, r->fp_n, ok, req,
                r->t_all);
        snr_sum += r->snr;
        if (r->snr < snr_min)
            snr_min = r->snr;
        if (r->snr_min < seg_min)
            seg_min = r->snr_min;
        if (r->silent_s > 0 && r->silent_max > smax)
            smax = r->silent_max;
        if (r->silent_s > 0 && r->silent_inner > sinner)
            sinner = r->silent_inner;
        snz += r->silent_nonzero;
        if (r->quiet_s > 0 && r->quiet_max > qmax)
            qmax = r->quiet_max;
        fp += r->fp;
        fp_n += r->fp_n;
        if (r->fp_score > fpmax)
            fpmax = r->fp_score;
        audio += r->seconds;
        t_tools += r->t_tools;
        t_detect += r->t_detect;
        s_detected += r->s_detected;
    }
    fprintf(f, "\n");
    if (done > 0)
        fprintf(f, "- SNR (marked 16-bit WAV vs original, all samples): "
                "mean %.1f dB, min %.1f dB (target >= 30 dB); worst 1 s "
                "window with sound %.1f dB\n", snr_sum / done, snr_min,
                seg_min);
    fprintf(f, "- digital silence (every channel 0 for >= 0.1 s): largest "
            "change %.3g LSB before rounding (%.3g LSB 20 ms or more from "
            "sound), %ld samples not 0 in the 16-bit file\n", smax, sinner,
            snz);
    if (qmax > -999)
        fprintf(f, "- quiet stretches (50 ms windows under -60 dBFS): the "
                "change reaches %.1f dBFS RMS\n", qmax);
    fprintf(f, "- false positives (default key, unmarked clips and two "
            "%.0f s excerpts each): %d of %d detections (highest score "
            "%.3f)\n", FP_EXCERPT, fp, fp_n, fpmax);
    fprintf(f, "- run time: %.0f s (%.1f min), %d worker%s, %.0f s of "
            "audio; attack tools %.0f s, detection %.0f s over %.0f s of "
            "audio (%.0fx real time)\n", seconds, seconds / 60, jobs,
            jobs == 1 ? "" : "s", audio, t_tools, t_detect, s_detected,
            t_detect > 0 ? s_detected / t_detect : 0.0);

    /* misses */
    fprintf(f, "\n### Misses\n\n");
    for (k = 0; k < N_ATTACKS; k++) {
        int first = 1;

        for (i = 0; i < n_clips; i++) {
            const outcome *o = &sh->r[i].o[k];

            if (sh->r[i].done != 1 || o->status == OUT_OK ||
                o->status == OUT_NA)
                continue;
            if (o->cand)
                fprintf(f, "%s%s (%s%d/64, score %.2f)", first ? "- " : ", ",
                        names[i], o->status == OUT_WRONG ? "WRONG " :
                        o->status == OUT_ERROR ? "error " : "", o->bits,
                        o->score);
            else
                fprintf(f, "%s%s (%s)", first ? "- " : ", ", names[i],
                        o->status == OUT_ERROR ? "error" : "nothing");
            first = 0;
        }
        if (!first)
            fprintf(f, " <- %s\n", attacks[k].name);
    }

    /* by kind of clip, over the required attacks */
    fprintf(f, "\n### Required attacks by kind of clip\n\n"
            "| kind | clips | recovered |\n|---|---|---|\n");
    for (i = 0; i < n_clips; i++) {
        char kd[32];

        kind_of(names[i], kd, sizeof kd);
        for (k = 0; k < nk && strcmp(kinds[k], kd) != 0; k++)
            ;
        if (k == nk && nk < 16)
            memcpy(kinds[nk++], kd, sizeof kd);
    }
    for (k = 0; k < nk; k++) {
        int clips = 0, ok = 0, tot = 0;
        size_t a;

        for (i = 0; i < n_clips; i++) {
            char kd[32];

            kind_of(names[i], kd, sizeof kd);
            if (strcmp(kd, kinds[k]) != 0 || sh->r[i].done != 1)
                continue;
            clips++;
            for (a = 0; a < N_ATTACKS; a++)
                if (attacks[a].required &&
                    sh->r[i].o[a].status != OUT_NA) {
                    tot++;
                    ok += sh->r[i].o[a].status == OUT_OK;
                }
        }
        fprintf(f, "| %s | %d | %d/%d (%.1f%%) |\n", kinds[k], clips, ok,
                tot, tot ? 100.0 * ok / tot : 0.0);
    }
}

static void csv_line(FILE *f, const char *name, const clip_result *r,
                     const char *what, double length, const outcome *o)
{
    static const char *const st[] = { "n/a", "error", "missed", "ok",
                                      "wrong" };

    fprintf(f, "%s,%u,%d,%.3f,%.2f,\"%s\",%g,%.3f,%s,%d,%.4f,%.3f,%.3f,"
            "%.5f,%d,%u,%.3f\n", name, r->rate, r->channels, r->seconds,
            r->snr, what, length, o->offset, st[o->status + 2],
            o->cand ? o->bits : -1,
            o->score, o->t_start, o->t_end, o->tempo, o->speed, o->out_rate,
            o->out_seconds);
}

static void write_csv(const char *path, const shared *sh)
{
    FILE *f = fopen(path, "w");
    size_t i, k;
    int j;

    if (f == NULL)
        return;
    fprintf(f, "clip,rate,channels,seconds,snr,attack,excerpt_s,offset_s,"
            "status,bits,score,t_start,t_end,tempo,speed,out_rate,"
            "out_seconds\n");
    for (i = 0; i < n_clips; i++) {
        const clip_result *r = &sh->r[i];

        if (r->done != 1)
            continue;
        for (k = 0; k < N_ATTACKS; k++)
            csv_line(f, names[i], r, attacks[k].name,
                     attacks[k].by == BY_EXCERPT ? attacks[k].arg : 0,
                     &r->o[k]);
        for (k = 0; k < N_LENGTHS; k++)
            for (j = 0; j < r->n_ex[k]; j++)
                csv_line(f, names[i], r, "excerpt", lengths[k],
                         &r->ex[k][j]);
    }
    fclose(f);
}

static void usage(void)
{
    fprintf(stderr, "usage: robustness-audio [-j JOBS] [-k WORD[,WORD...]] "
            "[-p PAYLOAD-SET] [-s STRENGTH] WORKDIR\n");
    exit(2);
}

static const char *tool(const char *env, const char *path)
{
    const char *p = getenv(env);

    return p != NULL && *p != 0 ? p : path;
}

int main(int argc, char **argv)
{
    char corpus[4096], path[4096];
    const char *filter = NULL;
    size_t order[MAX_CLIPS], i;
    shared *sh;
    double t0 = now();
    int jobs = 2, j, st, rc = 0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    FILE *f;

    if (ncpu > 0 && ncpu < jobs)
        jobs = (int)ncpu;
    while (argc > 2 && (strcmp(argv[1], "-j") == 0 ||
                        strcmp(argv[1], "-k") == 0 ||
                        strcmp(argv[1], "-p") == 0 ||
                        strcmp(argv[1], "-s") == 0)) {
        if (argv[1][1] == 'j') {
            jobs = atoi(argv[2]);
        } else if (argv[1][1] == 'p') {
            char *end;

            salt = strtoul(argv[2], &end, 10);
            if (*end != '\0' || salt > 1000000)
                usage();
        } else if (argv[1][1] == 's') {
            strength = atof(argv[2]);
        } else {
            filter = argv[2];
        }
        argc -= 2;
        argv += 2;
    }
    if (argc != 2 || jobs < 1 || !(strength >= 0.25 && strength <= 4))
        usage();
    workdir = argv[1];
    if (strlen(workdir) > 1024) {
        fprintf(stderr, "robustness-audio: work directory name too long\n");
        return 2;
    }
    ffmpeg_path = tool("FFMPEG", "/usr/bin/ffmpeg");
    sox_path = tool("SOX", "/usr/bin/sox");
    if (access(ffmpeg_path, X_OK) != 0 || access(sox_path, X_OK) != 0) {
        fprintf(stderr, "robustness-audio: needs '%s' and '%s' (Debian "
                "packages ffmpeg, sox)\n", ffmpeg_path, sox_path);
        return 1;
    }
    snprintf(corpus, sizeof corpus, "%s/audio-corpus", workdir);
    if (load_names(corpus, filter) < 0)
        return 1;
    if (n_clips == 0) {
        fprintf(stderr, "robustness-audio: no clips in '%s'\n", corpus);
        return 1;
    }
    snprintf(path, sizeof path, "%s/audio-work", workdir);
    mkdir(path, 0777);
    for (i = 0; i < n_clips; i++)
        order[i] = i;
    qsort(order, n_clips, sizeof order[0], cmp_size_desc);
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        fprintf(stderr, "robustness-audio: mmap: %s\n", strerror(errno));
        return 1;
    }
    memset(sh, 0, sizeof *sh);
    atomic_init(&sh->next, 0);
    fprintf(stderr, "robustness-audio: %zu clips, %zu attacks + excerpts, "
            "%d worker%s, %s, %s\n", n_clips, N_ATTACKS, jobs,
            jobs == 1 ? "" : "s", ffmpeg_path, sox_path);
    fflush(stderr);
    for (j = 0; j < jobs; j++) {
        pid_t pid = fork();

        if (pid < 0) {
            fprintf(stderr, "robustness-audio: fork: %s\n", strerror(errno));
            return 1;
        }
        if (pid == 0) {
            worker(sh, order);
            _exit(0);
        }
    }
    while (wait(&st) > 0)
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = 1;
    report(stdout, sh, now() - t0, jobs);
    snprintf(path, sizeof path, "%s/audio-report.md", workdir);
    if ((f = fopen(path, "w")) != NULL) {
        report(f, sh, now() - t0, jobs);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/audio-results.csv", workdir);
    write_csv(path, sh);
    for (i = 0; i < n_clips; i++)
        if (sh->r[i].done != 1)
            rc = 1;
    return rc;
}
