/*
 * ops.c - libFuzzer harness: an operation program over the whole C ABI.
 *
 * The input is a program: each op is one byte (which call) followed by
 * the bytes its arguments take (tests/fuzz/common.c's in_* readers; a short
 * input reads zeros). Ops cover regions of every kind and profile,
 * attribute reads and writes with real and random paths and values,
 * device calls, sparse extents and tags, events, references and use after
 * delete or after the context is gone, save/load round trips and views.
 * After every op check_model() checks the invariants the header promises
 * (see common.h); the library's own per-call check (DAXMODEL_INTERNAL_CHECKS,
 * on in the fuzz build) fails the run through fuzz_log().
 *
 * Sizes stay small (regions in 1 GiB slots, mostly a few MiB to 64 MiB),
 * so views and memfds stay cheap.
 */
#include "common.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_OPS 160
#define POOL 24
#define MAX_REFS 16
#define MAX_VIEWS 4
#define BASE 0x100000000ull /* slot k of regions starts at BASE + k GiB */

struct ref {
	char kind; /* 'r' 'd' 'm' 'e' */
	void *obj;
	unsigned gen; /* the context generation it was taken in */
};

struct state {
	struct in in;
	struct daxm_ctx *ctx;
	unsigned gen;      /* bumped whenever ctx is replaced */
	int ctx_refs;      /* references we hold on ctx (>= 1) */
	struct daxm_region *r[POOL];
	struct daxm_dev *d[POOL];
	struct daxm_mapping *m[POOL];
	struct daxm_extent *e[POOL];
	int nr, nd, nm, ne;
	struct ref refs[MAX_REFS];
	int nrefs;
	struct daxm_view *views[MAX_VIEWS];
	int nviews;
	int paths_set;     /* a device path was set: do not touch views */
	int saved;         /* ops-state.json holds a save of this run */
	int drain_in_fn;   /* the event function drains the queue */
	uint8_t tags[6][DAXM_TAG_SIZE];
};

static struct state *cur; /* for check_model's visitor and the event fn */

/* ---- pools of handles ----------------------------------------------------- */

static void pool_add(void **pool, int *n, void *obj)
{
	for (int i = 0; i < *n && i < POOL; i++)
		if (pool[i] == obj)
			return;
	if (*n < POOL)
		pool[(*n)++] = obj;
	else
		pool[(uintptr_t)obj / 64 % POOL] = obj;
}

static void visit(char kind, void *obj)
{
	switch (kind) {
	case 'r': pool_add((void **)cur->r, &cur->nr, obj); break;
	case 'd': pool_add((void **)cur->d, &cur->nd, obj); break;
	case 'm': pool_add((void **)cur->m, &cur->nm, obj); break;
	case 'e': pool_add((void **)cur->e, &cur->ne, obj); break;
	}
}

/* A pooled handle; NULL now and then (every call takes NULL). */
static void *pick(struct state *s, void **pool, int n)
{
	unsigned k = in_u8(&s->in);
	if (n == 0 || k % 32 == 31)
		return NULL;
	return pool[k % n];
}
#define PICK_R(s) ((struct daxm_region *)pick(s, (void **)(s)->r, (s)->nr))
#define PICK_D(s) ((struct daxm_dev *)pick(s, (void **)(s)->d, (s)->nd))
#define PICK_M(s) ((struct daxm_mapping *)pick(s, (void **)(s)->m, (s)->nm))
#define PICK_E(s) ((struct daxm_extent *)pick(s, (void **)(s)->e, (s)->ne))

static const uint8_t *pick_tag(struct state *s)
{
	unsigned k = in_below(&s->in, 8);
	if (k == 7)
		return NULL;
	if (k == 6) { /* a fresh random tag */
		for (int i = 0; i < DAXM_TAG_SIZE; i++)
			s->tags[5][i] = in_u8(&s->in);
		return s->tags[5];
	}
	return s->tags[k % 6];
}

/* ---- the context -------------------------------------------------------------- */

static void event_fn(struct daxm_ctx *ctx);

static void adopt(struct state *s, struct daxm_ctx *ctx)
{
	s->ctx = ctx;
	s->ctx_refs = 1;
	s->gen++;
	s->nr = s->nd = s->nm = s->ne = 0;
	fuzz_quiet(ctx);
	daxm_set_event_fn(ctx, event_fn);
	daxm_set_userdata(ctx, s);
}

/* Drop every reference we hold on the context: it is freed. */
static void drop_ctx(struct state *s)
{
	while (s->ctx_refs-- > 0)
		daxm_unref(s->ctx);
	s->ctx = NULL;
}

/* A reference from an older context: every call answers -ENODEV or the
 * sentinel (the context is gone). */
