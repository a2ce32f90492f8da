// SPDX-License-Identifier: GPL-2.0-or-later
/* Baselines for the benchmarks: memcpy bandwidth between warm buffers and
 * into freshly mapped (never touched) pages, in GiB/s, median of runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	size_t len = mib << 20;
	int runs = 5;
	double warm[5], fresh[5];
	char *src = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (src == MAP_FAILED || dst == MAP_FAILED)
		return 1;
	memset(src, 0x5a, len);
	memset(dst, 0xa5, len);
	for (int i = 0; i < runs; i++) {
		double t = now();

		memcpy(dst, src, len);
		warm[i] = (len / (double)(1 << 30)) / (now() - t);
	}
	for (int i = 0; i < runs; i++) {
		char *d = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		double t;

		if (d == MAP_FAILED)
			return 1;
		t = now();
		memcpy(d, src, len);
		fresh[i] = (len / (double)(1 << 30)) / (now() - t);
		munmap(d, len);
	}
	qsort(warm, runs, sizeof(double), cmp);
	qsort(fresh, runs, sizeof(double), cmp);
	printf("memcpy_warm_gibs %.2f\nmemcpy_fresh_gibs %.2f\n", warm[runs / 2], fresh[runs / 2]);
	return 0;
}
