/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers used everywhere: cleanup attributes, ownership transfer. */
#ifndef RELIVE_UTIL_H
#define RELIVE_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define _cleanup_(f)	    __attribute__((cleanup(f)))
#define _cleanup_free_	    _cleanup_(freep)
#define _cleanup_close_	    _cleanup_(closep)
#define _cleanup_fclose_    _cleanup_(fclosep)
#define _cleanup_closedir_  _cleanup_(closedirp)

/* Hand over ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

/* -errno of the last failed libc call, never 0. */
static inline int negerrno(void)
{
	return errno > 0 ? -errno : -EIO;
}

#define PAGE_SIZE_4K 4096UL

/* Read all of a small file into a NUL-terminated heap buffer. */
int read_file_str(const char *path, char **ret, size_t *ret_len);
/* Write all of buf, retrying on short writes. */
int write_all(int fd, const void *buf, size_t len);
/* Read exactly len bytes; -EIO on early EOF. */
int read_all(int fd, void *buf, size_t len);
/* pread/pwrite in a loop. */
int pread_all(int fd, void *buf, size_t len, off_t off);
int pwrite_all(int fd, const void *buf, size_t len, off_t off);
/* Parse a whole decimal/hex string into a value, rejecting junk. */
int parse_u64(const char *s, uint64_t *ret);
int parse_int(const char *s, int *ret);
/* A copy of fd fd of process pid, by pidfd_open + pidfd_getfd (the copy
 * is close-on-exec). -errno of the failing call, not logged. */
int pidfd_take_fd(pid_t pid, int fd, int *ret);

#endif