static void check_orphan(const struct ref *r)
{
	uint8_t tag[DAXM_TAG_SIZE];

	switch (r->kind) {
	case 'r': {
		struct daxm_region *x = r->obj;
		if (daxm_region_get_ctx(x) || daxm_region_get_id(x) != -ENODEV ||
		    daxm_region_get_size(x) != DAXM_INVALID || daxm_dev_get_first(x) ||
		    daxm_region_create_dev(x, NULL) != -ENODEV || daxm_extent_get_first(x))
			fuzz_fail("a region of a freed context still answers");
		break;
	}
	case 'd': {
		struct daxm_dev *x = r->obj;
		if (daxm_dev_get_ctx(x) || daxm_dev_get_id(x) != -ENODEV ||
		    daxm_dev_get_size(x) != DAXM_INVALID || daxm_dev_set_size(x, 2 * MiB) != -ENODEV ||
		    daxm_dev_enable(x) != -ENODEV || daxm_mapping_get_first(x) ||
		    !daxm_dev_get_devname(x))
			fuzz_fail("a device of a freed context still answers");
		break;
	}
	case 'm': {
		struct daxm_mapping *x = r->obj;
		if (daxm_mapping_get_dev(x) || daxm_mapping_get_id(x) != -ENODEV ||
		    daxm_mapping_get_start(x) != DAXM_INVALID)
			fuzz_fail("a mapping of a freed context still answers");
		break;
	}
	case 'e': {
		struct daxm_extent *x = r->obj;
		if (daxm_extent_get_region(x) || daxm_extent_get_offset(x) != DAXM_INVALID ||
		    daxm_extent_get_tag(x, tag) != -ENODEV || daxm_extent_get(x) != -ENODEV ||
		    daxm_extent_put(x) != -ENODEV)
			fuzz_fail("an extent of a freed context still answers");
		break;
	}
	}
}

static void unref(const struct ref *r)
{
	switch (r->kind) {
	case 'r': daxm_region_unref(r->obj); break;
	case 'd': daxm_dev_unref(r->obj); break;
	case 'm': daxm_mapping_unref(r->obj); break;
	case 'e': daxm_extent_unref(r->obj); break;
	}
}

/* ---- events ------------------------------------------------------------------ */

static void check_event(const struct daxm_event *ev)
{
	int named = ev->type == DAXM_EVENT_DEV_LOST_MEMORY || ev->type == DAXM_EVENT_KERNEL_WARNING;

	if (ev->type < DAXM_EVENT_GROUP || ev->type > DAXM_EVENT_KERNEL_WARNING)
		fuzz_fail("event type %u", ev->type);
	if (ev->region_id < 0)
		fuzz_fail("event region_id %d", ev->region_id);
	if (ev->nr_records && !ev->records)
		fuzz_fail("event with %u records and no array", ev->nr_records);
	if (named != (ev->device != NULL))
		fuzz_fail("event type %u with device %s", ev->type, ev->device ? ev->device : "NULL");
	if ((ev->type == DAXM_EVENT_KERNEL_WARNING) != (ev->warn_function != NULL) ||
	    (ev->warn_function && (!ev->warn_file || !ev->warn_message || !ev->warn_line)))
		fuzz_fail("event type %u: warning fields do not match its type", ev->type);
	for (uint32_t i = 0; i < ev->nr_records; i++) {
		const struct daxm_extent_record *rec = &ev->records[i];
		if (!rec->reason || rec->result > 0 || rec->result < -4095)
			fuzz_fail("event record %u: result %d reason %p", i, rec->result,
				  (const void *)rec->reason);
		(void)strlen(rec->reason);
	}
}

static int drain(struct daxm_ctx *ctx, int max)
{
	int taken = 0;

	while (taken < max) {
		struct daxm_event *ev = (struct daxm_event *)1;
		int before = daxm_ctx_get_nr_events(ctx);
		int rc = daxm_ctx_next_event(ctx, &ev);
		if (rc == -EAGAIN) {
			if (ev != NULL || before != 0)
				fuzz_fail("next_event -EAGAIN with %d queued, out %p", before, (void *)ev);
			break;
		}
		if (rc != 0 || !ev)
			fuzz_fail("daxm_ctx_next_event: %d", rc);
		check_event(ev);
		daxm_event_free(ev);
		if (daxm_ctx_get_nr_events(ctx) != before - 1)
			fuzz_fail("nr_events %d after taking one of %d", daxm_ctx_get_nr_events(ctx), before);
		taken++;
	}
	return taken;
}

static void event_fn(struct daxm_ctx *ctx)
{
	struct state *s = daxm_get_userdata(ctx);
	if (!s || s != cur)
		fuzz_fail("event fn: userdata %p is not the harness state", (void *)s);
	if (s->drain_in_fn)
		drain(ctx, s->drain_in_fn);
}

/* ---- argument generators -------------------------------------------------------- */

static uint64_t region_start_of(struct daxm_region *r)
{
	uint64_t v = daxm_region_get_start(r);
	return v == DAXM_INVALID ? BASE : v;
}

static int region_id_of(struct state *s)
{
	struct daxm_region *r = PICK_R(s);
	int id = daxm_region_get_id(r);
	return id >= 0 ? id : (int)in_below(&s->in, 8) - 1;
}

static uint64_t dev_size_arg(struct state *s)
{
	unsigned k = in_u8(&s->in);
	if (k < 200)
		return (uint64_t)(k % 33) * 2 * MiB;
	if (k < 230)
		return (uint64_t)(k % 8) * PAGE * 3;
	return in_number(&s->in);
}

