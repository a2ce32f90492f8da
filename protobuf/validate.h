/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Semantic checks of every image message after unpacking: ranges, sizes,
 * enums, counts. Called by img_read_msg() only. */
#ifndef RELIVE_VALIDATE_H
#define RELIVE_VALIDATE_H

#include <stddef.h>

#include "img.h"

/*
 * Check msg, the idx-th message of an image of this type. Returns 0, or
 * -EINVAL with a short reason ("vma 3: end below start") written to why.
 */
int img_validate(enum img_type type, unsigned idx, const ProtobufCMessage *msg, char *why,
		 size_t whylen);

#endif
