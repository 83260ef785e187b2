/*
 * fabric.c - table h: a CXL Dynamic Capacity fabric with H hosts of E
 * extents each, built through daxm_fmapi_initiate_dc_add() and deliveries,
 * and the cost of each fabric-manager and host operation at that size,
 * with the ratio to the same at the smallest size (8 hosts x 100).
 *
 * Layout: one Sharable DC region of 2 MiB blocks; each host's extents are
 * 2 MiB, 10 per tag, offered one tag (10 extents) per Initiate Add
 * (Prescriptive); the hosts' tags interleave in the device's address space
 * (tag j of host h at blocks (j * H + h) * 10 ...), so every host's DPA
 * space has E / 10 holes and the device's free space is the spare area
 * above them. Each measured operation leaves the fabric as it found it (an
 * add is answered and released again), so H and E stay.
 */
#include "bench.h"

#define PER_TAG 10
#define SPARE 8192 /* free blocks above the hosts' capacity */
#define PAGE 64    /* entries per Get DC Region Extent Lists / List Tags page */
#define BLOCK UNIT /* 2 MiB */
#define BASE 0x10000000000ull /* region 0's base: 1 TiB */
#define PRESC DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE

struct fb {
	struct daxm_fabric *f;
	int hosts;
	long per_host;        /* E */
	long tags_per_host;   /* E / 10 */
	struct daxm_ctx **ctx;
	struct daxm_region **r0;
	struct daxm_dev **dev;
	uint64_t spare0;      /* first spare block */
	uint64_t seed;
	uint64_t fresh;       /* tags of the measured adds */
	long records;         /* manager records taken while building */
};

/* Host h's tag j (j < E / 10); fresh tags come after every host's. */
static void fb_tag(uint8_t tag[DAXM_TAG_SIZE], uint64_t h, uint64_t j)
{
	bench_tag(tag, (h << 32) | j);
}

static uint64_t blk(uint64_t b)
{
	return BASE + b * BLOCK;
}

static int add_list(struct daxm_fabric *f, uint16_t host, const struct daxm_fmapi_extent *ext, uint32_t n)
{
	size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_add_req, extents, n);
	struct daxm_fmapi_initiate_dc_add_req *q = calloc(1, sz);
	int rc;

	if (!q)
		die("out of memory");
	q->host_id = host;
	q->selection_policy = PRESC;
	q->ext_count = n;
	memcpy(q->extents, ext, n * sizeof(*ext));
	rc = daxm_fmapi_initiate_dc_add(f, q, sz);
	free(q);
	return rc;
}

static int add_head(struct daxm_fabric *f, uint16_t host, uint8_t policy, uint64_t len, const uint8_t *tag)
{
	struct daxm_fmapi_initiate_dc_add_req q;

	memset(&q, 0, sizeof(q));
	q.host_id = host;
	q.selection_policy = policy;
	q.length = len;
	if (tag)
		memcpy(q.tag, tag, DAXM_TAG_SIZE);
	return daxm_fmapi_initiate_dc_add(f, &q, sizeof(q));
}

static int release_tag(struct daxm_fabric *f, uint16_t host, const uint8_t *tag)
{
	struct daxm_fmapi_initiate_dc_release_req q;

	memset(&q, 0, sizeof(q));
	q.host_id = host;
	q.flags = DAXM_FMAPI_REMOVAL_POLICY_TAG_BASED;
	memcpy(q.tag, tag, DAXM_TAG_SIZE);
	return daxm_fmapi_initiate_dc_release(f, &q, sizeof(q));
}

static int release_one(struct daxm_fabric *f, uint16_t host, uint64_t dpa, uint64_t len)
{
	size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_release_req, extents, 1);
	struct daxm_fmapi_initiate_dc_release_req *q = calloc(1, sz);
	int rc;

	if (!q)
		die("out of memory");
	q->host_id = host;
	q->flags = DAXM_FMAPI_REMOVAL_POLICY_PRESCRIPTIVE;
	q->ext_count = 1;
	q->extents[0].start_dpa = dpa;
	q->extents[0].len = len;
	rc = daxm_fmapi_initiate_dc_release(f, q, sz);
	free(q);
	return rc;
}

