/*
 * dynamic.c - table b: a create / size / shrink / delete cycle on a dynamic
 * region already holding M sized devices, library vs the kernel-style C
 * baseline (baseline.c), with the free space above the devices and with
 * holes at the bottom of the region.
 *
 * Also baseline_self_check(): the same random operations on the library
 * and on the baseline must give the same ids, errnos and ranges, or the
 * benchmark stops (the baseline must be the kernel's allocator).
 */
#include "baseline.h"
#include "bench.h"

#define REGION_START 0x100000000ull

/* ---- self-check -------------------------------------------------------------- */

static void compare_dev(struct daxm_dev *ld, struct bdev *bd)
{
	struct daxm_mapping *m;
	int i = 0;

	if (daxm_dev_get_id(ld) != bd->id)
		die("self-check: device id %d vs baseline %d", daxm_dev_get_id(ld), bd->id);
	CK_EQ(daxm_dev_get_nr_mappings(ld), bd->nr_range);
	daxm_mapping_foreach(ld, m) {
		uint64_t s, e, o;

		CK_U64(s, daxm_mapping_get_start(m));
		CK_U64(e, daxm_mapping_get_end(m));
		CK_U64(o, daxm_mapping_get_offset(m));
		if (i >= bd->nr_range || s != bd->ranges[i].start ||
		    e != bd->ranges[i].end || o != bd->ranges[i].pgoff / 4096)
			die("self-check: dax0.%d range %d differs: library %#llx-%#llx "
			    "pgoff %#llx, baseline %#llx-%#llx pgoff %#llx",
			    bd->id, i, (unsigned long long)s, (unsigned long long)e,
			    (unsigned long long)o,
			    (unsigned long long)(i < bd->nr_range ? bd->ranges[i].start : 0),
			    (unsigned long long)(i < bd->nr_range ? bd->ranges[i].end : 0),
			    (unsigned long long)(i < bd->nr_range ? bd->ranges[i].pgoff / 4096 : 0));
		i++;
	}
	if (i != bd->nr_range)
		die("self-check: range count differs");
}

static void baseline_self_check(void)
{
	enum { UNITS = 64, SLOTS = 24, OPS = 3000 };
	struct daxm_ctx *ctx = bench_ctx();
	struct daxm_region *r = bench_dynamic_region(ctx, REGION_START, UNITS);
	struct bregion br;
	struct daxm_dev *ld[SLOTS] = { 0 };
	struct bdev *bd[SLOTS] = { 0 };
	uint64_t seed = 0x5eed, avail;
	int ranges_max = 0, nospc = 0;

	CK(breg_init(&br, REGION_START, UNITS * UNIT));
	for (int op = 0; op < OPS; op++) {
		int s = (int)rnd_below(&seed, SLOTS), lrc, brc;

		if (!ld[s]) {
			struct daxm_dev *nd = NULL;
			struct bdev *nb = NULL;

			lrc = daxm_region_create_dev(r, &nd);
			brc = breg_create(&br, &nb);
			if (lrc != brc)
				die("self-check: create: library %d, baseline %d", lrc, brc);
			if (!lrc) {
				ld[s] = nd;
				bd[s] = nb;
				compare_dev(nd, nb);
			}
		} else if (rnd_below(&seed, 5) == 0) {
			lrc = daxm_region_destroy_dev(r, ld[s]);
			brc = breg_destroy_dev(&br, bd[s]);
			if (lrc != brc)
				die("self-check: delete dax0.%d: library %d, baseline %d",
				    bd[s]->id, lrc, brc);
			if (!lrc)
				ld[s] = NULL, bd[s] = NULL;
		} else {
			uint64_t size = rnd_below(&seed, 13) * UNIT;

			lrc = daxm_dev_set_size(ld[s], size);
			brc = breg_set_size(&br, bd[s], size);
			if (lrc != brc)
				die("self-check: dax0.%d size %#llx: library %d, baseline %d",
				    bd[s]->id, (unsigned long long)size, lrc, brc);
			nospc += lrc == -ENOSPC;
			compare_dev(ld[s], bd[s]);
			if (bd[s]->nr_range > ranges_max)
				ranges_max = bd[s]->nr_range;
		}
		CK_U64(avail, daxm_region_get_available_size(r));
		if (avail != breg_available(&br))
			die("self-check: available_size differs after op %d", op);
	}
	for (int s = 0; s < SLOTS; s++)
		if (ld[s])
			compare_dev(ld[s], bd[s]);
	if (ranges_max < 3 || nospc == 0)
		die("self-check: the random operations did not exercise holes (%d ranges) "
		    "or ENOSPC (%d)", ranges_max, nospc);
	printf("Baseline self-check: %d random create/size/delete operations gave the "
	       "same ids, errnos, ranges, page offsets and available_size in the "
	       "library and in the C baseline (up to %d ranges per device, %d ENOSPC).\n\n",
	       OPS, ranges_max, nospc);
	breg_destroy(&br);
	daxm_unref(ctx);
}

