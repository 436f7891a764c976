/* promtext.c - the Prometheus text exposition format (see promtext.h). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openbook/core/promtext.h"

static void escape(ob_buf *out, const char *s, bool quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '\n')
            rep = "\\n";
        else if (quote && *s == '"')
            rep = "\\\"";
        if (!rep)
            continue;
        ob_buf_append(out, run, (size_t)(s - run));
        ob_buf_append(out, rep, 2);
        run = s + 1;
    }
    ob_buf_append(out, run, (size_t)(s - run));
}

void ob_prom_escape_label(ob_buf *out, const char *value)
{
    escape(out, value ? value : "", true);
}

void ob_prom_family(ob_buf *out, const char *name, const char *type, const char *help)
{
    ob_buf_puts(out, "# HELP ");
    ob_buf_puts(out, name);
    ob_buf_putc(out, ' ');
    escape(out, help, false);
    ob_buf_puts(out, "\n# TYPE ");
    ob_buf_puts(out, name);
    ob_buf_putc(out, ' ');
    ob_buf_puts(out, type);
    ob_buf_putc(out, '\n');
}

/* The text of v in tmp (or a constant). */
static const char *fmt_double(char tmp[40], double v)
{
    if (isnan(v))
        return "NaN";
    if (isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    /* The shortest of %.15g..%.17g that reads back exactly: bucket bounds
     * print as 0.005, not 0.0050000000000000001. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, 40, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    return tmp;
}

void ob_prom_double(ob_buf *out, double v)
{
    char tmp[40];
    ob_buf_puts(out, fmt_double(tmp, v));
}

/* name{a="x",b="y"[,le="..."]} without the value. */
static void series(ob_buf *out, const char *name, const char *suffix, const ob_prom_label *labels,
                   size_t n, const char *le)
{
    ob_buf_puts(out, name);
    if (suffix)
        ob_buf_puts(out, suffix);
    if (!n && !le)
        return;
    ob_buf_putc(out, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            ob_buf_putc(out, ',');
        ob_buf_puts(out, labels[i].name);
        ob_buf_puts(out, "=\"");
        ob_prom_escape_label(out, labels[i].value);
        ob_buf_putc(out, '"');
    }
    if (le) {
        if (n)
            ob_buf_putc(out, ',');
        ob_buf_puts(out, "le=\"");
        ob_buf_puts(out, le);
        ob_buf_putc(out, '"');
    }
    ob_buf_putc(out, '}');
}

static void put_u64(ob_buf *out, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    ob_buf_append(out, tmp + i, sizeof tmp - i);
}

void ob_prom_sample(ob_buf *out, const char *name, const ob_prom_label *labels, size_t n,
                    uint64_t value)
{
    series(out, name, NULL, labels, n, NULL);
    ob_buf_putc(out, ' ');
    put_u64(out, value);
    ob_buf_putc(out, '\n');
}

void ob_prom_sample_double(ob_buf *out, const char *name, const ob_prom_label *labels, size_t n,
                           double value)
{
    series(out, name, NULL, labels, n, NULL);
    ob_buf_putc(out, ' ');
    ob_prom_double(out, value);
    ob_buf_putc(out, '\n');
}

void ob_prom_counter(ob_buf *out, const char *name, const char *help, uint64_t value)
{
    ob_prom_family(out, name, "counter", help);
    ob_prom_sample(out, name, NULL, 0, value);
}

void ob_prom_gauge(ob_buf *out, const char *name, const char *help, uint64_t value)
{
    ob_prom_family(out, name, "gauge", help);
    ob_prom_sample(out, name, NULL, 0, value);
}

void ob_prom_by_label(ob_buf *out, const char *name, const char *type, const char *help,
                      const char *label, const char *const *names, const uint64_t *values,
                      size_t n)
{
    ob_prom_family(out, name, type, help);
    for (size_t i = 0; i < n; i++) {
        ob_prom_label l = {label, names[i]};
        ob_prom_sample(out, name, &l, 1, values[i]);
    }
}

void ob_prom_histogram(ob_buf *out, const char *name, const ob_prom_label *labels, size_t n,
                       const double *bounds, size_t nbounds, const uint64_t *counts, double sum)
{
    uint64_t cum = 0;
    for (size_t i = 0; i <= nbounds; i++) {
        cum += counts[i];
        char tmp[40];
        series(out, name, "_bucket", labels, n, i < nbounds ? fmt_double(tmp, bounds[i]) : "+Inf");
        ob_buf_putc(out, ' ');
        put_u64(out, cum);
        ob_buf_putc(out, '\n');
    }
    series(out, name, "_sum", labels, n, NULL);
    ob_buf_putc(out, ' ');
    ob_prom_double(out, sum);
    ob_buf_putc(out, '\n');
    series(out, name, "_count", labels, n, NULL);
    ob_buf_putc(out, ' ');
    put_u64(out, cum);
    ob_buf_putc(out, '\n');
}