static const char *const region_attrs[] = {
	"id", "size", "align", "available_size", "create", "seed", "delete", "bogus", "",
};
static const char *const dev_attrs[] = {
	"size", "align", "mapping", "target_node", "numa_node", "resource", "modalias",
	"tag", "uuid", "driver", "x",
};
static const char *const mapping_attrs[] = { "start", "end", "page_offset", "size" };
static const char *const extent_attrs[] = {
	"offset", "length", "tag", "sequence", "refcount", "state", "id",
};
static const char *const driver_attrs[] = { "bind", "unbind", "new_id", "remove_id", "uevent" };
#define PICKS(s, arr) ((arr)[in_below(&(s)->in, sizeof(arr) / sizeof((arr)[0]))])

static void dev_name(struct state *s, char *buf, size_t len)
{
	struct daxm_dev *d = PICK_D(s);
	if (d && in_u8(&s->in) % 8) {
		snprintf(buf, len, "%s", daxm_dev_get_devname(d));
		return;
	}
	switch (in_below(&s->in, 4)) {
	case 0: snprintf(buf, len, "dax%d.%d", region_id_of(s), (int)in_below(&s->in, 6)); break;
	case 1: snprintf(buf, len, "dax%d.%" PRIu64, region_id_of(s), in_number(&s->in)); break;
	case 2: snprintf(buf, len, "dax%" PRId64 ".%" PRId64, (int64_t)in_number(&s->in),
			 (int64_t)in_number(&s->in)); break;
	default: in_bytes(&s->in, buf, len - 1 < 24 ? len - 1 : 24);
	}
}

static void gen_path(struct state *s, char *buf, size_t len)
{
	char dn[64];

	switch (in_below(&s->in, 8)) {
	case 0:
		snprintf(buf, len, "region%d/%s", region_id_of(s), PICKS(s, region_attrs));
		break;
	case 1:
	case 2:
		dev_name(s, dn, sizeof(dn));
		snprintf(buf, len, "%s/%s", dn, PICKS(s, dev_attrs));
		break;
	case 3: {
		struct daxm_mapping *m = PICK_M(s);
		struct daxm_dev *d = daxm_mapping_get_dev(m);
		int id = daxm_mapping_get_id(m);
		if (d)
			snprintf(dn, sizeof(dn), "%s", daxm_dev_get_devname(d));
		else
			dev_name(s, dn, sizeof(dn));
		snprintf(buf, len, "%s/mapping%d/%s", dn, id >= 0 ? id : (int)in_below(&s->in, 4),
			 PICKS(s, mapping_attrs));
		break;
	}
	case 4: {
		struct daxm_extent *e = PICK_E(s);
		int rid = daxm_region_get_id(daxm_extent_get_region(e)), id = daxm_extent_get_id(e);
		snprintf(buf, len, "region%d/extent%d/%s", rid >= 0 ? rid : region_id_of(s),
			 id >= 0 ? id : (int)in_below(&s->in, 8), PICKS(s, extent_attrs));
		break;
	}
	case 5:
		snprintf(buf, len, "device_dax/%s", PICKS(s, driver_attrs));
		break;
	case 6:
		in_bytes(&s->in, buf, len - 1 < 64 ? len - 1 : 64);
		break;
	default: {
		/* odd shapes: extra slashes, dots, numbers out of range */
		static const char *const odd[] = {
			"region%d//size", "/region%d/size", "region%d/size/", "region%d/extent/tag",
			"dax%d./size", "dax.%d/size", "region%d/mapping0/start", "dax%d.0/mapping/start",
			"region+%d/id", "region0%d/id", "dax%d.00/size", "region%d/extent-1/tag",
		};
		snprintf(buf, len, PICKS(s, odd), (int)in_number(&s->in));
	}
	}
}

static void tag_text(struct state *s, char *buf, size_t len)
{
	const uint8_t *t = pick_tag(s);
	if (!t) {
		snprintf(buf, len, "%s", in_u8(&s->in) & 1 ? "untagged" : "0");
		return;
	}
	if (daxm_tag_format(t, buf, len) != 36)
		fuzz_fail("daxm_tag_format");
	if (in_u8(&s->in) % 4 == 0) /* upper case, or one character off */
		for (char *c = buf; *c; c++)
			*c = (char)(*c >= 'a' && *c <= 'f' ? *c - 32 : *c);
}

/* Returns the value's length (it may hold NUL bytes). */
static size_t gen_value(struct state *s, char *buf, size_t len)
{
	size_t n;

	switch (in_below(&s->in, 10)) {
	case 0:
	case 1: snprintf(buf, len, "%" PRIu64, dev_size_arg(s)); break;
	case 2: snprintf(buf, len, "%#" PRIx64, in_number(&s->in)); break;
	case 3: dev_name(s, buf, len); break;
	case 4: {
		uint64_t start = region_start_of(PICK_R(s)) + (uint64_t)in_below(&s->in, 64) * 2 * MiB;
		uint64_t len_ = (uint64_t)(1 + in_below(&s->in, 8)) * 2 * MiB;
		if (in_u8(&s->in) % 8 == 0)
			len_ = in_number(&s->in);
		snprintf(buf, len, "%" PRIx64 "-%" PRIx64, start, start + len_ - 1);
		break;
	}
	case 5: tag_text(s, buf, len); break;
	case 6: snprintf(buf, len, "1"); break;
	case 7: snprintf(buf, len, "%" PRIu64, in_number(&s->in)); break;
	case 8: return in_bytes(&s->in, buf, len - 1 < 80 ? len - 1 : 80);
	default: buf[0] = '\0'; return 0;
	}
	n = strlen(buf);
	if (n + 1 < len && in_u8(&s->in) % 2)
		buf[n++] = '\n', buf[n] = '\0';
	return n;
}

