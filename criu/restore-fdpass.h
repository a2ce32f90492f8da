/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The channel between relive and each process it restores during phase A:
 * a SOCK_SEQPACKET socketpair per process, made by relive before the tree
 * exists and inherited by every process (each is a fork of relive). relive
 * sends commands (create a child, setsid, setpgid, take your descriptors),
 * the process answers each; descriptors travel with SCM_RIGHTS, one per
 * message. relive's end has SO_PASSCRED, so every message from a process
 * tells relive its pid as relive sees it (its outer pid in a new pid
 * namespace). Used by the child too, so nothing here logs.
 */
#ifndef RELIVE_RESTORE_FDPASS_H
#define RELIVE_RESTORE_FDPASS_H

#include <stdint.h>
#include <sys/types.h>

enum tree_op {
	TREE_HELLO = 1, /* process -> relive: I exist, trace me */
	TREE_CREATE,	/* relive -> process: create child arg (an index) */
	TREE_SETSID,	/* relive -> process: setsid() */
	TREE_SETPGID,	/* relive -> process: setpgid(0, arg) */
	TREE_FILES,	/* relive -> process: arg descriptors follow, then finish phase A */
	TREE_FD,	/* relive -> process: one descriptor of file_id */
	TREE_INIT,	/* relive -> the pid namespace init: become the reaper */
	TREE_REPLY,	/* process -> relive: ret is the result */
	TREE_ZOMBIE,	/* relive -> a dumped zombie: exit as it did */
};

struct tree_msg {
	uint32_t op;
	int32_t arg;
	int32_t ret;
	uint32_t file_id;
};

/* Send m, with fd attached when fd >= 0. Returns 0 or -errno. */
int tree_msg_send(int sock, const struct tree_msg *m, int fd);

/*
 * Receive one message into m. A descriptor that came with it goes to
 * *ret_fd (close-on-exec; -1 when none; when ret_fd is NULL one is closed
 * and -EPROTO returned); the sender's pid from SCM_CREDENTIALS to *ret_pid
 * when not NULL (0 when none came). Returns 0, -EPIPE at end of stream,
 * -EPROTO for a malformed message, or -errno.
 */
int tree_msg_recv(int sock, struct tree_msg *m, int *ret_fd, pid_t *ret_pid);

#endif
