/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The workload-case protocol (Documentation in shared TESTING.md): a case is
 * started as PROG --pidfile=F --outfile=O, daemonizes, builds its state,
 * reports ready, waits for SIGTERM, verifies and writes PASS or FAIL: why.
 */
#ifndef RELIVE_TEST_CASE_H
#define RELIVE_TEST_CASE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parse --pidfile= and --outfile= (other --name=value options stay available
 * through test_opt()), fork, and return in the child, which is a session
 * leader with stdin from /dev/null and stdout/stderr appended to OUTFILE.
 * The parent waits for test_ready() and exits 0 after writing the pidfile,
 * or exits 1 if the child dies or fails first. A SIGTERM handler (no
 * SA_RESTART, so blocking calls see EINTR) sets the stop flag.
 */
void test_init(int argc, char **argv);

/* Value of --NAME=VALUE given on the command line, or NULL. */
const char *test_opt(const char *name);

/* Setup is complete: let the parent write the pidfile and exit. */
void test_ready(void);

/* True once SIGTERM arrived. */
bool test_stopped(void);
/* Address of the stop flag, for loops in assembly. */
volatile sig_atomic_t *test_stop_flag(void);
/* Sleep until SIGTERM (sigsuspend with the current mask minus SIGTERM). */
void test_wait_stop(void);

/* Write a line to OUTFILE (diagnostics; not a result). */
void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Remember a failure found while waiting (first one wins); fail() and
 * test_finish() report it. Async-signal-safe enough for handlers: it only
 * formats into a static buffer once.
 */
void test_note_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool test_has_failed(void);

/* Write "PASS" (or the noted failure, if any) and exit. */
void pass(void) __attribute__((noreturn));
/* Write "FAIL: why" and exit 1. */
void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Abort setup: print why to OUTFILE and make the parent exit 1. */
void test_setup_failed(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Deterministic 64-bit pattern for word index i of a buffer with a seed. */
static inline uint64_t test_pattern(uint64_t seed, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 29);
}

void test_fill(void *buf, size_t len, uint64_t seed);
/* Returns the byte offset of the first mismatch, or -1 if all match. */
long test_check(const void *buf, size_t len, uint64_t seed);

#endif
