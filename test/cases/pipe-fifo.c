// SPDX-License-Identifier: GPL-2.0-or-later
/* A FIFO opened at both ends, holding unread data at dump time. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "case.h"

#define FIFO_RD 30
#define FIFO_WR 31

static const char msg[] = "through the fifo";

static void place(int fd, int want)
{
	if (fd < 0)
		test_setup_failed("open fifo: %m");
	if (fd == want)
		return;
	if (dup2(fd, want) < 0)
		test_setup_failed("dup2: %m");
	close(fd);
}

int main(int argc, char **argv)
{
	char path[PATH_MAX], link[PATH_MAX], buf[64] = {0}, c;
	struct stat st, fst;
	ssize_t n;

	test_init(argc, argv);
	if (!getcwd(path, sizeof(path) - 8))
		test_setup_failed("getcwd: %m");
	strcat(path, "/fifo");
	unlink(path);
	if (mkfifo(path, 0600) < 0)
		test_setup_failed("mkfifo: %m");
	/* Non-blocking read end first: it does not wait for a writer. */
	place(open(path, O_RDONLY | O_NONBLOCK), FIFO_RD);
	place(open(path, O_WRONLY), FIFO_WR);
	if (write(FIFO_WR, msg, sizeof(msg) - 1) != sizeof(msg) - 1)
		test_setup_failed("write: %m");
	test_ready();
	test_wait_stop();

	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", FIFO_RD);
	n = readlink(buf, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (strcmp(link, path))
		fail("the read end is %s, expected %s", link, path);
	if (fstat(FIFO_RD, &fst) < 0 || stat(path, &st) < 0 || fst.st_ino != st.st_ino ||
	    !S_ISFIFO(fst.st_mode))
		fail("the read end is not the FIFO at %s", path);
	if (!(fcntl(FIFO_RD, F_GETFL) & O_NONBLOCK) || (fcntl(FIFO_WR, F_GETFL) & O_NONBLOCK))
		fail("O_NONBLOCK not as it was");
	if ((fcntl(FIFO_RD, F_GETFL) & O_ACCMODE) != O_RDONLY ||
	    (fcntl(FIFO_WR, F_GETFL) & O_ACCMODE) != O_WRONLY)
		fail("access modes not as they were");
	memset(buf, 0, sizeof(buf));
	n = read(FIFO_RD, buf, sizeof(buf));
	if (n != sizeof(msg) - 1 || strcmp(buf, msg))
		fail("the FIFO gave %zd bytes \"%s\"", n, buf);
	if (read(FIFO_RD, &c, 1) != -1 || errno != EAGAIN)
		fail("the FIFO holds more than was written");
	if (write(FIFO_WR, "x", 1) != 1 || read(FIFO_RD, &c, 1) != 1 || c != 'x')
		fail("the ends are not one FIFO");
	/* The FIFO stays: in leave-running mode the restore comes after
	 * this check of the original. */
	pass();
}
