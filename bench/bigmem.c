// SPDX-License-Identifier: GPL-2.0-or-later
/* Benchmark workload: touches N MiB of anonymous memory with a pattern,
 * prints "ready", then sleeps until killed. */
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
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
	/* stdout is the caller's pipe: leave only /dev/null behind, so the
	 * process is something relive can dump. */
	int null = open("/dev/null", O_WRONLY);
	if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
		return 1;
	close(null);
	for (;;)
		pause();
}
