/*
 * scale.c - table g: where the growth of a per-operation cost from 1k to
 * 1M extents comes from.
 *
 * Table c times each sparse-region operation at E = 1k .. 1M. Time grows
 * for two reasons: more work per operation (an algorithm that is not
 * logarithmic) and more cache and TLB misses (a million objects do not fit
 * in any cache). This table separates them. Every operation is one call of
 * a cg_op_* function, made --iterations times (default 1000) on a region
 * of E extents offered in random address order:
 *
 *   - natively, each call is timed (median), at E = 1k and at E = --max-e;
 *   - under callgrind (`scripts/bench.sh --scale`), one process per E runs
 *     with collection on only inside the cg_op_* functions and a simulated
 *     cache: instructions per operation (the work; independent of the
 *     machine's load) and last-level cache misses per operation.
 *
 * Two plain C floors run next to the library, on E objects of the size of
 * an extent (96 bytes, each its own malloc, visited in random order):
 * touching one random object (lock, ++, --, unlock: the C equivalent of a
 * get + put), and a binary search over E sorted 64-bit keys (any ordered
 * index's lookup). Their growth from 1k to 1M is what the memory hierarchy
 * charges any implementation.
 */
#include "sparse.h"

#include <pthread.h>

#define NOINLINE __attribute__((noinline))

/* ---- the C floors ------------------------------------------------------------ */

struct floor_obj {
	pthread_mutex_t *lock;
	uint64_t key;
	uint32_t refs;
	unsigned char rest[96 - sizeof(void *) - 8 - 4];
};

static pthread_mutex_t floor_lock = PTHREAD_MUTEX_INITIALIZER;

NOINLINE int cg_op_floor_touch(struct floor_obj *o)
{
	int r;

	pthread_mutex_lock(o->lock);
	r = (int)++o->refs;
	pthread_mutex_unlock(o->lock);
	pthread_mutex_lock(o->lock);
	o->refs--;
	pthread_mutex_unlock(o->lock);
	return r;
}

