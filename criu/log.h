/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging: levels 0-4, to stderr or a file, one prefix per source file. */
#ifndef RELIVE_LOG_H
#define RELIVE_LOG_H

#include <errno.h>

enum log_level {
	LOG_MSG = 0,	/* always printed (results, summaries) */
	LOG_ERROR = 1,
	LOG_WARN = 2,
	LOG_INFO = 3,
	LOG_DEBUG = 4,
};

/* Default when -v is not given: errors and warnings. */
#define LOG_DEFAULT_LEVEL LOG_WARN

/* Open the log: path NULL means stderr. Returns 0 or -errno. */
int log_init(int level, const char *path);
void log_fini(void);
int log_get_level(void);
void log_set_level(int level);

void log_print(int level, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Each .c file defines LOG_PREFIX ("dump: ") before including this. */
#ifndef LOG_PREFIX
#define LOG_PREFIX ""
#endif

#define pr_msg(fmt, ...)   log_print(LOG_MSG, NULL, fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...)   log_print(LOG_ERROR, LOG_PREFIX, "Error: " fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)  log_print(LOG_WARN, LOG_PREFIX, "Warning: " fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  log_print(LOG_INFO, LOG_PREFIX, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) log_print(LOG_DEBUG, LOG_PREFIX, fmt, ##__VA_ARGS__)

/*
 * Log an error with the text of -r appended and return r (a -errno), so
 * that "return pr_err_ret(r, ...)" logs once where the error is understood.
 */
int log_error_errno(const char *prefix, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define pr_err_ret(r, fmt, ...) log_error_errno(LOG_PREFIX, (r), fmt, ##__VA_ARGS__)

#endif
