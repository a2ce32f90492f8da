// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A three-level tree: the root (session and group leader) with a child A
 * that leads its own group and a grandchild G moved into the root's group,
 * and a child S that leads a session of its own below the root, with its
 * child S1. Two zombies wait to be reaped: Z, the root's, exited with code
 * ZOMBIE_CODE; Z2, S's, was killed by SIGUSR2. A file opened before the
 * forks shares one offset between the root and A. A pipe runs from the
 * root to G with data in flight: G reads it only after restore, then what
 * the root writes after restore. Every process checks its pid, parent, group and
 * session; A reads through the shared description and the root sees the offset move.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "case.h"

#define SHARED_FD   20
#define PIPE_RD_FD  21
#define PIPE_WR_FD  22
#define PIPE_EARLY  "in flight, 23 bytes.."
#define PIPE_LATE   "after restore"
#define SHARED_POS  3
#define READ_LEN    2
#define FILE_TEXT   "0123456789"
#define ZOMBIE_CODE 42

struct who {
	const char *name;
	pid_t pid, ppid, pgid, sid;
};

/* Keep only stdin/stdout/stderr, the shared file and the pipe (not the
 * ready pipe). */
static void keep_own_fds(void)
{
	if (syscall(SYS_close_range, 3, SHARED_FD - 1, 0) < 0 ||
	    syscall(SYS_close_range, PIPE_WR_FD + 1, ~0U, 0) < 0)
		_exit(20);
}

/* Read exactly len bytes from the pipe; a why when they are not want. */
static const char *read_pipe(const char *want, size_t len)
{
	static char why[200];
	char buf[64] = "";
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(PIPE_RD_FD, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, sizeof(why),
				 "grandchild G: pipe read gave %zd after %zu bytes", n, got);
			return why;
		}
		got += (size_t)n;
	}
	if (memcmp(buf, want, len) != 0) {
		snprintf(why, sizeof(why),
			 "grandchild G: read \"%.*s\" from the pipe, expected \"%s\"", (int)len,
			 buf, want);
		return why;
	}
	return NULL;
}

static const char *check_ids(const struct who *w)
{
	static char why[200];

	if (getpid() != w->pid)
		snprintf(why, sizeof(why), "%s: pid %d, expected %d", w->name, getpid(), w->pid);
	else if (w->ppid && getppid() != w->ppid)
		snprintf(why, sizeof(why), "%s: parent %d, expected %d", w->name, getppid(),
			 w->ppid);
	else if (getpgid(0) != w->pgid)
		snprintf(why, sizeof(why), "%s: group %d, expected %d", w->name, getpgid(0),
			 w->pgid);
	else if (getsid(0) != w->sid)
		snprintf(why, sizeof(why), "%s: session %d, expected %d", w->name, getsid(0),
			 w->sid);
	else
		return NULL;
	return why;
}

/* Wait for SIGTERM (a child also gets it from its parent), then check. */
static void wait_term(void)
{
	while (!test_stopped())
		test_wait_stop();
}

/* End a child: 0 when every check passed, else say why and exit 1. */
static __attribute__((noreturn)) void child_end(const char *why)
{
	if (why) {
		test_msg("%s", why);
		_exit(1);
	}
	_exit(0);
}

