/*
 * ctest.h - the C ABI test of libdaxmodel: checks, tables and helpers.
 *
 * Every check counts one pass or one failure; a failure prints
 * "file:line: expression" and, for value checks, what came back and what
 * the contract (include/daxmodel.h) says. Counters are atomic, so checks
 * may run on any thread.
 */
#ifndef DAXM_CTEST_H
#define DAXM_CTEST_H

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daxmodel.h>

#define KiB (1024ull)
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define PAGE 4096ull

/* Region start used throughout: the QEMU lab's hmem region. */
#define S0 0x140000000ull

/* ---- recording ---------------------------------------------------- */

void t_result(int ok, const char *file, int line, const char *expr,
	      const char *detail);
void t_check_i64(const char *file, int line, const char *expr, int64_t got,
		 int64_t want);
void t_check_u64(const char *file, int line, const char *expr, uint64_t got,
		 uint64_t want);
void t_check_ptr(const char *file, int line, const char *expr,
		 const void *got, const void *want);
void t_check_str(const char *file, int line, const char *expr,
		 const char *got, const char *want);

/* "-EINVAL" for -22, "" for values that are not a negative errno. */
const char *errname(int64_t value);

/* A failed check inside a worker thread: reported at once, counted in the
 * worker's @bad field (CHECKed once the thread is joined). */
#define TCHECK(w, cond) \
	do { \
		if (!(cond)) { \
			(w)->bad++; \
			t_result(0, __FILE__, __LINE__, #cond, NULL); \
		} \
	} while (0)

/* A boolean expression. */
#define CHECK(expr) t_result(!!(expr), __FILE__, __LINE__, #expr, NULL)
/* int / long results (errnos print by name). */
#define CHECK_INT(expr, want) \
	t_check_i64(__FILE__, __LINE__, #expr, (int64_t)(expr), (int64_t)(want))
/* uint64_t results (sizes, addresses, DAXM_INVALID). */
#define CHECK_U64(expr, want) \
	t_check_u64(__FILE__, __LINE__, #expr, (uint64_t)(expr), (uint64_t)(want))
#define CHECK_PTR(expr, want) \
	t_check_ptr(__FILE__, __LINE__, #expr, (const void *)(expr), \
		    (const void *)(want))
#define CHECK_STR(expr, want) t_check_str(__FILE__, __LINE__, #expr, (expr), (want))
/* An action returning 0 or -errno. */
#define CHECK_OK(expr) CHECK_INT(expr, 0)
#define CHECK_ERR(expr, err) CHECK_INT(expr, -(err))

/*
 * Tables: one row per call, evaluated when the array is initialised (so
 * rows must not depend on each other's side effects), then checked in
 * order. A failing row prints its own line and expression.
 */
struct row {
	const char *expr;
	int line;
	char kind; /* 'i' signed, 'u' uint64_t, 'p' pointer */
	uint64_t got, want;
};
#define ROW_I(e, w) { #e, __LINE__, 'i', (uint64_t)(int64_t)(e), (uint64_t)(int64_t)(w) }
#define ROW_ERR(e, err) ROW_I(e, -(err))
#define ROW_U(e, w) { #e, __LINE__, 'u', (uint64_t)(e), (uint64_t)(w) }
#define ROW_P(e, w) \
	{ #e, __LINE__, 'p', (uint64_t)(uintptr_t)(const void *)(e), \
	  (uint64_t)(uintptr_t)(const void *)(w) }
void t_check_rows(const char *file, const struct row *rows, size_t n);
#define CHECK_ROWS(rows) t_check_rows(__FILE__, rows, sizeof(rows) / sizeof((rows)[0]))

/* ---- fixtures ----------------------------------------------------- */

/* A fresh context (CHECKed; NULL on failure). */
struct daxm_ctx *new_ctx(void);
/* Give @ctx the tests' quiet log function (as new_ctx() does). */
void quiet_ctx(struct daxm_ctx *ctx);

/* Add a region; the result of daxm_region_new() is CHECKed to be 0. */
struct daxm_region *add_region(struct daxm_ctx *ctx, int id, uint32_t kind,
			       uint64_t start, uint64_t size, uint32_t flags,
			       uint32_t profile);

/* Create a device and size it (both CHECKed). */
struct daxm_dev *new_dev(struct daxm_region *region, uint64_t size);

/* Expected device range: [start, end] inclusive, page_offset in pages. */
struct rng {
	uint64_t start, end, pgoff;
};
void t_check_ranges(const char *file, int line, const char *what,
		    struct daxm_dev *dev, const struct rng *want, int n);
/* EXPECT_RANGES(dev, {start, end, pgoff}, ...) */
#define EXPECT_RANGES(dev, ...) \
	t_check_ranges(__FILE__, __LINE__, #dev, dev, \
		       (const struct rng[]){ __VA_ARGS__ }, \
		       (int)(sizeof((const struct rng[]){ __VA_ARGS__ }) / sizeof(struct rng)))

/* Read an attribute into a static per-thread buffer; NULL if it failed. */
const char *attr(struct daxm_ctx *ctx, const char *path);
struct daxm_extent *extent_at(struct daxm_region *r, uint64_t offset);
struct daxm_extent_spec ext(uint64_t offset, uint64_t length, const uint8_t *tag, uint16_t sequence);
/* CHECK that @path reads exactly @want. */
#define CHECK_ATTR(ctx, path, want) CHECK_STR(attr(ctx, path), want)

/* Number of devices of a region. */
int count_devs(struct daxm_region *region);

/* Saved-state files (state.c): a path in the areas' temporary directory
 * (created on first use; the returned buffer is reused by the next call),
 * the removal of the named files and the directory, the count (and
 * optional removal) of save temporaries "@name.tmp-*", a whole file read
 * (malloc'ed, NUL-terminated; NULL on failure), a whole file written (0 or
 * -1), and @len bytes of @text written to @path and loaded into *@out. */
const char *state_path(const char *name);
void state_clean(const char *const names[], int n);
int state_temporaries(const char *name, int remove);
char *slurp(const char *path, size_t *len);
int spill(const char *path, const char *buf, size_t len);
int load_bytes(const char *path, const char *text, size_t len, struct daxm_ctx **out);

/* ---- test areas (one per file section) ----------------------------- */

void test_version(void);
void test_null_args(void);
void test_region_spec(void);
void test_region_kinds(void);
void test_deleted_handles(void);
void test_ctx_unref_handles(void);
void test_sizes(void);
void test_mappings(void);
void test_align(void);
void test_scenarios(void);
void test_seed_youngest(void);
void test_bind(void);
void test_iteration(void);
void test_attr_read(void);
void test_attr_write(void);
void test_last_error(void);
void test_log(void);
void test_tags(void);
void test_sparse_null(void);
void test_sparse(void);
void test_sparse_revoke(void);
void test_threads(void);
void test_pins(void);
void test_state_roundtrip(void);
void test_state_damaged(void);
void test_state_kill(void);
void test_state_edits(void);
void test_state_request_ids(void);
void test_state_orders(void);
void test_state_ids(void);
void test_state_limits(void);
void test_state_staged_groups(void);
void test_state_big_documents(void);
void test_state_concurrent_saves(void);
void test_state_byte_paths(void);
void test_warnings(void);
void test_extent_lookup(void);
void test_error_paths(void);
void test_borrowed_pointers(void);
void test_stress(void);

#endif /* DAXM_CTEST_H */
