/* log.h - leveled logging to stderr.  One line per call, prefixed with the
 * time, the level and the pid, so the master's and every worker's lines
 * interleave readably in journald or a terminal.
 *
 * Two formats (server.log_format):
 *   text  2025-06-01T12:00:00.000Z info [1234] req=9f86d081 GET /api/ 200 ...
 *   json  {"time":"2025-06-01T12:00:00.000Z","level":"info","pid":1234,
 *          "request_id":"9f86d081","msg":"..."}  (one object per line)
 * While a request is being answered its id (X-Request-Id) is on every line,
 * so an administrator finds everything logged for a user's failed request
 * by the id that request's answer carried. */
#ifndef OPENBOOK_LOG_H
#define OPENBOOK_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { OB_LOG_DEBUG, OB_LOG_INFO, OB_LOG_WARNING, OB_LOG_ERROR } ob_log_level;
typedef enum { OB_LOG_TEXT, OB_LOG_JSON } ob_log_format;

void ob_log_set_level(ob_log_level lvl);
ob_log_level ob_log_get_level(void);
/* Parses "debug", "info", "warning", "error"; returns -1 if unknown. */
int ob_log_level_parse(const char *s);
/* Parses "text", "json"; returns -1 if unknown. */
int ob_log_format_parse(const char *s);
void ob_log_set_format(ob_log_format f);
/* Level and format from the configuration's strings (unknown: info, text). */
void ob_log_configure(const char *level, const char *format);

/* The request id carried by every line from now on; NULL when the request
 * is over.  The string must live until then. */
void ob_log_set_request_id(const char *id);

void ob_log(ob_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One access-log line (level info): in text format
 * "GET /uri 200 123 1.234ms" (+ " cached"), in json format these as
 * members, with the route pattern. */
typedef struct ob_access_entry {
    const char *method;
    const char *uri;
    const char *route;  /* the route pattern, NULL if none matched */
    int status;
    size_t bytes;
    int64_t duration_us;
    bool cached;
} ob_access_entry;
void ob_log_access(const ob_access_entry *e);

#define ob_debug(...) ob_log(OB_LOG_DEBUG, __VA_ARGS__)
#define ob_info(...) ob_log(OB_LOG_INFO, __VA_ARGS__)
#define ob_warn(...) ob_log(OB_LOG_WARNING, __VA_ARGS__)
#define ob_error(...) ob_log(OB_LOG_ERROR, __VA_ARGS__)

/* For impossible states only: logs and aborts. */
_Noreturn void ob_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
