// SPDX-License-Identifier: GPL-2.0-or-later
/* Open files: positions, flags, cloexec, O_APPEND, a shared description, a renamed file, devices.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "case.h"

#define DATA_SIZE (64 * 1024)
#define FL_MASK	  (O_ACCMODE | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | O_NOATIME)

struct ofile {
	const char *what;
	const char *path; /* where it is at dump time */
	int fd;
	int flags; /* F_GETFL bits within FL_MASK */
	bool cloexec;
	long pos;
	int dup_of; /* index of the entry this fd shares its description with, or -1 */
};

enum { F_RW, F_RO, F_DUP, F_APPEND, F_MOVED, F_DIR, F_NULL, F_ZERO, F_URANDOM, NR_FILES };

static struct ofile files[NR_FILES] = {
    [F_RW] = {"read-write file", "data.bin", 5, O_RDWR, false, 12345, -1},
    [F_RO] = {"read-only cloexec file", "data.bin", 42, O_RDONLY, true, 3 * 4096 + 17, -1},
    [F_DUP] = {"dup of the read-write file", "data.bin", 100, O_RDWR, false, 12345, F_RW},
    [F_APPEND] = {"append-only file", "log.txt", 7, O_WRONLY | O_APPEND, false, 11, -1},
    [F_MOVED] = {"renamed file", "moved/after.txt", 8, O_RDWR, true, 5, -1},
    [F_DIR] = {"directory", ".", 9, O_RDONLY, false, 0, -1},
    [F_NULL] = {"/dev/null", "/dev/null", 10, O_WRONLY | O_NONBLOCK, false, 0, -1},
    [F_ZERO] = {"/dev/zero", "/dev/zero", 11, O_RDONLY, true, 0, -1},
    [F_URANDOM] = {"/dev/urandom", "/dev/urandom", 12, O_RDONLY, false, 0, -1},
};

