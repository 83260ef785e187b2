/*
 * threads.c - table e: throughput of a mixed call loop with one thread,
 * two threads on one context and two threads on two contexts, next to
 * the same with plain C mutex objects.
 *
 * One iteration is four calls: pin and unpin the thread's own extent
 * (daxm_extent_get + daxm_extent_put), daxm_dev_get_size of its own device
 * and daxm_region_get_available_size of the shared region.
 */
#include "baseline.h"
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

struct lctx {
	struct daxm_ctx *ctx;
	struct daxm_region *dyn;
	struct daxm_dev *dev[2];
	struct daxm_extent *ext[2];
	uint64_t size[2], avail;
};

struct worker {
	pthread_t th;
	int lib;          /* 1: library, 0: C mutex */
	struct lctx *lc;  /* library: context */
	int slot;         /* which extent / device */
	struct mobj *m;   /* C */
	long iterations;
	char pad[64];
};

static atomic_int go, stop;
static atomic_int ready;

static void lctx_init(struct lctx *lc, uint64_t base)
{
	struct daxm_region *sp;
	struct daxm_extent_spec specs[2];
	struct daxm_dev *sd;

	memset(lc, 0, sizeof(*lc));
	lc->ctx = bench_ctx();
	lc->dyn = bench_dynamic_region(lc->ctx, base, 16);
	for (int i = 0; i < 2; i++) {
		CK(daxm_region_create_dev(lc->dyn, &lc->dev[i]));
		CK(daxm_dev_set_size(lc->dev[i], (uint64_t)(i + 1) * UNIT));
		CK_U64(lc->size[i], daxm_dev_get_size(lc->dev[i]));
	}
	CK_U64(lc->avail, daxm_region_get_available_size(lc->dyn));
	sp = bench_sparse_region(lc->ctx, base + 0x1000000000ull, 64 * UNIT, 1024);
	memset(specs, 0, sizeof(specs));
	for (int i = 0; i < 2; i++) {
		specs[i].offset = (uint64_t)i * 2 * UNIT;
		specs[i].length = 2 * UNIT;
		bench_tag(specs[i].tag, (uint64_t)i);
	}
	CK(daxm_region_add_extents(sp, specs, 2, 0));
	bench_take_event(lc->ctx, DAXM_EVENT_GROUP, 2);
	/* a device holds part of extent 0: realistic refcounts */
	CK(daxm_region_create_dev(sp, &sd));
	CK(daxm_dev_set_tag(sd, specs[0].tag));
	CK(daxm_dev_set_size(sd, UNIT));
	CK_PTR(lc->ext[0], daxm_extent_get_first(sp));
	CK_PTR(lc->ext[1], daxm_extent_get_next(lc->ext[0]));
}

static void *work(void *arg)
{
	struct worker *w = arg;
	long n = 0;

	atomic_fetch_add(&ready, 1);
	while (!atomic_load_explicit(&go, memory_order_acquire))
		;
	if (w->lib) {
		struct lctx *lc = w->lc;
		struct daxm_extent *x = lc->ext[w->slot];
		struct daxm_dev *d = lc->dev[w->slot];
		uint64_t size = lc->size[w->slot], avail = lc->avail;

		while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
			int rc = daxm_extent_get(x);

			if (rc)
				die_call("daxm_extent_get", rc, __FILE__, __LINE__);
			rc = daxm_extent_put(x);
			if (rc)
				die_call("daxm_extent_put", rc, __FILE__, __LINE__);
			if (daxm_dev_get_size(d) != size)
				die("daxm_dev_get_size: wrong value");
			if (daxm_region_get_available_size(lc->dyn) != avail)
				die("daxm_region_get_available_size: wrong value");
			n++;
		}
	} else {
		struct mobj *m = w->m;

		while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
			if (mobj_get(m) || mobj_put(m))
				die("mobj_get/put failed");
			if (mobj_get_size(m) != 3 * UNIT || mobj_get_avail(m) != 5 * UNIT)
				die("mobj getter: wrong value");
			n++;
		}
	}
	w->iterations = n;
	return NULL;
}

