// SPDX-License-Identifier: GPL-2.0-or-later
/* A private file mapping with modified pages and a shared file mapping. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "case.h"
#include "maps.h"

#define PG		4096ul
#define PRIV_FILE	"mmap-private.dat"
#define SHARED_FILE	"mmap-shared.dat"
#define PRIV_FILE_PAGES 18
#define PRIV_OFF_PAGES	2 /* the private mapping starts at page 2 of the file */
#define PRIV_PAGES	16
#define SHARED_PAGES	8

static const int modified[] = {1, 4, 9};

static bool is_modified(int page)
{
	for (size_t i = 0; i < sizeof(modified) / sizeof(modified[0]); i++)
		if (modified[i] == page)
			return true;
	return false;
}

static int make_file(const char *name, int pages, uint64_t seed)
{
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		test_setup_failed("open %s: %m", name);
	for (int i = 0; i < pages; i++) {
		uint64_t buf[PG / 8];

		test_fill(buf, PG, seed + i);
		if (pwrite(fd, buf, PG, i * PG) != (ssize_t)PG)
			test_setup_failed("write %s: %m", name);
	}
	return fd;
}

static void check_map(const char *what, void *addr, size_t len, const char *perms,
		      unsigned long offset, const char *name)
{
	struct map_entry e;
	struct stat st;
	size_t nl = strlen(name), pl;

	if (maps_find((unsigned long)addr, &e) < 0)
		fail("%s mapping at %p is gone from /proc/self/maps", what, addr);
	if (e.start != (unsigned long)addr || e.end != (unsigned long)addr + len)
		fail("%s mapping is %lx-%lx, expected %p+%#zx", what, e.start, e.end, addr, len);
	if (strcmp(e.perms, perms))
		fail("%s mapping has perms %s, expected %s", what, e.perms, perms);
	if (e.offset != offset)
		fail("%s mapping has offset %#lx, expected %#lx", what, e.offset, offset);
	pl = strlen(e.path);
	if (pl < nl + 1 || strcmp(e.path + pl - nl, name) || e.path[pl - nl - 1] != '/')
		fail("%s mapping is backed by '%s', expected .../%s", what, e.path, name);
	if (stat(name, &st) < 0)
		fail("stat %s: %m", name);
	if (st.st_ino != e.inode)
		fail("%s mapping has inode %lu, the file has %lu", what, e.inode,
		     (unsigned long)st.st_ino);
}

/* Write a word through one side and see it on the other, then put it back. */
static void check_coupling(int fd, unsigned long file_off, volatile uint64_t *mapped,
			   bool want_shared, const char *what)
{
	uint64_t old, probe = 0x5eed5eed5eed5eedull, seen;

	if (pread(fd, &old, 8, file_off) != 8)
		fail("pread: %m");
	if (pwrite(fd, &probe, 8, file_off) != 8)
		fail("pwrite: %m");
	seen = *mapped;
	if (pwrite(fd, &old, 8, file_off) != 8)
		fail("pwrite: %m");
	if ((seen == probe) != want_shared)
		fail("%s: a write to the file is %s through the mapping", what,
		     want_shared ? "not visible" : "visible");
}

int main(int argc, char **argv)
{
	uint64_t *priv, *shared;
	int pfd, sfd;
	long bad;

	test_init(argc, argv);
	pfd = make_file(PRIV_FILE, PRIV_FILE_PAGES, 0x100);
	sfd = make_file(SHARED_FILE, SHARED_PAGES, 0x200);
	priv = mmap(NULL, PRIV_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, pfd,
		    PRIV_OFF_PAGES * PG);
	shared = mmap(NULL, SHARED_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
	if (priv == MAP_FAILED || shared == MAP_FAILED)
		test_setup_failed("mmap: %m");
	/* The mappings must stand on their own: no fd keeps the files open. */
	close(pfd);
	close(sfd);

	for (int i = 0; i < PRIV_PAGES; i++) {
		if (is_modified(i))
			test_fill((char *)priv + i * PG, PG, 0x300 + i);
		else if (i % 3 == 0 && /* read, so the page is present but clean */
			 test_check((char *)priv + i * PG, PG, 0x100 + PRIV_OFF_PAGES + i) >= 0)
			test_setup_failed("the private mapping does not show the file");
	}
	for (int i = 0; i < SHARED_PAGES; i++)
		test_fill((char *)shared + i * PG, PG, 0x400 + i);
	test_ready();

	test_wait_stop();

	check_map("private", priv, PRIV_PAGES * PG, "rw-p", PRIV_OFF_PAGES * PG, PRIV_FILE);
	check_map("shared", shared, SHARED_PAGES * PG, "rw-s", 0, SHARED_FILE);
	for (int i = 0; i < PRIV_PAGES; i++) {
		uint64_t seed = is_modified(i) ? 0x300 + i : 0x100 + PRIV_OFF_PAGES + i;

		bad = test_check((char *)priv + i * PG, PG, seed);
		if (bad >= 0)
			fail("private mapping page %d (%s) differs at byte %ld", i,
			     is_modified(i) ? "modified" : "file-backed", bad);
	}
	for (int i = 0; i < SHARED_PAGES; i++) {
		bad = test_check((char *)shared + i * PG, PG, 0x400 + i);
		if (bad >= 0)
			fail("shared mapping page %d differs at byte %ld", i, bad);
	}

	pfd = open(PRIV_FILE, O_RDWR);
	sfd = open(SHARED_FILE, O_RDWR);
	if (pfd < 0 || sfd < 0)
		fail("reopen the files: %m");
	/* The shared mapping and the file are one object. */
	{
		uint64_t buf[PG / 8];

		for (int i = 0; i < SHARED_PAGES; i++) {
			if (pread(sfd, buf, PG, i * PG) != (ssize_t)PG)
				fail("pread: %m");
			if (memcmp(buf, (char *)shared + i * PG, PG))
				fail("shared mapping page %d and the file disagree", i);
		}
	}
	check_coupling(sfd, 3 * PG + 64, shared + (3 * PG + 64) / 8, true, "shared mapping");
	/* Untouched and read-only-touched private pages still follow the file;
	 * modified ones are private copies. */
	check_coupling(pfd, (PRIV_OFF_PAGES + 13) * PG, priv + 13 * PG / 8, true,
		       "private mapping, never-touched page");
	check_coupling(pfd, (PRIV_OFF_PAGES + 3) * PG, priv + 3 * PG / 8, true,
		       "private mapping, read page");
	check_coupling(pfd, (PRIV_OFF_PAGES + 4) * PG, priv + 4 * PG / 8, false,
		       "private mapping, modified page");
	pass();
}
