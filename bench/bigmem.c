// SPDX-License-Identifier: GPL-2.0-or-later
/* Benchmark workload: touches N MiB of anonymous memory with a pattern,
 * prints "ready", then sleeps until killed. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	size_t len = mib << 20;
	unsigned long *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < len / sizeof(*p); i++)
		p[i] = i | 1;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
