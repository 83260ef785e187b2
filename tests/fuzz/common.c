/*
 * common.c - see common.h.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

/* ---- reading the input ---------------------------------------------- */

uint8_t in_u8(struct in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

uint16_t in_u16(struct in *in)
{
	return (uint16_t)(in_u8(in) | (uint16_t)in_u8(in) << 8);
}

uint32_t in_u32(struct in *in)
{
	return in_u16(in) | (uint32_t)in_u16(in) << 16;
}

uint64_t in_u64(struct in *in)
{
	return in_u32(in) | (uint64_t)in_u32(in) << 32;
}

unsigned in_below(struct in *in, unsigned n)
{
	if (n == 0)
		return 0;
	return n <= 256 ? in_u8(in) % n : in_u16(in) % n;
}

size_t in_bytes(struct in *in, char *buf, size_t max)
{
	size_t len = in_u8(in) % (max + 1);

	if (len > in->n)
		len = in->n;
	memcpy(buf, in->p, len);
	buf[len] = '\0';
	in->p += len;
	in->n -= len;
	return len;
}

uint64_t in_number(struct in *in)
{
	uint8_t sel = in_u8(in);
	uint8_t b = in_u8(in);

	switch (sel % 10) {
	case 0: return b;
	case 1: return (uint64_t)b * 2 * MiB;
	case 2: return (uint64_t)in_u16(in) * PAGE;
	case 3: return (1ull << (b % 64)) + (uint64_t)(int64_t)((int)(sel >> 4) % 3 - 1);
	case 4: return in_u64(in);
	case 5: {
		static const uint64_t edges[] = {
			0, 1, INT32_MAX, (uint64_t)INT32_MAX + 1, UINT32_MAX,
			(uint64_t)UINT32_MAX + 1, INT64_MAX, (uint64_t)INT64_MAX + 1,
			UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 2 * MiB + 1,
			1ull << 24, (1ull << 24) + 1, 1ull << 30, (1ull << 30) + 1,
			0xFFFF, 0x10000, GiB, 2 * MiB - 1, 2 * MiB + 1,
		};
		return edges[b % (sizeof(edges) / sizeof(edges[0]))];
	}
	case 6: return in_u32(in);
	case 7: return (uint64_t)in_u16(in) * 2 * MiB;
	case 8: return (uint64_t)(b % 64 + 1) * 2 * MiB;
	default: return (uint64_t)b * GiB;
	}
}

/* ---- failing ---------------------------------------------------------- */

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n      daxm_last_error: %s\n", daxm_last_error());
	fflush(stderr);
	abort();
}

int fuzz_verbose(void)
{
	static int v = -1;
	if (v < 0) {
		const char *e = getenv("DAXM_FUZZ_VERBOSE");
		v = e && *e && strcmp(e, "0") != 0;
	}
	return v;
}

int fuzz_skip_known(void)
{
	static int v = -1;
	if (v < 0) {
		const char *e = getenv("DAXM_FUZZ_SKIP_KNOWN");
		v = e && *e && strcmp(e, "0") != 0;
	}
	return v;
}

/* ---- the library's own checks ------------------------------------------ */

void fuzz_log(struct daxm_ctx *ctx, int priority, const char *file, int line,
	      const char *fn, const char *msg)
{
	(void)ctx, (void)priority, (void)file, (void)line;
	/* By the function name only: messages echo caller input (a path, a
	 * value), so a message test would be spoofed by the fuzzer itself. */
	if (fn && strcmp(fn, "verifyAfterCall") == 0)
		fuzz_fail("the library's own check failed in %s: %s", fn ? fn : "?",
			  msg ? msg : "?");
}

void fuzz_quiet(struct daxm_ctx *ctx)
{
	daxm_set_log_fn(ctx, fuzz_log);
	daxm_set_log_priority(ctx, LOG_INFO);
}

/* ---- files -------------------------------------------------------------- */

static char dir_path[PATH_MAX];

static void remove_dir(void)
{
	if (dir_path[0])
		fuzz_rm_tree(dir_path);
}