/* A fabric call that must succeed: 0 (a CXL code or errno stops the run). */
#define FM_OK(call)                                                              \
	do {                                                                     \
		int fm_rc_ = (call);                                             \
		if (fm_rc_ != 0)                                                 \
			die("%s:%d: %s: %d (%s); daxm_last_error: \"%s\"", __FILE__, \
			    __LINE__, #call, fm_rc_,                             \
			    fm_rc_ > 0 ? daxm_retcode_tostr(fm_rc_) : strerror(-fm_rc_), \
			    daxm_last_error());                                  \
	} while (0)

/* Takes every manager record; the last one into *last (if non-NULL). */
static long drain_fm(struct daxm_fabric *f, struct daxm_fabric_event *last)
{
	struct daxm_fabric_event ev;
	long n = 0;
	int rc;

	while ((rc = daxm_fabric_next_event(f, &ev)) == 0) {
		if (ev.event_type == DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE && ev.extent.len == 0)
			die("a host accepted nothing (manager record of length 0)");
		if (last)
			*last = ev;
		n++;
	}
	if (rc != -EAGAIN)
		die_call("daxm_fabric_next_event", rc, __FILE__, __LINE__);
	return n;
}

/* ---- building ------------------------------------------------------------------ */

static double fb_build(struct fb *s, int hosts, long per_host, uint64_t seed)
{
	struct daxm_fabric_spec spec;
	uint64_t blocks = (uint64_t)hosts * (uint64_t)per_host + SPARE;
	uint64_t unit = 256 * MiB, len = (blocks * BLOCK + unit - 1) / unit * unit;
	struct daxm_fmapi_extent ext[PER_TAG];
	uint64_t t0;
	int batch = 16; /* offers per host between runs (the log holds 256 records) */

	memset(s, 0, sizeof(*s));
	s->hosts = hosts;
	s->per_host = per_host;
	s->tags_per_host = per_host / PER_TAG;
	s->seed = seed;
	s->spare0 = (uint64_t)hosts * (uint64_t)per_host;
	daxm_fabric_spec_init(&spec);
	spec.num_hosts = (uint32_t)hosts;
	spec.num_regions = 1;
	spec.regions[0].base = BASE;
	spec.regions[0].decode_len = len;
	spec.regions[0].flags = DAXM_FABRIC_REGION_SHARABLE;
	spec.max_extents_per_host = (uint32_t)per_host + 1024;
	spec.max_tags_per_host = (uint32_t)s->tags_per_host + 64;
	spec.event_log_depth = 256;
	CK(daxm_fabric_new(&spec, &s->f));
	s->ctx = calloc((size_t)hosts, sizeof(*s->ctx));
	s->r0 = calloc((size_t)hosts, sizeof(*s->r0));
	s->dev = calloc((size_t)hosts, sizeof(*s->dev));
	if (!s->ctx || !s->r0 || !s->dev)
		die("out of memory");
	for (int h = 0; h < hosts; h++) {
		CK(daxm_fabric_get_host(s->f, (unsigned)h, &s->ctx[h]));
		CK_PTR(s->r0[h], daxm_region_get_first(s->ctx[h]));
		CK_PTR(s->dev[h], daxm_dev_get_first(s->r0[h])); /* daxR.0, size 0 */
	}

	t0 = now_ns();
	memset(ext, 0, sizeof(ext));
	for (long j = 0; j < s->tags_per_host; j++) {
		for (int h = 0; h < hosts; h++) {
			uint64_t b0 = ((uint64_t)j * (uint64_t)hosts + (uint64_t)h) * PER_TAG;
			uint8_t tag[DAXM_TAG_SIZE];

			fb_tag(tag, (uint64_t)h, (uint64_t)j);
			for (int k = 0; k < PER_TAG; k++) {
				ext[k].start_dpa = blk(b0 + (uint64_t)k);
				ext[k].len = BLOCK;
				memcpy(ext[k].tag, tag, DAXM_TAG_SIZE);
			}
			FM_OK(add_list(s->f, (uint16_t)h, ext, PER_TAG));
		}
		if ((j + 1) % batch == 0 || j + 1 == s->tags_per_host) {
			CK(daxm_fabric_run(s->f));
			s->records += drain_fm(s->f, NULL);
		}
	}
	if (s->records != (long)hosts * per_host)
		die("fabric build: %ld manager records for %ld extents", s->records, (long)hosts * per_host);
	t0 = now_ns() - t0;
	for (int h = 0; h < hosts; h++) /* one DAXM_EVENT_GROUP per offer */
		bench_drain(s->ctx[h]);
	return (double)t0 / 1e9;
}

