/*
 * common.c - helpers shared by the tables of daxm-bench.
 */
#include "bench.h"

#include <malloc.h>
#include <stdarg.h>

struct bench_opts opt;
double clock_overhead_ns;

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "daxm-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

void die_call(const char *call, long rc, const char *file, int line)
{
	die("%s:%d: %s failed: %ld (%s); daxm_last_error: \"%s\"", file, line,
	    call, rc, rc < 0 ? strerror((int)-rc) : "unexpected value",
	    daxm_last_error());
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void samples_add(struct samples *s, double ns)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->v = realloc(s->v, sizeof(double) * (size_t)s->cap);
		if (!s->v)
			die("out of memory");
	}
	s->v[s->n++] = ns < 0 ? 0 : ns;
}

double lap(uint64_t *t)
{
	uint64_t n = now_ns();
	double d = (double)(n - *t) - clock_overhead_ns;

	*t = n;
	return d;
}

void measure_clock_overhead(void)
{
	double v[7];

	for (int r = 0; r < 7; r++) {
		enum { N = 100000 };
		uint64_t t0 = now_ns(), sink = 0;

		for (int i = 0; i < N; i++)
			sink += now_ns();
		v[r] = (double)(now_ns() - t0) / N;
		if (sink == 1)
			puts("");
	}
	clock_overhead_ns = median(v, 7);
}

long long heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (long long)mi.uordblks + (long long)mi.hblkhd;
}

const char *fmt_ns(char *buf, size_t len, double ns)
{
	if (ns >= 1e9)
		snprintf(buf, len, "%.3g s", ns / 1e9);
	else if (ns >= 100)
		snprintf(buf, len, "%.0f", ns);
	else if (ns >= 10)
		snprintf(buf, len, "%.1f", ns);
	else
		snprintf(buf, len, "%.2f", ns);
	return buf;
}

const char *fmt_ratio(char *buf, size_t len, double r)
{
	if (r >= 100)
		snprintf(buf, len, "%.0fx", r);
	else if (r >= 10)
		snprintf(buf, len, "%.1fx", r);
	else
		snprintf(buf, len, "%.2fx", r);
	return buf;
}

const char *fmt_count(char *buf, size_t len, long n)
{
	if (n >= 1000000 && n % 1000000 == 0)
		snprintf(buf, len, "%ldM", n / 1000000);
	else if (n >= 1000 && n % 1000 == 0)
		snprintf(buf, len, "%ldk", n / 1000);
	else
		snprintf(buf, len, "%ld", n);
	return buf;
}

struct daxm_ctx *bench_ctx(void)
{
	struct daxm_ctx *ctx = NULL;

	CK(daxm_new(&ctx));
	return ctx;
}

struct daxm_region *bench_dynamic_region(struct daxm_ctx *ctx, uint64_t start,
					 uint64_t units)
{
	struct daxm_region_spec spec;
	struct daxm_region *r = NULL;

	daxm_region_spec_init(&spec);
	spec.kind = DAXM_REGION_DYNAMIC;
	spec.start = start;
	spec.size = units * UNIT;
	spec.flags = DAXM_REGION_IDLE;
	CK(daxm_region_new(ctx, &spec, &r));
	return r;
}

struct daxm_region *bench_sparse_region(struct daxm_ctx *ctx, uint64_t start,
					uint64_t size, uint32_t max_extents)
{
	struct daxm_region_spec spec;
	struct daxm_region *r = NULL;

	daxm_region_spec_init(&spec);
	spec.kind = DAXM_REGION_SPARSE;
	spec.start = start;
	spec.size = size;
	spec.max_extents_per_group = 100;
	spec.max_extents = max_extents;
	CK(daxm_region_new(ctx, &spec, &r));
	return r;
}

void bench_tag(uint8_t tag[DAXM_TAG_SIZE], uint64_t k)
{
	uint64_t v = k + 1;

	memset(tag, 0, DAXM_TAG_SIZE);
	memcpy(tag, "bench\x01", 6);
	for (int i = 0; i < 8; i++)
		tag[8 + i] = (uint8_t)(v >> (8 * i));
}

static void check_event(const struct daxm_event *ev, uint32_t type, long nr)
{
	if (ev->type != type)
		die("event type %u, expected %u", ev->type, type);
	if (nr >= 0 && ev->nr_records != (uint32_t)nr)
		die("event type %u with %u records, expected %ld", ev->type,
		    ev->nr_records, nr);
	for (uint32_t i = 0; i < ev->nr_records; i++)
		if (ev->records[i].result != 0)
			die("event type %u: record %u (offset %#llx) failed: %d (%s) %s",
			    ev->type, i,
			    (unsigned long long)ev->records[i].offset,
			    ev->records[i].result,
			    strerror(-ev->records[i].result),
			    ev->records[i].reason ? ev->records[i].reason : "");
}

double bench_take_event(struct daxm_ctx *ctx, uint32_t type, long nr)
{
	struct daxm_event *ev = NULL;
	uint64_t t0 = now_ns(), t1, t2, t3;
	int rc = daxm_ctx_next_event(ctx, &ev);

	t1 = now_ns();
	if (rc < 0 || !ev)
		die_call("daxm_ctx_next_event", rc < 0 ? rc : -EAGAIN, __FILE__, __LINE__);
	check_event(ev, type, nr);
	t2 = now_ns();
	daxm_event_free(ev);
	t3 = now_ns();
	return (double)((t1 - t0) + (t3 - t2)) - 2 * clock_overhead_ns;
}

void bench_drain(struct daxm_ctx *ctx)
{
	struct daxm_event *ev;
	int rc;

	while ((rc = daxm_ctx_next_event(ctx, &ev)) == 0) {
		for (uint32_t i = 0; i < ev->nr_records; i++)
			if (ev->records[i].result != 0)
				die("event type %u: record %u failed: %d %s",
				    ev->type, i, ev->records[i].result,
				    ev->records[i].reason ? ev->records[i].reason : "");
		daxm_event_free(ev);
	}
	if (rc != -EAGAIN)
		die_call("daxm_ctx_next_event", rc, __FILE__, __LINE__);
}
