/*
 * memory.c - table d: bytes of model memory per object, from glibc's
 * mallinfo2() (uordblks + hblkhd: bytes malloc has handed out, including
 * its per-chunk overhead) before and after making N objects, divided by
 * N. The library's Swift objects are allocated with malloc, so this
 * counts them; the emulated memory of views (a memfd) is not counted.
 */
#include "baseline.h"
#include "sparse.h"

#define DYN_START 0x100000000ull

struct ext_mem {
	int ok;
	double per_extent;   /* accepted */
	double retained;     /* after releasing all, per released extent */
};

static void extent_memory(long e, int per_tag, struct ext_mem *m)
{
	struct sp s;
	long long h0, h1, h2;
	long done;

	memset(m, 0, sizeof(*m));
	sp_init(&s, e, per_tag, 0, opt.seed);
	h0 = heap_in_use();
	if (sp_offer(&s, opt.budget) < 0) {
		sp_free(&s);
		return;
	}
	h1 = heap_in_use();
	if (sp_release_all(&s, opt.budget, &done) >= 0) {
		h2 = heap_in_use();
		m->retained = (double)(h2 - h0) / (double)e;
	} else {
		m->retained = -1;
	}
	m->per_extent = (double)(h1 - h0) / (double)e;
	m->ok = 1;
	sp_free(&s);
}

struct dev_mem {
	double dev0, range, one_dev_range;
	int ok_one;
};

/* library: @n devices at size 0, then each sized to one unit; one device
 * with @n ranges, appended by `mapping` writes at every other unit */
static void lib_dev_memory(long n, struct dev_mem *m)
{
	struct daxm_ctx *ctx = bench_ctx();
	struct daxm_region *r = bench_dynamic_region(ctx, DYN_START, (uint64_t)n + 16);
	struct daxm_dev **d = calloc((size_t)n, sizeof(*d));
	long long h0, h1, h2;
	uint64_t t0;

	h0 = heap_in_use();
	for (long i = 0; i < n; i++)
		CK(daxm_region_create_dev(r, &d[i]));
	h1 = heap_in_use();
	for (long i = 0; i < n; i++)
		CK(daxm_dev_set_size(d[i], UNIT));
	h2 = heap_in_use();
	m->dev0 = (double)(h1 - h0) / (double)n;
	m->range = (double)(h2 - h1) / (double)n;
	free(d);
	daxm_unref(ctx);

	ctx = bench_ctx();
	r = bench_dynamic_region(ctx, DYN_START, 2 * (uint64_t)n + 16);
	{
		struct daxm_dev *one;

		CK(daxm_region_create_dev(r, &one));
		t0 = now_ns();
		h0 = heap_in_use();
		m->ok_one = 1;
		for (long i = 0; i < n; i++) {
			uint64_t start = DYN_START + (uint64_t)i * 2 * UNIT;

			CK(daxm_dev_set_mapping(one, start, start + UNIT - 1));
			if ((i & 255) == 0 && (double)(now_ns() - t0) / 1e9 > opt.budget) {
				m->ok_one = 0;
				break;
			}
		}
		h1 = heap_in_use();
		if (m->ok_one) {
			CK_EQ(daxm_dev_get_nr_mappings(one), n);
			m->one_dev_range = (double)(h1 - h0) / (double)n;
		}
	}
	daxm_unref(ctx);
}