static void fb_free(struct fb *s)
{
	for (int h = 0; h < s->hosts; h++)
		daxm_unref(s->ctx[h]);
	daxm_fabric_unref(s->f);
	free(s->ctx);
	free(s->r0);
	free(s->dev);
	memset(s, 0, sizeof(*s));
}

/* ---- the per-operation measurements --------------------------------------- */

enum {
	OP_ADD_PRESC,
	OP_ADD_FREE,
	OP_DELIVER,
	OP_LIST,
	OP_TAGS,
	OP_RELEASE,
	OP_REF,
	OP_ESA,
	OP_DRAIN,
	OP_TAGSIZE,
	NOPS
};

static const char *const op_names[NOPS] = {
	"Initiate Add, Prescriptive (1 extent, new tag)",
	"Initiate Add, Free (1 block, untagged)",
	"delivery + host answer (daxm_fabric_deliver: 1 offer accepted)",
	"Get DC Region Extent Lists, one page of 64 from a random start",
	"List Tags, one page of 64 from a random start",
	"Initiate Release, Tag-based (10 extents) + delivery",
	"Add Reference + Remove Reference",
	"Enable Shared Access of a tag (10 extents) to another host",
	"manager event drain (daxm_fabric_next_event, per record)",
	"host: select tag + size (daxm_dev_set_tag + daxm_dev_set_size)",
};


int cg_fab_drain(struct daxm_fabric *f, struct daxm_fabric_event *ev);

/* Drains the manager's queue, timing each record. */
static long drain_timed(struct daxm_fabric *f, struct samples *smp, struct daxm_fabric_event *last)
{
	long n = 0;

	for (;;) {
		struct daxm_fabric_event ev;
		uint64_t t = now_ns();
		int rc = cg_fab_drain(f, &ev);

		if (rc == -EAGAIN)
			break;
		samples_add(&smp[OP_DRAIN], lap(&t));
		if (rc)
			die_call("daxm_fabric_next_event", rc, __FILE__, __LINE__);
		if (ev.event_type == DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE && ev.extent.len == 0)
			die("a host accepted nothing (manager record of length 0)");
		if (last)
			*last = ev;
		n++;
	}
	return n;
}

static int random_host(struct fb *s, int not)
{
	int h;

	do
		h = (int)rnd_below(&s->seed, (uint64_t)s->hosts);
	while (h == not && s->hosts > 1);
	return h;
}

/* ---- the timed operations, one call each --------------------------------------
 * Each timed operation is one cg_fab_* function, so `scripts/bench.sh
 * --scale` can count its instructions under callgrind (collection on only
 * inside them); calls[] counts the calls of each. */

#define NOINLINE __attribute__((noinline))

static long calls[16];

NOINLINE void cg_fab_add_presc(struct daxm_fabric *f, uint16_t h, const struct daxm_fmapi_extent *e)
{
	calls[0]++;
	FM_OK(add_list(f, h, e, 1));
}

NOINLINE void cg_fab_add_free(struct daxm_fabric *f, uint16_t h)
{
	calls[1]++;
	FM_OK(add_head(f, h, DAXM_FMAPI_SELECTION_POLICY_FREE, BLOCK, NULL));
}

NOINLINE void cg_fab_deliver(struct daxm_fabric *f, unsigned h)
{
	calls[2]++;
	CK_EQ(daxm_fabric_deliver(f, h), 1);
}

NOINLINE void cg_fab_list(struct daxm_fabric *f, const struct daxm_fmapi_get_dc_region_ext_list_req *q,
			  struct daxm_fmapi_get_dc_region_ext_list_rsp *r, size_t sz)
{
	calls[3]++;
	FM_OK(daxm_fmapi_get_dc_region_ext_list(f, q, r, sz));
}