/* ---- ops ------------------------------------------------------------------------ */

static void op_region_new(struct state *s)
{
	struct in *in = &s->in;
	struct daxm_region_spec spec;
	struct daxm_region *r = (struct daxm_region *)1;
	uint8_t sel = in_u8(in);
	int rc;

	daxm_region_spec_init(&spec);
	spec.kind = 1 + in_below(in, 3);
	spec.profile = 1 + in_below(in, 2);
	spec.flags = in_u8(in) & 0xF;
	spec.start = BASE + (uint64_t)in_below(in, 8) * GiB;
	spec.size = (uint64_t)(1 + in_below(in, 32)) * 2 * MiB;
	if (sel & 0x01)
		spec.id = (int)in_below(in, 6);
	if (sel & 0x02)
		spec.target_node = (int)in_below(in, 4) - 1, spec.numa_node = (int)in_below(in, 3) - 1;
	if (sel & 0x04)
		spec.dev_id = (int)in_below(in, 5);
	if (sel & 0x08) { /* sparse limits: small ones to reach them */
		spec.max_extents_per_group = 1 + in_below(in, 6);
		spec.max_extents = 1 + in_below(in, 12);
	}
	if ((sel & 0x30) == 0x30) { /* anything goes */
		switch (in_below(in, 8)) {
		case 0: spec.start = in_number(in); break;
		case 1: spec.size = in_number(in); break;
		case 2: spec.align = in_number(in); break;
		case 3: spec.id = (int32_t)in_u32(in); break;
		case 4: spec.max_extents = in_u32(in); break;
		case 5: spec.max_extents_per_group = in_u32(in); break;
		case 6: spec.kind = in_u32(in), spec.profile = in_u32(in), spec.flags = in_u32(in); break;
		default: spec.struct_size = in_u8(in), spec.dev_id = (int32_t)in_u32(in);
		}
	} else if (sel & 0x40) {
		spec.align = in_u8(in) & 1 ? PAGE : GiB;
		if (spec.align == GiB)
			spec.size = GiB;
	}
	rc = RC_ERRNO(daxm_region_new(s->ctx, &spec, in_u8(in) & 1 ? &r : NULL));
	if (rc == 0 && r != (struct daxm_region *)1) {
		if (!r || daxm_region_get_size(r) != spec.size || daxm_region_get_start(r) != spec.start)
			fuzz_fail("daxm_region_new: the new region does not match its spec");
		visit('r', r);
	}
}

static void op_create_dev(struct state *s)
{
	struct daxm_dev *d = NULL;
	struct daxm_region *r = PICK_R(s);
	int rc = RC_ERRNO(daxm_region_create_dev(r, &d));
	if (rc == 0) {
		if (!d || daxm_dev_get_size(d) != 0 || daxm_dev_get_region(d) != r)
			fuzz_fail("daxm_region_create_dev: the new device is not empty in its region");
		if (daxm_region_get_dev_youngest(r) != d)
			fuzz_fail("daxm_region_create_dev: the new device is not the youngest");
		visit('d', d);
	}
}

static void op_destroy_dev(struct state *s)
{
	struct daxm_region *r = PICK_R(s);
	struct daxm_dev *d = in_u8(&s->in) % 4 ? daxm_dev_get_first(r) : NULL;
	struct daxm_dev *other = PICK_D(s);
	int rc;

	/* a device of this region (the last one, usually), or any pooled one */
	while (d && daxm_dev_get_next(d) && in_u8(&s->in) % 4)
		d = daxm_dev_get_next(d);
	if (!d || in_u8(&s->in) % 8 == 0)
		d = other;
	rc = RC_ERRNO(daxm_region_destroy_dev(r, d));
	if (rc == 0 && (daxm_dev_get_id(d) != -ENODEV || daxm_dev_get_size(d) != DAXM_INVALID))
		fuzz_fail("a destroyed device still answers");
}

static void op_set_size(struct state *s)
{
	struct daxm_dev *d = PICK_D(s);
	uint64_t size = dev_size_arg(s);
	int rc = RC_ERRNO(daxm_dev_set_size(d, size));
	if (rc == 0 && daxm_dev_get_size(d) != size)
		fuzz_fail("daxm_dev_set_size(%#" PRIx64 ") = 0 but size is %#" PRIx64, size,
			  daxm_dev_get_size(d));
}

