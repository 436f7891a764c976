/* promtext.h - the Prometheus text exposition format (version 0.0.4), the
 * format every monitoring stack scrapes.
 *
 * A family is announced once (# HELP, # TYPE) and followed by its samples:
 *
 *     # HELP openbook_http_requests_total Requests answered.
 *     # TYPE openbook_http_requests_total counter
 *     openbook_http_requests_total{route="/api/",method="GET",status="2xx"} 12
 *
 * Metric and label names are the caller's constants; label values may be
 * anything and are escaped here (backslash, double quote, line feed), as
 * is HELP text (backslash, line feed).  Numbers follow Go's float syntax
 * (+Inf, -Inf, NaN), integers are written exactly. */
#ifndef OPENBOOK_PROMTEXT_H
#define OPENBOOK_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>
#include "openbook/core/buf.h"

/* The Content-Type of a scrape answer in this format. */
#define OB_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct ob_prom_label {
    const char *name;
    const char *value;
} ob_prom_label;

/* "# HELP name help\n# TYPE name type\n"; type is "counter", "gauge" or
 * "histogram". */
void ob_prom_family(ob_buf *out, const char *name, const char *type, const char *help);

/* One sample line: name, the labels (none when n is 0), the value. */
void ob_prom_sample(ob_buf *out, const char *name, const ob_prom_label *labels, size_t n,
                    uint64_t value);
void ob_prom_sample_double(ob_buf *out, const char *name, const ob_prom_label *labels, size_t n,
                           double value);

/* The samples of one histogram: name_bucket{...,le="b"} for every bound
 * (cumulative counts), le="+Inf", name_sum and name_count.  counts holds
 * nbounds + 1 per-bucket (not cumulative) counts, the last one for values
 * above every bound.  labels (n of them) come before le. */
void ob_prom_histogram(ob_buf *out, const char *name, const ob_prom_label *labels, size_t n,
                       const double *bounds, size_t nbounds, const uint64_t *counts, double sum);

/* A whole family of one unlabelled sample. */
void ob_prom_counter(ob_buf *out, const char *name, const char *help, uint64_t value);
void ob_prom_gauge(ob_buf *out, const char *name, const char *help, uint64_t value);
/* A whole family whose samples differ in one label: label=names[i] has
 * values[i]. */
void ob_prom_by_label(ob_buf *out, const char *name, const char *type, const char *help,
                      const char *label, const char *const *names, const uint64_t *values,
                      size_t n);

/* Escapes a label value (without the quotes). */
void ob_prom_escape_label(ob_buf *out, const char *value);

/* A number as the format writes it: the shortest text that reads back as
 * the same double; "+Inf", "-Inf", "NaN". */
void ob_prom_double(ob_buf *out, double v);

#endif