NOINLINE long cg_op_floor_search(const uint64_t *keys, long n, uint64_t key)
{
	long lo = 0, hi = n;

	while (lo < hi) {
		long mid = lo + (hi - lo) / 2;

		if (keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- the library operations, one call each ------------------------------------- */

NOINLINE void cg_op_tagsize(struct daxm_dev *dev, const uint8_t *tag)
{
	CK(daxm_dev_set_tag(dev, tag));
	CK(daxm_dev_set_size(dev, 3 * UNIT));
}

NOINLINE void cg_op_shrink(struct daxm_dev *dev)
{
	CK(daxm_dev_set_size(dev, UNIT));
}

NOINLINE void cg_op_getput(struct daxm_extent *x)
{
	CK_EQ(daxm_extent_get(x), 0);
	CK_EQ(daxm_extent_put(x), 0);
}

NOINLINE long cg_op_attr(struct daxm_ctx *ctx, const char *path, char *buf, size_t len)
{
	return daxm_attr_read(ctx, path, buf, len);
}

NOINLINE void cg_op_release(struct daxm_region *r, const struct daxm_extent_spec *x)
{
	CK(daxm_region_release_extents(r, x->offset, UNIT, x->tag, 0));
}

NOINLINE void cg_op_reoffer(struct daxm_region *r, const struct daxm_extent_spec *x, int n)
{
	CK(daxm_region_add_extents(r, x, (size_t)n, 0));
}

NOINLINE void cg_op_deferred(struct daxm_region *r, const struct daxm_extent_spec *x)
{
	CK(daxm_region_release_extents(r, x->offset, UNIT, x->tag, 0));
}

NOINLINE void cg_op_put_completes(struct daxm_extent *x)
{
	CK_EQ(daxm_extent_put(x), 0);
}

NOINLINE uint32_t cg_op_drain(struct daxm_ctx *ctx)
{
	struct daxm_event *ev = NULL;
	uint32_t type;

	CK(daxm_ctx_next_event(ctx, &ev));
	type = ev->type;
	daxm_event_free(ev);
	return type;
}

enum {
	G_FLOOR_TOUCH,
	G_FLOOR_SEARCH,
	G_GETPUT,
	G_TAGSIZE,
	G_SHRINK,
	G_ATTR,
	G_RELEASE,
	G_REOFFER,
	G_DEFERRED,
	G_PUT_COMPLETES,
	G_DRAIN,
	NG
};

static const char *const g_names[NG] = {
	"C floor: touch a random 96-byte object (lock, ++, --, unlock)",
	"C floor: binary search over E sorted keys",
	"daxm_extent_get + daxm_extent_put, random extent",
	"select tag + size 3 units",
	"shrink 3 -> 1 unit",
	"daxm_attr_read regionR/extentK/refcount, random K",
	"release an unreferenced tag group (10 extents)",
	"re-offer the group",
	"release while pinned (deferred)",
	"the put completing a deferred release",
	"drain an event",
};

/* ---- one E ------------------------------------------------------------------- */

static double g_lap(uint64_t *t)
{
	uint64_t n = now_ns();
	double d = (double)(n - *t) - clock_overhead_ns;

	*t = n;
	return d < 0 ? 0 : d;
}

/* Runs every operation @n times on E = @e extents; out[op] = median ns. */
static void scale_run(long e, long n, double out[NG])
{
	struct sp s;
	double *v[NG];
	int nv[NG] = { 0 };
	struct floor_obj **objs;
	uint64_t *keys, t;
	struct daxm_dev *dev;
	uint8_t tag[DAXM_TAG_SIZE];
	char path[64], buf[64];

	for (int g = 0; g < NG; g++) {
		v[g] = calloc((size_t)n * 2 + 1, sizeof(double));
		if (!v[g])
			die("out of memory");
	}

	/* the floors: E objects, each its own allocation, in random order */
	objs = malloc(sizeof(*objs) * (size_t)e);
	keys = malloc(sizeof(*keys) * (size_t)e);
	if (!objs || !keys)
		die("out of memory");
	for (long i = 0; i < e; i++) {
		objs[i] = calloc(1, sizeof(**objs));
		if (!objs[i])
			die("out of memory");
		objs[i]->lock = &floor_lock;
		objs[i]->key = (uint64_t)i * 2 * UNIT;
		keys[i] = objs[i]->key;
	}
	{
		uint64_t seed = opt.seed * 31 + (uint64_t)e;

		for (long i = e - 1; i > 0; i--) {
			long j = (long)rnd_below(&seed, (uint64_t)i + 1);
			struct floor_obj *o = objs[i];

			objs[i] = objs[j];
			objs[j] = o;
		}
	}

	/* the region */
	fprintf(stderr, "daxm-bench: scale E=%ld: offering in random order ...\n", e);
	sp_init(&s, e, 10, 1, opt.seed * 7919 + (uint64_t)e);
	if (sp_offer(&s, 1e9) < 0)
		die("offering %ld extents failed", e);
	sp_collect(&s);
	CK(daxm_region_create_dev(s.r, &dev));

	/* the cheap ones in batches of 100 calls (timer resolution) */
	for (long i = 0; i < n; i += 100) {
		struct floor_obj *o[100];
		struct daxm_extent *x[100];
		uint64_t key[100];
		long at = 0;

		for (int j = 0; j < 100; j++) {
			o[j] = objs[rnd_below(&s.seed, (uint64_t)e)];
			key[j] = (uint64_t)rnd_below(&s.seed, (uint64_t)e) * 2 * UNIT;
			x[j] = s.h[rnd_below(&s.seed, (uint64_t)e)];
		}
		t = now_ns();
		for (int j = 0; j < 100; j++)
			cg_op_floor_touch(o[j]);
		v[G_FLOOR_TOUCH][nv[G_FLOOR_TOUCH]++] = g_lap(&t) / 100;
		for (int j = 0; j < 100; j++)
			at += keys[cg_op_floor_search(keys, e, key[j])] == key[j];
		v[G_FLOOR_SEARCH][nv[G_FLOOR_SEARCH]++] = g_lap(&t) / 100;
		for (int j = 0; j < 100; j++)
			cg_op_getput(x[j]);
		v[G_GETPUT][nv[G_GETPUT]++] = g_lap(&t) / 100;
		if (at != 100)
			die("floor search missed");
	}
	for (long i = 0; i < n; i++) {
		bench_tag(tag, rnd_below(&s.seed, (uint64_t)(e / 10)));
		t = now_ns();
		cg_op_tagsize(dev, tag);
		v[G_TAGSIZE][nv[G_TAGSIZE]++] = g_lap(&t);
		cg_op_shrink(dev);
		v[G_SHRINK][nv[G_SHRINK]++] = g_lap(&t);
		CK(daxm_dev_set_size(dev, 0));
	}
	for (long i = 0; i < n; i++) {
		long rc;

		snprintf(path, sizeof(path), "region%d/extent%ld/refcount", s.rid,
			 (long)rnd_below(&s.seed, (uint64_t)e));
		t = now_ns();
		rc = cg_op_attr(s.ctx, path, buf, sizeof(buf));
		v[G_ATTR][nv[G_ATTR]++] = g_lap(&t);
		if (rc < 0)
			die_call(path, rc, __FILE__, __LINE__);
	}
	for (long i = 0; i < n; i++) {
		long k, p0;

		do
			k = (long)rnd_below(&s.seed, (uint64_t)(e / 10));
		while (k == s.last_pos / 10);
		p0 = k * 10;
		t = now_ns();
		cg_op_release(s.r, &s.spec[p0]);
		v[G_RELEASE][nv[G_RELEASE]++] = g_lap(&t);
		if (cg_op_drain(s.ctx) != DAXM_EVENT_RELEASED)
			die("a release queued another event");
		v[G_DRAIN][nv[G_DRAIN]++] = g_lap(&t);
		cg_op_reoffer(s.r, &s.spec[p0], 10);
		v[G_REOFFER][nv[G_REOFFER]++] = g_lap(&t);
		if (cg_op_drain(s.ctx) != DAXM_EVENT_GROUP)
			die("an offer queued another event");
		v[G_DRAIN][nv[G_DRAIN]++] = g_lap(&t);
		sp_readopt(&s, k);
	}
	for (long i = 0; i < n; i++) {
		long k, p0;
		struct daxm_extent *x;

		do
			k = (long)rnd_below(&s.seed, (uint64_t)(e / 10));
		while (k == s.last_pos / 10);
		p0 = k * 10;
		x = s.h[p0 + (long)rnd_below(&s.seed, 10)];
		if (daxm_extent_ref(x) != x)
			die("daxm_extent_ref failed");
		CK_EQ(daxm_extent_get(x), 0);
		t = now_ns();
		cg_op_deferred(s.r, &s.spec[p0]);
		v[G_DEFERRED][nv[G_DEFERRED]++] = g_lap(&t);
		bench_drain(s.ctx);
		t = now_ns();
		cg_op_put_completes(x);
		v[G_PUT_COMPLETES][nv[G_PUT_COMPLETES]++] = g_lap(&t);
		daxm_extent_unref(x);
		bench_drain(s.ctx);
		cg_op_reoffer(s.r, &s.spec[p0], 10);
		bench_drain(s.ctx);
		sp_readopt(&s, k);
	}

	for (int g = 0; g < NG; g++) {
		out[g] = median(v[g], nv[g]);
		free(v[g]);
	}
	CK(daxm_region_destroy_dev(s.r, dev));
	sp_free(&s);
	for (long i = 0; i < e; i++)
		free(objs[i]);
	free(objs);
	free(keys);
}

void table_scale(void)
{
	long n = opt.iterations > 0 ? opt.iterations : (opt.quick ? 200 : 1000);

	n = (n + 99) / 100 * 100; /* whole batches */
	long big = opt.iterations > 0 || opt.max_e > 1000 ? opt.max_e : 10000;
	double small[NG], large[NG];
	char a[32], b[32], c[32], ee[16];

	if (opt.iterations > 0) {
		/* under callgrind: one E per process; the counts are the output */
		scale_run(big, n, large);
		printf("## g. scale, E = %ld: %ld calls per operation (see callgrind)\n", big, n);
		return;
	}
	scale_run(1000, n, small);
	scale_run(big, n, large);
	printf("## g. Scale: ns per operation at E = 1k and E = %s extents (random order)\n\n",
	       fmt_count(ee, sizeof(ee), big));
	printf("Each operation called %ld times per E; median. The C floors run on E\n"
	       "96-byte objects visited in random order: their ratio is what the\n"
	       "memory hierarchy alone charges. Instructions per operation: "
	       "`scripts/bench.sh --scale`.\n\n", n);
	printf("| operation | E = 1k | E = %s | ratio |\n|---|---:|---:|---:|\n", ee);
	for (int g = 0; g < NG; g++)
		printf("| %s | %s | %s | %s |\n", g_names[g], fmt_ns(a, sizeof(a), small[g]),
		       fmt_ns(b, sizeof(b), large[g]),
		       fmt_ratio(c, sizeof(c), small[g] > 0 ? large[g] / small[g] : 0));
}
