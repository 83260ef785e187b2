/*
 * views.c - table f: bandwidth through a view of a device (emulated
 * memory: the region's memfd mapped MAP_SHARED) vs anonymous memory.
 */
#include "bench.h"

#include <sys/mman.h>

struct bw {
	double first, write, read; /* GB/s */
};

static uint64_t sum_words(const uint64_t *p, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

static void measure(void *addr, size_t len, struct bw *out)
{
	double gb = (double)len / 1e9, v[64];
	int runs = opt.runs > 64 ? 64 : opt.runs;
	uint64_t t0, want = 0;

	t0 = now_ns();
	memset(addr, 0x11, len); /* first touch: page faults */
	out->first = gb / ((double)(now_ns() - t0) / 1e9);
	for (int r = 0; r < runs; r++) {
		t0 = now_ns();
		memset(addr, 0x5a + r, len);
		v[r] = gb / ((double)(now_ns() - t0) / 1e9);
	}
	out->write = median(v, runs);
	memset(&want, 0x5a + runs - 1, sizeof(want));
	want *= len / 8;
	for (int r = 0; r < runs; r++) {
		uint64_t s;

		t0 = now_ns();
		s = sum_words(addr, len / 8);
		v[r] = gb / ((double)(now_ns() - t0) / 1e9);
		if (s != want)
			die("views: read back a wrong sum");
	}
	out->read = median(v, runs);
}

void table_views(void)
{
	uint64_t len = (uint64_t)opt.view_mib * MiB, got;
	struct daxm_ctx *ctx = bench_ctx();
	struct daxm_region *r;
	struct daxm_dev *d;
	struct daxm_view *v = NULL;
	struct bw lib, anon;
	void *addr, *a;
	char thp[128] = "?";
	FILE *f;
	char x[32], y[32], z[32];

	len = (len + UNIT - 1) / UNIT * UNIT;
	r = bench_dynamic_region(ctx, 0x100000000ull, 2 * len / UNIT);
	CK(daxm_region_create_dev(r, &d));
	CK(daxm_dev_set_size(d, len));
	CK(daxm_dev_map(d, PROT_READ | PROT_WRITE, &v));
	CK_PTR(addr, daxm_view_get_addr(v));
	got = daxm_view_get_size(v);
	if (got != len)
		die("daxm_view_get_size: %llu, expected %llu", (unsigned long long)got,
		    (unsigned long long)len);
	measure(addr, len, &lib);
	CK(daxm_view_unmap(v));
	daxm_unref(ctx);

	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		die("mmap of %llu bytes failed", (unsigned long long)len);
	measure(a, len, &anon);
	munmap(a, len);

	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f) {
		if (fgets(thp, sizeof(thp), f))
			thp[strcspn(thp, "\n")] = 0;
		fclose(f);
	}
	printf("## f. Views: bandwidth of device memory vs anonymous memory\n\n");
	printf("%llu MiB: one device of a dynamic region mapped with daxm_dev_map "
	       "(emulated memory: the region's memfd, MAP_SHARED) vs an anonymous "
	       "private mmap. First write = memset of fresh pages (page faults "
	       "included); then memset and a 64-bit read sum, median of %d runs. GB/s "
	       "(10^9 bytes). Transparent huge pages: %s.\n\n",
	       (unsigned long long)(len / MiB), opt.runs, thp);
	printf("| pass | view GB/s | anonymous GB/s | view / anonymous |\n");
	printf("|---|---:|---:|---:|\n");
	printf("| first write (faults) | %.2f | %.2f | %s |\n", lib.first, anon.first,
	       fmt_ratio(x, sizeof(x), lib.first / anon.first));
	printf("| memset | %.2f | %.2f | %s |\n", lib.write, anon.write,
	       fmt_ratio(y, sizeof(y), lib.write / anon.write));
	printf("| read (sum) | %.2f | %.2f | %s |\n", lib.read, anon.read,
	       fmt_ratio(z, sizeof(z), lib.read / anon.read));
}
