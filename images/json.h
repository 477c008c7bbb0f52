/* A small streaming JSON writer, and a printer of any protobuf-c message
 * driven by its descriptor (ckptctl show). Output goes to a stdio stream the
 * caller owns; nothing is buffered here beyond one nesting bit per level.
 *
 * Mapping of protobuf-c fields:
 *	integers, uint64 too		JSON numbers (exact for jq only below 2^53)
 *	bool				true / false
 *	float, double			numbers; NaN and infinities as null
 *	enum				its value's name ("VMA_STACK"), or the number
 *					when the schema has no such value
 *	string				a string; bytes that are not UTF-8 as \u00XX
 *	bytes				a string of lowercase hex digits
 *	message				an object, fields in schema order
 *	repeated			an array (also when empty)
 *	absent optional			left out */
#ifndef CKPT_JSON_H
#define CKPT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#define JSON_MAX_DEPTH 64

struct json {
	FILE *f;
	bool pretty;		/* newlines and two-space indentation */
	unsigned depth;
	uint64_t has_items;	/* bit d: level d already holds an item */
	int err;		/* first misuse: -E2BIG (too deep) or -EINVAL */
};

void json_init(struct json *j, FILE *f, bool pretty);
/* 0, or -errno if the writer was misused or the stream failed. */
int json_finish(struct json *j);

/* key is the member name inside an object, NULL inside an array or at the
 * top level. */
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);

void json_str(struct json *j, const char *key, const char *s);
void json_strn(struct json *j, const char *key, const char *s, size_t len);
void json_hex(struct json *j, const char *key, const void *data, size_t len);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_double(struct json *j, const char *key, double v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);

/* msg as an object (see the mapping above). */
void json_msg(struct json *j, const char *key, const ProtobufCMessage *msg);
/* Only msg's fields, into the object being written (to merge a message with
 * members of one's own). */
void json_msg_fields(struct json *j, const ProtobufCMessage *msg);

/* s as a JSON string literal, quotes included. */
void json_write_string(FILE *f, const char *s, size_t len);

#endif
