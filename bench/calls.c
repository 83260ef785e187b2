/*
 * calls.c - table a: the cost of one call, next to a plain C mutex call.
 *
 * Each row times a loop of N calls (N calibrated so one run lasts about
 * 200 ms, 20 ms with --quick; exactly --iterations N when given) and shows
 * the median over --runs runs. The loops are the cg_loop_* functions,
 * which scripts/bench.sh --callgrind counts instructions in.
 */
#include "baseline.h"
#include "bench.h"

#define NOINLINE __attribute__((noinline))

static struct daxm_extent *L_ext;
static struct daxm_dev *L_dev;
static struct daxm_region *L_dyn, *L_sparse;
static uint64_t L_size, L_avail_dyn, L_avail_sparse;
static struct mobj M;

/* ---- the loops (one per row and side) ------------------------------------ */

NOINLINE void cg_loop_lib_getput(long n)
{
	for (long i = 0; i < n; i++) {
		int rc = daxm_extent_get(L_ext);

		if (rc != 0)
			die_call("daxm_extent_get", rc, __FILE__, __LINE__);
		rc = daxm_extent_put(L_ext);
		if (rc != 0)
			die_call("daxm_extent_put", rc, __FILE__, __LINE__);
	}
}

NOINLINE void cg_loop_c_getput(long n)
{
	for (long i = 0; i < n; i++) {
		if (mobj_get(&M) != 0 || mobj_put(&M) != 0)
			die("mobj_get/put failed");
	}
}

NOINLINE void cg_loop_lib_dev_size(long n)
{
	for (long i = 0; i < n; i++)
		if (daxm_dev_get_size(L_dev) != L_size)
			die("daxm_dev_get_size: wrong value");
}

NOINLINE void cg_loop_c_dev_size(long n)
{
	for (long i = 0; i < n; i++)
		if (mobj_get_size(&M) != 3 * UNIT)
			die("mobj_get_size: wrong value");
}

NOINLINE void cg_loop_lib_avail_dyn(long n)
{
	for (long i = 0; i < n; i++)
		if (daxm_region_get_available_size(L_dyn) != L_avail_dyn)
			die("daxm_region_get_available_size: wrong value");
}

NOINLINE void cg_loop_lib_avail_sparse(long n)
{
	for (long i = 0; i < n; i++)
		if (daxm_region_get_available_size(L_sparse) != L_avail_sparse)
			die("daxm_region_get_available_size (sparse): wrong value");
}

static void c_avail(long n)
{
	for (long i = 0; i < n; i++)
		if (mobj_get_avail(&M) != 5 * UNIT)
			die("mobj_get_avail: wrong value");
}

/* one loop function per row, so callgrind counts each row apart */
NOINLINE void cg_loop_c_avail_dyn(long n) { c_avail(n); }
NOINLINE void cg_loop_c_avail_sparse(long n) { c_avail(n); }

NOINLINE void cg_loop_lib_devname(long n)
{
	for (long i = 0; i < n; i++)
		if (daxm_dev_get_devname(L_dev) == NULL)
			die("daxm_dev_get_devname: NULL");
}

NOINLINE void cg_loop_c_devname(long n)
{
	for (long i = 0; i < n; i++)
		if (mobj_get_name(&M) == NULL)
			die("mobj_get_name: NULL");
}

/* ---- timing ------------------------------------------------------------------ */

/* ns per iteration of @loop: calibrated N, median of opt.runs runs */
static double time_loop(void (*loop)(long))
{
	double target = opt.quick ? 20e6 : 200e6, v[64];
	long n = 1000;
	int runs = opt.runs > 64 ? 64 : opt.runs;

	if (opt.iterations > 0) {
		uint64_t t0 = now_ns();

		loop(opt.iterations);
		return (double)(now_ns() - t0) / (double)opt.iterations;
	}
	for (;;) {
		uint64_t t0 = now_ns(), dt;

		loop(n);
		dt = now_ns() - t0;
		if ((double)dt >= target / 4 || n >= (1L << 40))
			break;
		n *= 4;
	}
	for (int r = 0; r < runs; r++) {
		uint64_t t0 = now_ns();

		loop(n);
		v[r] = (double)(now_ns() - t0) / (double)n;
	}
	return median(v, runs);
}