const char *fuzz_dir(void)
{
	if (!dir_path[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir_path, sizeof(dir_path), "%s/daxm-fuzz-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir_path)) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(remove_dir);
	}
	return dir_path;
}

void fuzz_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", fuzz_dir(), name);
}

void fuzz_write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *p = data;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			perror(path);
			abort();
		}
		p += w;
		n -= (size_t)w;
	}
	close(fd);
}

uint8_t *fuzz_read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rbe");
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		size_t r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0)
			break;
	}
	fclose(f);
	if (len == cap && !(buf = realloc(buf, cap + 1)))
		abort();
	buf[len] = '\0'; /* callers may print it */
	*n = len;
	return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

void fuzz_rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- invariants through the API ------------------------------------------ */

struct span {
	uint64_t start, last;
	const void *owner;
};

static int by_start(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

struct spans {
	struct span *v;
	size_t n, cap;
};

static void spans_add(struct spans *s, uint64_t start, uint64_t last, const void *owner)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	s->v[s->n++] = (struct span){ start, last, owner };
}

/* Sorts and fails on two spans sharing a byte. */
static void spans_disjoint(struct spans *s, const char *what)
{
	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), by_start);
	for (size_t i = 1; i < s->n; i++)
		if (s->v[i].start <= s->v[i - 1].last)
			fuzz_fail("%s overlap: [%#" PRIx64 ", %#" PRIx64 "] and [%#" PRIx64
				  ", %#" PRIx64 "]", what, s->v[i - 1].start, s->v[i - 1].last,
				  s->v[i].start, s->v[i].last);
}

static int valid_align(uint64_t a)
{
	return a == 4096 || a == 2 * MiB || a == GiB;
}

/* Read @path as a number ("%llu\n" or "%#llx\n"); fails unless it reads. */
static uint64_t attr_number(struct daxm_ctx *ctx, const char *path)
{
	char buf[128], *end;
	long n = daxm_attr_read(ctx, path, buf, sizeof(buf));
	uint64_t v;

	if (n <= 0 || (size_t)n >= sizeof(buf) || buf[n - 1] != '\n' || buf[n] != '\0')
		fuzz_fail("attribute %s of a listed object does not read (%ld)", path, n);
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno || *end != '\n')
		fuzz_fail("attribute %s reads \"%s\", not a number", path, buf);
	return v;
}

static void check_sparse(struct daxm_ctx *ctx, struct daxm_region *r, int rid,
			 struct spans *ranges, void (*visit)(char, void *))
{
	uint64_t start = daxm_region_get_start(r), size = daxm_region_get_size(r);
	uint64_t accepted = 0, used = 0, avail = daxm_region_get_available_size(r);
	struct spans ext = { 0 };
	struct daxm_extent *e;
	char path[96];

