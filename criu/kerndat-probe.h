/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to the kerndat-*.c probe files: recording results, probe groups. */
#ifndef RELIVE_KERNDAT_PROBE_H
#define RELIVE_KERNDAT_PROBE_H

#include <stdbool.h>

#include "kerndat.h"

/* Record item i as present or not, with a printf-style detail. */
void kd_set_item(struct kerndat *kd, enum kd_item i, bool present, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Record item i absent because the call `what` failed with r (-errno). */
void kd_set_failed(struct kerndat *kd, enum kd_item i, const char *what, int r);
/* Read a /proc or /sys file holding one integer. */
int kd_read_proc_int(const char *path, int *ret);

/* userfaultfd items, features; needs nothing else probed first. */
void kerndat_probe_uffd(struct kerndat *kd);
/* PAGEMAP_SCAN and dirty tracking; run after kerndat_probe_uffd. */
void kerndat_probe_pagemap(struct kerndat *kd);
/* sock_diag for unix and inet sockets. */
void kerndat_probe_sock_diag(struct kerndat *kd);

#endif
