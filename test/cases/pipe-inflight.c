// SPDX-License-Identifier: GPL-2.0-or-later
/* Two pipes, both ends held by this process, with unread data at dump time:
 * the data, the pipe sizes, the flags and the link between the ends survive. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "case.h"

/* More than a default pipe holds: it only fits back in a pipe as large. */
#define BIG_DATA 70000
#define BIG_SIZE (128 * 1024)
#define BIG_SEED 0x5150
#define BIG_RD	 20
#define BIG_WR	 21
#define SMALL_RD 22
#define SMALL_WR 23

static const char *small_parts[] = {"written ", "in three ", "writes"};

static void place(int fd, int want)
{
	if (fd == want)
		return;
	if (dup2(fd, want) < 0)
		test_setup_failed("dup2: %m");
	close(fd);
}

static void setup(void)
{
	static uint64_t big[(BIG_DATA + 7) / 8];
	int p[2];

	if (pipe(p) < 0)
		test_setup_failed("pipe: %m");
	place(p[0], BIG_RD);
	place(p[1], BIG_WR);
	if (fcntl(BIG_WR, F_SETPIPE_SZ, BIG_SIZE) != BIG_SIZE)
		test_setup_failed("F_SETPIPE_SZ: %m");
	test_fill(big, sizeof(big), BIG_SEED);
	if (write(BIG_WR, big, BIG_DATA) != BIG_DATA)
		test_setup_failed("write to the big pipe: %m");

	if (pipe2(p, O_NONBLOCK) < 0)
		test_setup_failed("pipe2: %m");
	place(p[0], SMALL_RD);
	place(p[1], SMALL_WR);
	/* dup2 cleared it; the read end is close-on-exec. */
	fcntl(SMALL_RD, F_SETFD, FD_CLOEXEC);
	for (size_t i = 0; i < 3; i++)
		if (write(SMALL_WR, small_parts[i], strlen(small_parts[i])) < 0)
			test_setup_failed("write to the small pipe: %m");
}

/* What the pipe holds, without blocking on a pipe that lost its data. */
static void check_holds(int fd, int want, const char *what)
{
	int avail = -1;

	if (ioctl(fd, FIONREAD, &avail) < 0 || avail != want)
		fail("%s holds %d bytes, expected %d", what, avail, want);
}

/* The pipe is empty now: a non-blocking read says so. */
static void check_empty(int fd, const char *what)
{
	int fl = fcntl(fd, F_GETFL);
	char c;

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (read(fd, &c, 1) != -1 || errno != EAGAIN)
		fail("%s holds more than was written", what);
	fcntl(fd, F_SETFL, fl);
}

/* Both ends belong to one pipe. */
static void check_linked(int rd, int wr, const char *what)
{
	char buf[8];

	if (write(wr, "link", 4) != 4)
		fail("%s: write after restore: %m", what);
	if (read(rd, buf, sizeof(buf)) != 4 || memcmp(buf, "link", 4))
		fail("%s: its ends are not one pipe", what);
}

static void check(void)
{
	static uint64_t big[(BIG_DATA + 7) / 8];
	char small[64] = {0};
	size_t got = 0;
	long off;

	if (fcntl(BIG_RD, F_GETPIPE_SZ) != BIG_SIZE)
		fail("big pipe: size %d, expected %d", fcntl(BIG_RD, F_GETPIPE_SZ), BIG_SIZE);
	if (fcntl(BIG_RD, F_GETFL) & O_NONBLOCK)
		fail("big pipe: O_NONBLOCK appeared");
	check_holds(BIG_RD, BIG_DATA, "big pipe");
	while (got < BIG_DATA) {
		ssize_t n = read(BIG_RD, (char *)big + got, BIG_DATA - got);

		if (n <= 0)
			fail("big pipe: read after %zu of %d bytes: %zd (%m)", got, BIG_DATA, n);
		got += (size_t)n;
	}
	off = test_check(big, BIG_DATA & ~7ul, BIG_SEED);
	if (off >= 0)
		fail("big pipe: data differs at byte %ld", off);
	check_empty(BIG_RD, "big pipe");
	check_linked(BIG_RD, BIG_WR, "big pipe");

	if (fcntl(SMALL_RD, F_GETPIPE_SZ) != 65536)
		fail("small pipe: size %d", fcntl(SMALL_RD, F_GETPIPE_SZ));
	if (!(fcntl(SMALL_RD, F_GETFL) & O_NONBLOCK) || !(fcntl(SMALL_WR, F_GETFL) & O_NONBLOCK))
		fail("small pipe: O_NONBLOCK lost");
	if (!(fcntl(SMALL_RD, F_GETFD) & FD_CLOEXEC) || (fcntl(SMALL_WR, F_GETFD) & FD_CLOEXEC))
		fail("small pipe: close-on-exec flags differ");
	check_holds(SMALL_RD, 23, "small pipe");
	if (read(SMALL_RD, small, sizeof(small)) != 23 || strcmp(small, "written in three writes"))
		fail("small pipe: read \"%s\"", small);
	check_empty(SMALL_RD, "small pipe");
	check_linked(SMALL_RD, SMALL_WR, "small pipe");
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
