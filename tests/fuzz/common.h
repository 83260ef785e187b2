/*
 * common.h - shared pieces of the libdaxmodel fuzz harnesses (tests/fuzz/ops.c, state.c, sysfs.c):
 * an input reader, the failure report, the log hook that turns a broken
 * internal invariant into a crash, a per-process scratch directory, and
 * check_model(), the API-level invariants every harness checks.
 *
 * A harness "finds a bug" by calling fuzz_fail() (abort: libFuzzer saves
 * the input) or by a sanitizer report or trap inside the library.
 */
#ifndef DAXM_FUZZ_COMMON_H
#define DAXM_FUZZ_COMMON_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>

#include <daxmodel.h>

#define KiB (1024ull)
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define PAGE 4096ull

/* ---- reading the input ---------------------------------------------- */

struct in {
	const uint8_t *p;
	size_t n;
};

/* Each returns 0 (or an empty string) once the input is used up. */
uint8_t in_u8(struct in *in);
uint16_t in_u16(struct in *in);
uint32_t in_u32(struct in *in);
uint64_t in_u64(struct in *in);
/* A value below @n (0 when @n is 0). */
unsigned in_below(struct in *in, unsigned n);
/* Up to @max bytes (length byte first) copied into @buf and NUL-terminated;
 * returns the length. */
size_t in_bytes(struct in *in, char *buf, size_t max);
/* A 64-bit number that is often interesting: 0, 1, powers of two and
 * their neighbours, multiples of 2 MiB, boundaries of int32/int64/uint64. */
uint64_t in_number(struct in *in);

/* ---- failing ---------------------------------------------------------- */

/* Print "fuzz: <harness>: <message>" and abort(). */
__attribute__((noreturn, format(printf, 1, 2))) void fuzz_fail(const char *fmt, ...);

/* Fail unless @rc is 0 or a negative errno (-4095..-1). */
#define RC_ERRNO(call)                                                         \
	({                                                                      \
		long _rc = (long)(call);                                        \
		if (_rc > 0 || _rc < -4095)                                    \
			fuzz_fail("%s returned %ld, neither 0 nor -errno", #call, _rc); \
		(int)_rc;                                                       \
	})

/* DAXM_FUZZ_VERBOSE=1: harnesses print what the library answered. */
int fuzz_verbose(void);

/*
 * DAXM_FUZZ_SKIP_KNOWN=1: steer around the open bugs listed in
 * tests/fuzz/crashes/README.md (issue 10's items and the ones these harnesses
 * found), so a long campaign looks for new ones instead of finding the
 * same crash again. Off by default: scripts/test.sh and plain runs must
 * hit them. TODO: remove each filter once its bug is fixed.
 */
int fuzz_skip_known(void);

/* ---- the library's own checks ------------------------------------------ */

/* The log function every harness installs: fails on a message of the
 * per-call invariant and promise check (function "verifyAfterCall", built
 * with DAXMODEL_INTERNAL_CHECKS); swallows the others. Only the function
 * name counts: message texts echo the caller's paths and values, which
 * libFuzzer would learn to fill with "internal invariant". */
void fuzz_log(struct daxm_ctx *ctx, int priority, const char *file, int line,
	      const char *fn, const char *msg);
/* daxm_set_log_fn(ctx, fuzz_log) and a log priority of LOG_INFO (so the
 * refusals' messages are formatted too). */
void fuzz_quiet(struct daxm_ctx *ctx);

/* ---- files -------------------------------------------------------------- */

/* A directory of this process under $TMPDIR (or /tmp), made once and
 * removed at exit. */
const char *fuzz_dir(void);
/* @name inside fuzz_dir(), in a static buffer per call site (copy it). */
void fuzz_path(char *buf, size_t len, const char *name);
/* Write @n bytes to @path (fails the harness on an I/O error). */
void fuzz_write_file(const char *path, const void *data, size_t n);
/* Read a whole file into a malloc'd buffer; NULL if it cannot be read. */
uint8_t *fuzz_read_file(const char *path, size_t *n);
/* rm -rf @path (no error if absent). */
void fuzz_rm_tree(const char *path);

/* ---- invariants through the API ------------------------------------------ */

/*
 * check_model - every invariant the header lets a caller see, on a
 * context no other thread changes:
 *  - regions iterate in increasing unique id order; get_by_id finds each;
 *    kind, profile, align and size are valid; start+size does not wrap;
 *    regions do not overlap;
 *  - every device: id unique and increasing, get_by_name finds it, size ==
 *    sum of its mappings, page offsets are the running sum, ranges lie in
 *    the region and no two ranges of the region overlap, nr_mappings
 *    matches, the `size` attribute reads the same, a bound device has size;
 *  - dynamic: available_size + sum of device sizes == region size;
 *    static: one device covering the region, available_size 0;
 *    sparse: extents unique, inside the region, disjoint, refcount >= 0, a
 *    releasing extent is referenced, every device range lies inside one
 *    listed extent, and available_size == accepted bytes - bytes of ranges
 *    in accepted extents;
 *  - `available_size` reads what the getter says.
 * @visit, when non-NULL, is called with every object found (for the ops
 * harness's handle pools): kind 'r', 'd', 'm', 'e'.
 */
void check_model(struct daxm_ctx *ctx, void (*visit)(char kind, void *obj));

/*
 * roundtrip - save @ctx to A, load A (must succeed: every state save
 * writes must load), check the copy, save it to B; A and B must be
 * byte-identical. Returns the loaded copy (the caller unrefs it), or NULL
 * when the first save failed with an errno the harness accepts (none
 * today: any failure of a save into fuzz_dir() fails the harness).
 */
struct daxm_ctx *roundtrip(struct daxm_ctx *ctx);

/*
 * exercise_model - a few calls on every region of a model of unknown shape
 * (a loaded file, an imported tree), as a user would make next: attribute
 * reads, a no-op resize, unbind and bind, a new device sized 2 MiB and
 * deleted again, and on sparse regions: close the open group (must not be
 * -E2BIG), offer an extent, pin and unpin one, release it; then drain the
 * events. The model is checked after each region.
 */
void exercise_model(struct daxm_ctx *ctx);

#endif /* DAXM_FUZZ_COMMON_H */
