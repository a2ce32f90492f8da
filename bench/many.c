// SPDX-License-Identifier: GPL-2.0-or-later
/* Benchmark workload: a process with N threads, or a tree of N processes,
 * each with a little touched memory; prints "ready" then sleeps. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return arg;
}

static void touch(size_t len)
{
	char *p = malloc(len);

	if (p)
		memset(p, 0x5a, len);
}

int main(int argc, char **argv)
{
	int threads = 1, procs = 1, null;

	if (argc == 3 && !strcmp(argv[1], "--threads"))
		threads = atoi(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "--procs"))
		procs = atoi(argv[2]);
	else {
		fprintf(stderr, "usage: many --threads N | --procs N\n");
		return 2;
	}
	touch(1 << 20);
	for (int i = 1; i < threads; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, sleeper, NULL))
			return 1;
	}
	for (int i = 1; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			int devnull = open("/dev/null", O_WRONLY);

			if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0)
				_exit(1);
			close(devnull);
			touch(1 << 20);
			for (;;)
				pause();
		}
	}
	printf("ready\n");
	fflush(stdout);
	/* stdout is the caller's pipe: leave only /dev/null behind. */
	null = open("/dev/null", O_WRONLY);
	if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
		return 1;
	close(null);
	for (;;)
		pause();
}
