/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Image files: the only code that opens them. Every file starts with a
 * header (magic, format version, image type); then length-prefixed
 * protobuf messages, or, for pages files, raw page-aligned pages after one
 * header page. Every message read is validated (see validate.h) before a
 * caller sees it; errors name the file and what was wrong.
 */
#ifndef RELIVE_IMG_H
#define RELIVE_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#define IMG_MAGIC	   "RELIVEIM"
#define IMG_FORMAT_VERSION 1
/* No single message may be larger than this (a peer or a corrupt file can't
 * make us allocate more). */
#define IMG_MAX_MSG_SIZE   (64u << 20)
#define IMG_PAGES_HDR_SIZE 4096u

enum img_type {
	IMG_INVENTORY = 1, /* inventory.img: inventory_entry */
	IMG_PSTREE,	   /* pstree.img: pstree_entry* */
	IMG_CORE,	   /* core-PID.img: task_core_entry */
	IMG_MM,		   /* mm-PID.img: mm_entry */
	IMG_PAGEMAP,	   /* pagemap-ID.img: pagemap_head, pagemap_entry* */
	IMG_PAGES,	   /* pages-ID.img: raw pages after a header page */
	IMG_FILES,	   /* files.img: files_head, file_entry* */
	IMG_FDS,	   /* fds-PID.img: fd_entry* */
	IMG_SHMEM,	   /* shmem.img: shmem_entry* */
	IMG_PIPES_DATA,	   /* pipes-data.img: pipe_data_entry* */
	IMG_TYPE_MAX,
};

/* On-disk header, little endian, 16 bytes. */
struct img_header {
	char magic[8];
	uint32_t version;
	uint32_t type;
};

struct img;

/* Name of a type ("core") and its message descriptor for messages at
 * position idx (pagemap and files have a different first message). */
const char *img_type_name(enum img_type type);
const ProtobufCMessageDescriptor *img_msg_desc(enum img_type type, unsigned idx);
/* Guess the type from a file name ("core-42.img" -> IMG_CORE); -EINVAL. */
int img_type_from_name(const char *name, enum img_type *ret);

/* Open dirfd/name for reading; checks magic, version and type. */
int img_open_read(int dirfd, const char *name, enum img_type type, struct img **ret);
/* Open for reading whatever type the header says. */
int img_open_any(int dirfd, const char *name, struct img **ret);
/* Create dirfd/name.tmp for writing; img_commit() fsyncs and renames it. */
int img_open_write(int dirfd, const char *name, enum img_type type, struct img **ret);

enum img_type img_get_type(const struct img *img);
const char *img_name(const struct img *img);
int img_fd(const struct img *img);
/* Pages file opened for reading: how many pages it holds after the header. */
uint64_t img_nr_pages(const struct img *img);

/* Append one message. */
int img_write_msg(struct img *img, const ProtobufCMessage *msg);
/*
 * Read the next message with the descriptor expected at that position and
 * validate it. Returns 1 with *ret set, 0 at a clean end of file, -errno
 * on error (already logged, naming the file). Free with img_free_msg().
 */
int img_read_msg(struct img *img, ProtobufCMessage **ret);
/* Read exactly one message and require end of file after it. */
int img_read_one(struct img *img, ProtobufCMessage **ret);
void img_free_msg(ProtobufCMessage *msg);

/* Pages files: raw data, page-aligned, after IMG_PAGES_HDR_SIZE. */
int img_write_pages(struct img *img, const void *buf, size_t len);
/* Offset of page number n inside a pages file. */
static inline uint64_t img_pages_offset(uint64_t n)
{
	return IMG_PAGES_HDR_SIZE + n * 4096ull;
}

/* fsync, rename name.tmp to name, close. Returns 0 or -errno. */
int img_commit(struct img *img);
/* Close; a write image that was not committed is removed. NULL is fine. */
void img_close(struct img *img);
static inline void img_closep(struct img **img)
{
	img_close(*img);
}
#define _cleanup_img_ __attribute__((cleanup(img_closep)))

/* Cleanup for messages returned by img_read_msg. */
static inline void img_free_msgp(void *p)
{
	img_free_msg(*(ProtobufCMessage **)p);
}
#define _cleanup_msg_ __attribute__((cleanup(img_free_msgp)))

#endif
