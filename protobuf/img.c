// SPDX-License-Identifier: GPL-2.0-or-later
/* Image file I/O: headers, length-prefixed messages, pages, atomic commit. */
#define LOG_PREFIX "img: "
#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img.h"
#include "log.h"
#include "util.h"
#include "validate.h"

#include "core.pb-c.h"
#include "fdinfo.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

struct img {
	int fd;
	int dirfd;
	enum img_type type;
	bool writing;
	bool committed;
	unsigned nr_msgs;     /* messages read or written so far */
	uint64_t pages_bytes; /* bytes of page data written */
	uint64_t nr_pages;    /* pages file being read: pages it holds */
	char name[PATH_MAX];
	/* Read buffer: the file is read in chunks, messages parsed from it. */
	uint8_t *buf;
	size_t buf_len, buf_off;
	/* What earlier messages said, for checks across messages. */
	struct img_vstate vstate;
};

#define IMG_READ_BUF (64u << 10)

struct img_type_info {
	const char *name;   /* "core" */
	const char *prefix; /* file name prefix, "core-" or "inventory.img" */
	const ProtobufCMessageDescriptor *first, *rest;
	/* Largest message of this type a reader accepts: unpacking can take
	 * many times the wire size in memory, so small records get small caps. */
	uint32_t max_msg;
};

static const struct img_type_info type_info[IMG_TYPE_MAX] = {
    [IMG_INVENTORY] = {"inventory", "inventory", &inventory_entry__descriptor,
		       &inventory_entry__descriptor, 64u << 10},
    [IMG_PSTREE] = {"pstree", "pstree", &pstree_entry__descriptor, &pstree_entry__descriptor,
		    1u << 20},
    [IMG_CORE] = {"core", "core-", &task_core_entry__descriptor, &task_core_entry__descriptor,
		  IMG_MAX_MSG_SIZE},
    [IMG_MM] = {"mm", "mm-", &mm_entry__descriptor, &mm_entry__descriptor, IMG_MAX_MSG_SIZE},
    [IMG_PAGEMAP] = {"pagemap", "pagemap-", &pagemap_head__descriptor, &pagemap_entry__descriptor,
		     4096},
    [IMG_PAGES] = {"pages", "pages-", NULL, NULL, 0},
    [IMG_FILES] = {"files", "files", &files_head__descriptor, &file_entry__descriptor, 64u << 10},
    [IMG_FDS] = {"fds", "fds-", &fd_entry__descriptor, &fd_entry__descriptor, 4096},
    [IMG_SHMEM] = {"shmem", "shmem", &shmem_entry__descriptor, &shmem_entry__descriptor, 8192},
    /* A pipe holds at most pipe-max-size bytes (1 MiB by default). */
    [IMG_PIPES_DATA] = {"pipes-data", "pipes-data", &pipe_data_entry__descriptor,
			&pipe_data_entry__descriptor, IMG_MAX_MSG_SIZE},
};

const char *img_type_name(enum img_type type)
{
	if (type <= 0 || type >= IMG_TYPE_MAX)
		return "unknown";
	return type_info[type].name;
}

const ProtobufCMessageDescriptor *img_msg_desc(enum img_type type, unsigned idx)
{
	if (type <= 0 || type >= IMG_TYPE_MAX)
		return NULL;
	return idx == 0 ? type_info[type].first : type_info[type].rest;
}

int img_type_from_name(const char *name, enum img_type *ret)
{
	size_t len = strlen(name);

	if (len < 5 || strcmp(name + len - 4, ".img") != 0)
		return -EINVAL;
	for (int t = 1; t < IMG_TYPE_MAX; t++) {
		const char *p = type_info[t].prefix;
		size_t pl = strlen(p);

		if (p[pl - 1] == '-') {
			if (strncmp(name, p, pl) == 0 && len > pl + 4) {
				*ret = t;
				return 0;
			}
		} else if (len == pl + 4 && strncmp(name, p, pl) == 0) {
			*ret = t;
			return 0;
		}
	}
	return -EINVAL;
}