/* ---- the cycle ----------------------------------------------------------------- */

static void lib_cycle(struct daxm_region *r)
{
	struct daxm_dev *d = NULL;

	CK(daxm_region_create_dev(r, &d));
	CK(daxm_dev_set_size(d, 3 * UNIT));
	CK(daxm_dev_set_size(d, 1 * UNIT));
	CK(daxm_dev_set_size(d, 0));
	CK(daxm_region_destroy_dev(r, d));
}

static void c_cycle(struct bregion *r)
{
	struct bdev *d = NULL;

	CK(breg_create(r, &d));
	CK(breg_set_size(r, d, 3 * UNIT));
	CK(breg_set_size(r, d, 1 * UNIT));
	CK(breg_set_size(r, d, 0));
	CK(breg_destroy_dev(r, d));
}

/* the M devices: 1 unit each; with @holes, 2M are made and every other one
 * deleted, leaving M one-unit holes at the bottom. Returns seconds taken,
 * or -1 when over budget. */
static double lib_setup(struct daxm_region *r, long m, int holes)
{
	long n = holes ? 2 * m : m;
	struct daxm_dev **devs = calloc((size_t)n, sizeof(*devs));
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++) {
		CK(daxm_region_create_dev(r, &devs[i]));
		CK(daxm_dev_set_size(devs[i], UNIT));
		if ((i & 63) == 0 && (double)(now_ns() - t0) / 1e9 > opt.budget) {
			free(devs);
			return -1;
		}
	}
	if (holes)
		for (long i = 0; i < n; i += 2) {
			CK(daxm_dev_set_size(devs[i], 0));
			CK(daxm_region_destroy_dev(r, devs[i]));
		}
	free(devs);
	return (double)(now_ns() - t0) / 1e9;
}

static double c_setup(struct bregion *r, long m, int holes)
{
	long n = holes ? 2 * m : m;
	struct bdev **devs = calloc((size_t)n, sizeof(*devs));
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++) {
		CK(breg_create(r, &devs[i]));
		CK(breg_set_size(r, devs[i], UNIT));
	}
	if (holes)
		for (long i = 0; i < n; i += 2) {
			CK(breg_set_size(r, devs[i], 0));
			CK(breg_destroy_dev(r, devs[i]));
		}
	free(devs);
	return (double)(now_ns() - t0) / 1e9;
}

/* ns per cycle: calibrated count, median of runs; -1 over budget */
static double time_cycles(void (*cycle)(void *), void *arg)
{
	double target = opt.quick ? 10e6 : 100e6, v[64];
	int runs = opt.runs > 64 ? 64 : opt.runs;
	long n = 1;
	uint64_t start = now_ns();

	for (;;) {
		uint64_t t0 = now_ns(), dt;

		for (long i = 0; i < n; i++)
			cycle(arg);
		dt = now_ns() - t0;
		if ((double)dt >= target / 4)
			break;
		if ((double)(now_ns() - start) / 1e9 > opt.budget)
			return -1;
		n *= 2;
	}
	for (int r = 0; r < runs; r++) {
		uint64_t t0 = now_ns();

		for (long i = 0; i < n; i++)
			cycle(arg);
		v[r] = (double)(now_ns() - t0) / (double)n;
		if ((double)(now_ns() - start) / 1e9 > opt.budget) {
			runs = r + 1;
			break;
		}
	}
	return median(v, runs);
}

static void lib_cycle_v(void *r) { lib_cycle(r); }
static void c_cycle_v(void *r) { c_cycle(r); }