static void setup(struct daxm_ctx **pctx)
{
	struct daxm_ctx *ctx = bench_ctx();
	struct daxm_extent_spec specs[10];
	struct daxm_dev *d1, *d2;

	/* dynamic region0: dax0.1 at 3 units, dax0.2 at 2 units, 5 units free */
	L_dyn = bench_dynamic_region(ctx, 0x100000000ull, 10);
	CK(daxm_region_create_dev(L_dyn, &d1));
	CK(daxm_dev_set_size(d1, 3 * UNIT));
	CK(daxm_region_create_dev(L_dyn, &d2));
	CK(daxm_dev_set_size(d2, 2 * UNIT));
	L_dev = d1;
	CK_U64(L_size, daxm_dev_get_size(d1));
	CK_U64(L_avail_dyn, daxm_region_get_available_size(L_dyn));
	if (L_size != 3 * UNIT || L_avail_dyn != 5 * UNIT)
		die("calls setup: unexpected sizes");

	/* sparse region1: 10 extents of one tag; a device holds one */
	L_sparse = bench_sparse_region(ctx, 0x1000000000ull, 64 * UNIT, 1024);
	memset(specs, 0, sizeof(specs));
	for (int i = 0; i < 10; i++) {
		specs[i].offset = (uint64_t)i * 2 * UNIT;
		specs[i].length = UNIT;
		bench_tag(specs[i].tag, 0);
		specs[i].sequence = (uint16_t)i;
	}
	CK(daxm_region_add_extents(L_sparse, specs, 10, 0));
	bench_take_event(ctx, DAXM_EVENT_GROUP, 10);
	{
		struct daxm_dev *d;

		CK(daxm_region_create_dev(L_sparse, &d));
		CK(daxm_dev_set_tag(d, specs[0].tag));
		CK(daxm_dev_set_size(d, UNIT));
	}
	CK_U64(L_avail_sparse, daxm_region_get_available_size(L_sparse));
	CK_PTR(L_ext, daxm_extent_get_first(L_sparse));
	CK_PTR(L_ext, daxm_extent_get_next(L_ext)); /* one no device holds */
	mobj_init(&M);
	*pctx = ctx;
}

void table_calls(void)
{
	struct daxm_ctx *ctx;
	struct row {
		const char *lib, *c;
		void (*lib_loop)(long), (*c_loop)(long);
	} rows[] = {
		{ "daxm_extent_get + daxm_extent_put", "lock, ++refcount, unlock; lock, --refcount, unlock",
		  cg_loop_lib_getput, cg_loop_c_getput },
		{ "daxm_dev_get_size", "lock, read field, unlock",
		  cg_loop_lib_dev_size, cg_loop_c_dev_size },
		{ "daxm_region_get_available_size (dynamic, 2 devices)", "lock, read field, unlock",
		  cg_loop_lib_avail_dyn, cg_loop_c_avail_dyn },
		{ "daxm_region_get_available_size (sparse, 10 extents)", "lock, read field, unlock",
		  cg_loop_lib_avail_sparse, cg_loop_c_avail_sparse },
		{ "daxm_dev_get_devname (no lock)", "read field, no lock",
		  cg_loop_lib_devname, cg_loop_c_devname },
	};
	char a[32], b[32], c[32];

	setup(&ctx);
	/* warm up: resolve symbols, fault in code, outside the loops */
	CK(daxm_extent_get(L_ext));
	CK(daxm_extent_put(L_ext));
	(void)daxm_dev_get_size(L_dev);
	(void)daxm_region_get_available_size(L_dyn);
	(void)daxm_region_get_available_size(L_sparse);
	(void)daxm_dev_get_devname(L_dev);
	mobj_get(&M);
	mobj_put(&M);

	printf("## a. Per-call cost (uncontended, one thread)\n\n");
	if (opt.iterations > 0)
		printf("%ld iterations per row, one run.\n\n", opt.iterations);
	printf("| call | library ns | plain C equivalent | C ns | library / C |\n");
	printf("|---|---:|---|---:|---:|\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		double l = time_loop(rows[i].lib_loop);
		double cc = time_loop(rows[i].c_loop);

		printf("| %s | %s | %s | %s | %s |\n", rows[i].lib,
		       fmt_ns(a, sizeof(a), l), rows[i].c, fmt_ns(b, sizeof(b), cc),
		       fmt_ratio(c, sizeof(c), l / cc));
		fflush(stdout);
	}
	printf("\nTarget (issue 9): get+put and the locked getters within 5x of the C mutex.\n");
	if (daxm_extent_get_refcount(L_ext) != 0)
		die("calls: extent refcount not back to 0");
	daxm_unref(ctx);
}