	daxm_extent_foreach(r, e) {
		int id = daxm_extent_get_id(e), state = daxm_extent_get_state(e);
		int refs = daxm_extent_get_refcount(e), seq = daxm_extent_get_sequence(e);
		uint64_t off = daxm_extent_get_offset(e), len = daxm_extent_get_length(e);
		uint8_t tag[DAXM_TAG_SIZE];

		if (visit)
			visit('e', e);
		if (id < 0)
			fuzz_fail("region%d: listed extent has id %d", rid, id);
		if (state != DAXM_EXTENT_ACCEPTED && state != DAXM_EXTENT_RELEASING)
			fuzz_fail("region%d/extent%d: listed with state %d", rid, id, state);
		if (refs < 0 || (state == DAXM_EXTENT_RELEASING && refs == 0))
			fuzz_fail("region%d/extent%d: refcount %d in state %d", rid, id, refs, state);
		if (seq < 0 || seq > 0xFFFF)
			fuzz_fail("region%d/extent%d: sequence %d", rid, id, seq);
		if (len == 0 || off % (2 * MiB) || len % (2 * MiB) || off >= size || len > size - off)
			fuzz_fail("region%d/extent%d: offset %#" PRIx64 " length %#" PRIx64
				  " in a region of %#" PRIx64, rid, id, off, len, size);
		if (daxm_extent_get_region(e) != r)
			fuzz_fail("region%d/extent%d: get_region is not its region", rid, id);
		if (daxm_extent_get_tag(e, tag) != 0)
			fuzz_fail("region%d/extent%d: get_tag fails", rid, id);
		snprintf(path, sizeof(path), "region%d/extent%d/refcount", rid, id);
		if (attr_number(ctx, path) != (uint64_t)refs)
			fuzz_fail("%s differs from daxm_extent_get_refcount %d", path, refs);
		spans_add(&ext, start + off, start + off + len - 1, e);
		if (state == DAXM_EXTENT_ACCEPTED)
			accepted += len;
	}
	spans_disjoint(&ext, "extents");
	for (size_t i = 0; i < ext.n; i++)
		for (size_t j = i + 1; j < ext.n; j++)
			if (daxm_extent_get_id((void *)ext.v[i].owner) ==
			    daxm_extent_get_id((void *)ext.v[j].owner))
				fuzz_fail("region%d: two listed extents have id %d", rid,
					  daxm_extent_get_id((void *)ext.v[i].owner));
	/* Every device range inside one listed extent (ext is sorted now). */
	for (size_t i = 0; i < ranges->n; i++) {
		const struct span *rg = &ranges->v[i];
		size_t lo = 0, hi = ext.n;
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;
			if (ext.v[mid].start <= rg->start)
				lo = mid;
			else
				hi = mid;
		}
		if (ext.n == 0 || ext.v[lo].start > rg->start || ext.v[lo].last < rg->last)
			fuzz_fail("region%d: device range [%#" PRIx64 ", %#" PRIx64
				  "] is inside no listed extent", rid, rg->start, rg->last);
		if (daxm_extent_get_state((void *)ext.v[lo].owner) == DAXM_EXTENT_ACCEPTED)
			used += rg->last - rg->start + 1;
	}
	/* refcount >= ranges inside the extent (plus pins). */
	for (size_t j = 0; j < ext.n; j++) {
		int inside = 0;
		for (size_t i = 0; i < ranges->n; i++)
			if (ranges->v[i].start >= ext.v[j].start && ranges->v[i].last <= ext.v[j].last)
				inside++;
		if (daxm_extent_get_refcount((void *)ext.v[j].owner) < inside)
			fuzz_fail("region%d/extent%d: refcount %d below its %d device ranges", rid,
				  daxm_extent_get_id((void *)ext.v[j].owner),
				  daxm_extent_get_refcount((void *)ext.v[j].owner), inside);
	}
	if (used > accepted || avail != accepted - used)
		fuzz_fail("region%d: available_size %" PRIu64 " but accepted extents hold %" PRIu64
			  " of which device ranges use %" PRIu64, rid, avail, accepted, used);
	free(ext.v);
}

