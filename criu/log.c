// SPDX-License-Identifier: GPL-2.0-or-later
/* Logging to stderr or a log file, with a level and a per-file prefix. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* The log level and sink are process-wide, set once from main's options. */
static int log_level = LOG_DEFAULT_LEVEL;
static int log_fd = STDERR_FILENO;
static struct timespec log_start;

int log_init(int level, const char *path)
{
	log_level = level;
	clock_gettime(CLOCK_MONOTONIC, &log_start);
	if (path && strcmp(path, "-") != 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd < 0) {
			int r = -errno;

			fprintf(stderr, "Error: cannot open log file %s: %s\n", path, strerror(errno));
			return r;
		}
		log_fd = fd;
	}
	return 0;
}

void log_fini(void)
{
	if (log_fd != STDERR_FILENO) {
		close(log_fd);
		log_fd = STDERR_FILENO;
	}
}

int log_get_level(void)
{
	return log_level;
}

void log_set_level(int level)
{
	log_level = level;
}

/* format(printf, 3, 0): fmt is checked at the callers, which pass ap. */
__attribute__((format(printf, 3, 0))) static void log_vprint(int level, const char *prefix,
								const char *fmt, va_list ap)
{
	char buf[4096];
	int off = 0;
	int saved = errno;

	if (level > log_level)
		return;
	if (log_level >= LOG_DEBUG && level != LOG_MSG) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		long long us = (now.tv_sec - log_start.tv_sec) * 1000000LL +
			       (now.tv_nsec - log_start.tv_nsec) / 1000;
		off = snprintf(buf, sizeof(buf), "(%lld.%06lld) %d ", us / 1000000, us % 1000000,
			       (int)getpid());
	}
	if (prefix && off < (int)sizeof(buf))
		off += snprintf(buf + off, sizeof(buf) - off, "%s", prefix);
	if (off < (int)sizeof(buf))
		off += vsnprintf(buf + off, sizeof(buf) - off, fmt, ap);
	if (off >= (int)sizeof(buf))
		off = sizeof(buf) - 1;
	/* One write per line keeps lines whole when several processes log. */
	if (off > 0 && write(log_fd, buf, off) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}

void log_print(int level, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(level, prefix, fmt, ap);
	va_end(ap);
}

int log_error_errno(const char *prefix, int r, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_print(LOG_ERROR, prefix, "Error: %s: %s\n", msg, strerror(r < 0 ? -r : r));
	return r < 0 ? r : -r;
}