/* the C baseline: the same objects */
static void c_dev_memory(long n, struct dev_mem *m)
{
	struct bregion r;
	struct bdev **d = calloc((size_t)n * 2, sizeof(*d)), *one;
	long long h0, h1, h2;

	CK(breg_init(&r, DYN_START, ((uint64_t)n + 16) * UNIT));
	/* includes the id table (one pointer per id, grown by doubling) */
	h0 = heap_in_use();
	for (long i = 0; i < n; i++)
		CK(breg_create(&r, &d[i]));
	h1 = heap_in_use();
	for (long i = 0; i < n; i++)
		CK(breg_set_size(&r, d[i], UNIT));
	h2 = heap_in_use();
	m->dev0 = (double)(h1 - h0) / (double)n;
	m->range = (double)(h2 - h1) / (double)n;
	breg_destroy(&r);

	/* one device with n ranges: 2n devices, every other one deleted */
	CK(breg_init(&r, DYN_START, (2 * (uint64_t)n + 16) * UNIT));
	for (long i = 0; i < 2 * n; i++) {
		CK(breg_create(&r, &d[i]));
		CK(breg_set_size(&r, d[i], UNIT));
	}
	for (long i = 0; i < 2 * n; i += 2) {
		CK(breg_set_size(&r, d[i], 0));
		CK(breg_destroy_dev(&r, d[i]));
	}
	CK(breg_create(&r, &one));
	h0 = heap_in_use();
	CK(breg_set_size(&r, one, (uint64_t)n * UNIT));
	h1 = heap_in_use();
	if (one->nr_range != n)
		die("C baseline: %d ranges, expected %ld", one->nr_range, n);
	m->one_dev_range = (double)(h1 - h0) / (double)n;
	m->ok_one = 1;
	breg_destroy(&r);
	free(d);
}

void table_memory(void)
{
	long e = opt.quick ? 1000 : 100000, n = opt.quick ? 1000 : 10000;
	struct ext_mem x10, x1;
	struct dev_mem ld = { 0 }, cd = { 0 };
	char ee[16], nn[16];

	extent_memory(e, 10, &x10);
	extent_memory(e, 1, &x1);
	lib_dev_memory(n, &ld);
	c_dev_memory(n, &cd);

	fmt_count(ee, sizeof(ee), e);
	fmt_count(nn, sizeof(nn), n);
	printf("## d. Memory: bytes per object\n\n");
	printf("mallinfo2() uordblks + hblkhd before and after, divided by the number of "
	       "objects (malloc's chunk overhead included; the events of each group were "
	       "taken and freed).\n\n");
	printf("| object | library bytes | C baseline bytes | target (issue 9) |\n");
	printf("|---|---:|---:|---|\n");
	if (x10.ok) {
		printf("| accepted extent (%s extents, 10 per tag) | %.0f | | <= 160 |\n", ee,
		       x10.per_extent);
		if (x10.retained >= 0)
			printf("| left per extent after releasing all of them (10 per tag) | %.0f | | |\n",
			       x10.retained);
	} else {
		printf("| accepted extent (%s extents, 10 per tag) | > budget | | <= 160 |\n", ee);
	}
	if (x1.ok) {
		printf("| accepted extent (%s extents, one tag per extent) | %.0f | | |\n", ee,
		       x1.per_extent);
		if (x1.retained >= 0)
			printf("| left per extent after releasing all of them (one tag each) | %.0f | | |\n",
			       x1.retained);
	} else {
		printf("| accepted extent (%s extents, one tag per extent) | > budget | | |\n", ee);
	}
	printf("| device at size 0 (%s devices) | %.0f | %.0f | report |\n", nn, ld.dev0, cd.dev0);
	printf("| device range (%s devices x 1 range: sizing each to 1 unit) | %.0f | %.0f | <= 128 |\n",
	       nn, ld.range, cd.range);
	printf("| device with one range (the two rows above) | %.0f | %.0f | report |\n",
	       ld.dev0 + ld.range, cd.dev0 + cd.range);
	if (ld.ok_one)
		printf("| device range (one device with %s ranges; library: `mapping` writes, "
		       "C: grown across %s holes) | %.0f | %.0f | <= 128 |\n", nn, nn,
		       ld.one_dev_range, cd.one_dev_range);
	else
		printf("| device range (one device with %s ranges) | > budget | %.0f | <= 128 |\n",
		       nn, cd.one_dev_range);
	printf("\nThe C baseline keeps per device a struct (id, range count, range array "
	       "pointer) and per range a resource (start, end, owner, sibling) plus one "
	       "array entry (start, end, pgoff, resource), as bus.c does without its "
	       "struct device and sysfs objects.\n");
}
