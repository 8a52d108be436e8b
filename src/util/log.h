/* Line-oriented logging to stderr (or a file reopened on SIGHUP). Never pass secrets to it. */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

int log_open(const char *path); /* NULL: stderr. Returns 0 or -1 */
void log_reopen(void);          /* after SIGHUP: reopen the same path */
void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For lines a client can provoke (a refused request, MHD's reports): rate-limited, with the number of
 * suppressed lines logged once lines are let through again or at log_limited_flush(). */
void log_limited(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs the count of lines suppressed since the last summary, if any (a periodic caller). */
void log_limited_flush(void);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