static void op_set_align(struct state *s)
{
	static const uint64_t aligns[] = { PAGE, 2 * MiB, GiB, 0, 4 * MiB, PAGE * 2 };
	struct daxm_dev *d = PICK_D(s);
	unsigned k = in_below(&s->in, 7);
	uint64_t a = k < 6 ? aligns[k] : in_number(&s->in);
	int rc = RC_ERRNO(daxm_dev_set_align(d, a));
	if (rc == 0 && daxm_dev_get_align(d) != a)
		fuzz_fail("daxm_dev_set_align(%#" PRIx64 ") = 0 but align is %#" PRIx64, a,
			  daxm_dev_get_align(d));
}

static void op_set_mapping(struct state *s)
{
	struct daxm_dev *d = PICK_D(s);
	uint64_t base = region_start_of(daxm_dev_get_region(d));
	uint64_t start = base + (uint64_t)in_below(&s->in, 64) * 2 * MiB;
	uint64_t end = start + (uint64_t)(1 + in_below(&s->in, 8)) * 2 * MiB - 1;

	switch (in_u8(&s->in) % 16) {
	case 0: end = in_number(&s->in); break;
	case 1: start = in_number(&s->in); break;
	case 2: start += PAGE; break;
	case 3: end = start - 1; break;
	}
	RC_ERRNO(daxm_dev_set_mapping(d, start, end));
}

static void op_bind(struct state *s)
{
	struct daxm_dev *d = PICK_D(s);
	int rc;

	if (in_u8(&s->in) & 1) {
		rc = RC_ERRNO(daxm_dev_enable(d));
		if (rc == 0 && daxm_dev_is_enabled(d) != 1)
			fuzz_fail("enabled device is not enabled");
	} else {
		rc = RC_ERRNO(daxm_dev_disable(d));
		if (rc == 0 && daxm_dev_is_enabled(d) != 0)
			fuzz_fail("disabled device is enabled");
	}
}

static void op_attr_write(struct state *s)
{
	char path[160], value[128];
	size_t n;

	gen_path(s, path, sizeof(path));
	n = gen_value(s, value, sizeof(value));
	switch (in_below(&s->in, 3)) {
	case 0:
		RC_ERRNO(daxm_attr_write(s->ctx, path, value));
		break;
	case 1: /* daxctl's strlen + 1 */
		RC_ERRNO(daxm_attr_write_buf(s->ctx, path, value, n + 1));
		break;
	default:
		RC_ERRNO(daxm_attr_write_buf(s->ctx, path, n ? value : NULL, n));
	}
}

static void op_attr_read(struct state *s)
{
	char path[160], buf[256];
	size_t len = sizeof(buf);
	long rc;

	gen_path(s, path, sizeof(path));
	switch (in_below(&s->in, 6)) {
	case 0: len = 0; break;
	case 1: len = 1 + in_below(&s->in, 12); break;
	}
	memset(buf, 0x55, sizeof(buf));
	rc = daxm_attr_read(s->ctx, path, buf, len);
	if (rc >= 0) {
		if ((size_t)rc >= len || buf[rc] != '\0' || strlen(buf) != (size_t)rc ||
		    rc == 0 || buf[rc - 1] != '\n')
			fuzz_fail("daxm_attr_read(%s) = %ld with a bad text", path, rc);
	} else if (rc < -4095) {
		fuzz_fail("daxm_attr_read(%s) = %ld", path, rc);
	} else if (len > 0 && (size_t)len < sizeof(buf) && buf[len] != 0x55) {
		fuzz_fail("daxm_attr_read(%s) wrote past len %zu", path, len);
	}
}

static void op_add_extents(struct state *s)
{
	struct daxm_extent_spec specs[6];
	struct daxm_region *r = PICK_R(s);
	unsigned n = in_below(&s->in, 7), flags = in_below(&s->in, 4);

	memset(specs, 0, sizeof(specs));
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *t = pick_tag(s);
		specs[i].offset = (uint64_t)in_below(&s->in, 40) * 2 * MiB;
		specs[i].length = (uint64_t)(1 + in_below(&s->in, 6)) * 2 * MiB;
		if (t)
			memcpy(specs[i].tag, t, DAXM_TAG_SIZE);
		specs[i].sequence = (uint16_t)in_below(&s->in, 4);
		switch (in_u8(&s->in) % 32) {
		case 0: specs[i].offset = in_number(&s->in); break;
		case 1: specs[i].length = in_number(&s->in); break;
		case 2: specs[i].sequence = in_u16(&s->in); break;
		case 3: specs[i].reserved = 1; break;
		}
	}
	if (in_u8(&s->in) % 32 == 0)
		flags = in_u32(&s->in);
	RC_ERRNO(daxm_region_add_extents(r, n || in_u8(&s->in) % 4 ? specs : NULL, n, flags));
}