enum img_type img_get_type(const struct img *img)
{
	return img->type;
}

const char *img_name(const struct img *img)
{
	return img->name;
}

int img_fd(const struct img *img)
{
	return img->fd;
}

uint64_t img_nr_pages(const struct img *img)
{
	return img->nr_pages;
}

static struct img *img_new(int dirfd, const char *name)
{
	struct img *img = calloc(1, sizeof(*img));

	if (!img)
		return NULL;
	img->fd = -1;
	img->dirfd = dirfd;
	snprintf(img->name, sizeof(img->name), "%s", name);
	return img;
}

static int img_read_header(struct img *img, enum img_type want, bool any)
{
	struct img_header h;
	struct stat st;
	ssize_t n;

	if (fstat(img->fd, &st) < 0)
		return pr_err_ret(-errno, "%s: cannot stat", img->name);
	if (!S_ISREG(st.st_mode)) {
		pr_err("%s: not a regular file\n", img->name);
		return -EINVAL;
	}
	n = pread(img->fd, &h, sizeof(h), 0);
	if (n < 0)
		return pr_err_ret(-errno, "%s: cannot read header", img->name);
	if (n < (ssize_t)sizeof(h)) {
		pr_err("%s: truncated: %zd bytes, shorter than the %zu-byte header\n", img->name, n,
		       sizeof(h));
		return -EINVAL;
	}
	if (memcmp(h.magic, IMG_MAGIC, sizeof(h.magic)) != 0) {
		pr_err("%s: not a relive image (bad magic)\n", img->name);
		return -EINVAL;
	}
	if (le32toh(h.version) != IMG_FORMAT_VERSION) {
		pr_err("%s: image format version %u, this relive reads version %u\n", img->name,
		       le32toh(h.version), IMG_FORMAT_VERSION);
		return -EINVAL;
	}
	uint32_t type = le32toh(h.type);
	if (type == 0 || type >= IMG_TYPE_MAX) {
		pr_err("%s: unknown image type %u\n", img->name, type);
		return -EINVAL;
	}
	if (!any && type != (uint32_t)want) {
		pr_err("%s: is a %s image, expected a %s image\n", img->name, img_type_name(type),
		       img_type_name(want));
		return -EINVAL;
	}
	img->type = type;
	img_vstate_init(&img->vstate, type);
	if (type == IMG_PAGES) {
		if (st.st_size < IMG_PAGES_HDR_SIZE || (st.st_size - IMG_PAGES_HDR_SIZE) % 4096) {
			pr_err("%s: truncated: size %lld is not a header page plus whole pages\n",
			       img->name, (long long)st.st_size);
			return -EINVAL;
		}
		img->nr_pages = (st.st_size - IMG_PAGES_HDR_SIZE) / 4096;
	} else if (lseek(img->fd, sizeof(h), SEEK_SET) < 0) {
		return pr_err_ret(-errno, "%s: seek", img->name);
	}
	return 0;
}

static int img_open_common(int dirfd, const char *name, enum img_type type, bool any,
			   struct img **ret)
{
	struct img *img = img_new(dirfd, name);
	int r;

	if (!img)
		return -ENOMEM;
	/* O_NONBLOCK: a FIFO in the images directory must not hang us (it is
	 * refused below); it changes nothing for regular files. */
	img->fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (img->fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			pr_err("%s: missing image file\n", name);
		else
			pr_err_ret(r, "%s: cannot open", name);
		img_close(img);
		return r;
	}
	r = img_read_header(img, type, any);
	if (r < 0) {
		img_close(img);
		return r;
	}
	*ret = img;
	return 0;
}

int img_open_read(int dirfd, const char *name, enum img_type type, struct img **ret)
{
	return img_open_common(dirfd, name, type, false, ret);
}

int img_open_any(int dirfd, const char *name, struct img **ret)
{
	return img_open_common(dirfd, name, 0, true, ret);
}

