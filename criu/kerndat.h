/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel probes: what the running kernel supports, found by really using each
 * feature on a short-lived child or a scratch mapping. Never decided from the
 * build host's headers. Restore and lazy-pages read struct kerndat to choose
 * what to use; `relive check` prints it (kerndat-report.h).
 */
#ifndef RELIVE_KERNDAT_H
#define RELIVE_KERNDAT_H

#include <stdbool.h>
#include <stdint.h>

enum kd_category {
	KD_REQUIRED, /* needed for any dump or restore */
	KD_LAZY,     /* needed for --lazy-pages */
	KD_OPTIONAL, /* used when present */
};

enum kd_item {
	KD_PTRACE_SEIZE,   /* PTRACE_SEIZE + PTRACE_INTERRUPT on a child */
	KD_PROCESS_VM,	   /* process_vm_readv/writev on a child */
	KD_PIDFD_GETFD,	   /* pidfd_open + pidfd_getfd on a child */
	KD_CLONE3_SET_TID, /* clone3 with set_tid */
	KD_RSEQ_CONFIG,	   /* PTRACE_GET_RSEQ_CONFIGURATION */
	KD_XSTATE,	   /* PTRACE_GETREGSET NT_X86_XSTATE */
	KD_VDSO,	   /* a vdso is mapped (it holds our remote syscall insn) */
	KD_UFFD,	   /* a userfaultfd serves a MISSING fault range (UFFDIO_COPY) */
	KD_UFFD_EVENTS,	   /* EVENT_FORK, EVENT_REMAP, EVENT_REMOVE, EVENT_UNMAP */
	KD_UFFD_SYSCALL,   /* the userfaultfd() syscall */
	KD_UFFD_USER_MODE, /* userfaultfd(UFFD_USER_MODE_ONLY) */
	KD_UFFD_DEV,	   /* /dev/userfaultfd + USERFAULTFD_IOC_NEW */
	KD_PAGEMAP_SCAN,   /* PAGEMAP_SCAN ioctl on /proc/PID/pagemap */
	KD_DIRTY_TRACK,	   /* uffd WP_ASYNC + PAGEMAP_SCAN written pages (pre-copy) */
	KD_TIME_NS,	   /* time namespaces */
	KD_SOCK_DIAG_UNIX, /* NETLINK_SOCK_DIAG dump of unix sockets */
	KD_SOCK_DIAG_INET, /* NETLINK_SOCK_DIAG dump of TCP/IPv4 sockets */
	KD_NR_ITEMS,
};

#define KD_DETAIL_LEN 160

struct kerndat_item {
	bool present;
	/* Short reason: what was seen when present, errno text when not. */
	char detail[KD_DETAIL_LEN];
};

/* userfaultfd feature bits, defined here because the build host's headers
 * may be older than the kernel we run on (values are kernel ABI). */
#define KD_UFFD_FEATURE_PAGEFAULT_FLAG_WP  (1ULL << 0)
#define KD_UFFD_FEATURE_EVENT_FORK	   (1ULL << 1)
#define KD_UFFD_FEATURE_EVENT_REMAP	   (1ULL << 2)
#define KD_UFFD_FEATURE_EVENT_REMOVE	   (1ULL << 3)
#define KD_UFFD_FEATURE_MISSING_HUGETLBFS  (1ULL << 4)
#define KD_UFFD_FEATURE_MISSING_SHMEM	   (1ULL << 5)
#define KD_UFFD_FEATURE_EVENT_UNMAP	   (1ULL << 6)
#define KD_UFFD_FEATURE_SIGBUS		   (1ULL << 7)
#define KD_UFFD_FEATURE_THREAD_ID	   (1ULL << 8)
#define KD_UFFD_FEATURE_MINOR_HUGETLBFS	   (1ULL << 9)
#define KD_UFFD_FEATURE_MINOR_SHMEM	   (1ULL << 10)
#define KD_UFFD_FEATURE_EXACT_ADDRESS	   (1ULL << 11)
#define KD_UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1ULL << 12)
#define KD_UFFD_FEATURE_WP_UNPOPULATED	   (1ULL << 13)
#define KD_UFFD_FEATURE_POISON		   (1ULL << 14)
#define KD_UFFD_FEATURE_WP_ASYNC	   (1ULL << 15)
#define KD_UFFD_FEATURE_MOVE		   (1ULL << 16)

/* The events the lazy-pages daemon needs to follow the restored tree. */
#define KD_UFFD_LAZY_EVENTS                                                                        \
	(KD_UFFD_FEATURE_EVENT_FORK | KD_UFFD_FEATURE_EVENT_REMAP | KD_UFFD_FEATURE_EVENT_REMOVE | \
	 KD_UFFD_FEATURE_EVENT_UNMAP)

struct kerndat {
	struct kerndat_item item[KD_NR_ITEMS];
	/* uname release, e.g. "6.18.0-1-amd64". */
	char release[65];
	/* Feature bits UFFDIO_API reported (with features=0), when uffd_api_ok. */
	bool uffd_api_ok;
	uint64_t uffd_features;
	/* /proc/sys/vm/unprivileged_userfaultfd, -1 when unreadable. */
	int unprivileged_userfaultfd;
	/* NT_X86_XSTATE size from GETREGSET on a child (0 when unknown) and the
	 * xfeatures enabled in XCR0. SETREGSET wants exactly this size. */
	unsigned xstate_size;
	uint64_t xfeatures;
};

/*
 * Probe everything. Each probe that fails marks its item absent with the
 * reason; nothing is inferred. Every child forked here is reaped before
 * return. Returns 0, or -errno when probing itself could not run.
 */
int kerndat_probe(struct kerndat *kd);

static inline bool kerndat_has(const struct kerndat *kd, enum kd_item i)
{
	return i < KD_NR_ITEMS && kd->item[i].present;
}

/* True when UFFDIO_API reported all the bits of mask. */
static inline bool kerndat_uffd_has(const struct kerndat *kd, uint64_t mask)
{
	return kd->uffd_api_ok && (kd->uffd_features & mask) == mask;
}

/* Name ("ptrace-seize") and category of an item; NULL/KD_OPTIONAL out of range. */
const char *kerndat_item_name(enum kd_item i);
enum kd_category kerndat_item_category(enum kd_item i);
const char *kerndat_category_name(enum kd_category c);

/* Name of one userfaultfd feature bit (0..63): "EVENT_FORK", "WP", ... or
 * NULL for a bit we have no name for. */
const char *kerndat_uffd_feature_name(unsigned bit);

/* Name of one XSAVE feature bit ("avx"), or NULL. */
const char *kerndat_xfeature_name(unsigned bit);

#endif
