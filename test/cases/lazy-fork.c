// SPDX-License-Identifier: GPL-2.0-or-later
/* Fork right after restore; parent and child both read and write lazy memory and verify. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "case.h"
#include "lazy-restored.h"

#define SIZE	(128ul << 20)
#define QUARTER (SIZE / 4)
#define SEED	0x4f4b
#define SEED_C	0xc41d
#define SEED_P	0xa7e7

/* Checks one piece; on a mismatch writes why into @why and returns false. */
static bool check_piece(char *why, size_t whylen, const char *who, char *buf, size_t off,
			size_t len, uint64_t seed)
{
	long bad = lazy_check(buf, off, len, seed);

	if (bad < 0)
		return true;
	snprintf(why, whylen, "%s: [%zu, +%zu) (seed %#llx) differs at offset %ld (page %ld)",
		 who, off, len, (unsigned long long)seed, bad, bad / (long)LAZY_PG);
	return false;
}

/*
 * The child writes the first quarter and reads the rest; the parent writes
 * the second quarter and reads the rest. Neither may see the other's writes.
 * Returns 0 or writes a reason into @why.
 */
static int fork_and_check(char *buf, char *why, size_t whylen)
{
	int pfd[2], status;
	char cwhy[256] = "";
	ssize_t n;
	pid_t pid;

	if (pipe(pfd) < 0) {
		snprintf(why, whylen, "pipe: %m");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %m");
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		char m[256] = "";

		close(pfd[0]);
		lazy_fill(buf, 0, QUARTER, SEED_C);
		if (check_piece(m, sizeof(m), "child", buf, QUARTER, SIZE - QUARTER, SEED) &&
		    check_piece(m, sizeof(m), "child", buf, 0, QUARTER, SEED_C))
			_exit(0);
		if (write(pfd[1], m, strlen(m)) < 0)
			_exit(2);
		_exit(1);
	}
	close(pfd[1]);
	lazy_fill(buf, QUARTER, QUARTER, SEED_P);
	if (!check_piece(why, whylen, "parent", buf, 0, QUARTER, SEED) ||
	    !check_piece(why, whylen, "parent", buf, 2 * QUARTER, 2 * QUARTER, SEED) ||
	    !check_piece(why, whylen, "parent", buf, QUARTER, QUARTER, SEED_P)) {
		close(pfd[0]);
		waitpid(pid, &status, 0);
		return -1;
	}
	n = read(pfd[0], cwhy, sizeof(cwhy) - 1);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, whylen, "waitpid: %m");
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (n > 0) {
		cwhy[n] = '\0';
		snprintf(why, whylen, "%s", cwhy);
	} else if (WIFSIGNALED(status)) {
		snprintf(why, whylen, "the child was killed by signal %d", WTERMSIG(status));
	} else {
		snprintf(why, whylen, "the child exited with %d", WEXITSTATUS(status));
	}
	return -1;
}

int main(int argc, char **argv)
{
	unsigned long long start;
	char why[512] = "";
	long missing;
	char *buf;
	int ret;

	test_init(argc, argv);
	buf = lazy_guarded_region(SIZE);
	test_fill(buf, SIZE, SEED);
	start = lazy_start_time();
	if (!start)
		test_setup_failed("can't read the start time from /proc/self/stat");
	test_ready();

	/* A process left running by dump -R forks at SIGTERM instead. */
	lazy_wait_restored(start);
	missing = lazy_missing_pages(buf, SIZE);
	ret = fork_and_check(buf, why, sizeof(why));
	test_msg("forked with %ld of %lu pages not in place", missing, SIZE / LAZY_PG);
	if (ret < 0)
		fail("%s", why);

	test_wait_stop();
	/* The parent's memory as it left it, after the background fill. */
	if (!check_piece(why, sizeof(why), "parent at SIGTERM", buf, 0, QUARTER, SEED) ||
	    !check_piece(why, sizeof(why), "parent at SIGTERM", buf, QUARTER, QUARTER, SEED_P) ||
	    !check_piece(why, sizeof(why), "parent at SIGTERM", buf, 2 * QUARTER, 2 * QUARTER,
			 SEED))
		fail("%s", why);
	pass();
}