int img_open_write(int dirfd, const char *name, enum img_type type, struct img **ret)
{
	struct img *img = img_new(dirfd, name);
	char tmp[PATH_MAX + 8];
	struct img_header h;
	int r;

	if (!img)
		return -ENOMEM;
	img->type = type;
	img->writing = true;
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	img->fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (img->fd < 0) {
		r = pr_err_ret(-errno, "cannot create image %s", tmp);
		img_close(img);
		return r;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, IMG_MAGIC, sizeof(h.magic));
	h.version = htole32(IMG_FORMAT_VERSION);
	h.type = htole32(type);
	r = write_all(img->fd, &h, sizeof(h));
	if (r == 0 && type == IMG_PAGES && ftruncate(img->fd, IMG_PAGES_HDR_SIZE) < 0)
		r = -errno;
	if (r == 0 && type == IMG_PAGES && lseek(img->fd, IMG_PAGES_HDR_SIZE, SEEK_SET) < 0)
		r = -errno;
	if (r < 0) {
		pr_err_ret(r, "cannot write image %s", tmp);
		img_close(img);
		return r;
	}
	*ret = img;
	return 0;
}

int img_write_msg(struct img *img, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	_cleanup_free_ uint8_t *buf = NULL;
	uint32_t cap = img->type > 0 && img->type < IMG_TYPE_MAX ? type_info[img->type].max_msg : 0;
	uint32_t le;
	int r;

	/* Never write what a reader would refuse. */
	if (len > cap) {
		pr_err("%s: message of %zu bytes exceeds the %u-byte limit of a %s image\n",
		       img->name, len, cap, img_type_name(img->type));
		return -EFBIG;
	}
	buf = malloc(len + 4);
	if (!buf)
		return -ENOMEM;
	le = htole32((uint32_t)len);
	memcpy(buf, &le, 4);
	protobuf_c_message_pack(msg, buf + 4);
	r = write_all(img->fd, buf, len + 4);
	if (r < 0)
		return pr_err_ret(r, "%s: write", img->name);
	img->nr_msgs++;
	return 0;
}

int img_write_pages(struct img *img, const void *buf, size_t len)
{
	int r = write_all(img->fd, buf, len);

	if (r < 0)
		return pr_err_ret(r, "%s: write pages", img->name);
	img->pages_bytes += len;
	return 0;
}

/*
 * Read exactly len bytes through the read buffer. Returns 0, 1 when the file
 * ends cleanly before the first byte and eof_ok, -EINVAL when it ends inside
 * (what names the part being read), or -errno.
 */
static int img_read_exact(struct img *img, void *dst, size_t len, bool eof_ok, const char *what)
{
	size_t got = 0;

	if (!img->buf) {
		img->buf = malloc(IMG_READ_BUF);
		if (!img->buf)
			return -ENOMEM;
	}
	while (got < len) {
		size_t avail = img->buf_len - img->buf_off;
		ssize_t n;

		if (avail) {
			size_t take = avail < len - got ? avail : len - got;

			memcpy((char *)dst + got, img->buf + img->buf_off, take);
			img->buf_off += take;
			got += take;
			continue;
		}
		/* Large remainders go straight to the destination. */
		if (len - got >= IMG_READ_BUF)
			n = read(img->fd, (char *)dst + got, len - got);
		else
			n = read(img->fd, img->buf, IMG_READ_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return pr_err_ret(-errno, "%s: read", img->name);
		}
		if (n == 0) {
			if (got == 0 && eof_ok)
				return 1;
			pr_err("%s: truncated: %s of message %u ends after %zu of %zu bytes\n",
			       img->name, what, img->nr_msgs, got, len);
			return -EINVAL;
		}
		if (len - got >= IMG_READ_BUF) {
			got += n;
		} else {
			img->buf_len = n;
			img->buf_off = 0;
		}
	}
	return 0;
}

