#include "json_scan.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct cur {
    const char *p, *end;
};

static void blanks(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int hexval(char h)
{
    return h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(unsigned cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string at c->p (the opening quote). With out, unescape into it (outlen
 * bytes, NUL-terminated); *n gets the unescaped length. -1 when invalid, when
 * it does not fit, or (with out) when it holds U+0000. */
static int string(struct cur *c, char *out, size_t outlen, size_t *n)
{
    if (c->p >= c->end || *c->p != '"')
        return -1;
    c->p++;
    size_t k = 0;
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p;
        char buf[4];
        size_t bl = 0;
        if (ch == '"') {
            c->p++;
            if (out) {
                if (k >= outlen)
                    return -1;
                out[k] = '\0';
            }
            if (n)
                *n = k;
            return 0;
        }
        if (ch < 0x20)
            return -1;
        if (ch == '\\') {
            if (c->end - c->p < 2)
                return -1;
            char e = c->p[1];
            c->p += 2;
            switch (e) {
            case '"': case '\\': case '/': buf[0] = e; bl = 1; break;
            case 'b': buf[0] = '\b'; bl = 1; break;
            case 'f': buf[0] = '\f'; bl = 1; break;
            case 'n': buf[0] = '\n'; bl = 1; break;
            case 'r': buf[0] = '\r'; bl = 1; break;
            case 't': buf[0] = '\t'; bl = 1; break;
            case 'u': {
                unsigned cp;
                if (c->end - c->p < 4 || hex4(c->p, &cp) < 0)
                    return -1;
                c->p += 4;
                if (cp >= 0xd800 && cp < 0xdc00) {
                    unsigned lo;
                    if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' || hex4(c->p + 2, &lo) < 0 ||
                        lo < 0xdc00 || lo > 0xdfff)
                        return -1;
                    c->p += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else if (cp >= 0xdc00 && cp < 0xe000) {
                    return -1;
                }
                if (cp == 0 && out)
                    return -1;
                bl = put_utf8(cp, buf);
                break;
            }
            default:
                return -1;
            }
        } else {
            buf[0] = (char)ch;
            bl = 1;
            c->p++;
        }
        if (out) {
            if (k + bl >= outlen)
                return -1;
            memcpy(out + k, buf, bl);
        }
        k += bl;
    }
    return -1;
}

/* One or more decimal digits at c->p. */
static int digits(struct cur *c)
{
    const char *d = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return c->p > d ? 0 : -1;
}

static int number(struct cur *c)
{
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p >= c->end)
        return -1;
    if (*c->p == '0')
        c->p++;
    else if (*c->p < '1' || *c->p > '9' || digits(c) < 0)
        return -1;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (digits(c) < 0)
            return -1;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (digits(c) < 0)
            return -1;
    }
    return 0;
}

static int literal(struct cur *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n))
        return -1;
    c->p += n;
    return 0;
}

static int value(struct cur *c, int depth);

static int container(struct cur *c, int depth, char close)
{
    if (depth >= JSON_MAX_DEPTH)
        return -1;
    c->p++;
    blanks(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 0;
    }
    for (;;) {
        blanks(c);
        if (close == '}') {
            if (string(c, NULL, 0, NULL) < 0)
                return -1;
            blanks(c);
            if (c->p >= c->end || *c->p != ':')
                return -1;
            c->p++;
        }
        if (value(c, depth + 1) < 0)
            return -1;
        blanks(c);
        if (c->p >= c->end)
            return -1;
        if (*c->p == close) {
            c->p++;
            return 0;
        }
        if (*c->p != ',')
            return -1;
        c->p++;
    }
}

static int value(struct cur *c, int depth)
{
    blanks(c);
    if (c->p >= c->end)
        return -1;
    switch (*c->p) {
    case '{': return container(c, depth, '}');
    case '[': return container(c, depth, ']');
    case '"': return string(c, NULL, 0, NULL);
    case 't': return literal(c, "true");
    case 'f': return literal(c, "false");
    case 'n': return literal(c, "null");
    default: return number(c);
    }
}

bool json_valid(const char *doc, size_t len)
{
    struct cur c = {doc, doc + len};
    if (value(&c, 0) < 0)
        return false;
    blanks(&c);
    return c.p == c.end;
}

/* In the object at c->p, the value of key (length kl); c->p is left on it. */
static int member(struct cur *c, const char *key, size_t kl)
{
    blanks(c);
    if (c->p >= c->end || *c->p != '{')
        return -1;
    c->p++;
    blanks(c);
    if (c->p < c->end && *c->p == '}')
        return -1;
    for (;;) {
        blanks(c);
        char name[256];
        size_t nl;
        struct cur save = *c;
        bool fits = string(c, name, sizeof name, &nl) == 0;
        if (!fits) { /* a long or NUL-holding key is not ours: skip it */
            *c = save;
            if (string(c, NULL, 0, NULL) < 0)
                return -1;
        }
        blanks(c);
        if (c->p >= c->end || *c->p != ':')
            return -1;
        c->p++;
        blanks(c);
        if (fits && nl == kl && !memcmp(name, key, kl))
            return 0;
        if (value(c, 1) < 0)
            return -1;
        blanks(c);
        if (c->p >= c->end || *c->p != ',')
            return -1;
        c->p++;
    }
}

int json_find(const char *doc, size_t len, const char *path, const char **val, size_t *vlen)
{
    if (!json_valid(doc, len))
        return -1;
    struct cur c = {doc, doc + len};
    const char *k = path;
    for (;;) {
        const char *dot = strchr(k, '.');
        size_t kl = dot ? (size_t)(dot - k) : strlen(k);
        if (member(&c, k, kl) < 0)
            return -1;
        if (!dot)
            break;
        k = dot + 1;
    }
    const char *start = c.p;
    if (value(&c, 1) < 0)
        return -1;
    *val = start;
    *vlen = (size_t)(c.p - start);
    return 0;
}

int json_get_string(const char *doc, size_t len, const char *path, char *out, size_t outlen)
{
    const char *v;
    size_t vl;
    if (json_find(doc, len, path, &v, &vl) < 0 || *v != '"')
        return -1;
    struct cur c = {v, v + vl};
    return string(&c, out, outlen, NULL);
}

int json_get_int(const char *doc, size_t len, const char *path, long long *out)
{
    const char *v;
    size_t vl;
    if (json_find(doc, len, path, &v, &vl) < 0 || vl == 0 || vl > 20)
        return -1;
    char num[24];
    memcpy(num, v, vl);
    num[vl] = '\0';
    if (strpbrk(num, ".eE"))
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll(num, &end, 10);
    if (errno || *end)
        return -1;
    *out = n;
    return 0;
}
