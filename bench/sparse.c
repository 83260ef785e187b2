/*
 * sparse.c - table c: sparse regions (CXL Dynamic Capacity) with E tagged
 * extents, E = 100 .. 1M: offering them in ascending and in random address
 * order, releasing them all, and the cost of each per-operation call at E,
 * with the ratio to the same at E = 1k.
 *
 * Each (E, order) row has a time budget (--budget): when offering the
 * extents takes longer, that row and the larger E of the same order are
 * not measured; each per-operation measurement stops after budget/8
 * seconds with the samples it has (at least one).
 */
#include "sparse.h"

#include <math.h>

/* ---- the region -------------------------------------------------------------- */

void sp_init(struct sp *s, long e, int per_tag, int random_order, uint64_t seed)
{
	long *perm = malloc(sizeof(*perm) * (size_t)e);

	memset(s, 0, sizeof(*s));
	s->e = e;
	s->per_tag = per_tag;
	s->seed = seed;
	s->spec = calloc((size_t)e, sizeof(*s->spec));
	s->h = calloc((size_t)e, sizeof(*s->h));
	if (!perm || !s->spec || !s->h)
		die("out of memory");
	for (long i = 0; i < e; i++)
		perm[i] = i;
	if (random_order)
		for (long i = e - 1; i > 0; i--) {
			long j = (long)rnd_below(&s->seed, (uint64_t)i + 1), t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
	for (long p = 0; p < e; p++) {
		s->spec[p].offset = (uint64_t)perm[p] * 2 * UNIT;
		s->spec[p].length = UNIT;
		bench_tag(s->spec[p].tag, (uint64_t)(p / per_tag));
		s->spec[p].sequence = (uint16_t)(p % per_tag);
	}
	free(perm);
	s->ctx = bench_ctx();
	s->r = bench_sparse_region(s->ctx, SPARSE_START, (uint64_t)e * 2 * UNIT,
				   (uint32_t)(e + 1024));
	CK(s->rid = daxm_region_get_id(s->r));
}

double sp_offer(struct sp *s, double budget)
{
	uint64_t t0 = now_ns();

	for (long p = 0; p < s->e; p += GROUP) {
		long n = s->e - p < GROUP ? s->e - p : GROUP;

		CK(daxm_region_add_extents(s->r, s->spec + p, (size_t)n, 0));
		bench_take_event(s->ctx, DAXM_EVENT_GROUP, n);
		if ((double)(now_ns() - t0) / 1e9 > budget)
			return -1;
	}
	return (double)(now_ns() - t0) / 1e9;
}

void sp_collect(struct sp *s)
{
	struct daxm_extent *x;
	long p = 0;

	CK_PTR(x, daxm_extent_get_first(s->r));
	for (;;) {
		uint64_t off;

		CK_U64(off, daxm_extent_get_offset(x));
		if (off != s->spec[p].offset)
			die("extent %ld in acceptance order is at %#llx, offered at %#llx",
			    p, (unsigned long long)off,
			    (unsigned long long)s->spec[p].offset);
		s->h[p++] = x;
		if (p == s->e)
			break;
		CK_PTR(x, daxm_extent_get_next(x));
	}
	if (daxm_extent_get_next(x) != NULL)
		die("more extents than offered");
	s->last = x;
	s->last_pos = s->e - 1;
}

double sp_release_all(struct sp *s, double budget, long *done)
{
	uint64_t t0 = now_ns();

	*done = 0;
	for (long p = 0; p < s->e; p += s->per_tag) {
		CK(daxm_region_release_extents(s->r, s->spec[p].offset, UNIT,
					       s->spec[p].tag, 0));
		bench_drain(s->ctx);
		*done = p + s->per_tag;
		if ((p & 1023) == 0 && (double)(now_ns() - t0) / 1e9 > budget)
			return -1;
	}
	return (double)(now_ns() - t0) / 1e9;
}

void sp_free(struct sp *s)
{
	daxm_unref(s->ctx);
	free(s->spec);
	free(s->h);
	memset(s, 0, sizeof(*s));
}

/* After tag @k's extents were offered again: their new handles follow the
 * last accepted extent. */
void sp_readopt(struct sp *s, long k)
{
	long p0 = k * s->per_tag;
	struct daxm_extent *x = s->last;

	for (long j = 0; j < s->per_tag; j++) {
		uint64_t off;

		CK_PTR(x, daxm_extent_get_next(x));
		CK_U64(off, daxm_extent_get_offset(x));
		if (off != s->spec[p0 + j].offset)
			die("re-offered extent at %#llx, expected %#llx",
			    (unsigned long long)off,
			    (unsigned long long)s->spec[p0 + j].offset);
		s->h[p0 + j] = x;
	}
	s->last = x;
	s->last_pos = p0 + s->per_tag - 1;
}

/* a random tag other than the one of the last accepted extent */
static long sp_random_tag(struct sp *s)
{
	long ntags = s->e / s->per_tag, k;

	do
		k = (long)rnd_below(&s->seed, (uint64_t)ntags);
	while (k == s->last_pos / s->per_tag);
	return k;
}

/* ---- the per-operation measurements --------------------------------------- */

enum {
	OP_TAGSIZE,
	OP_SHRINK,
	OP_GETPUT,
	OP_RELEASE,
	OP_REOFFER,
	OP_DEFERRED,
	OP_PUT_COMPLETES,
	OP_DRAIN,
	OP_ATTR,
	NOPS
};

static const char *const op_names[NOPS] = {
	"select tag + size 3 units (daxm_dev_set_tag + daxm_dev_set_size)",
	"shrink 3 -> 1 unit (daxm_dev_set_size)",
	"daxm_extent_get + daxm_extent_put, random extent",
	"release, unreferenced (one tag: 10 extents)",
	"re-offer a group (one tag: 10 extents)",
	"release while pinned (deferred; 9 of 10 go at once)",
	"daxm_extent_put completing a deferred release",
	"drain an event (daxm_ctx_next_event + daxm_event_free)",
	"daxm_attr_read regionR/extentK/refcount, random K",
};


/* Offers tag group @k again (timed as OP_REOFFER), takes its answer
 * (timed as OP_DRAIN) and re-adopts its new extent handles. */
static void reoffer(struct sp *s, long k, struct samples *smp)
{
	long p0 = k * s->per_tag;
	uint64_t t = now_ns();

	CK(daxm_region_add_extents(s->r, s->spec + p0, (size_t)s->per_tag, 0));
	samples_add(&smp[OP_REOFFER], lap(&t));
	samples_add(&smp[OP_DRAIN], bench_take_event(s->ctx, DAXM_EVENT_GROUP, s->per_tag));
	sp_readopt(s, k);
}

static void measure_ops(struct sp *s, double *out, int *nsamples)
{
	struct samples smp[NOPS];
	int n_many = opt.quick ? 200 : 2000, n_few = opt.quick ? 50 : 500;
	double cap = opt.budget / 8;
	long ntags = s->e / s->per_tag;
	struct daxm_dev *dev;
	uint64_t start, t;
	uint8_t tag[DAXM_TAG_SIZE];
	char path[64], buf[64];

	memset(smp, 0, sizeof(smp));
	CK(daxm_region_create_dev(s->r, &dev));

	/* select tag + size, shrink */
	start = now_ns();
	for (int i = 0; i < n_many; i++) {
		bench_tag(tag, rnd_below(&s->seed, (uint64_t)ntags));
		t = now_ns();
		CK(daxm_dev_set_tag(dev, tag));
		CK(daxm_dev_set_size(dev, 3 * UNIT));
		samples_add(&smp[OP_TAGSIZE], lap(&t));
		CK(daxm_dev_set_size(dev, UNIT));
		samples_add(&smp[OP_SHRINK], lap(&t));
		CK(daxm_dev_set_size(dev, 0));
		if ((double)(now_ns() - start) / 1e9 > cap)
			break;
	}

	/* get + put on a random extent, in batches of 100 pairs */
	start = now_ns();
	for (int i = 0; i < n_many / 10; i++) {
		struct daxm_extent *x[100];

		for (int j = 0; j < 100; j++)
			x[j] = s->h[rnd_below(&s->seed, (uint64_t)s->e)];
		t = now_ns();
		for (int j = 0; j < 100; j++) {
			CK_EQ(daxm_extent_get(x[j]), 0);
			CK_EQ(daxm_extent_put(x[j]), 0);
		}
		samples_add(&smp[OP_GETPUT], lap(&t) / 100);
		if ((double)(now_ns() - start) / 1e9 > cap)
			break;
	}

	/* read regionR/extentK/refcount for a random K */
	start = now_ns();
	for (int i = 0; i < n_many; i++) {
		long rc;

		snprintf(path, sizeof(path), "region%d/extent%ld/refcount", s->rid,
			 (long)rnd_below(&s->seed, (uint64_t)s->e));
		t = now_ns();
		rc = daxm_attr_read(s->ctx, path, buf, sizeof(buf));
		samples_add(&smp[OP_ATTR], lap(&t));
		if (rc < 0)
			die_call(path, rc, __FILE__, __LINE__);
		if (strcmp(buf, "0\n"))
			die("%s reads '%s', expected 0", path, buf);
		if ((double)(now_ns() - start) / 1e9 > cap)
			break;
	}

	/* release an unreferenced tag group, offer it again */
	start = now_ns();
	for (int i = 0; i < n_few; i++) {
		long k = sp_random_tag(s), p0 = k * s->per_tag;

		t = now_ns();
		CK(daxm_region_release_extents(s->r, s->spec[p0].offset, UNIT,
					       s->spec[p0].tag, 0));
		samples_add(&smp[OP_RELEASE], lap(&t));
		/* one DAXM_EVENT_RELEASED listing the whole group */
		CK_EQ(daxm_ctx_get_nr_events(s->ctx), 1);
		samples_add(&smp[OP_DRAIN], bench_take_event(s->ctx, DAXM_EVENT_RELEASED, s->per_tag));
		reoffer(s, k, smp);
		if ((double)(now_ns() - start) / 1e9 > cap)
			break;
	}

	/* release a tag group while one extent is pinned; the put completes it */
	start = now_ns();
	for (int i = 0; i < n_few; i++) {
		long k = sp_random_tag(s), p0 = k * s->per_tag;
		struct daxm_extent *x = s->h[p0 + (long)rnd_below(&s->seed, (uint64_t)s->per_tag)];
		int nev;

		/* a handle reference: x stays valid after its release */
		if (daxm_extent_ref(x) != x)
			die("daxm_extent_ref failed");
		CK_EQ(daxm_extent_get(x), 0);
		t = now_ns();
		CK(daxm_region_release_extents(s->r, s->spec[p0].offset, UNIT,
					       s->spec[p0].tag, 0));
		samples_add(&smp[OP_DEFERRED], lap(&t));
		CK_EQ(daxm_extent_get_state(x), DAXM_EXTENT_RELEASING);
		nev = daxm_ctx_get_nr_events(s->ctx);
		if (nev < 1)
			die("a deferred release queued %d events", nev);
		while (nev-- > 0) {
			struct daxm_event *ev = NULL;
			uint32_t type;

			t = now_ns();
			CK(daxm_ctx_next_event(s->ctx, &ev));
			type = ev->type;
			daxm_event_free(ev);
			samples_add(&smp[OP_DRAIN], lap(&t));
			if (type != DAXM_EVENT_RELEASED && type != DAXM_EVENT_RELEASE_DEFERRED)
				die("a deferred release queued an event of type %u", type);
		}
		t = now_ns();
		CK_EQ(daxm_extent_put(x), 0);
		samples_add(&smp[OP_PUT_COMPLETES], lap(&t));
		{
			/* The header: a released extent stays readable, in
			 * state DAXM_EXTENT_RELEASED, until the context goes. */
			int st = daxm_extent_get_state(x);

			if (st != DAXM_EXTENT_RELEASED)
				die_call("daxm_extent_get_state after the completing put",
					 st, __FILE__, __LINE__);
		}
		daxm_extent_unref(x);
		samples_add(&smp[OP_DRAIN], bench_take_event(s->ctx, DAXM_EVENT_RELEASED, 1));
		reoffer(s, k, smp);
		if ((double)(now_ns() - start) / 1e9 > cap)
			break;
	}

	for (int o = 0; o < NOPS; o++) {
		nsamples[o] = smp[o].n;
		out[o] = median(smp[o].v, smp[o].n);
		free(smp[o].v);
	}
	CK(daxm_dev_set_tag(dev, NULL));
	CK(daxm_region_destroy_dev(s->r, dev));
}

/* ---- the table --------------------------------------------------------------- */

enum { ST_OK, ST_OVER, ST_SKIPPED, ST_NONE };

struct erow {
	int st;                 /* of the offer */
	double offer_s;         /* seconds to offer all */
	double release_s;       /* seconds to release all, -1 over budget */
	long released;          /* extents released when over budget */
	double free_s;          /* daxm_unref of the context */
	double ops[NOPS];
	int n[NOPS];           /* samples, over all repetitions */
	int reps;              /* repetitions of the operation set */
};

static void cell(double ns, double ref, int have_ref)
{
	char a[32], b[32];

	if (have_ref && ref > 0)
		printf(" | %s (%s)", fmt_ns(a, sizeof(a), ns), fmt_ratio(b, sizeof(b), ns / ref));
	else
		printf(" | %s", fmt_ns(a, sizeof(a), ns));
}

static void run_row(long e, int random_order, struct erow *row)
{
	struct sp s;
	uint64_t t;

	memset(row, 0, sizeof(*row));
	/* offer into fresh regions up to --runs times while the offers took
	 * less than an eighth of the budget in all; keep the fastest, and the
	 * last region for the operations */
	{
		double spent = 0;

		for (int rep = 0;; rep++) {
			double o;

			sp_init(&s, e, 10, random_order, opt.seed * 7919 + (uint64_t)e);
			o = sp_offer(&s, opt.budget);
			if (o < 0) {
				row->offer_s = -1;
				break;
			}
			row->offer_s = rep == 0 || o < row->offer_s ? o : row->offer_s;
			spent += o;
			if (rep + 1 >= opt.runs || spent + o > opt.budget / 8)
				break;
			sp_free(&s);
		}
	}
	if (row->offer_s < 0) {
		row->st = ST_OVER;
		fprintf(stderr, "daxm-bench: sparse E=%ld %s: offering went over the budget; "
			"freeing the context\n", e, random_order ? "random" : "ascending");
		t = now_ns();
		sp_free(&s);
		row->free_s = (double)(now_ns() - t) / 1e9;
		return;
	}
	sp_collect(&s);
	/* repeat the whole set (up to --runs times, while it takes less than a
	 * quarter of the budget), so noise from other work on the machine
	 * hits one repetition, not the row: per operation, the lowest of the
	 * repetitions' medians */
	{
		double reps[64][NOPS], v[64];
		int n[NOPS], nrep = 0;
		uint64_t t0 = now_ns();

		memset(row->n, 0, sizeof(row->n));
		do {
			measure_ops(&s, reps[nrep], n);
			for (int op = 0; op < NOPS; op++)
				row->n[op] += n[op];
			nrep++;
		} while (nrep < opt.runs && nrep < 64 &&
			 (double)(now_ns() - t0) / 1e9 < opt.budget / 4);
		for (int op = 0; op < NOPS; op++) {
			for (int r = 0; r < nrep; r++)
				v[r] = reps[r][op];
			median(v, nrep); /* sorts */
			row->ops[op] = v[0];
		}
		row->reps = nrep;
	}
	row->release_s = sp_release_all(&s, opt.budget, &row->released);
	t = now_ns();
	sp_free(&s);
	row->free_s = (double)(now_ns() - t) / 1e9;
}

void table_sparse(void)
{
	static const long es[] = { 100, 1000, 10000, 100000, 1000000 };
	enum { NE = 5 };
	struct erow rows[2][NE];
	int ne = 0, ref = 1; /* E = 1k */
	char a[32], b[32], ee[16];

	for (int i = 0; i < NE && es[i] <= opt.max_e; i++)
		ne++;
	for (int o = 0; o < 2; o++)
		for (int i = 0; i < ne; i++) {
			if (i > 0 && rows[o][i - 1].st != ST_OK) {
				memset(&rows[o][i], 0, sizeof(rows[o][i]));
				rows[o][i].st = ST_SKIPPED;
				continue;
			}
			fprintf(stderr, "daxm-bench: sparse E=%ld %s ...\n", es[i],
				o ? "random" : "ascending");
			run_row(es[i], o, &rows[o][i]);
		}

	printf("## c. Sparse region: E extents of 2 MiB, 10 per tag\n\n");
	printf("Extents are offered in groups of %d (one call to daxm_region_add_extents "
	       "each, the group's event taken), at every other 2 MiB of a region of E x "
	       "4 MiB, in ascending address order or in a random one. Release all: one "
	       "daxm_region_release_extents per tag (10 extents), its events taken. "
	       "Cells: ns per extent (ratio to E = 1k); total seconds. Offers are "
	       "repeated into fresh regions (up to --runs times, while they take "
	       "under an eighth of the budget) and the fastest is shown; release "
	       "all runs once. daxm_unref: freeing the context afterwards.\n\n", GROUP);
	printf("| E | offer, ascending | total s | offer, random | total s | release all, ascending | total s | release all, random | total s | daxm_unref, asc / random (s) |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < ne; i++) {
		printf("| %s", fmt_count(ee, sizeof(ee), es[i]));
		for (int o = 0; o < 2; o++) {
			struct erow *w = &rows[o][i];

			if (w->st == ST_OK)
				cell(w->offer_s * 1e9 / (double)es[i],
				     rows[o][ref].offer_s * 1e9 / (double)es[ref],
				     ne > ref && rows[o][ref].st == ST_OK),
				printf(" | %.3g", w->offer_s);
			else
				printf(" | %s | ", w->st == ST_OVER ? "> budget" : "skipped");
		}
		for (int o = 0; o < 2; o++) {
			struct erow *w = &rows[o][i];

			if (w->st == ST_OK && w->release_s >= 0)
				cell(w->release_s * 1e9 / (double)es[i],
				     rows[o][ref].release_s * 1e9 / (double)es[ref],
				     ne > ref && rows[o][ref].st == ST_OK &&
					     rows[o][ref].release_s > 0),
				printf(" | %.3g", w->release_s);
			else if (w->st == ST_OK)
				printf(" | > budget (%ld released) | ", w->released);
			else
				printf(" | %s | ", w->st == ST_OVER ? "not run" : "skipped");
		}
		if (rows[0][i].st != ST_SKIPPED || rows[1][i].st != ST_SKIPPED)
			printf(" | %.3g / %.3g |\n", rows[0][i].free_s, rows[1][i].free_s);
		else
			printf(" | |\n");
	}

	for (int o = 0; o < 2; o++) {
		printf("\nPer operation at E extents offered in %s order: ns (ratio to E = "
		       "1k): each repetition of the whole set of operations takes the "
		       "median of its samples; the lowest of those is shown (other work "
		       "on the machine slows some repetitions, never speeds one up). "
		       "One device selects a random tag; extents, tags and K are "
		       "random; released groups are offered again, so E stays. The "
		       "get + put row times batches of 100 pairs.\n\n",
		       o ? "random" : "ascending");
		printf("| operation");
		for (int i = 0; i < ne; i++)
			printf(" | E = %s", fmt_count(ee, sizeof(ee), es[i]));
		printf(" |\n|---");
		for (int i = 0; i < ne; i++)
			printf("|---:");
		printf("|\n");
		for (int op = 0; op < NOPS; op++) {
			printf("| %s", op_names[op]);
			for (int i = 0; i < ne; i++) {
				struct erow *w = &rows[o][i];

				if (w->st == ST_OK)
					cell(w->ops[op], rows[o][ref].ops[op],
					     ne > ref && rows[o][ref].st == ST_OK);
				else
					printf(" | %s", w->st == ST_OVER ? "> budget" : "skipped");
			}
			printf(" |\n");
		}
		printf("| (repetitions)");
		for (int i = 0; i < ne; i++)
			if (rows[o][i].st == ST_OK)
				printf(" | %d", rows[o][i].reps);
			else
				printf(" | ");
		printf(" |\n");
		printf("| (samples per operation, all repetitions)");
		for (int i = 0; i < ne; i++) {
			struct erow *w = &rows[o][i];
			int lo = 1 << 30, hi = 0;

			for (int op = 0; op < NOPS; op++) {
				if (w->n[op] < lo)
					lo = w->n[op];
				if (w->n[op] > hi)
					hi = w->n[op];
			}
			if (w->st == ST_OK)
				printf(" | %d..%d", lo, hi);
			else
				printf(" | ");
		}
		printf(" |\n");
	}
	printf("\nTargets (issue 9): at 1M extents every operation within 2x of the same "
	       "at 1k; offering 1M extents and releasing all of them each in seconds.\n");
	(void)a;
	(void)b;
}
