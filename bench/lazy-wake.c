// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Benchmark workload for scripts/bench-lazy: N MiB of patterned anonymous
 * memory; after "ready" it wakes every millisecond, and the first time it
 * runs as a restored copy it writes the CLOCK_REALTIME of that moment to
 * MARKFILE (opened only then, so no file is open at dump time).
 * Usage: lazy-wake MIB MARKFILE
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Start time of this process (field 22 of /proc/self/stat), 0 if unknown.
 * A restored copy is a new process with a new start time. */
static unsigned long long start_time(void)
{
	char buf[1024], *p;
	unsigned long long t = 0;
	ssize_t n;
	int fd, i;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	for (i = 3; p && i <= 22; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &t) != 1)
		return 0;
	return t;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	const struct timespec ms = {0, 1000 * 1000};
	unsigned long long start;
	struct timespec now;
	long long prev;
	size_t len, i;
	uint64_t *p;
	char line[64];
	int fd, null;

	if (argc != 3)
		return 2;
	len = strtoul(argv[1], NULL, 10) << 20;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	/* Allocate in the kernel first: this machine's first-touch faults
	 * would make a 4 GiB fill take most of a minute. */
	madvise(p, len, MADV_POPULATE_WRITE);
	for (i = 0; i < len / sizeof(*p); i++)
		p[i] = i * 0x9e3779b97f4a7c15ull | 1;
	start = start_time();
	if (!start)
		return 1;
	printf("ready\n");
	fflush(stdout);
	/* stdout is the caller's pipe: leave only /dev/null behind, so the
	 * process is something relive can dump. */
	null = open("/dev/null", O_WRONLY);
	if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
		return 1;
	close(null);

	prev = mono_ms();
	for (;;) {
		long long t;

		nanosleep(&ms, NULL);
		t = mono_ms();
		/* A late wake-up: frozen by a dump, perhaps restored now. Only
		 * then is /proc/self/stat opened (see the lazy cases). */
		if (t - prev > 20 && start_time() != start)
			break;
		prev = t;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return 1;
	snprintf(line, sizeof(line), "%lld.%09ld\n", (long long)now.tv_sec, now.tv_nsec);
	if (write(fd, line, strlen(line)) < 0)
		return 1;
	close(fd);
	for (;;)
		pause();
}
