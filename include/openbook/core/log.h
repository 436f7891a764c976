/* log.h - leveled logging to stderr.  One line per call, prefixed with the
 * level and the pid, so the master's and every worker's lines interleave
 * readably in journald or a terminal. */
#ifndef OPENBOOK_LOG_H
#define OPENBOOK_LOG_H

typedef enum { OB_LOG_DEBUG, OB_LOG_INFO, OB_LOG_WARNING, OB_LOG_ERROR } ob_log_level;

void ob_log_set_level(ob_log_level lvl);
ob_log_level ob_log_get_level(void);
/* Parses "debug", "info", "warning", "error"; returns -1 if unknown. */
int ob_log_level_parse(const char *s);
void ob_log(ob_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ob_debug(...) ob_log(OB_LOG_DEBUG, __VA_ARGS__)
#define ob_info(...) ob_log(OB_LOG_INFO, __VA_ARGS__)
#define ob_warn(...) ob_log(OB_LOG_WARNING, __VA_ARGS__)
#define ob_error(...) ob_log(OB_LOG_ERROR, __VA_ARGS__)

/* For impossible states only: logs and aborts. */
_Noreturn void ob_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