NOINLINE void cg_fab_tags(struct daxm_fabric *f, const struct daxm_fmapi_dc_list_tags_req *q,
			  struct daxm_fmapi_dc_list_tags_rsp *r, size_t sz)
{
	calls[4]++;
	FM_OK(daxm_fmapi_dc_list_tags(f, q, r, sz));
}

NOINLINE void cg_fab_release(struct daxm_fabric *f, uint16_t h, const uint8_t *tag)
{
	calls[5]++;
	FM_OK(release_tag(f, h, tag));
	CK_EQ(daxm_fabric_deliver(f, h), 1);
}

NOINLINE void cg_fab_refs(struct daxm_fabric *f, const struct daxm_fmapi_dc_add_ref_req *a,
			  const struct daxm_fmapi_dc_remove_ref_req *r)
{
	calls[6]++;
	FM_OK(daxm_fmapi_dc_add_reference(f, a));
	FM_OK(daxm_fmapi_dc_remove_reference(f, r));
}

NOINLINE void cg_fab_esa(struct daxm_fabric *f, const struct daxm_fmapi_initiate_dc_add_req *q)
{
	calls[7]++;
	FM_OK(daxm_fmapi_initiate_dc_add(f, q, sizeof(*q)));
}

NOINLINE int cg_fab_drain(struct daxm_fabric *f, struct daxm_fabric_event *ev)
{
	int rc = daxm_fabric_next_event(f, ev);

	calls[8] += rc == 0;
	return rc;
}

NOINLINE void cg_fab_tagsize(struct daxm_dev *dev, const uint8_t *tag)
{
	calls[9]++;
	CK(daxm_dev_set_tag(dev, tag));
	CK(daxm_dev_set_size(dev, BLOCK));
}

static const char *const cg_names[10] = {
	"add_presc", "add_free", "deliver", "list", "tags", "release", "refs", "esa", "drain", "tagsize",
};