void check_model(struct daxm_ctx *ctx, void (*visit)(char kind, void *obj))
{
	struct spans regions = { 0 };
	struct daxm_region *r;
	int last_rid = -1;
	char path[96], name[64];

	daxm_region_foreach(ctx, r) {
		int rid = daxm_region_get_id(r), kind = daxm_region_get_kind(r);
		int profile = daxm_region_get_profile(r), last_did = -1, ndev = 0;
		uint64_t start = daxm_region_get_start(r), size = daxm_region_get_size(r);
		uint64_t align = daxm_region_get_align(r), avail = daxm_region_get_available_size(r);
		uint64_t sum = 0;
		struct spans ranges = { 0 };
		struct daxm_dev *d;

		if (visit)
			visit('r', r);
		if (rid < 0 || rid <= last_rid)
			fuzz_fail("region ids out of order or invalid: %d after %d", rid, last_rid);
		last_rid = rid;
		if (daxm_region_get_by_id(ctx, rid) != r)
			fuzz_fail("daxm_region_get_by_id(%d) is not the listed region", rid);
		if (daxm_region_get_ctx(r) != ctx)
			fuzz_fail("region%d: get_ctx is not its context", rid);
		if (kind < DAXM_REGION_STATIC || kind > DAXM_REGION_SPARSE)
			fuzz_fail("region%d: kind %d", rid, kind);
		if (profile != DAXM_PROFILE_6_1 && profile != DAXM_PROFILE_6_12)
			fuzz_fail("region%d: profile %d", rid, profile);
		if (!valid_align(align) || size == 0 || size % align || start % align ||
		    start + (size - 1) < start)
			fuzz_fail("region%d: start %#" PRIx64 " size %#" PRIx64 " align %#" PRIx64,
				  rid, start, size, align);
		if (daxm_region_get_target_node(r) < -1)
			fuzz_fail("region%d: target_node %d", rid, daxm_region_get_target_node(r));
		spans_add(&regions, start, start + size - 1, r);
		snprintf(path, sizeof(path), "region%d/size", rid);
		if (attr_number(ctx, path) != size)
			fuzz_fail("%s differs from daxm_region_get_size", path);
		snprintf(path, sizeof(path), "region%d/available_size", rid);
		if (kind == DAXM_REGION_STATIC) {
			char buf[64];
			if (avail != 0)
				fuzz_fail("static region%d: available_size %" PRIu64, rid, avail);
			if (daxm_attr_read(ctx, path, buf, sizeof(buf)) != -ENOENT)
				fuzz_fail("static region%d shows available_size", rid);
		} else if (attr_number(ctx, path) != avail) {
			fuzz_fail("%s differs from daxm_region_get_available_size", path);
		}

		daxm_dev_foreach(r, d) {
			int did = daxm_dev_get_id(d), nr = daxm_dev_get_nr_mappings(d), k = 0;
			int on = daxm_dev_is_enabled(d);
			uint64_t dsize = daxm_dev_get_size(d), dalign = daxm_dev_get_align(d);
			uint64_t total = 0;
			const char *devname = daxm_dev_get_devname(d);
			struct daxm_mapping *m;

			if (visit)
				visit('d', d);
			ndev++;
			if (did < 0 || did <= last_did)
				fuzz_fail("region%d: device ids out of order or invalid: %d after %d", rid,
					  did, last_did);
			last_did = did;
			snprintf(name, sizeof(name), "dax%d.%d", rid, did);
			if (!devname || strcmp(devname, name) != 0)
				fuzz_fail("device %s is named %s", name, devname ? devname : "NULL");
			if (daxm_dev_get_by_name(ctx, name) != d)
				fuzz_fail("daxm_dev_get_by_name(%s) is not the listed device", name);
			if (daxm_dev_get_region(d) != r || daxm_dev_get_ctx(d) != ctx)
				fuzz_fail("%s: parents are wrong", name);
			if (!valid_align(dalign))
				fuzz_fail("%s: align %#" PRIx64, name, dalign);
			if (on != 0 && on != 1)
				fuzz_fail("%s: is_enabled %d", name, on);
			if (on == 1 && dsize == 0)
				fuzz_fail("%s: bound at size 0", name);
			if (daxm_dev_get_lost_bytes(d) == DAXM_INVALID)
				fuzz_fail("%s: lost_bytes invalid", name);
			daxm_mapping_foreach(d, m) {
				uint64_t ms = daxm_mapping_get_start(m), me = daxm_mapping_get_end(m);
				uint64_t mz = daxm_mapping_get_size(m), mo = daxm_mapping_get_offset(m);
				int mid = daxm_mapping_get_id(m);

				if (visit)
					visit('m', m);
				if (mid < 0 || daxm_mapping_get_dev(m) != d)
					fuzz_fail("%s: mapping %d has id %d or a wrong device", name, k, mid);
				if (me < ms || mz != me - ms + 1 || ms < start || me > start + (size - 1))
					fuzz_fail("%s/mapping%d: [%#" PRIx64 ", %#" PRIx64 "] size %#" PRIx64
						  " in region [%#" PRIx64 " +%#" PRIx64 "]", name, mid, ms, me,
						  mz, start, size);
				if (mo != total / PAGE)
					fuzz_fail("%s/mapping%d: page_offset %#" PRIx64 ", running sum %#" PRIx64,
						  name, mid, mo, (uint64_t)(total / PAGE));
				snprintf(path, sizeof(path), "%s/mapping%d/start", name, mid);
				if (attr_number(ctx, path) != ms)
					fuzz_fail("%s differs from daxm_mapping_get_start", path);
				spans_add(&ranges, ms, me, d);
				total += mz;
				k++;
			}
			if (k != nr)
				fuzz_fail("%s: nr_mappings %d but %d listed", name, nr, k);
			if (total != dsize)
				fuzz_fail("%s: size %#" PRIx64 " but its mappings hold %#" PRIx64, name, dsize,
					  total);
			snprintf(path, sizeof(path), "%s/size", name);
			if (attr_number(ctx, path) != dsize)
				fuzz_fail("%s differs from daxm_dev_get_size", path);
			sum += dsize;
		}
		if (sum > size)
			fuzz_fail("region%d: devices hold %" PRIu64 " of %" PRIu64 " bytes", rid, sum, size);
		switch (kind) {
		case DAXM_REGION_DYNAMIC:
			if (avail + sum != size)
				fuzz_fail("region%d: available_size %" PRIu64 " + devices %" PRIu64
					  " != size %" PRIu64, rid, avail, sum, size);
			break;
		case DAXM_REGION_STATIC:
			if (ndev != 1 || sum != size)
				fuzz_fail("static region%d: %d devices holding %" PRIu64 " of %" PRIu64, rid,
					  ndev, sum, size);
			break;
		}
		spans_disjoint(&ranges, "device ranges");
		if (kind == DAXM_REGION_SPARSE)
			check_sparse(ctx, r, rid, &ranges, visit);
		else if (daxm_extent_get_first(r) != NULL)
			fuzz_fail("region%d is not sparse but lists extents", rid);
		free(ranges.v);
	}
	spans_disjoint(&regions, "regions");
	free(regions.v);
}

