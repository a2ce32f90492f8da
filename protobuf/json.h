/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON output of image messages, driven by the protobuf-c descriptors (no
 * per-message code): nested messages as objects, repeated fields as arrays,
 * optional fields only when present, enums by name, bytes as lowercase hex
 * strings. Output is pretty-printed with two-space indentation.
 */
#ifndef RELIVE_JSON_H
#define RELIVE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#define JSON_MAX_DEPTH 64

/* A writer: keeps track of commas and indentation. */
struct json {
	FILE *f;
	unsigned depth;
	uint64_t has_items; /* bit d: the container at depth d has an item */
	bool after_key;
	int err; /* first error, -errno */
};

void json_init(struct json *j, FILE *f);
void json_begin_object(struct json *j);
void json_end_object(struct json *j);
void json_begin_array(struct json *j);
void json_end_array(struct json *j);
/* Inside an object: the key of the next value. */
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
/* A whole message as one object. */
void json_message(struct json *j, const ProtobufCMessage *msg);
/* Ends the output with a newline and flushes; returns 0 or the first error. */
int json_finish(struct json *j);

#endif