static void measure_ops(struct fb *s, double *out, int *nsamples)
{
	struct samples smp[NOPS];
	int n_many = opt.quick ? 200 : 1000, n_few = opt.quick ? 100 : 400;
	double cap = opt.iterations ? 1e30 : opt.budget / 8;

	if (opt.iterations)
		n_many = n_few = (int)opt.iterations;
	uint64_t start, t;
	uint8_t tag[DAXM_TAG_SIZE];
	struct daxm_fabric_event ev;

	memset(smp, 0, sizeof(smp));

	/* A job's capacity: offered (Prescriptive, on a spare block), delivered,
	 * a device on its tag, given back (Tag-based) and delivered. */
	start = now_ns();
	for (int i = 0; i < n_many; i++) {
		int h = random_host(s, -1);
		struct daxm_fmapi_extent e;

		memset(&e, 0, sizeof(e));
		e.start_dpa = blk(s->spare0 + rnd_below(&s->seed, SPARE));
		e.len = BLOCK;
		bench_tag(e.tag, (1ull << 62) + s->fresh++);
		memcpy(tag, e.tag, DAXM_TAG_SIZE);
		t = now_ns();
		cg_fab_add_presc(s->f, (uint16_t)h, &e);
		samples_add(&smp[OP_ADD_PRESC], lap(&t));
		cg_fab_deliver(s->f, (unsigned)h);
		samples_add(&smp[OP_DELIVER], lap(&t));
		CK_EQ(drain_timed(s->f, smp, NULL), 1);
		t = now_ns();
		cg_fab_tagsize(s->dev[h], tag);
		samples_add(&smp[OP_TAGSIZE], lap(&t));
		CK(daxm_dev_set_size(s->dev[h], 0));
		CK(daxm_dev_set_tag(s->dev[h], NULL));
		FM_OK(release_tag(s->f, (uint16_t)h, tag));
		CK_EQ(daxm_fabric_deliver(s->f, (unsigned)h), 1);
		CK_EQ(drain_timed(s->f, smp, NULL), 1);
		bench_drain(s->ctx[h]);
		if ((double)(now_ns() - start) / 1e9 > cap)
			break;
	}

	/* Free: the device picks the lowest free block; given back by list. */
	start = now_ns();
	for (int i = 0; i < n_many; i++) {
		int h = random_host(s, -1);

		t = now_ns();
		cg_fab_add_free(s->f, (uint16_t)h);
		samples_add(&smp[OP_ADD_FREE], lap(&t));
		CK_EQ(daxm_fabric_deliver(s->f, (unsigned)h), 1);
		CK_EQ(drain_fm(s->f, &ev), 1);
		FM_OK(release_one(s->f, (uint16_t)h, ev.extent.start_dpa, ev.extent.len));
		CK_EQ(daxm_fabric_deliver(s->f, (unsigned)h), 1);
		CK_EQ(drain_fm(s->f, NULL), 1);
		bench_drain(s->ctx[h]);
		if ((double)(now_ns() - start) / 1e9 > cap)
			break;
	}

	/* Pages of the extent lists and of List Tags, from random starts. */
	{
		size_t lsz = DAXM_FMAPI_SIZE(struct daxm_fmapi_get_dc_region_ext_list_rsp, extents, PAGE);
		size_t tsz = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, PAGE);
		struct daxm_fmapi_get_dc_region_ext_list_rsp *l = malloc(lsz);
		struct daxm_fmapi_dc_list_tags_rsp *g = malloc(tsz);
		long ntags = (long)s->hosts * s->tags_per_host;
		long lpage = s->per_host < PAGE ? s->per_host : PAGE, tpage = ntags < PAGE ? ntags : PAGE;

		if (!l || !g)
			die("out of memory");
		start = now_ns();
		for (int i = 0; i < n_many; i++) {
			struct daxm_fmapi_get_dc_region_ext_list_req lq = { 0 };
			struct daxm_fmapi_dc_list_tags_req tq;

			lq.host_id = (uint16_t)random_host(s, -1);
			lq.extent_count = PAGE;
			lq.start_ext_index = (uint32_t)rnd_below(&s->seed, (uint64_t)(s->per_host - lpage + 1));
			t = now_ns();
			cg_fab_list(s->f, &lq, l, lsz);
			samples_add(&smp[OP_LIST], lap(&t));
			if (l->extents_returned != (uint32_t)lpage || l->total_extents != (uint32_t)s->per_host)
				die("5603h: %u of %u extents", l->extents_returned, l->total_extents);
			tq.start_idx = (uint32_t)rnd_below(&s->seed, (uint64_t)(ntags - tpage + 1));
			tq.tags_count = PAGE;
			t = now_ns();
			cg_fab_tags(s->f, &tq, g, tsz);
			samples_add(&smp[OP_TAGS], lap(&t));
			if (g->num_tags_returned != (uint32_t)tpage || g->total_num_tags != (uint32_t)ntags)
				die("5608h: %u of %u tags", g->num_tags_returned, g->total_num_tags);
			if ((double)(now_ns() - start) / 1e9 > cap)
				break;
		}
		free(l);
		free(g);
	}

	/* References on a random tag. */
	start = now_ns();
	for (int i = 0; i < n_many; i++) {
		struct daxm_fmapi_dc_add_ref_req a;
		struct daxm_fmapi_dc_remove_ref_req r;

		fb_tag(a.tag, rnd_below(&s->seed, (uint64_t)s->hosts),
		       rnd_below(&s->seed, (uint64_t)s->tags_per_host));
		memcpy(r.tag, a.tag, DAXM_TAG_SIZE);
		t = now_ns();
		cg_fab_refs(s->f, &a, &r);
		samples_add(&smp[OP_REF], lap(&t));
		if ((double)(now_ns() - start) / 1e9 > cap)
			break;
	}

	/* A tag of host a shared with host b (its own DPAs are free on b),
	 * delivered, then taken back from b; and a tag of a given back and
	 * offered again, timed as a Tag-based release + its delivery. */
	start = now_ns();
	for (int i = 0; i < n_few && s->hosts > 1; i++) {
		int a = random_host(s, -1), b = random_host(s, a);
		uint64_t j = rnd_below(&s->seed, (uint64_t)s->tags_per_host);
		struct daxm_fmapi_extent ext[PER_TAG];
		uint64_t b0 = (j * (uint64_t)s->hosts + (uint64_t)a) * PER_TAG;

		fb_tag(tag, (uint64_t)a, j);
		t = now_ns();
		{
			struct daxm_fmapi_initiate_dc_add_req q;

			memset(&q, 0, sizeof(q));
			q.host_id = (uint16_t)b;
			q.selection_policy = DAXM_FMAPI_SELECTION_POLICY_ENABLE_SHARED_ACCESS;
			q.region_num = 0;
			memcpy(q.tag, tag, DAXM_TAG_SIZE);
			cg_fab_esa(s->f, &q);
		}
		samples_add(&smp[OP_ESA], lap(&t));
		CK_EQ(daxm_fabric_deliver(s->f, (unsigned)b), 1);
		CK_EQ(drain_timed(s->f, smp, NULL), PER_TAG);
		FM_OK(release_tag(s->f, (uint16_t)b, tag));
		CK_EQ(daxm_fabric_deliver(s->f, (unsigned)b), 1);
		CK_EQ(drain_timed(s->f, smp, NULL), PER_TAG);
		bench_drain(s->ctx[b]);

		t = now_ns();
		cg_fab_release(s->f, (uint16_t)a, tag);
		samples_add(&smp[OP_RELEASE], lap(&t));
		CK_EQ(drain_timed(s->f, smp, NULL), PER_TAG);
		memset(ext, 0, sizeof(ext));
		for (int k = 0; k < PER_TAG; k++) {
			ext[k].start_dpa = blk(b0 + (uint64_t)k);
			ext[k].len = BLOCK;
			memcpy(ext[k].tag, tag, DAXM_TAG_SIZE);
		}
		FM_OK(add_list(s->f, (uint16_t)a, ext, PER_TAG));
		CK_EQ(daxm_fabric_deliver(s->f, (unsigned)a), 1);
		CK_EQ(drain_timed(s->f, smp, NULL), PER_TAG);
		bench_drain(s->ctx[a]);
		if ((double)(now_ns() - start) / 1e9 > cap)
			break;
	}

	for (int o = 0; o < NOPS; o++) {
		nsamples[o] = smp[o].n;
		out[o] = smp[o].n ? median(smp[o].v, smp[o].n) : -1;
		free(smp[o].v);
	}
}

