// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Benchmark workload for scripts/bench-migrate: N MiB of patterned
 * anonymous memory; once it runs as a restored copy (a late wake-up and a
 * new start time, as bench/lazy-wake) it touches random pages that are not
 * in place yet (mincore), times each touch until it resumes, and writes
 * "median p90 p99 count" in microseconds to MARKFILE.
 * Usage: fault-probe MIB TOUCHES MARKFILE
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const struct timespec ms = {0, 1000 * 1000};
	static uint64_t lat[1 << 16];
	unsigned long long start;
	size_t len, pages, n = 0, want, i;
	uint64_t prev, seed = 0x2545f4914f6cdd1dull, sum = 0;
	volatile uint64_t *p;
	char line[128];
	int fd, null;

	if (argc != 4)
		return 2;
	len = strtoul(argv[1], NULL, 10) << 20;
	want = strtoul(argv[2], NULL, 10);
	if (want > sizeof(lat) / sizeof(lat[0]))
		want = sizeof(lat) / sizeof(lat[0]);
	pages = len / 4096;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	madvise((void *)p, len, MADV_POPULATE_WRITE);
	for (i = 0; i < len / 8; i++)
		p[i] = i * 0x9e3779b97f4a7c15ull | 1;
	start = start_time();
	if (!start)
		return 1;
	printf("ready\n");
	fflush(stdout);
	null = open("/dev/null", O_WRONLY);
	if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
		return 1;
	close(null);

	prev = now_ns();
	for (;;) {
		uint64_t t;

		nanosleep(&ms, NULL);
		t = now_ns();
		if (t - prev > 20000000ull && start_time() != start)
			break;
		prev = t;
	}
	/* Random pages not in place yet; at most 8 tries per sample, so a
	 * fast background fill ends the run instead of spinning. */
	for (size_t tries = 0; n < want && tries < 8 * want; tries++) {
		size_t pg;
		unsigned char vec;
		uint64_t t0, t1;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		pg = (size_t)(seed % pages);
		if (mincore((void *)(p + pg * 512), 4096, &vec) < 0 || (vec & 1))
			continue;
		t0 = now_ns();
		sum += p[pg * 512];
		t1 = now_ns();
		lat[n++] = t1 - t0;
	}
	qsort(lat, n, sizeof(lat[0]), cmp_u64);
	fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return 1;
	if (n)
		snprintf(line, sizeof(line), "%.1f %.1f %.1f %zu %llu\n", lat[n / 2] / 1e3,
			 lat[n * 9 / 10] / 1e3, lat[n * 99 / 100] / 1e3, n,
			 (unsigned long long)(sum & 1));
	else
		snprintf(line, sizeof(line), "0 0 0 0 0\n");
	if (write(fd, line, strlen(line)) < 0)
		return 1;
	close(fd);
	for (;;)
		pause();
}