static const char moved_text[] = "0123456789abcdefghij";

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
	uint64_t data[DATA_SIZE / 8];
	char line[] = "first line\n";
	int fd;

	test_fill(data, sizeof(data), 0x77);
	fd = open("data.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, sizeof(data)) != sizeof(data))
		test_setup_failed("data.bin: %m");
	place(fd, files[F_RW].fd);
	if (dup2(files[F_RW].fd, files[F_DUP].fd) < 0)
		test_setup_failed("dup2: %m");
	fd = open("data.bin", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		test_setup_failed("data.bin: %m");
	place(fd, files[F_RO].fd);
	/* dup2 clears FD_CLOEXEC: set it again on the new number. */
	fcntl(files[F_RO].fd, F_SETFD, FD_CLOEXEC);

	fd = open("log.txt", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0 || write(fd, line, strlen(line)) < 0)
		test_setup_failed("log.txt: %m");
	place(fd, files[F_APPEND].fd);

	if (mkdir("moved", 0755) < 0)
		test_setup_failed("mkdir: %m");
	fd = open("before.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, moved_text, strlen(moved_text)) < 0)
		test_setup_failed("before.txt: %m");
	place(fd, files[F_MOVED].fd);
	fcntl(files[F_MOVED].fd, F_SETFD, FD_CLOEXEC);
	if (rename("before.txt", "moved/after.txt") < 0)
		test_setup_failed("rename: %m");

	place(open(".", O_RDONLY | O_DIRECTORY), files[F_DIR].fd);
	place(open("/dev/null", O_WRONLY | O_NONBLOCK), files[F_NULL].fd);
	place(open("/dev/zero", O_RDONLY | O_CLOEXEC), files[F_ZERO].fd);
	fcntl(files[F_ZERO].fd, F_SETFD, FD_CLOEXEC);
	place(open("/dev/urandom", O_RDONLY), files[F_URANDOM].fd);

	for (int i = 0; i < NR_FILES; i++)
		if (files[i].pos && files[i].dup_of < 0 && i != F_APPEND &&
		    lseek(files[i].fd, files[i].pos, SEEK_SET) != files[i].pos)
			test_setup_failed("lseek %s: %m", files[i].what);
}

static void check_identity(const struct ofile *f)
{
	struct stat a, b;
	int fl, fdfl;

	if (fstat(f->fd, &a) < 0)
		fail("%s: fd %d is not open: %m", f->what, f->fd);
	if (stat(f->path, &b) < 0)
		fail("stat %s: %m", f->path);
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		fail("%s: fd %d is not %s (inode %lu, expected %lu)", f->what, f->fd, f->path,
		     (unsigned long)a.st_ino, (unsigned long)b.st_ino);
	fl = fcntl(f->fd, F_GETFL);
	if ((fl & FL_MASK) != f->flags)
		fail("%s: status flags %#x, expected %#x", f->what, fl & FL_MASK, f->flags);
	fdfl = fcntl(f->fd, F_GETFD);
	if (!!(fdfl & FD_CLOEXEC) != f->cloexec)
		fail("%s: close-on-exec is %s", f->what, fdfl & FD_CLOEXEC ? "set" : "clear");
	if (lseek(f->fd, 0, SEEK_CUR) != f->pos && !S_ISCHR(a.st_mode))
		fail("%s: position %ld, expected %ld", f->what, (long)lseek(f->fd, 0, SEEK_CUR),
		     f->pos);
}

static void check_io(void)
{
	uint64_t data[DATA_SIZE / 8];
	char buf[256], old[16];
	const char *b = (const char *)data;
	struct stat st;
	off_t size;

	test_fill(data, sizeof(data), 0x77);
	/* Reading continues where it was, and the dup moves along. */
	if (read(files[F_RO].fd, buf, 100) != 100 || memcmp(buf, b + files[F_RO].pos, 100))
		fail("reading the read-only file does not continue at %ld", files[F_RO].pos);
	if (read(files[F_RW].fd, buf, 10) != 10 || memcmp(buf, b + 12345, 10))
		fail("reading the read-write file does not continue at 12345");
	if (lseek(files[F_DUP].fd, 0, SEEK_CUR) != 12355)
		fail("the dup no longer shares its position with the read-write file");
	/* Writing lands at the position; put the old bytes back afterwards so
	 * another copy of this process sees the same file. */
	if (pread(files[F_RW].fd, old, 4, 12355) != 4)
		fail("pread: %m");
	if (write(files[F_DUP].fd, "WXYZ", 4) != 4)
		fail("write: %m");
	if (pread(files[F_RO].fd, buf, 4, 12355) != 4 || memcmp(buf, "WXYZ", 4))
		fail("a write through the dup did not land at 12355");
	if (pwrite(files[F_RW].fd, old, 4, 12355) != 4)
		fail("pwrite: %m");

	if (fstat(files[F_APPEND].fd, &st) < 0)
		fail("fstat: %m");
	size = st.st_size;
	if (lseek(files[F_APPEND].fd, 0, SEEK_SET) < 0 ||
	    write(files[F_APPEND].fd, "appended\n", 9) != 9)
		fail("append: %m");
	if (fstat(files[F_APPEND].fd, &st) < 0 || st.st_size != size + 9)
		fail("O_APPEND write did not go to the end (size %ld -> %ld)", (long)size,
		     (long)st.st_size);

	if (read(files[F_MOVED].fd, buf, 5) != 5 || memcmp(buf, moved_text + 5, 5))
		fail("reading the renamed file does not continue at 5");
	{
		char link[64], target[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", files[F_MOVED].fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			fail("readlink %s: %m", link);
		target[n] = '\0';
		if (n < 16 || strcmp(target + n - 16, "/moved/after.txt"))
			fail("the renamed file's fd points at %s", target);
	}

	memset(buf, 1, 64);
	if (read(files[F_ZERO].fd, buf, 64) != 64 || buf[0] || memcmp(buf, buf + 1, 63))
		fail("/dev/zero does not read zeros");
	if (write(files[F_NULL].fd, buf, 64) != 64)
		fail("/dev/null refuses writes: %m");
	if (read(files[F_URANDOM].fd, buf, 16) != 16)
		fail("/dev/urandom: %m");
	if (fcntl(files[F_DIR].fd, F_GETFL) < 0 || fstat(files[F_DIR].fd, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		fail("the directory fd is not a directory");
}

int main(int argc, char **argv)
{
	test_init(argc, argv);
	setup();
	test_ready();

	test_wait_stop();
	for (int i = 0; i < NR_FILES; i++)
		check_identity(&files[i]);
	/* No other descriptor may have appeared (0-2 are the protocol's). */
	for (int fd = 3; fd < 128; fd++) {
		bool known = false;

		for (int i = 0; i < NR_FILES; i++)
			known |= files[i].fd == fd;
		if (!known && fcntl(fd, F_GETFD) >= 0)
			fail("fd %d is open but the process never opened it", fd);
	}
	check_io();
	pass();
}