/* ---- the table --------------------------------------------------------------- */

struct frow {
	int hosts;
	long per_host;
	double build_s;
	double free_s;
	double ops[NOPS];
	int n[NOPS];
	int reps;
};

static void run_row(struct frow *row)
{
	struct fb s;
	double reps[64][NOPS], v[64];
	int n[NOPS], nrep = 0;
	uint64_t t0;

	fprintf(stderr, "daxm-bench: fabric %d hosts x %ld extents: building ...\n", row->hosts, row->per_host);
	row->build_s = fb_build(&s, row->hosts, row->per_host, opt.seed * 104729 + (uint64_t)row->hosts);
	fprintf(stderr, "daxm-bench: fabric %d hosts x %ld extents: built in %.1f s; measuring ...\n",
		row->hosts, row->per_host, row->build_s);
	/* the whole set repeated (up to --runs, within a quarter of the
	 * budget): per operation, the lowest of the repetitions' medians */
	memset(row->n, 0, sizeof(row->n));
	t0 = now_ns();
	do {
		measure_ops(&s, reps[nrep], n);
		for (int op = 0; op < NOPS; op++)
			row->n[op] += n[op];
		nrep++;
	} while (!opt.iterations && nrep < opt.runs && nrep < 64 && (double)(now_ns() - t0) / 1e9 < opt.budget / 4);
	if (opt.iterations) /* what scripts/bench.sh --scale divides by */
		for (int c = 0; c < 10; c++)
			fprintf(stderr, "cg-calls %s %ld\n", cg_names[c], calls[c]);
	for (int op = 0; op < NOPS; op++) {
		for (int r = 0; r < nrep; r++)
			v[r] = reps[r][op];
		median(v, nrep); /* sorts */
		row->ops[op] = v[0];
	}
	row->reps = nrep;
	t0 = now_ns();
	fb_free(&s);
	row->free_s = (double)(now_ns() - t0) / 1e9;
}

