/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lazy memory that got populated before its userfaultfd was registered.
 *
 * Between the mmap of a lazy VMA and its UFFDIO_REGISTER, anyone reading
 * the task's memory through the kernel (ps reading /proc/PID/cmdline,
 * /proc/PID/environ, a debugger) faults a zero page in. No missing fault
 * comes for it afterwards, and the daemon's UFFDIO_COPY there fails with
 * EEXIST: the page would read zeros forever.
 */
#ifndef RELIVE_UFFD_REPAIR_H
#define RELIVE_UFFD_REPAIR_H

#include "mm.pb-c.h"

struct mm_pages;

/*
 * After registration (no page can appear behind our back any more): find
 * the present pages of every lazy VMA and write the image's contents into
 * those that have them in the pages file. A page whose contents are only
 * on a page server can't be fixed here: that is -EAGAIN with a message.
 * Returns the number of pages rewritten, or -errno.
 */
int uffd_repair_early_pages(pid_t pid, const MmEntry *mm, const struct mm_pages *pages);

#endif
