/* Role permissions: the names a role of each type may hold (BEHAVIOUR §3.3), and the stored form of a
 * permission list. Pure functions; no store access. */
#ifndef PARLEY_PERMISSIONS_H
#define PARLEY_PERMISSIONS_H
#include <stddef.h>

#include "store/store.h"

struct arena;
struct form;

/* 1 when name[0..n) (case-sensitive) is a permission a role of type t may hold. */
int permission_valid(const char *name, size_t n, enum role_type t);

/* The values of every `key` pair of f, in order, as the JSON array Parley stores (["a","b"]), with later
 * duplicates dropped. Returns NULL (and sets *bad to the first offending value) when one of them is
 * empty or not valid for t. The array lives in a. */
char *permissions_json(const struct form *f, const char *key, enum role_type t, struct arena *a,
                       const char **bad);

/* Parses a role type ("service" | "conversation"); 0, or -1 when s is neither. */
int role_type_parse(const char *s, size_t n, enum role_type *out);

#endif