struct daxm_ctx *roundtrip(struct daxm_ctx *ctx)
{
	char a[PATH_MAX], b[PATH_MAX];
	struct daxm_ctx *copy = NULL;
	uint8_t *da, *db;
	size_t na = 0, nb = 0;
	int rc;

	fuzz_path(a, sizeof(a), "roundtrip-a.json");
	fuzz_path(b, sizeof(b), "roundtrip-b.json");
	rc = daxm_ctx_save(ctx, a);
	if (rc != 0)
		fuzz_fail("daxm_ctx_save of a live model failed: %d", rc);
	rc = daxm_ctx_load(a, &copy);
	if (rc != 0 || !copy)
		fuzz_fail("daxm_ctx_load refuses the file daxm_ctx_save wrote: %d", rc);
	fuzz_quiet(copy);
	check_model(copy, NULL);
	rc = daxm_ctx_save(copy, b);
	if (rc != 0)
		fuzz_fail("daxm_ctx_save of a loaded model failed: %d", rc);
	da = fuzz_read_file(a, &na);
	db = fuzz_read_file(b, &nb);
	if (!da || !db)
		fuzz_fail("cannot read back the saved files");
	if (na != nb || memcmp(da, db, na) != 0) {
		size_t i = 0;
		while (i < na && i < nb && da[i] == db[i])
			i++;
		fuzz_fail("save -> load -> save is not byte-identical: %zu vs %zu bytes, first "
			  "difference at byte %zu: ...%.60s... vs ...%.60s...", na, nb, i,
			  (const char *)da + (i > 20 ? i - 20 : 0), (const char *)db + (i > 20 ? i - 20 : 0));
	}
	free(da);
	free(db);
	return copy;
}

/* ---- a few calls on a model of unknown shape ------------------------------ */

static void drain_all(struct daxm_ctx *ctx)
{
	struct daxm_event *ev;
	int guard = 0;

	while (daxm_ctx_next_event(ctx, &ev) == 0 && ev) {
		int named = ev->type == DAXM_EVENT_DEV_LOST_MEMORY || ev->type == DAXM_EVENT_KERNEL_WARNING;
		if (ev->type < DAXM_EVENT_GROUP || ev->type > DAXM_EVENT_KERNEL_WARNING)
			fuzz_fail("event type %u", ev->type);
		if (named != (ev->device != NULL))
			fuzz_fail("event type %u with device %s", ev->type, ev->device ? ev->device : "NULL");
		if ((ev->type == DAXM_EVENT_KERNEL_WARNING) != (ev->warn_function != NULL) ||
		    (ev->warn_function && (!ev->warn_file || !ev->warn_message || !ev->warn_line)))
			fuzz_fail("event type %u: warning fields do not match its type", ev->type);
		for (uint32_t i = 0; i < ev->nr_records; i++)
			if (!ev->records[i].reason || ev->records[i].result > 0)
				fuzz_fail("event record %u: result %d", i, ev->records[i].result);
		daxm_event_free(ev);
		if (++guard > 100000)
			fuzz_fail("the event queue does not drain");
	}
}