static void op_release(struct state *s)
{
	struct daxm_region *r = PICK_R(s);
	struct daxm_extent *e = PICK_E(s);
	uint64_t off = (uint64_t)in_below(&s->in, 40) * 2 * MiB;
	uint64_t len = (uint64_t)(1 + in_below(&s->in, 6)) * 2 * MiB;
	const uint8_t *tag = pick_tag(s);
	uint8_t etag[DAXM_TAG_SIZE];
	unsigned flags = in_below(&s->in, 2);

	if (e && in_u8(&s->in) % 2) { /* exactly an extent we know, with its tag */
		r = daxm_extent_get_region(e);
		off = daxm_extent_get_offset(e);
		len = daxm_extent_get_length(e);
		if (daxm_extent_get_tag(e, etag) == 0)
			tag = etag;
	}
	switch (in_u8(&s->in) % 32) {
	case 0: off = in_number(&s->in); break;
	case 1: len = in_number(&s->in); break;
	case 2: flags = in_u32(&s->in); break;
	}
	RC_ERRNO(daxm_region_release_extents(r, off, len, tag, flags));
}

static void op_extent(struct state *s)
{
	struct daxm_extent *e = PICK_E(s);
	int before = daxm_extent_get_refcount(e), rc;

	switch (in_below(&s->in, 4)) {
	case 0:
		rc = RC_ERRNO(daxm_extent_get(e));
		if (rc == 0 && daxm_extent_get_refcount(e) != before + 1)
			fuzz_fail("daxm_extent_get: refcount %d -> %d", before, daxm_extent_get_refcount(e));
		break;
	case 1:
		rc = RC_ERRNO(daxm_extent_put(e));
		if (rc == 0 && daxm_extent_get_state(e) != DAXM_EXTENT_RELEASED &&
		    daxm_extent_get_refcount(e) != before - 1)
			fuzz_fail("daxm_extent_put: refcount %d -> %d", before, daxm_extent_get_refcount(e));
		break;
	case 2: {
		const uint8_t *t = pick_tag(s);
		RC_ERRNO(daxm_extent_set_tag(e, t, in_below(&s->in, 3)));
		break;
	}
	default: {
		uint8_t tag[DAXM_TAG_SIZE];
		int id = daxm_extent_get_id(e), st = daxm_extent_get_state(e);
		if (e && (id < -4095 || st < -4095 || daxm_extent_get_sequence(e) < -4095 ||
			  daxm_extent_get_tag(e, tag) > 0))
			fuzz_fail("extent getters out of contract");
	}
	}
}

static void op_dev_tag(struct state *s)
{
	struct daxm_dev *d = PICK_D(s);
	const uint8_t *t = pick_tag(s);
	uint8_t got[DAXM_TAG_SIZE];
	int rc;

	switch (in_below(&s->in, 3)) {
	case 0:
		rc = RC_ERRNO(daxm_dev_set_tag(d, t));
		if (rc == 0 && daxm_dev_get_tag(d, got) != (t != NULL))
			fuzz_fail("daxm_dev_set_tag = 0 but get_tag disagrees");
		break;
	case 1:
		rc = RC_ERRNO(daxm_dev_claim_tag(d, t));
		if (rc == 0 && (daxm_dev_get_tag(d, got) != 1 || daxm_dev_get_size(d) == 0))
			fuzz_fail("daxm_dev_claim_tag = 0 but the device has no tag or no size");
		break;
	default:
		rc = daxm_dev_get_tag(d, got);
		if (rc > 1 || rc < -4095)
			fuzz_fail("daxm_dev_get_tag = %d", rc);
	}
}

static void op_events(struct state *s)
{
	unsigned k = in_u8(&s->in);
	if (k % 4 == 0) {
		s->drain_in_fn = (int)(k >> 4) % 4;
		daxm_set_event_fn(s->ctx, k & 2 ? event_fn : NULL);
	} else {
		drain(s->ctx, 1 + (int)(k >> 2));
	}
}

static void op_ref(struct state *s)
{
	unsigned k = in_u8(&s->in);

	if (k % 3 == 0 && s->nrefs > 0) { /* drop one */
		int i = (int)(k >> 2) % s->nrefs;
		unref(&s->refs[i]);
		s->refs[i] = s->refs[--s->nrefs];
		return;
	}
	if (k % 3 == 1) { /* one more on the context */
		if (daxm_ref(s->ctx) != s->ctx)
			fuzz_fail("daxm_ref does not return its context");
		s->ctx_refs++;
		return;
	}
	if (s->nrefs == MAX_REFS)
		return;
	{
		struct ref r = { "rdme"[(k >> 2) % 4], NULL, s->gen };
		void *got = NULL;
		switch (r.kind) {
		case 'r': r.obj = PICK_R(s); got = daxm_region_ref(r.obj); break;
		case 'd': r.obj = PICK_D(s); got = daxm_dev_ref(r.obj); break;
		case 'm': r.obj = PICK_M(s); got = daxm_mapping_ref(r.obj); break;
		case 'e': r.obj = PICK_E(s); got = daxm_extent_ref(r.obj); break;
		}
		if (got != r.obj)
			fuzz_fail("daxm_%c_ref returned another pointer", r.kind);
		if (r.obj)
			s->refs[s->nrefs++] = r;
	}
}

/* Replace the context: by a fresh one, the last save, or a round-trip
 * copy. References into the old one must answer -ENODEV afterwards. */
