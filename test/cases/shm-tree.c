// SPDX-License-Identifier: GPL-2.0-or-later
/* Two processes sharing anonymous memory and a memfd mapping, with a pipe
 * between them holding unread data: after restore each sees the other's
 * writes, the data arrives, and the pipe ends at end of file when the
 * child, its only writer, exits. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "case.h"

#define PG 4096ul

struct shared {
	volatile int go;   /* the parent tells the child to write, after restore */
	volatile int done; /* the child has written */
};

static const char msg[] = "from the child";

int main(int argc, char **argv)
{
	unsigned char *anon, *mfd_map;
	struct shared *sh;
	char buf[64] = {0};
	int p[2], mfd, status;
	pid_t child;
	long off;

	test_init(argc, argv);
	anon = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	mfd = memfd_create("shm-tree", 0);
	if (anon == MAP_FAILED || mfd < 0 || ftruncate(mfd, 2 * PG) < 0)
		test_setup_failed("shared memory: %m");
	mfd_map = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (mfd_map == MAP_FAILED)
		test_setup_failed("mmap of the memfd: %m");
	close(mfd);
	sh = (struct shared *)anon;
	test_fill(anon + PG, PG, 11);
	if (pipe(p) < 0)
		test_setup_failed("pipe: %m");

	child = fork();
	if (child < 0)
		test_setup_failed("fork: %m");
	if (child == 0) {
		close(p[0]);
		test_fill(anon + 2 * PG, PG, 22);
		test_fill(mfd_map, PG, 33);
		if (write(p[1], msg, sizeof(msg) - 1) != sizeof(msg) - 1)
			_exit(2);
		sh->done = 1;
		/* Wait (across the dump) for the parent's word. */
		while (!sh->go)
			usleep(1000);
		anon[3 * PG] = 0xc1;
		mfd_map[PG] = 0xc2;
		_exit(0);
	}
	close(p[1]);
	while (!sh->done)
		usleep(1000);
	test_ready();
	test_wait_stop();

	off = test_check(anon + PG, PG, 11);
	if (off >= 0)
		fail("the parent's page differs at byte %ld", off);
	off = test_check(anon + 2 * PG, PG, 22);
	if (off >= 0)
		fail("the child's page in the anonymous memory differs at byte %ld", off);
	off = test_check(mfd_map, PG, 33);
	if (off >= 0)
		fail("the child's page in the memfd differs at byte %ld", off);
	if (read(p[0], buf, sizeof(buf)) != sizeof(msg) - 1 || strcmp(buf, msg))
		fail("the pipe gave \"%s\"", buf);
	sh->go = 1;
	if (waitpid(child, &status, 0) != child)
		fail("waitpid: %m");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("the child ended with status %#x", status);
	if (anon[3 * PG] != 0xc1 || mfd_map[PG] != 0xc2)
		fail("the child's writes after restore do not show: the memory is not shared");
	if (read(p[0], buf, sizeof(buf)) != 0)
		fail("the pipe did not end with its writer (%m)");
	pass();
}
