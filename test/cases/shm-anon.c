// SPDX-License-Identifier: GPL-2.0-or-later
/* Shared anonymous memory: its pages, holes that stay zero, a second VMA
 * of the same object, and sharing with a child forked after restore. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "case.h"

#define PG	 4096ul
#define NPAGES	 32
#define ALIAS_AT 4 /* the alias maps pages 4..11 of the object */
#define ALIAS_N	 8

static unsigned char *region, *alias;

static void setup(void)
{
	char path[96];
	int fd;

	region = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		test_setup_failed("mmap: %m");
	test_fill(region, 8 * PG, 1);
	test_fill(region + 20 * PG, PG, 2);
	/* A second mapping of the same object, elsewhere, from an offset. */
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)region,
		 (unsigned long)region + NPAGES * PG);
	fd = open(path, O_RDWR);
	if (fd < 0)
		test_setup_failed("open %s: %m", path);
	alias = mmap(NULL, ALIAS_N * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, ALIAS_AT * PG);
	if (alias == MAP_FAILED)
		test_setup_failed("mmap of the alias: %m");
	close(fd);
}

static bool zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void check(void)
{
	long off;
	pid_t pid;
	int status;

	off = test_check(region, 8 * PG, 1);
	if (off >= 0)
		fail("pages 0-7 differ at byte %ld", off);
	off = test_check(region + 20 * PG, PG, 2);
	if (off >= 0)
		fail("page 20 differs at byte %ld", off);
	if (!zero(region + 8 * PG, 12 * PG) || !zero(region + 21 * PG, 11 * PG))
		fail("pages never written are not zero");
	/* The alias is the same memory, both ways. */
	if (memcmp(alias, region + ALIAS_AT * PG, ALIAS_N * PG))
		fail("the alias does not show the region's pages");
	alias[PG + 5] ^= 0xff;
	if (region[(ALIAS_AT + 1) * PG + 5] != alias[PG + 5])
		fail("a write through the alias does not show in the region");
	/* Still shared with a child forked now. */
	pid = fork();
	if (pid < 0)
		fail("fork: %m");
	if (pid == 0) {
		region[25 * PG] = 0xa5;
		alias[0] = 0x5a;
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		fail("the child did not exit");
	if (region[25 * PG] != 0xa5 || region[ALIAS_AT * PG] != 0x5a)
		fail("the child's writes do not show: the memory is not shared");
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	setup();
	test_ready();
	test_wait_stop();
	check();
	pass();
}