void table_fabric(void)
{
	struct frow rows[3];
	int nrows;
	char a[32], b[32], c1[16], c2[16];

	memset(rows, 0, sizeof(rows));
	rows[0].hosts = 8, rows[0].per_host = 100; /* 80 tags: List Tags pages are full */
	if (opt.quick) {
		rows[1].hosts = 8, rows[1].per_host = 500;
		nrows = 2;
	} else {
		rows[1].hosts = 16, rows[1].per_host = 1000;
		rows[2].hosts = 64, rows[2].per_host = 10000;
		nrows = 3;
	}
	if (opt.fabric_hosts > 0 && opt.fabric_extents > 0) {
		rows[nrows - 1].hosts = (int)opt.fabric_hosts;
		rows[nrows - 1].per_host = opt.fabric_extents;
	}
	if (opt.iterations) { /* for callgrind: the largest row only, once */
		rows[0] = rows[nrows - 1];
		nrows = 1;
	}
	for (int i = 0; i < nrows; i++)
		run_row(&rows[i]);

	printf("## h. Fabric: H hosts with E extents each\n\n");
	printf("One Sharable DC region of 2 MiB blocks; each host's extents are 2 MiB, %d "
	       "per tag, offered a tag at a time (Initiate Add, Prescriptive, %d extents) "
	       "and delivered, the hosts' tags interleaved in the device's address space "
	       "(every host's DPA space has E / %d holes); %d spare blocks above. Build: "
	       "seconds for all H x E extents (offers, deliveries, and the manager's "
	       "records taken), and per extent.\n\n", PER_TAG, PER_TAG, PER_TAG, SPARE);
	printf("| H x E | extents | build s | build ns per extent | daxm_fabric_unref s |\n");
	printf("|---|---:|---:|---:|---:|\n");
	for (int i = 0; i < nrows; i++) {
		long all = (long)rows[i].hosts * rows[i].per_host;

		printf("| %d x %s | %s | %.3g | %s | %.3g |\n", rows[i].hosts,
		       fmt_count(c1, sizeof(c1), rows[i].per_host), fmt_count(c2, sizeof(c2), all),
		       rows[i].build_s, fmt_ns(a, sizeof(a), rows[i].build_s * 1e9 / (double)all),
		       rows[i].free_s);
	}
	printf("\nPer operation, ns (ratio to %d x %s): each repetition of the whole set takes "
	       "the median of its samples, the lowest of those is shown. Hosts, tags and "
	       "starts are random; every add is delivered and given back again, so H and E "
	       "stay. The Prescriptive add and the host's select + size use a spare block "
	       "and a new tag; the Free add gets the lowest free block; Enable Shared Access "
	       "gives host b a tag of host a (b's answer and release are not timed); the "
	       "Tag-based release gives back a tag of 10 extents (then offered again, not "
	       "timed).\n\n", rows[0].hosts, fmt_count(c1, sizeof(c1), rows[0].per_host));
	printf("| operation");
	for (int i = 0; i < nrows; i++)
		printf(" | %d x %s", rows[i].hosts, fmt_count(c1, sizeof(c1), rows[i].per_host));
	printf(" |\n|---");
	for (int i = 0; i < nrows; i++)
		printf("|---:");
	printf("|\n");
	for (int op = 0; op < NOPS; op++) {
		printf("| %s", op_names[op]);
		for (int i = 0; i < nrows; i++) {
			double x = rows[i].ops[op], r0 = rows[0].ops[op];

			if (x < 0)
				printf(" | -");
			else if (i > 0 && r0 > 0)
				printf(" | %s (%s)", fmt_ns(a, sizeof(a), x), fmt_ratio(b, sizeof(b), x / r0));
			else
				printf(" | %s", fmt_ns(a, sizeof(a), x));
		}
		printf(" |\n");
	}
	printf("| (repetitions)");
	for (int i = 0; i < nrows; i++)
		printf(" | %d", rows[i].reps);
	printf(" |\n| (samples per operation, all repetitions)");
	for (int i = 0; i < nrows; i++) {
		int lo = 1 << 30, hi = 0;

		for (int op = 0; op < NOPS; op++) {
			if (rows[i].n[op] < lo)
				lo = rows[i].n[op];
			if (rows[i].n[op] > hi)
				hi = rows[i].n[op];
		}
		printf(" | %d..%d", lo, hi);
	}
	printf(" |\n\nTarget (issue 15 item 7): per-operation costs that stay logarithmic "
	       "from 8 x 100 to 64 x 10k extents.\n");
}