int img_read_msg(struct img *img, ProtobufCMessage **ret)
{
	const ProtobufCMessageDescriptor *desc = img_msg_desc(img->type, img->nr_msgs);
	_cleanup_free_ uint8_t *buf = NULL;
	ProtobufCMessage *msg;
	uint32_t le, len;
	char why[256] = "";
	int r;

	if (img->writing || img->type == IMG_PAGES || !desc) {
		pr_err("%s: a %s image holds no messages to read\n", img->name,
		       img_type_name(img->type));
		return -EINVAL;
	}
	r = img_read_exact(img, &le, sizeof(le), true, "the length prefix");
	if (r == 1) {
		r = img_validate_end(&img->vstate, img->nr_msgs, why, sizeof(why));
		if (r < 0) {
			pr_err("%s: %s\n", img->name, why[0] ? why : "invalid");
			return r;
		}
		return 0;
	}
	if (r < 0)
		return r;
	len = le32toh(le);
	if (len > type_info[img->type].max_msg) {
		pr_err("%s: message %u claims %u bytes, more than the %u-byte limit of a %s "
		       "(corrupt?)\n",
		       img->name, img->nr_msgs, len, type_info[img->type].max_msg, desc->name);
		return -EINVAL;
	}
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	r = img_read_exact(img, buf, len, false, "the body");
	if (r < 0)
		return r;
	msg = protobuf_c_message_unpack(desc, NULL, len, buf);
	if (!msg) {
		pr_err("%s: message %u is not a valid %s (corrupt image)\n", img->name,
		       img->nr_msgs, desc->name);
		return -EINVAL;
	}
	r = img_validate(&img->vstate, img->nr_msgs, msg, buf, len, why, sizeof(why));
	if (r < 0) {
		if (r == -EINVAL)
			pr_err("%s: message %u: %s\n", img->name, img->nr_msgs,
			       why[0] ? why : "invalid");
		else
			pr_err_ret(r, "%s: message %u: validation", img->name, img->nr_msgs);
		protobuf_c_message_free_unpacked(msg, NULL);
		return r;
	}
	img->nr_msgs++;
	*ret = msg;
	return 1;
}

int img_read_one(struct img *img, ProtobufCMessage **ret)
{
	ProtobufCMessage *msg = NULL, *extra = NULL;
	int r = img_read_msg(img, &msg);

	if (r < 0)
		return r;
	if (r == 0) {
		/* Only types that may be empty get here (validate_end passed). */
		pr_err("%s: empty image, expected one %s\n", img->name,
		       img_msg_desc(img->type, 0)->name);
		return -EINVAL;
	}
	r = img_read_msg(img, &extra);
	if (r != 0) {
		if (r > 0) {
			pr_err("%s: unexpected data after the first message\n", img->name);
			img_free_msg(extra);
		}
		img_free_msg(msg);
		return r > 0 ? -EINVAL : r;
	}
	*ret = msg;
	return 0;
}

void img_free_msg(ProtobufCMessage *msg)
{
	if (msg)
		protobuf_c_message_free_unpacked(msg, NULL);
}

int img_commit(struct img *img)
{
	char tmp[PATH_MAX + 8];

	if (!img->writing)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", img->name);
	if (fsync(img->fd) < 0)
		return pr_err_ret(-errno, "%s: fsync", img->name);
	if (renameat(img->dirfd, tmp, img->dirfd, img->name) < 0)
		return pr_err_ret(-errno, "%s: rename", img->name);
	img->committed = true;
	return 0;
}

void img_close(struct img *img)
{
	if (!img)
		return;
	if (img->writing && !img->committed) {
		char tmp[PATH_MAX + 8];

		snprintf(tmp, sizeof(tmp), "%s.tmp", img->name);
		unlinkat(img->dirfd, tmp, 0);
	}
	if (img->fd >= 0)
		close(img->fd);
	img_vstate_fini(&img->vstate);
	free(img->buf);
	free(img);
}