static void op_ctx(struct state *s)
{
	unsigned k = in_below(&s->in, 4);
	struct daxm_ctx *next = NULL;
	char path[PATH_MAX];
	int rc;

	fuzz_path(path, sizeof(path), "ops-state.json");
	switch (k) {
	case 0: /* save only */
		rc = daxm_ctx_save(s->ctx, path);
		if (rc != 0)
			fuzz_fail("daxm_ctx_save: %d", rc);
		s->saved = 1;
		return;
	case 1: /* round trip, keep the original */
		daxm_unref(roundtrip(s->ctx));
		return;
	case 2: /* round trip, continue with the copy */
		next = roundtrip(s->ctx);
		break;
	default: /* free the context; continue with the last save or a new one */
		break;
	}
	drop_ctx(s);
	for (int i = 0; i < s->nrefs; i++)
		check_orphan(&s->refs[i]);
	for (int i = 0; i < s->nviews; i++)
		if (daxm_view_get_dev(s->views[i]) != NULL)
			fuzz_fail("a view's device outlives its context");
	if (!next && s->saved) {
		rc = daxm_ctx_load(path, &next);
		if (rc != 0)
			fuzz_fail("daxm_ctx_load of this run's save: %d", rc);
	}
	if (!next && daxm_new(&next) != 0)
		fuzz_fail("daxm_new");
	adopt(s, next);
}

static void op_view(struct state *s)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE, PROT_NONE,
				     PROT_READ | PROT_EXEC };
	struct daxm_view *v = NULL;
	struct daxm_dev *d;
	unsigned k = in_u8(&s->in);
	int prot, rc;

	if ((k & 3) == 0 && s->nviews > 0) {
		int i = (int)(k >> 2) % s->nviews;
		if (daxm_view_unmap(s->views[i]) != 0)
			fuzz_fail("daxm_view_unmap");
		s->views[i] = s->views[--s->nviews];
		return;
	}
	if (s->nviews == MAX_VIEWS)
		return;
	d = PICK_D(s);
	prot = prots[(k >> 2) % 5];
	if (daxm_dev_get_size(d) != DAXM_INVALID && daxm_dev_get_size(d) > 256 * MiB)
		return;
	rc = RC_ERRNO(daxm_dev_map(d, prot, &v));
	if (rc != 0)
		return;
	if (!v)
		fuzz_fail("daxm_dev_map = 0 without a view");
	s->views[s->nviews++] = v;
	{
		uint8_t *addr = daxm_view_get_addr(v);
		uint64_t size = daxm_view_get_size(v), align = daxm_dev_get_align(d);
		if (!addr || size != daxm_dev_get_size(d) || daxm_view_get_dev(v) != d ||
		    (uintptr_t)addr % (align < PAGE ? PAGE : align))
			fuzz_fail("view %p +%#" PRIx64 " of a device of size %#" PRIx64 " align %#" PRIx64,
				  (void *)addr, size, daxm_dev_get_size(d), align);
		if (prot & PROT_WRITE && !s->paths_set) {
			uint8_t b = in_u8(&s->in);
			addr[0] = b;
			addr[size - 1] = (uint8_t)~b;
			if (addr[0] != b || addr[size - 1] != (uint8_t)~b)
				fuzz_fail("a view does not keep what was written");
		} else if (!s->paths_set) {
			(void)*(volatile uint8_t *)&addr[size - 1];
		}
	}
}

static void op_path(struct state *s)
{
	static char longpath[5000];
	static const char *const paths[] = { NULL, "", "/nonexistent/dax0.0", "/dev/null",
					     "relative/dax", longpath };
	struct daxm_dev *d = PICK_D(s);
	const char *p = paths[in_below(&s->in, 6)];
	int rc;

	if (!longpath[0])
		memset(longpath, 'a', sizeof(longpath) - 1);
	rc = RC_ERRNO(daxm_dev_set_path(d, p));
	if (rc == 0 && p)
		s->paths_set = 1;
}

static void op_lookup(struct state *s)
{
	char name[64];
	struct daxm_region *r;
	struct daxm_dev *d;

	switch (in_below(&s->in, 5)) {
	case 0:
		dev_name(s, name, sizeof(name));
		d = daxm_dev_get_by_name(s->ctx, name);
		if (d && strcmp(daxm_dev_get_devname(d), name) != 0)
			fuzz_fail("daxm_dev_get_by_name(%s) found %s", name, daxm_dev_get_devname(d));
		if (d)
			visit('d', d);
		break;
	case 1:
		r = daxm_region_get_by_id(s->ctx, (int)in_u32(&s->in));
		if (r)
			visit('r', r);
		break;
	case 2:
		r = PICK_R(s);
		if ((d = daxm_region_get_dev_seed(r)))
			visit('d', d);
		if ((d = daxm_region_get_dev_youngest(r)))
			visit('d', d);
		break;
	case 3: { /* getters on any pooled handle, deleted or not */
		struct daxm_dev *x = PICK_D(s);
		struct daxm_mapping *m = PICK_M(s);
		if (daxm_dev_get_id(x) < -4095 || daxm_dev_get_nr_mappings(x) < -4095 ||
		    daxm_dev_get_target_node(x) < -4095 || daxm_mapping_get_id(m) < -4095 ||
		    daxm_dev_is_enabled(x) > 1)
			fuzz_fail("getter out of contract");
		(void)daxm_dev_get_resource(x);
		(void)daxm_mapping_get_end(m);
		(void)daxm_mapping_get_next(m);
		(void)daxm_dev_get_next(x);
		break;
	}
	default: {
		uint8_t tag[DAXM_TAG_SIZE], again[DAXM_TAG_SIZE];
		char text[80], out[40];
		in_bytes(&s->in, text, 40);
		if (in_u8(&s->in) & 1)
			tag_text(s, text, sizeof(text));
		if (daxm_tag_parse(text, tag) == 0) {
			if (daxm_tag_format(tag, out, sizeof(out)) != 36 || daxm_tag_parse(out, again) != 0 ||
			    memcmp(tag, again, sizeof(tag)) != 0)
				fuzz_fail("tag \"%s\" does not survive format and parse", text);
			if (daxm_tag_format(tag, out, 36) != -ERANGE)
				fuzz_fail("daxm_tag_format into 36 bytes");
		}
	}
	}
}

