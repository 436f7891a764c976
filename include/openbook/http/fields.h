/* fields.h - pure checks and arithmetic of field values in writes
 * (api-conventions.md §4, permissions.md §8): slugs, URLs, colours, and
 * the calendar arithmetic of enrolment durations.  Like parse.h, each
 * takes (buf, len), never assumes NUL termination, and is driven by a
 * libFuzzer target (test/fuzz/fuzz_fields.c). */
#ifndef OPENBOOK_FIELDS_H
#define OPENBOOK_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Django's slug: ASCII letters, digits, underscores, hyphens; not empty. */
bool ob_valid_slug(const char *s, size_t len);

/* An absolute URL as Django's URLValidator accepts it: scheme http,
 * https, ftp or ftps; a host name with a top-level label, "localhost",
 * an IPv4 address or a bracketed IPv6 address; an optional port; then an
 * optional path/query/fragment without white space.  ASCII only. */
bool ob_valid_url(const char *s, size_t len);

/* "#rgb" or "#rrggbb" (hex digits, any case). */
bool ob_valid_color(const char *s, size_t len);

/* Duration periods of enrollment methods and access requests. */
typedef enum {
    OB_PERIOD_NONE = 0,
    OB_PERIOD_MINUTES,
    OB_PERIOD_HOURS,
    OB_PERIOD_DAYS,
    OB_PERIOD_WEEKS,
    OB_PERIOD_MONTHS,
    OB_PERIOD_YEARS,
    OB_PERIOD_INVALID = -1,
} ob_period;

ob_period ob_period_parse(const char *s, size_t len);

/* now + value periods, in microseconds since the epoch (UTC).  Minutes to
 * weeks add the fractional value; months and years use its integer part
 * and calendar arithmetic, the day clamped to the end of the target month
 * (Jan 31 + 1 month = Feb 28/29).  Returns false when there is no end
 * (no period, value <= 0) or the result would leave years 1..9999. */
bool ob_duration_end(int64_t now_us, ob_period period, double value, int64_t *end_us);

/* Civil date <-> days since 1970-01-01 (proleptic Gregorian). */
int64_t ob_days_from_civil(int64_t y, unsigned m, unsigned d);
void ob_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
