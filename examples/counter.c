// SPDX-License-Identifier: GPL-2.0-or-later
/* Demo workload: counts forever, appending the count to a file 10x/second,
 * with 64 MiB of memory it checks on every step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE (64UL << 20)

int main(int argc, char **argv)
{
	unsigned long *mem = malloc(MEM_SIZE);
	size_t n = MEM_SIZE / sizeof(*mem);
	unsigned long count = 0;
	FILE *out;

	if (argc != 2) {
		fprintf(stderr, "usage: counter OUTFILE\n");
		return 2;
	}
	out = fopen(argv[1], "a");
	if (!mem || !out)
		return 1;
	for (size_t i = 0; i < n; i++)
		mem[i] = i * 2654435761UL;
	for (;;) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		/* The memory must still hold its pattern after a restore. */
		for (size_t i = count % 512; i < n; i += 512)
			if (mem[i] != i * 2654435761UL) {
				fprintf(out, "memory corrupted at %zu\n", i);
				return 1;
			}
		fprintf(out, "%lu\n", count++);
		fflush(out);
		nanosleep(&ts, NULL);
	}
}