/* calls per second of @nw workers running together for the run time */
static double run(struct worker *ws, int nw)
{
	double seconds = opt.quick ? 0.1 : 1.0;
	uint64_t t0, t1;
	long total = 0;

	atomic_store(&go, 0);
	atomic_store(&stop, 0);
	atomic_store(&ready, 0);
	for (int i = 0; i < nw; i++)
		if (pthread_create(&ws[i].th, NULL, work, &ws[i]))
			die("pthread_create failed");
	while (atomic_load(&ready) < nw)
		;
	t0 = now_ns();
	atomic_store_explicit(&go, 1, memory_order_release);
	usleep((useconds_t)(seconds * 1e6));
	atomic_store(&stop, 1);
	t1 = now_ns();
	for (int i = 0; i < nw; i++) {
		pthread_join(ws[i].th, NULL);
		total += ws[i].iterations;
	}
	return (double)total * 4 / ((double)(t1 - t0) / 1e9);
}

static double median_run(struct worker *ws, int nw)
{
	double v[64];
	int runs = opt.runs > 64 ? 64 : opt.runs;

	for (int r = 0; r < runs; r++)
		v[r] = run(ws, nw);
	return median(v, runs);
}

void table_threads(void)
{
	struct lctx a, b;
	struct mobj *ma = aligned_alloc(64, 256), *mb = aligned_alloc(64, 256);
	struct worker w[2];
	double l1, l2s, l2d, c1, c2s, c2d;
	char x[32], y[32];

	lctx_init(&a, 0x100000000ull);
	lctx_init(&b, 0x100000000ull);
	mobj_init(ma);
	mobj_init(mb);

	memset(w, 0, sizeof(w));
	w[0] = (struct worker){ .lib = 1, .lc = &a, .slot = 0 };
	l1 = median_run(w, 1);
	w[1] = (struct worker){ .lib = 1, .lc = &a, .slot = 1 };
	l2s = median_run(w, 2);
	w[1] = (struct worker){ .lib = 1, .lc = &b, .slot = 1 };
	l2d = median_run(w, 2);

	w[0] = (struct worker){ .lib = 0, .m = ma };
	c1 = median_run(w, 1);
	w[1] = (struct worker){ .lib = 0, .m = ma };
	c2s = median_run(w, 2);
	w[1] = (struct worker){ .lib = 0, .m = mb };
	c2d = median_run(w, 2);

	printf("## e. Threads: throughput of a mixed call loop\n\n");
	printf("Each thread loops over daxm_extent_get + daxm_extent_put on its own "
	       "extent, daxm_dev_get_size on its own device and "
	       "daxm_region_get_available_size on a shared region (C: the same four "
	       "calls on a mutex object). Million calls per second over all threads, "
	       "%.1f s per run, median of %d runs; this machine has %ld CPUs (shared "
	       "with other work while it ran).\n\n",
	       opt.quick ? 0.1 : 1.0, opt.runs, sysconf(_SC_NPROCESSORS_ONLN));
	printf("| threads | library Mcalls/s | vs 1 thread | C mutex Mcalls/s | vs 1 thread | target (issue 9) |\n");
	printf("|---|---:|---:|---:|---:|---|\n");
	printf("| 1 thread, 1 context (C: 1 mutex) | %.2f | 1.00x | %.2f | 1.00x | |\n",
	       l1 / 1e6, c1 / 1e6);
	printf("| 2 threads, 1 context (C: one shared mutex) | %.2f | %s | %.2f | %s | >= 0.9x |\n",
	       l2s / 1e6, fmt_ratio(x, sizeof(x), l2s / l1), c2s / 1e6,
	       fmt_ratio(y, sizeof(y), c2s / c1));
	printf("| 2 threads, 2 contexts (C: two mutexes) | %.2f | %s | %.2f | %s | ~2x |\n",
	       l2d / 1e6, fmt_ratio(x, sizeof(x), l2d / l1), c2d / 1e6,
	       fmt_ratio(y, sizeof(y), c2d / c1));
	daxm_unref(a.ctx);
	daxm_unref(b.ctx);
	free(ma);
	free(mb);
}