void exercise_model(struct daxm_ctx *ctx)
{
	static const char *const dev_attrs[] = { "size", "align", "target_node", "numa_node",
						 "resource", "modalias", "tag", "uuid" };
	static const uint8_t untagged[DAXM_TAG_SIZE];
	struct daxm_region *regions[8];
	int n = 0;
	struct daxm_region *r;
	char path[96], buf[256];

	daxm_region_foreach(ctx, r)
		if (n < 8)
			regions[n++] = r;
	for (int i = 0; i < n; i++) {
		struct daxm_dev *d, *fresh = NULL;
		struct daxm_extent *e;
		int kind = daxm_region_get_kind(regions[i]), rid = daxm_region_get_id(regions[i]);

		r = regions[i];
		daxm_dev_foreach(r, d) {
			for (size_t k = 0; k < sizeof(dev_attrs) / sizeof(dev_attrs[0]); k++) {
				snprintf(path, sizeof(path), "%s/%s", daxm_dev_get_devname(d), dev_attrs[k]);
				long rc = daxm_attr_read(ctx, path, buf, sizeof(buf));
				if (rc < -4095 || (rc >= 0 && (size_t)rc != strlen(buf)))
					fuzz_fail("daxm_attr_read(%s) = %ld", path, rc);
			}
			RC_ERRNO(daxm_dev_set_size(d, daxm_dev_get_size(d)));
			if (daxm_dev_is_enabled(d) == 1) {
				RC_ERRNO(daxm_dev_disable(d));
				RC_ERRNO(daxm_dev_enable(d));
			}
		}
		snprintf(path, sizeof(path), "region%d/seed", rid);
		if (daxm_attr_read(ctx, path, buf, sizeof(buf)) < -4095)
			fuzz_fail("daxm_attr_read(%s)", path);
		if (kind != DAXM_REGION_STATIC && RC_ERRNO(daxm_region_create_dev(r, &fresh)) == 0) {
			if (daxm_dev_get_id(fresh) < 0)
				fuzz_fail("a new device of region%d has id %d", rid, daxm_dev_get_id(fresh));
			if (kind == DAXM_REGION_SPARSE)
				RC_ERRNO(daxm_dev_set_tag(fresh, untagged));
			RC_ERRNO(daxm_dev_set_size(fresh, 2 * MiB));
		}
		if (kind == DAXM_REGION_SPARSE) {
			uint64_t size = daxm_region_get_size(r);
			struct daxm_extent_spec spec;
			int rc;

			/* close whatever group is open, then offer one more extent
			 * at the region's end and release it again */
			rc = RC_ERRNO(daxm_region_add_extents(r, NULL, 0, 0));
			if (rc == -E2BIG)
				fuzz_fail("region%d: closing its open group with no new record gives -E2BIG", rid);
			memset(&spec, 0, sizeof(spec));
			spec.offset = size >= 2 * MiB ? (size - 2 * MiB) / (2 * MiB) * (2 * MiB) : 0;
			spec.length = 2 * MiB;
			RC_ERRNO(daxm_region_add_extents(r, &spec, 1, 0));
			if ((e = daxm_extent_get_first(r)) != NULL) {
				if (RC_ERRNO(daxm_extent_get(e)) == 0)
					RC_ERRNO(daxm_extent_put(e));
			}
			check_model(ctx, NULL);
			RC_ERRNO(daxm_region_release_extents(r, spec.offset, spec.length, NULL, 0));
			if (fresh)
				RC_ERRNO(daxm_dev_claim_tag(fresh, untagged));
		}
		if (fresh) {
			RC_ERRNO(daxm_dev_set_size(fresh, 0));
			RC_ERRNO(daxm_region_destroy_dev(r, fresh));
		}
		check_model(ctx, NULL);
	}
	drain_all(ctx);
}
