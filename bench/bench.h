/*
 * bench.h - shared helpers of daxm-bench (see bench/README.md).
 *
 * Every library call the benchmark makes goes through one of the CK*
 * macros: a failing call aborts the run with a message naming the call,
 * its errno and daxm_last_error(). A benchmark that measures failures is
 * worthless.
 */
#ifndef DAXM_BENCH_H
#define DAXM_BENCH_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <daxmodel.h>

#define MiB (1ULL << 20)
#define UNIT (2 * MiB) /* the allocation unit: max(align, 2 MiB) */

/* ---- options ----------------------------------------------------------- */

struct bench_opts {
	int quick;           /* --quick: tiny sizes, short runs (CI)          */
	double budget;       /* --budget S: seconds per table row             */
	unsigned only;       /* --only: bit set of tables, 0 = all           */
	long iterations;     /* --iterations N: calls table, fixed count,
	                        one run, no calibration (for callgrind)      */
	int runs;            /* --runs N: repetitions, median reported       */
	unsigned long seed;  /* --seed N                                      */
	long max_m;          /* --max-m N: largest device count (table b)    */
	long max_e;          /* --max-e N: largest extent count (table c)    */
	long view_mib;       /* --view-mib N: bytes mapped in table f        */
	long fabric_hosts;   /* --fabric-hosts N: hosts of table h's largest row */
	long fabric_extents; /* --fabric-extents N: its extents per host     */
};

enum {
	T_CALLS = 1u << 0,
	T_DYNAMIC = 1u << 1,
	T_SPARSE = 1u << 2,
	T_MEMORY = 1u << 3,
	T_THREADS = 1u << 4,
	T_VIEWS = 1u << 5,
	T_SCALE = 1u << 6,
	T_FABRIC = 1u << 7,
};

extern struct bench_opts opt;

/* ---- failures ---------------------------------------------------------- */

__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
__attribute__((noreturn)) void die_call(const char *call, long rc,
					const char *file, int line);

/* int-returning actions: 0 (or >= 0) is success. */
#define CK(call)                                                         \
	do {                                                             \
		long ck_rc_ = (long)(call);                              \
		if (ck_rc_ < 0)                                          \
			die_call(#call, ck_rc_, __FILE__, __LINE__);     \
	} while (0)
/* ... that must return exactly @want. */
#define CK_EQ(call, want)                                                \
	do {                                                             \
		long ck_rc_ = (long)(call);                              \
		if (ck_rc_ != (long)(want))                              \
			die_call(#call, ck_rc_, __FILE__, __LINE__);     \
	} while (0)
/* uint64_t getters: DAXM_INVALID is the failure. */
#define CK_U64(var, call)                                                \
	do {                                                             \
		(var) = (call);                                          \
		if ((var) == DAXM_INVALID)                               \
			die_call(#call " (DAXM_INVALID)", -ENODEV,       \
				 __FILE__, __LINE__);                    \
	} while (0)
/* pointer getters: NULL is the failure. */
#define CK_PTR(var, call)                                                \
	do {                                                             \
		(var) = (call);                                          \
		if ((var) == NULL)                                       \
			die_call(#call " (NULL)", 0, __FILE__, __LINE__); \
	} while (0)

/* ---- time -------------------------------------------------------------- */

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Cost of one now_ns() call, measured at start; subtracted from
 * individually timed operations. */
extern double clock_overhead_ns;
void measure_clock_overhead(void);

double median(double *v, int n); /* sorts v */

/* Samples of one operation: ns values, grown as needed; free(v) after. */
struct samples {
	double *v;
	int n, cap;
};

void samples_add(struct samples *s, double ns); /* negative ns counts as 0 */

/* ns since *@t, less the clock's own cost; *@t becomes now. */
double lap(uint64_t *t);

/* ---- random numbers (xorshift64*, deterministic per --seed) ------------ */

static inline uint64_t rnd_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}
/* uniform in [0, n) */
static inline uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return rnd_next(s) % n;
}

/* ---- memory ------------------------------------------------------------ */

/* glibc's mallinfo2(): uordblks + hblkhd (bytes in use by malloc). */
long long heap_in_use(void);

/* ---- output ------------------------------------------------------------ */

/* "1234", "12.3", "0.123": ns with sensible precision into @buf. */
const char *fmt_ns(char *buf, size_t len, double ns);
const char *fmt_ratio(char *buf, size_t len, double r);
const char *fmt_count(char *buf, size_t len, long n); /* 1k, 10k, 1M */

/* ---- common library setup ---------------------------------------------- */

struct daxm_ctx *bench_ctx(void);
/* a dynamic region of @units allocation units at @start; dax R.0 idle */
struct daxm_region *bench_dynamic_region(struct daxm_ctx *ctx, uint64_t start,
					 uint64_t units);
/* a sparse region; limits set for @max_extents extents */
struct daxm_region *bench_sparse_region(struct daxm_ctx *ctx, uint64_t start,
					uint64_t size, uint32_t max_extents);
/* the 16-byte tag number @k (k >= 0; never all-zero) */
void bench_tag(uint8_t tag[DAXM_TAG_SIZE], uint64_t k);
/* take one event; it must be of @type with @nr records, all result 0
 * (nr < 0: any count). Returns the ns spent in next_event + free (clock
 * overhead subtracted). */
double bench_take_event(struct daxm_ctx *ctx, uint32_t type, long nr);
/* take every waiting event, checking that no record failed */
void bench_drain(struct daxm_ctx *ctx);

/* ---- the tables -------------------------------------------------------- */

void table_calls(void);
void table_dynamic(void);
void table_sparse(void);
void table_memory(void);
void table_threads(void);
void table_views(void);
void table_scale(void);
void table_fabric(void);

#endif
