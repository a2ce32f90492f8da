// SPDX-License-Identifier: GPL-2.0-or-later
/* memfds: one open and mapped (name, size, seals, offset, flags, content,
 * the fd and the mapping one memory), one only mapped, its fd closed. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "case.h"

#define PG	4096ul
#define MFD	40
#define NAME	"relive case memfd"
#define SIZE	(6 * PG + 123)
#define POS	4321
#define SEALS	(F_SEAL_SHRINK | F_SEAL_GROW)
#define MAP_OFF 1 /* the mapping covers pages 1..3 */
#define MAP_N	3
#define NAME2	"mapped only"

static unsigned char *map, *map2;

static void setup(void)
{
	char tail[123];
	int fd, fd2;

	fd = memfd_create(NAME, MFD_ALLOW_SEALING);
	if (fd < 0)
		test_setup_failed("memfd_create: %m");
	if (dup2(fd, MFD) < 0)
		test_setup_failed("dup2: %m");
	close(fd);
	if (ftruncate(MFD, SIZE) < 0)
		test_setup_failed("ftruncate: %m");
	map = mmap(NULL, MAP_N * PG, PROT_READ | PROT_WRITE, MAP_SHARED, MFD, MAP_OFF * PG);
	if (map == MAP_FAILED)
		test_setup_failed("mmap: %m");
	/* Pages 1-2 through the mapping, page 0 and the tail by write. */
	test_fill(map, 2 * PG, 7);
	memset(tail, 't', sizeof(tail));
	if (pwrite(MFD, "head", 4, 0) != 4 || pwrite(MFD, tail, sizeof(tail), 6 * PG) != 123)
		test_setup_failed("pwrite: %m");
	if (fcntl(MFD, F_ADD_SEALS, SEALS) < 0)
		test_setup_failed("F_ADD_SEALS: %m");
	if (lseek(MFD, POS, SEEK_SET) != POS)
		test_setup_failed("lseek: %m");

	/* Without MFD_ALLOW_SEALING: it shows F_SEAL_SEAL. */
	fd2 = memfd_create(NAME2, MFD_CLOEXEC);
	if (fd2 < 0 || ftruncate(fd2, 2 * PG) < 0)
		test_setup_failed("memfd_create: %m");
	map2 = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	if (map2 == MAP_FAILED)
		test_setup_failed("mmap: %m");
	close(fd2);
	strcpy((char *)map2 + PG, "only in the mapping");
}

static void check(void)
{
	char path[64], link[256], buf[PG];
	struct stat st;
	ssize_t n;
	long off;
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", MFD);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	if (strcmp(link, "/memfd:" NAME " (deleted)"))
		fail("fd %d is %s", MFD, link);
	if (fstat(MFD, &st) < 0 || st.st_size != SIZE)
		fail("size %lld, expected %lu", (long long)st.st_size, SIZE);
	if (fcntl(MFD, F_GET_SEALS) != SEALS)
		fail("seals %#x, expected %#x", fcntl(MFD, F_GET_SEALS), SEALS);
	if (lseek(MFD, 0, SEEK_CUR) != POS)
		fail("offset %ld, expected %d", (long)lseek(MFD, 0, SEEK_CUR), POS);
	if ((fcntl(MFD, F_GETFL) & O_ACCMODE) != O_RDWR || (fcntl(MFD, F_GETFD) & FD_CLOEXEC))
		fail("access mode or close-on-exec changed");
	if (pread(MFD, buf, 4, 0) != 4 || memcmp(buf, "head", 4))
		fail("page 0 lost its content");
	off = test_check(map, 2 * PG, 7);
	if (off >= 0)
		fail("the mapping differs at byte %ld", off);
	if (pread(MFD, buf, PG, PG) != (ssize_t)PG || test_check(buf, PG, 7) >= 0)
		fail("the fd does not show what the mapping holds");
	n = pread(MFD, buf, PG, 6 * PG);
	if (n != 123 || buf[0] != 't' || buf[122] != 't')
		fail("the tail is %zd bytes", n);
	/* The fd and the mapping are one memory, also for a child. */
	if (pwrite(MFD, "Z", 1, 3 * PG) != 1 || map[2 * PG] != 'Z')
		fail("a write through the fd does not show in the mapping");
	pid = fork();
	if (pid < 0)
		fail("fork: %m");
	if (pid == 0) {
		map[10] = 'c';
		map2[0] = 'd';
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || pread(MFD, buf, 1, PG + 10) != 1 || buf[0] != 'c' ||
	    map2[0] != 'd')
		fail("the child's writes do not show: the memory is not shared");
	if (strcmp((char *)map2 + PG, "only in the mapping"))
		fail("the mapped-only memfd lost its content");
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
