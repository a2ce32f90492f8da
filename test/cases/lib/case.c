// SPDX-License-Identifier: GPL-2.0-or-later
/* The workload-case protocol: daemonize, ready, SIGTERM, PASS/FAIL. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "case.h"

/* A test program's whole state; a case is one short-lived process. */
static struct {
	int argc;
	char **argv;
	const char *pidfile;
	const char *outfile;
	int ready_fd;
	volatile sig_atomic_t stop;
	volatile sig_atomic_t failed;
	char why[512];
} tc = {.ready_fd = -1};

__attribute__((format(printf, 2, 0))) static void write_line(const char *prefix, const char *fmt,
							     va_list ap)
{
	char buf[700];
	int n = snprintf(buf, sizeof(buf), "%s", prefix);

	if (fmt) {
		int m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
		n = m < 0 ? n : (n + m > (int)sizeof(buf) - 2 ? (int)sizeof(buf) - 2 : n + m);
	}
	buf[n++] = '\n';
	/* OUTFILE is opened O_APPEND: one write() is one whole line even when
	 * an original and its restored copy share the file. */
	if (write(STDOUT_FILENO, buf, n) < 0)
		_exit(3);
}

const char *test_opt(const char *name)
{
	size_t len = strlen(name);

	for (int i = 1; i < tc.argc; i++) {
		const char *a = tc.argv[i];
		if (!strncmp(a, "--", 2) && !strncmp(a + 2, name, len) && a[2 + len] == '=')
			return a + 3 + len;
	}
	return NULL;
}

static void on_sigterm(int sig)
{
	tc.stop = 1;
}

static int write_pidfile(const char *path, pid_t pid)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", pid);
	if (write(fd, buf, n) != n) {
		close(fd);
		return -EIO;
	}
	return close(fd) < 0 ? -errno : 0;
}

void test_init(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_sigterm};
	int p[2], fd;
	pid_t pid;
	char c;

	tc.argc = argc;
	tc.argv = argv;
	tc.pidfile = test_opt("pidfile");
	tc.outfile = test_opt("outfile");
	if (!tc.pidfile || !tc.outfile) {
		fprintf(stderr, "usage: %s --pidfile=FILE --outfile=FILE [--OPT=VALUE...]\n",
			argv[0]);
		exit(2);
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("pipe2");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid > 0) {
		ssize_t n;

		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1 || c != 'R') {
			int status = 0;
			waitpid(pid, &status, 0);
			fprintf(stderr, "%s: the case failed during setup (see %s)\n", argv[0],
				tc.outfile);
			exit(1);
		}
		if (write_pidfile(tc.pidfile, pid) < 0) {
			fprintf(stderr, "%s: cannot write %s: %m\n", argv[0], tc.pidfile);
			kill(pid, SIGKILL);
			exit(1);
		}
		exit(0);
	}

	close(p[0]);
	tc.ready_fd = p[1];
	if (setsid() < 0)
		_exit(1);
	fd = open(tc.outfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		_exit(1);
	if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		_exit(1);
	if (fd > STDERR_FILENO)
		close(fd);
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		_exit(1);
	if (fd > STDERR_FILENO)
		close(fd);
	setvbuf(stdout, NULL, _IONBF, 0);
	if (sigaction(SIGTERM, &sa, NULL) < 0)
		test_setup_failed("sigaction(SIGTERM): %m");
}

void test_ready(void)
{
	char c = 'R';

	/* The pipe must be gone before the dump: pipes are not dumpable yet,
	 * and a case should hold only the state it means to test. */
	if (write(tc.ready_fd, &c, 1) != 1)
		_exit(1);
	close(tc.ready_fd);
	tc.ready_fd = -1;
}

bool test_stopped(void)
{
	return tc.stop;
}

volatile sig_atomic_t *test_stop_flag(void)
{
	return &tc.stop;
}

void test_wait_stop(void)
{
	sigset_t term, orig, susp;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &orig);
	susp = orig;
	sigdelset(&susp, SIGTERM);
	while (!tc.stop)
		sigsuspend(&susp);
	sigprocmask(SIG_SETMASK, &orig, NULL);
}

void test_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	write_line("# ", fmt, ap);
	va_end(ap);
}

void test_note_fail(const char *fmt, ...)
{
	va_list ap;

	if (tc.failed)
		return;
	tc.failed = 1;
	va_start(ap, fmt);
	vsnprintf(tc.why, sizeof(tc.why), fmt, ap);
	va_end(ap);
}

bool test_has_failed(void)
{
	return tc.failed;
}

static void put_why(const char *prefix, const char *why)
{
	char buf[600];

	snprintf(buf, sizeof(buf), "%s%s\n", prefix, why);
	if (write(STDOUT_FILENO, buf, strlen(buf)) < 0)
		_exit(3);
}

void pass(void)
{
	if (tc.failed) {
		put_why("FAIL: ", tc.why);
		exit(1);
	}
	put_why("PASS", "");
	exit(0);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	if (tc.failed)
		put_why("FAIL: ", tc.why);
	va_start(ap, fmt);
	write_line("FAIL: ", fmt, ap);
	va_end(ap);
	exit(1);
}

void test_setup_failed(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	write_line("setup failed: ", fmt, ap);
	va_end(ap);
	/* The parent sees the pipe close without 'R' and exits 1. */
	_exit(1);
}

void test_fill(void *buf, size_t len, uint64_t seed)
{
	uint64_t *w = buf;

	for (size_t i = 0; i < len / 8; i++)
		w[i] = test_pattern(seed, i);
}

long test_check(const void *buf, size_t len, uint64_t seed)
{
	const uint64_t *w = buf;

	for (size_t i = 0; i < len / 8; i++)
		if (w[i] != test_pattern(seed, i))
			return (long)(i * 8);
	return -1;
}
