#include "http.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* End of the header block (index after CRLFCRLF), or 0 when not there yet. */
static size_t headers_end(const char *buf, size_t len)
{
    size_t lim = len < HTTP_MAX_HEADERS_BYTES ? len : HTTP_MAX_HEADERS_BYTES;
    for (size_t i = 3; i < lim; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return i + 1;
    return 0;
}

static bool parse_uint(const char *s, size_t n, unsigned long long max, unsigned long long *out)
{
    if (n == 0 || n > 19)
        return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* One header line name: value (value trimmed). */
struct header {
    const char *name, *value;
    size_t nl, vl;
};

static bool is(const struct header *h, const char *name)
{
    return h->nl == strlen(name) && !strncasecmp(h->name, name, h->nl);
}

static bool has_token(const struct header *h, const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i + tl <= h->vl; i++)
        if (!strncasecmp(h->value + i, token, tl) && (i == 0 || h->value[i - 1] == ',' || h->value[i - 1] == ' ') &&
            (i + tl == h->vl || h->value[i + tl] == ',' || h->value[i + tl] == ' '))
            return true;
    return false;
}

struct framing {
    bool chunked, has_length;
    unsigned long long length;
};

static int header(struct http_response *r, struct framing *f, const struct header *h)
{
    unsigned long long v;
    if (is(h, "content-length")) {
        if (!parse_uint(h->value, h->vl, SIZE_MAX / 2, &v) || (f->has_length && v != f->length))
            return -1;
        f->has_length = true;
        f->length = v;
    } else if (is(h, "transfer-encoding")) {
        if (!has_token(h, "chunked"))
            return -1; /* no other coding is ever asked for */
        f->chunked = true;
    } else if (is(h, "connection")) {
        if (has_token(h, "close"))
            r->keep_alive = false;
    } else if (is(h, "etag")) {
        const char *s = h->value;
        size_t n = h->vl;
        if (n >= 2 && s[0] == 'W' && s[1] == '/')
            s += 2, n -= 2;
        if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
            s++, n -= 2;
        if (n < sizeof r->etag) {
            memcpy(r->etag, s, n);
            r->etag[n] = '\0';
        }
    } else if (is(h, "x-vigil-poll-seconds")) {
        if (parse_uint(h->value, h->vl, 86400, &v))
            r->poll_seconds = (int)v;
    } else if (is(h, "retry-after")) {
        if (parse_uint(h->value, h->vl, 86400, &v))
            r->retry_after = (int)v;
    }
    return 0;
}

static int status_line(const char *s, size_t n, struct http_response *r)
{
    if (n < 12 || memcmp(s, "HTTP/1.", 7) || (s[7] != '0' && s[7] != '1') || s[8] != ' ')
        return -1;
    if (!isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) || !isdigit((unsigned char)s[11]))
        return -1;
    if (n > 12 && s[12] != ' ')
        return -1;
    r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (r->status < 100)
        return -1;
    r->keep_alive = s[7] == '1';
    return 0;
}

/* The CRLF-terminated line starting at buf[start] (chunk sizes and trailers are
 * never empty lines of their own, never over 1 KiB): 1 with *nl at its '\n', 0
 * when incomplete, -1 when malformed. */
static int crlf_line(const char *buf, size_t len, size_t start, size_t *nl)
{
    size_t p = start;
    while (p < len && buf[p] != '\n')
        if (p++ - start > 1024)
            return -1;
    if (p >= len)
        return 0;
    if (p == start || buf[p - 1] != '\r')
        return -1;
    *nl = p;
    return 1;
}

/* Walk the chunks from buf[start]. With decode, move the data to buf[start..].
 * Returns the end of the chunked body (> 0), 0 when incomplete, -1 when malformed. */
static long chunks(char *buf, size_t len, size_t start, size_t max_body, bool decode, size_t *body_len)
{
    size_t p = start, out = start, total = 0;
    for (;;) {
        size_t line = p, e; /* e: at '\n' */
        int got = crlf_line(buf, len, line, &e);
        if (got <= 0)
            return got;
        size_t hex_end = line;
        unsigned long long size = 0;
        while (hex_end < e - 1 && isxdigit((unsigned char)buf[hex_end])) {
            if (size > (SIZE_MAX >> 5))
                return -1;
            int c = buf[hex_end];
            size = size * 16 + (unsigned)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
            hex_end++;
        }
        if (hex_end == line || (hex_end < e - 1 && buf[hex_end] != ';' && buf[hex_end] != ' '))
            return -1;
        p = e + 1;
        if (size == 0) { /* trailers until an empty line */
            for (;;) {
                size_t t = p, nl;
                int trailer = crlf_line(buf, len, t, &nl);
                if (trailer <= 0)
                    return trailer;
                p = nl + 1;
                if (p - t == 2)
                    break;
            }
            *body_len = total;
            return (long)p;
        }
        if (size > max_body - total)
            return -1;
        if (len - p < size + 2)
            return 0;
        if (buf[p + size] != '\r' || buf[p + size + 1] != '\n')
            return -1;
        if (decode)
            memmove(buf + out, buf + p, size);
        out += size;
        total += size;
        p += size + 2;
    }
}

long http_parse_response(char *buf, size_t len, bool eof, size_t max_body, struct http_response *r)
{
    memset(r, 0, sizeof *r);
    r->poll_seconds = r->retry_after = -1;
    size_t hend = headers_end(buf, len);
    if (hend == 0)
        return len >= HTTP_MAX_HEADERS_BYTES || eof ? -1 : 0;
    const char *p = buf, *end = buf + hend - 2; /* lines up to the final CRLF */
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl || nl == p || nl[-1] != '\r' || status_line(p, (size_t)(nl - 1 - p), r) < 0)
        return -1;
    struct framing f = {0};
    for (p = nl + 1; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl || nl[-1] != '\r')
            return -1;
        const char *colon = memchr(p, ':', (size_t)(nl - 1 - p));
        if (!colon || colon == p)
            return -1;
        struct header h = {p, colon + 1, (size_t)(colon - p), (size_t)(nl - 1 - (colon + 1))};
        for (size_t i = 0; i < h.nl; i++)
            if ((unsigned char)h.name[i] <= ' ' || (unsigned char)h.name[i] >= 0x7f)
                return -1;
        while (h.vl && (*h.value == ' ' || *h.value == '\t'))
            h.value++, h.vl--;
        while (h.vl && (h.value[h.vl - 1] == ' ' || h.value[h.vl - 1] == '\t'))
            h.vl--;
        if (header(r, &f, &h) < 0)
            return -1;
    }
    r->body = buf + hend;
    if (r->status < 200 || r->status == 204 || r->status == 304) {
        r->body_len = 0;
        return r->status < 200 ? -1 : (long)hend; /* no 1xx is ever asked for */
    }
    if (f.chunked) {
        if (f.has_length)
            return -1; /* both: a smuggling attempt or a broken proxy */
        size_t body_len;
        long done = chunks(buf, len, hend, max_body, false, &body_len);
        if (done <= 0)
            return done < 0 || eof ? -1 : 0;
        chunks(buf, len, hend, max_body, true, &body_len);
        r->body_len = body_len;
        return done;
    }
    if (f.has_length) {
        if (f.length > max_body)
            return -1;
        if (len - hend < f.length)
            return eof ? -1 : 0;
        r->body_len = (size_t)f.length;
        return (long)(hend + f.length);
    }
    /* the body lasts until the connection closes */
    r->keep_alive = false;
    if (len - hend > max_body)
        return -1;
    if (!eof)
        return 0;
    r->body_len = len - hend;
    return (long)len;
}