static void op_misc(struct state *s)
{
	unsigned k = in_u8(&s->in);
	int prio;

	switch (k % 4) {
	case 0:
		daxm_set_log_priority(s->ctx, (int)(int8_t)in_u8(&s->in));
		prio = daxm_get_log_priority(s->ctx);
		if (prio < 0 || prio > 7)
			fuzz_fail("log priority %d", prio);
		break;
	case 1: /* NULL arguments: -EINVAL or the sentinel, never a crash */
		if (daxm_region_new(s->ctx, NULL, NULL) != -EINVAL ||
		    daxm_attr_write(s->ctx, NULL, "1") != -EINVAL ||
		    daxm_attr_read(s->ctx, "region0/id", NULL, 8) != -EINVAL ||
		    daxm_dev_set_size(NULL, 0) != -EINVAL || daxm_extent_get(NULL) != -EINVAL ||
		    daxm_ctx_next_event(s->ctx, NULL) != -EINVAL || daxm_ctx_save(s->ctx, NULL) != -EINVAL ||
		    daxm_ctx_save(s->ctx, "") != -EINVAL || daxm_view_unmap(NULL) != -EINVAL ||
		    daxm_region_add_extents(PICK_R(s), NULL, 1, 0) > 0 ||
		    daxm_attr_write_buf(s->ctx, "region0/create", NULL, 1) != -EINVAL)
			fuzz_fail("a NULL argument is not -EINVAL");
		break;
	case 2: {
		/* a save into a directory that does not exist fails cleanly; a
		 * save to a name with any bytes writes exactly that name */
		char path[PATH_MAX], name[40];
		fuzz_path(path, sizeof(path), "no/such/dir/state.json");
		if (RC_ERRNO(daxm_ctx_save(s->ctx, path)) == 0)
			fuzz_fail("a save into a missing directory succeeded");
		snprintf(name, sizeof(name), "save-%c%c.json", 'a' + (k >> 4) % 16, 0x80 + (k & 0x7f));
		fuzz_path(path, sizeof(path), name);
		if (RC_ERRNO(daxm_ctx_save(s->ctx, path)) != 0 || access(path, F_OK) != 0)
			fuzz_fail("daxm_ctx_save(\"%s\") did not write that file", name);
		unlink(path);
		break;
	}
	default:
		if (daxm_get_userdata(s->ctx) != s)
			fuzz_fail("userdata");
		if (!daxm_last_error())
			fuzz_fail("daxm_last_error is NULL");
	}
}

typedef void (*op_fn)(struct state *);
static const op_fn ops[] = {
	op_region_new, op_create_dev,  op_destroy_dev, op_set_size,   op_set_align,
	op_set_mapping, op_bind,       op_attr_write,  op_attr_write, op_attr_read,
	op_add_extents, op_add_extents, op_release,    op_extent,     op_dev_tag,
	op_events,      op_ref,        op_ctx,         op_view,       op_path,
	op_lookup,      op_misc,       op_set_size,    op_create_dev,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fixed_tags[4][DAXM_TAG_SIZE] = {
		{ 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 },
		{ 0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	struct state st;
	struct daxm_ctx *ctx = NULL;
	int nops = 0;

	memset(&st, 0, sizeof(st));
	st.in = (struct in){ data, size };
	memcpy(st.tags[1], fixed_tags, sizeof(fixed_tags));
	cur = &st;
	if (daxm_new(&ctx) != 0 || !ctx)
		fuzz_fail("daxm_new");
	adopt(&st, ctx);
	while (st.in.n > 0 && nops++ < MAX_OPS) {
		uint8_t op = in_u8(&st.in);
		ops[op % (sizeof(ops) / sizeof(ops[0]))](&st);
		check_model(st.ctx, visit);
	}
	/* A last round trip of whatever the program built. */
	if (nops > 0)
		daxm_unref(roundtrip(st.ctx));
	drop_ctx(&st);
	for (int i = 0; i < st.nrefs; i++) {
		check_orphan(&st.refs[i]);
		unref(&st.refs[i]);
	}
	for (int i = 0; i < st.nviews; i++)
		daxm_view_unmap(st.views[i]);
	cur = NULL;
	return 0;
}