struct result {
	double lib, c, lib_setup, c_setup; /* ns per cycle; s */
};

enum { ST_OK, ST_SETUP_BUDGET, ST_CYCLE_BUDGET, ST_SKIPPED };

static int run_one(long m, int holes, struct result *res)
{
	uint64_t units = (uint64_t)(holes ? 2 * m : m) + 16;
	struct daxm_ctx *ctx = bench_ctx();
	struct daxm_region *r = bench_dynamic_region(ctx, REGION_START, units);
	struct bregion br;
	int st = ST_OK;

	res->lib_setup = lib_setup(r, m, holes);
	if (res->lib_setup < 0) {
		st = ST_SETUP_BUDGET;
	} else {
		res->lib = time_cycles(lib_cycle_v, r);
		if (res->lib < 0)
			st = ST_CYCLE_BUDGET;
	}
	daxm_unref(ctx);
	CK(breg_init(&br, REGION_START, units * UNIT));
	res->c_setup = c_setup(&br, m, holes);
	res->c = time_cycles(c_cycle_v, &br);
	breg_destroy(&br);
	return st;
}

static const char *status_text(int st)
{
	return st == ST_SETUP_BUDGET ? "> budget (setup)" :
	       st == ST_CYCLE_BUDGET ? "> budget" : "skipped";
}

void table_dynamic(void)
{
	static const long ms[] = { 10, 100, 1000, 10000 };
	struct result res[2][4];
	int st[2][4], nm = 0;
	char a[32], b[32], c[32], mm[16];

	memset(res, 0, sizeof(res));
	printf("## b. Dynamic region: create / size / shrink / delete with M devices\n\n");
	baseline_self_check();
	for (int i = 0; i < 4 && ms[i] <= opt.max_m; i++, nm++)
		for (int h = 0; h < 2; h++)
			st[h][i] = i > 0 && st[h][i - 1] != ST_OK ? ST_SKIPPED :
				   run_one(ms[i], h, &res[h][i]);

	printf("One cycle: create daxR.N, size it to 3 units (2 MiB each), shrink to 1 "
	       "unit, size 0, delete, on a region already holding M devices of 1 unit "
	       "each. *Free above*: the M devices are packed at the bottom, the free "
	       "space above them (the allocator walks past every device). *Holes low*: "
	       "2M devices were made and every other one deleted, so the free space is "
	       "M one-unit holes at the bottom (plus the space above). ns per cycle, "
	       "median of %d runs. The C baseline is bus.c's allocator in C (sorted "
	       "child list walked on every allocation, available_size summed over "
	       "every child, lowest free id by linear scan).\n\n", opt.runs);
	printf("| M | library, free above | C baseline | library / C | library, holes low | C baseline | library / C |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < nm; i++) {
		printf("| %s", fmt_count(mm, sizeof(mm), ms[i]));
		for (int h = 0; h < 2; h++) {
			if (st[h][i] == ST_OK)
				printf(" | %s | %s | %s", fmt_ns(a, sizeof(a), res[h][i].lib),
				       fmt_ns(b, sizeof(b), res[h][i].c),
				       fmt_ratio(c, sizeof(c), res[h][i].lib / res[h][i].c));
			else
				printf(" | %s | %s | ", status_text(st[h][i]),
				       st[h][i] == ST_SKIPPED ? "" :
				       fmt_ns(b, sizeof(b), res[h][i].c));
		}
		printf(" |\n");
	}
	printf("\nSetup: seconds to make the M devices (for holes low: the 2M devices and "
	       "the M deletes), library vs C.\n\n");
	printf("| M | library, free above | C | library / C | library, holes low | C | library / C |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < nm; i++) {
		printf("| %s", fmt_count(mm, sizeof(mm), ms[i]));
		for (int h = 0; h < 2; h++) {
			if (st[h][i] == ST_OK || st[h][i] == ST_CYCLE_BUDGET)
				printf(" | %.4f | %.4f | %s", res[h][i].lib_setup,
				       res[h][i].c_setup,
				       fmt_ratio(c, sizeof(c), res[h][i].lib_setup /
							       res[h][i].c_setup));
			else
				printf(" | %s | | ", status_text(st[h][i]));
		}
		printf(" |\n");
	}
}
