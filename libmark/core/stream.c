/*
 * stream.c - byte sources and sinks for media that are not held in memory
 * whole (audio): a source reads a file descriptor, a mark_io or a buffer,
 * with the bytes read while recognising the format handed out again
 * first; a sink writes to a file descriptor, a mark_io or a mark__buf,
 * and can go back to patch a size when its target can seek.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

void mark__src_init(mark__src *s, mark_ctx *ctx)
{
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    s->fd = -1;
}

void mark__src_close(mark__src *s)
{
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    mark__free(s->ctx, s->ahead);
    s->ahead = NULL;
    if (s->own_mem)
        mark__free(s->ctx, (void *)(uintptr_t)s->mem);
    s->mem = NULL;
}

static int64_t mem_read(mark__src *s, void *buf, size_t n)
{
    if (s->mem == NULL || (uint64_t)s->pos >= s->mem_len)
        return 0;
    if (n > s->mem_len - (size_t)s->pos)
        n = s->mem_len - (size_t)s->pos;
    memcpy(buf, s->mem + s->pos, n);
    return (int64_t)n;
}

int64_t mark__src_read(mark__src *s, void *buf, size_t n)
{
    int64_t got;

    if (n == 0)
        return 0;
    if (s->ahead_off < s->ahead_len) {
        size_t k = s->ahead_len - s->ahead_off;

        if (k > n)
            k = n;
        memcpy(buf, s->ahead + s->ahead_off, k);
        s->ahead_off += k;
        s->pos += (int64_t)k;
        return (int64_t)k;
    }
    if (s->fd >= 0) {
        ssize_t r;

        do
            r = read(s->fd, buf, n);
        while (r < 0 && errno == EINTR);
        got = r;
    } else if (s->io != NULL) {
        got = s->io->read(s->user, buf, n);
    } else {
        got = mem_read(s, buf, n);
    }
    if (got < 0)
        return mark__err(s->ctx, MARK_EIO, "read failed: %s",
                         s->fd >= 0 ? strerror(errno) : "callback error");
    s->pos += got;
    return got;
}

int64_t mark__src_read_full(mark__src *s, void *buf, size_t n)
{
    size_t done = 0;

    while (done < n) {
        int64_t r = mark__src_read(s, (unsigned char *)buf + done, n - done);

        if (r < 0)
            return r;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (int64_t)done;
}

int mark__src_skip(mark__src *s, uint64_t n)
{
    unsigned char tmp[4096];

    if (s->seekable && s->ahead_off >= s->ahead_len)
        return mark__src_seek(s, s->pos + (int64_t)n);
    while (n > 0) {
        int64_t r = mark__src_read(s, tmp, n < sizeof tmp ? (size_t)n
                                                          : sizeof tmp);

        if (r < 0)
            return (int)r;
        if (r == 0)
            return mark__err(s->ctx, MARK_EFORMAT, "unexpected end of "
                             "input");
        n -= (uint64_t)r;
    }
    return MARK_OK;
}

int mark__src_seek(mark__src *s, int64_t pos)
{
    if (!s->seekable)
        return mark__err(s->ctx, MARK_EUNSEEKABLE, "input cannot seek");
    s->ahead_off = s->ahead_len;         /* a seekable source re-reads */
    if (s->fd >= 0) {
        if (lseek(s->fd, pos, SEEK_SET) < 0)
            return mark__err(s->ctx, MARK_EIO, "seek failed: %s",
                             strerror(errno));
    } else if (s->io != NULL) {
        if (s->io->seek(s->user, pos, SEEK_SET) < 0)
            return mark__err(s->ctx, MARK_EIO, "seek failed");
    }
    s->pos = pos;
    return MARK_OK;
}

int mark__sink_write(mark__sink *k, const void *p, size_t n)
{
    const unsigned char *b = p;

    if (n == 0)
        return MARK_OK;
    if (k->buf != NULL) {
        size_t at = (size_t)k->pos;
        int rc;

        if (at + n > k->buf->len) {
            rc = mark__buf_reserve(k->buf, at + n - k->buf->len);
            if (rc < 0)
                return rc;
        }
        memcpy(k->buf->data + at, b, n);
        if (at + n > k->buf->len)
            k->buf->len = at + n;
        k->pos += (int64_t)n;
        return MARK_OK;
    }
    while (n > 0) {
        int64_t w;

        if (k->fd >= 0) {
            ssize_t r;

            do
                r = write(k->fd, b, n);
            while (r < 0 && errno == EINTR);
            w = r;
        } else {
            w = k->io->write(k->user, b, n);
        }
        if (w <= 0)
            return mark__err(k->ctx, MARK_EIO, "write failed%s%s",
                             k->fd >= 0 ? ": " : "",
                             k->fd >= 0 ? strerror(errno) : "");
        b += w;
        n -= (size_t)w;
        k->pos += w;
    }
    return MARK_OK;
}

int mark__sink_seek(mark__sink *k, int64_t pos)
{
    if (!k->seekable)
        return mark__err(k->ctx, MARK_EUNSEEKABLE, "output cannot seek");
    if (pos < 0 || (k->buf != NULL && (size_t)pos > k->buf->len))
        return mark__err(k->ctx, MARK_EINVAL, "seek past the end");
    if (k->fd >= 0) {
        if (lseek(k->fd, pos, SEEK_SET) != pos)
            return mark__err(k->ctx, MARK_EIO, "seek failed: %s",
                             strerror(errno));
    } else if (k->buf == NULL && k->io->seek(k->user, pos, SEEK_SET) < 0) {
        return mark__err(k->ctx, MARK_EIO, "seek failed");
    }
    k->pos = pos;
    return MARK_OK;
}

/* Overwrite n bytes at pos (before the end) and come back. */
int mark__sink_patch(mark__sink *k, int64_t pos, const void *p, size_t n)
{
    int64_t end = k->pos;
    int rc;

    if (!k->seekable)
        return mark__err(k->ctx, MARK_EUNSEEKABLE, "output cannot seek");
    if (k->buf != NULL) {
        memcpy(k->buf->data + pos, p, n);
        return MARK_OK;
    }
    if (k->fd >= 0) {
        if (pwrite(k->fd, p, n, pos) != (ssize_t)n)
            return mark__err(k->ctx, MARK_EIO, "write failed: %s",
                             strerror(errno));
        return MARK_OK;
    }
    if (k->io->seek(k->user, pos, SEEK_SET) < 0)
        return mark__err(k->ctx, MARK_EIO, "seek failed");
    k->pos = pos;
    rc = mark__sink_write(k, p, n);
    if (rc == MARK_OK && k->io->seek(k->user, end, SEEK_SET) < 0)
        rc = mark__err(k->ctx, MARK_EIO, "seek failed");
    k->pos = end;
    return rc;
}