/* Reap pid after sending it SIGTERM; a why for anything but exit 0. */
static const char *stop_child(const char *name, pid_t pid)
{
	static char why[200];
	int status;

	if (kill(pid, SIGTERM) < 0) {
		snprintf(why, sizeof(why), "cannot signal %s (%d): %m", name, pid);
		return why;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(why, sizeof(why), "waitpid(%s %d): %m", name, pid);
			return why;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return NULL;
	snprintf(why, sizeof(why), "%s (%d) %s %d", name, pid,
		 WIFEXITED(status) ? "exited with" : "was killed by signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return why;
}

/* Has pid ended (a zombie now)? Waits without reaping it. */
static bool wait_zombie(pid_t pid)
{
	siginfo_t si;

	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			return false;
	return true;
}

/* Reap zombie pid: a why unless it ended with status want. */
static const char *reap_zombie(const char *name, pid_t pid, int want)
{
	static char why[200];
	int status;
	pid_t w = waitpid(pid, &status, WNOHANG);

	if (w != pid) {
		snprintf(why, sizeof(why), "%s (%d) is not a zombie to reap (waitpid: %d)", name,
			 pid, w);
		return why;
	}
	if (status != want) {
		snprintf(why, sizeof(why), "%s (%d) ended with status %#x, expected %#x", name, pid,
			 status, want);
		return why;
	}
	return NULL;
}

static pid_t fork_or_fail(void)
{
	pid_t pid = fork();

	if (pid < 0)
		test_setup_failed("fork: %m");
	return pid;
}

/* Poll until cond holds for pid (the children set themselves up). */
static void wait_for(const char *what, pid_t pid, pid_t (*get)(pid_t), pid_t want)
{
	for (int i = 0; i < 2000; i++) {
		if (get(pid) == want)
			return;
		usleep(5000);
	}
	test_setup_failed("%s (%d) never reached %d", what, pid, want);
}

static pid_t read_pid_file(const char *path)
{
	for (int i = 0; i < 2000; i++) {
		FILE *f = fopen(path, "r");
		int pid = 0;

		if (f) {
			if (fscanf(f, "%d", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (pid > 0)
			return pid;
		usleep(5000);
	}
	test_setup_failed("%s never got a pid", path);
}

static void run_grandchild(pid_t root, pid_t a)
{
	struct who w = {"grandchild G", getpid(), a, root, root};
	const char *why;

	keep_own_fds();
	close(PIPE_WR_FD);
	/* Moved into the root's group, away from its parent's. */
	if (setpgid(0, root) < 0)
		child_end("grandchild G: setpgid to the root's group failed");
	wait_term();
	why = check_ids(&w);
	/* Its parent stops it only after the root wrote the second part. */
	if (!why)
		why = read_pipe(PIPE_EARLY, strlen(PIPE_EARLY));
	if (!why)
		why = read_pipe(PIPE_LATE, strlen(PIPE_LATE));
	child_end(why);
}

static void run_a(pid_t root)
{
	struct who w = {"child A", getpid(), root, getpid(), root};
	char buf[READ_LEN + 1] = "";
	const char *why;
	pid_t g;
	FILE *f;

	keep_own_fds();
	if (setpgid(0, 0) < 0)
		child_end("child A: setpgid failed");
	g = fork();
	if (g < 0)
		child_end("child A: fork failed");
	if (g == 0)
		run_grandchild(root, w.pid);
	close(PIPE_RD_FD);
	close(PIPE_WR_FD);
	f = fopen("tree-g.pid.tmp", "w");
	if (!f || fprintf(f, "%d\n", g) < 0 || fclose(f) != 0 ||
	    rename("tree-g.pid.tmp", "tree-g.pid") < 0)
		child_end("child A: cannot write tree-g.pid");
	wait_term();
	why = check_ids(&w);
	if (!why) {
		/* The description is the root's: it starts where the root left it. */
		if (read(SHARED_FD, buf, READ_LEN) != READ_LEN)
			why = "child A: cannot read the shared file";
		else if (memcmp(buf, &FILE_TEXT[SHARED_POS], READ_LEN) != 0)
			why = "child A: the shared file was not at the root's offset";
	}
	if (!why)
		why = stop_child("grandchild G", g);
	child_end(why);
}

static void run_s1(pid_t s)
{
	struct who w = {"grandchild S1", getpid(), s, s, s};

	keep_own_fds();
	wait_term();
	child_end(check_ids(&w));
}

static void run_s(pid_t root)
{
	struct who w = {"child S", getpid(), root, getpid(), getpid()};
	const char *why;
	pid_t s1, z2;
	FILE *f;

	keep_own_fds();
	close(PIPE_RD_FD);
	close(PIPE_WR_FD);
	if (setsid() < 0)
		child_end("child S: setsid failed");
	z2 = fork();
	if (z2 < 0)
		child_end("child S: fork failed");
	if (z2 == 0) {
		signal(SIGUSR2, SIG_DFL);
		kill(getpid(), SIGUSR2);
		_exit(1);
	}
	if (!wait_zombie(z2))
		child_end("child S: waitid of zombie Z2 failed");
	f = fopen("tree-z2.pid.tmp", "w");
	if (!f || fprintf(f, "%d\n", z2) < 0 || fclose(f) != 0 ||
	    rename("tree-z2.pid.tmp", "tree-z2.pid") < 0)
		child_end("child S: cannot write tree-z2.pid");
	s1 = fork();
	if (s1 < 0)
		child_end("child S: fork failed");
	if (s1 == 0)
		run_s1(w.pid);
	wait_term();
	why = check_ids(&w);
	if (!why)
		why = reap_zombie("zombie Z2", z2, SIGUSR2);
	if (!why)
		why = stop_child("grandchild S1", s1);
	child_end(why);
}

int main(int argc, char **argv)
{
	struct who w;
	const char *why;
	pid_t root, a, s, g, z;
	off_t pos;
	int fd, p[2];

	test_init(argc, argv);
	root = getpid();
	/* The root's parent is whoever started or restored it: not checked. */
	w = (struct who){"the root", root, 0, root, root};
	unlink("tree-g.pid");
	unlink("tree-z2.pid");
	fd = open("tree-shared.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, FILE_TEXT, strlen(FILE_TEXT)) != (ssize_t)strlen(FILE_TEXT))
		test_setup_failed("tree-shared.txt: %m");
	if (dup2(fd, SHARED_FD) < 0)
		test_setup_failed("dup2: %m");
	close(fd);
	if (lseek(SHARED_FD, SHARED_POS, SEEK_SET) != SHARED_POS)
		test_setup_failed("lseek: %m");
	if (pipe(p) < 0 || dup2(p[0], PIPE_RD_FD) < 0 || dup2(p[1], PIPE_WR_FD) < 0)
		test_setup_failed("pipe: %m");
	close(p[0]);
	close(p[1]);
	if (write(PIPE_WR_FD, PIPE_EARLY, strlen(PIPE_EARLY)) != (ssize_t)strlen(PIPE_EARLY))
		test_setup_failed("pipe write: %m");

	a = fork_or_fail();
	if (a == 0)
		run_a(root);
	s = fork_or_fail();
	if (s == 0)
		run_s(root);
	close(PIPE_RD_FD);
	z = fork_or_fail();
	if (z == 0)
		_exit(ZOMBIE_CODE);
	if (!wait_zombie(z))
		test_setup_failed("waitid of zombie Z: %m");
	wait_for("child A's group", a, getpgid, a);
	wait_for("child S's session", s, getsid, s);
	g = read_pid_file("tree-g.pid");
	read_pid_file("tree-z2.pid");
	wait_for("grandchild G's group", g, getpgid, root);
	test_ready();

	wait_term();
	why = check_ids(&w);
	if (why)
		fail("%s", why);
	pos = lseek(SHARED_FD, 0, SEEK_CUR);
	if (pos != SHARED_POS)
		fail("the root's shared file is at %lld, expected %d", (long long)pos, SHARED_POS);
	why = reap_zombie("zombie Z", z, ZOMBIE_CODE << 8);
	if (why)
		fail("%s", why);
	if (write(PIPE_WR_FD, PIPE_LATE, strlen(PIPE_LATE)) != (ssize_t)strlen(PIPE_LATE))
		fail("cannot write the second part into the pipe: %m");
	why = stop_child("child A", a);
	if (why)
		fail("%s", why);
	/* A read through the same description: the offset moved for us too. */
	pos = lseek(SHARED_FD, 0, SEEK_CUR);
	if (pos != SHARED_POS + READ_LEN)
		fail("the shared file is at %lld after child A read %d bytes, expected %d (the "
		     "offset is not shared)",
		     (long long)pos, READ_LEN, SHARED_POS + READ_LEN);
	why = stop_child("child S", s);
	if (why)
		fail("%s", why);
	pass();
}
