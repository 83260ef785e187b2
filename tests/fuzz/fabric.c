/*
 * fabric.c - libFuzzer harness: a fabric manager and its hosts as an
 * operation program over the fabric's C API (include/daxmodel.h, "Fabric").
 *
 * The input first describes a fabric (profile spec, qemu or mhsld; 1-8 DC
 * regions of 256 MiB to 1 GiB with fuzzed block sizes and flags; 1-8
 * hosts; budgets and log depth; now and then a hostile spec that must be
 * refused), then a program: one byte per op, then its arguments. Ops are
 * every daxm_fmapi_* command with fuzzed payloads (hostile in_size,
 * ret_size, counts, host ids, lengths, extents across regions, NULL),
 * deliveries and runs, draining the manager's queue (also from the
 * fabric's event function), host contexts driven with ordinary daxm_*
 * calls (devices, tag selection and claims, sizes, pins, re-tags,
 * deletes, attribute reads, the refused direct extent calls), a probe of
 * the device's free capacity, and dropping the fabric for a new one while
 * host contexts are still held.
 *
 * After every op, through the C API only (check_fabric):
 *  - every call's answer is one the header allows; a refused command
 *    leaves its response untouched; reserved response fields are zero;
 *  - each host's extent list read in pages equals the list read at once:
 *    ascending, disjoint, non-empty, block aligned, inside one DC region;
 *    the generation number moves exactly when the list does (qemu: it
 *    stays 0); List Tags likewise (spec);
 *  - no block is reachable by two hosts unless one Sharable tag shares it:
 *    extents that are not a Sharable tag's (their DPA is the physical
 *    address) never overlap across hosts; every host holding a Sharable
 *    tag holds all of it (same length, sequence numbers 0..n-1);
 *  - List Tags' reference bitmaps name exactly the hosts whose lists hold
 *    the tag; capacity held (direct extents + each Sharable tag once) fits
 *    the device's total, which is the sum of the regions' lengths;
 *  - quiet (right after daxm_fabric_run(), which must then have nothing
 *    left to send): each host context's extents (daxm_extent_* walk) equal
 *    the device's list for that host, except extents a Linux host kept
 *    after a forced release the harness made; no pending offer is left
 *    (pending bitmaps empty, budgets = supported - listed);
 *  - one manager record chain per host answer: chains are contiguous,
 *    typed 04h/05h, of one host, a length-0 record only alone; with the
 *    queue drained, chains == answers (spec, mhsld) or 0 (qemu);
 *  - op_probe: Initiate Add (Free) of one block more than the lists leave
 *    free in a region must be Resources Exhausted, and of exactly what
 *    they leave free must succeed when the host's budgets allow (both
 *    directions of free + owned + shared = total);
 *  - check_model() (common.c) on every host context, and the library's
 *    own check after every call (DAXMODEL_INTERNAL_CHECKS) through the
 *    fabric's and the hosts' log functions.
 */
#include "common.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define MAX_OPS 120
#define MAX_HOSTS 8
#define MAX_FORCED 48          /* forced-release ranges remembered per host */
#define MAX_HOMES 48           /* tags whose home region the harness knows */
#define BASE0 0x4000000000ull  /* region 0's base (256 GiB) */
#define UNIT (256 * MiB)       /* DC region base and length unit */

#define FREE DAXM_FMAPI_SELECTION_POLICY_FREE
#define CONTIG DAXM_FMAPI_SELECTION_POLICY_CONTIGUOUS
#define PRESC DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE
#define ESA DAXM_FMAPI_SELECTION_POLICY_ENABLE_SHARED_ACCESS

typedef struct daxm_fmapi_extent xt;

struct span {
	uint64_t start, len;
};

/* A host's extent list as the device reports it. */
struct list {
	xt *e;
	uint32_t n, cap;
	uint32_t gen;
};

struct host {
	struct daxm_ctx *ctx; /* our reference, from daxm_fabric_get_host() */
	struct list now, before;
	struct span forced[MAX_FORCED]; /* ranges force-released on this host */
	int nforced;
	int forced_lost; /* more than MAX_FORCED, or a Forced Capacity Release
			    record may have been dropped: views not compared */
};

struct home {
	uint8_t tag[DAXM_TAG_SIZE];
	int region;
	uint64_t len; /* the capacity the creating add asked for */
};

struct fz {
	struct in in;
	struct daxm_fabric *f;
	struct daxm_fabric_spec spec;
	int profile, nregions, nhosts;
	struct daxm_fmapi_dc_region_config reg[8];
	uint64_t total;
	struct host h[MAX_HOSTS];
	/* List Tags (spec), before and after the op */
	struct daxm_fmapi_dc_tag_info *tags, *tags_before;
	uint32_t ntags, ntags_before, tag_gen, tag_gen_before, tags_cap, tags_cap_before;
	/* manager records */
	uint64_t answers, chains;
	int open_chain; /* a chain's MORE record was taken, its end not yet */
	uint8_t chain_type;
	uint16_t chain_host;
	int drain_in_fn, fn_calls, fn_installed;
	uint64_t taken; /* manager records taken, in all */
	/* quiet: the last op ran the fabric and nothing moved since */
	int quiet;
	unsigned touched; /* hosts an op called or delivered to (bit per host) */
	int qemu_overflow; /* qemu: a host log may have dropped an Add record */
	int qemu_posted;   /* qemu: records posted to host 0 since its last delivery */
	int chains_inexact; /* a dropped forced record: a host may send an
			       answer the device refuses (no chain) */
	struct home homes[MAX_HOMES];
	int nhomes;
	uint32_t fresh; /* fresh tag counter */
	uint8_t pool[6][DAXM_TAG_SIZE];
	int step;
};

static struct fz *cur;

/* DAXM_FUZZ_VERBOSE=1: a trace of the program, for reading a reproducer. */
#define TRACE(...)                                       \
	do {                                             \
		if (fuzz_verbose())                      \
			fprintf(stderr, "fabric: " __VA_ARGS__); \
	} while (0)

static const char *tagstr(const uint8_t *t)
{
	static char buf[4][40];
	static int k;
	char *b = buf[k++ % 4];
	int any = 0;
	for (int i = 0; i < DAXM_TAG_SIZE; i++)
		any |= t[i];
	if (!any)
		return "null";
	snprintf(b, 40, "%02x%02x%02x..%02x", t[0], t[1], t[2], t[15]);
	return b;
}

/* ---- return values ------------------------------------------------------- */

/* An FM API answer: 0, a CXL code this library defines, or a misuse errno. */
static int fm_rc(long rc, const char *call)
{
	if (rc == 0 || rc == -EINVAL || rc == -ERANGE)
		return (int)rc;
	if (rc > 0 && rc < 0x100 && daxm_retcode_tostr((int)rc))
		return (int)rc;
	fuzz_fail("%s returned %ld: neither 0, a CXL return code nor -EINVAL/-ERANGE", call, rc);
}
#define FM(call) fm_rc((long)(call), #call)

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* ---- logs ------------------------------------------------------------------- */

static void fabric_log(struct daxm_fabric *f, int priority, const char *file, int line,
		       const char *fn, const char *msg)
{
	(void)f, (void)priority, (void)file, (void)line;
	if (fn && strcmp(fn, "verifyAfterCall") == 0)
		fuzz_fail("the fabric's own check failed: %s", msg ? msg : "?");
}

/* ---- reading the device -------------------------------------------------------- */

static void list_reserve(struct list *l, uint32_t n)
{
	if (n <= l->cap)
		return;
	l->cap = n + 16;
	l->e = realloc(l->e, (size_t)l->cap * sizeof(xt));
	if (!l->e)
		fuzz_fail("out of memory");
}

/*
 * Host @h's whole list into @l, in pages of @page extents (0: at once),
 * checking each page against the first answer's total and generation.
 */
static void read_list(struct fz *z, uint16_t h, struct list *l, uint32_t page, int edges)
{
	struct daxm_fmapi_get_dc_region_ext_list_req q = { .host_id = h };
	struct daxm_fmapi_get_dc_region_ext_list_rsp head, *rsp;
	uint32_t total, got = 0;
	size_t sz;

	memset(&head, 0xa5, sizeof(head));
	if (FM(daxm_fmapi_get_dc_region_ext_list(z->f, &q, &head, sizeof(head))) != 0)
		fuzz_fail("5603h host %u totals: %s", h, daxm_last_error());
	if (head.extents_returned != 0 || head.host_id != h || head.start_ext_index != 0 ||
	    !all_zero(head.rsvd1, sizeof(head.rsvd1)) || !all_zero(head.rsvd2, sizeof(head.rsvd2)))
		fuzz_fail("5603h host %u count 0: returned %u host %u start %u", h, head.extents_returned,
			  head.host_id, head.start_ext_index);
	total = head.total_extents;
	if (total > (1u << 22))
		fuzz_fail("5603h host %u: %u extents", h, total);
	if (z->profile == DAXM_FABRIC_PROFILE_QEMU && head.list_generation_num != 0)
		fuzz_fail("qemu: host %u generation %u", h, head.list_generation_num);
	list_reserve(l, total);
	l->n = total;
	l->gen = head.list_generation_num;
	if (page == 0 || page > total)
		page = total ? total : 1;
	sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_get_dc_region_ext_list_rsp, extents, page);
	rsp = malloc(sz);
	if (!rsp)
		fuzz_fail("out of memory");
	while (got < total) {
		q.start_ext_index = got;
		q.extent_count = page;
		memset(rsp, 0x5a, sz);
		if (FM(daxm_fmapi_get_dc_region_ext_list(z->f, &q, rsp, sz)) != 0)
			fuzz_fail("5603h host %u from %u: %s", h, got, daxm_last_error());
		if (rsp->total_extents != total || rsp->list_generation_num != l->gen ||
		    rsp->start_ext_index != got || rsp->host_id != h ||
		    rsp->extents_returned != (total - got < page ? total - got : page))
			fuzz_fail("5603h host %u page at %u: total %u/%u gen %u/%u returned %u", h, got,
				  rsp->total_extents, total, rsp->list_generation_num, l->gen,
				  rsp->extents_returned);
		for (uint32_t k = 0; k < rsp->extents_returned; k++) {
			if (!all_zero(rsp->extents[k].rsvd, sizeof(rsp->extents[k].rsvd)))
				fuzz_fail("5603h: reserved bytes of an extent are not zero");
			l->e[got + k] = rsp->extents[k];
		}
		got += rsp->extents_returned;
	}
	/* Past the end: start == total is an empty page, beyond is refused. */
	if (!edges) {
		free(rsp);
		return;
	}
	q.start_ext_index = total;
	q.extent_count = page;
	if (FM(daxm_fmapi_get_dc_region_ext_list(z->f, &q, rsp, sz)) != 0 || rsp->extents_returned != 0)
		fuzz_fail("5603h host %u at its end: not an empty page", h);
	q.start_ext_index = total + 1;
	memset(rsp, 0x77, sz);
	if (FM(daxm_fmapi_get_dc_region_ext_list(z->f, &q, rsp, sz)) != DAXM_CXL_RC_INVALID_INPUT)
		fuzz_fail("5603h host %u past its end is not Invalid Input", h);
	for (size_t i = 0; i < sz; i++)
		if (((uint8_t *)rsp)[i] != 0x77)
			fuzz_fail("5603h refused but wrote its response");
	free(rsp);
}

static void read_tags(struct fz *z, struct daxm_fmapi_dc_tag_info **out, uint32_t *n, uint32_t *cap,
		      uint32_t *gen, uint32_t page)
{
	struct daxm_fmapi_dc_list_tags_req q = { 0, 0 };
	struct daxm_fmapi_dc_list_tags_rsp head, *rsp;
	uint32_t got = 0;
	size_t sz;

	memset(&head, 0xa5, sizeof(head));
	if (FM(daxm_fmapi_dc_list_tags(z->f, &q, &head, sizeof(head))) != 0)
		fuzz_fail("5608h totals: %s", daxm_last_error());
	if (page == 0 || page > head.total_num_tags)
		page = head.total_num_tags ? head.total_num_tags : 1;
	sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, page);
	if (head.num_tags_returned != 0 || !all_zero(head.rsvd, sizeof(head.rsvd)) ||
	    head.validity_bitmap != (DAXM_FMAPI_TAGS_REF_BITMAPS_VALID | DAXM_FMAPI_TAGS_PENDING_REF_BITMAPS_VALID))
		fuzz_fail("5608h count 0: returned %u validity %#x", head.num_tags_returned, head.validity_bitmap);
	if (head.total_num_tags > 4096)
		fuzz_fail("5608h: %u tags", head.total_num_tags);
	if (head.total_num_tags > *cap) {
		*cap = head.total_num_tags + 8;
		*out = realloc(*out, *cap * sizeof(**out));
		if (!*out)
			fuzz_fail("out of memory");
	}
	*n = head.total_num_tags;
	*gen = head.generation_num;
	rsp = malloc(sz);
	if (!rsp)
		fuzz_fail("out of memory");
	while (got < *n) {
		q.start_idx = got;
		q.tags_count = page;
		if (FM(daxm_fmapi_dc_list_tags(z->f, &q, rsp, sz)) != 0)
			fuzz_fail("5608h from %u: %s", got, daxm_last_error());
		if (rsp->total_num_tags != *n || rsp->generation_num != *gen ||
		    rsp->num_tags_returned != (*n - got < page ? *n - got : page))
			fuzz_fail("5608h page at %u: total %u/%u returned %u", got, rsp->total_num_tags, *n,
				  rsp->num_tags_returned);
		for (uint32_t k = 0; k < rsp->num_tags_returned; k++) {
			const struct daxm_fmapi_dc_tag_info *t = &rsp->tags_list[k];
			if (all_zero(t->tag, sizeof(t->tag)) || (t->flags & ~DAXM_FMAPI_TAG_FM_HOLDS_REFERENCE) ||
			    !all_zero(t->rsvd, sizeof(t->rsvd)))
				fuzz_fail("5608h entry %u: null tag, unknown flags or reserved bytes", got + k);
			(*out)[got + k] = *t;
		}
		got += rsp->num_tags_returned;
	}
	q.start_idx = *n + 1;
	if (FM(daxm_fmapi_dc_list_tags(z->f, &q, rsp, sz)) != DAXM_CXL_RC_INVALID_INPUT)
		fuzz_fail("5608h past the end is not Invalid Input");
	free(rsp);
}

static int bit(const uint8_t *map, unsigned n)
{
	return map[n / 8] >> (n % 8) & 1;
}

/* The region holding [dpa, dpa+len), or -1. */
static int region_of(const struct fz *z, uint64_t dpa, uint64_t len)
{
	for (int r = 0; r < z->nregions; r++) {
		uint64_t b = z->reg[r].base, l = z->reg[r].decode_len;
		if (dpa >= b && len <= l && dpa - b <= l - len)
			return r;
	}
	return -1;
}

static int sharable(const struct fz *z, int r)
{
	return r >= 0 && (z->reg[r].flags & DAXM_FMAPI_REGION_FLAG_SHARABLE);
}

static int tag_is_null(const uint8_t *t)
{
	return all_zero(t, DAXM_TAG_SIZE);
}

/* A Sharable tag's extent: reachable by several hosts through the tag. */
static int shared_extent(const struct fz *z, const xt *e)
{
	return z->profile == DAXM_FABRIC_PROFILE_SPEC && !tag_is_null(e->tag) &&
	       sharable(z, region_of(z, e->start_dpa, e->len));
}

static void remember_home(struct fz *z, const uint8_t *tag, int region, uint64_t len)
{
	int i;
	if (tag_is_null(tag) || region < 0)
		return;
	for (i = 0; i < z->nhomes; i++)
		if (!memcmp(z->homes[i].tag, tag, DAXM_TAG_SIZE))
			break;
	if (i == z->nhomes) {
		if (z->nhomes == MAX_HOMES)
			i = (int)(z->fresh % MAX_HOMES);
		else
			z->nhomes++;
	}
	memcpy(z->homes[i].tag, tag, DAXM_TAG_SIZE);
	z->homes[i].region = region;
	z->homes[i].len = len;
}

static const struct home *home_of(const struct fz *z, const uint8_t *tag)
{
	for (int i = 0; i < z->nhomes; i++)
		if (!memcmp(z->homes[i].tag, tag, DAXM_TAG_SIZE))
			return &z->homes[i];
	return NULL;
}

static void read_regions(struct fz *z)
{
	struct daxm_fmapi_get_host_dc_region_config_req q = { 0, 8, 0 };
	struct daxm_fmapi_get_host_dc_region_config_rsp rsp;
	struct daxm_fmapi_get_dcd_info_rsp info;

	memset(&rsp, 0xa5, sizeof(rsp));
	if (FM(daxm_fmapi_get_dc_reg_config(z->f, &q, &rsp)) != 0)
		fuzz_fail("5601h: %s", daxm_last_error());
	if (rsp.num_regions != z->nregions || rsp.regions_returned != z->nregions || rsp.host_id != 0)
		fuzz_fail("5601h: %u regions, %u returned, host %u", rsp.num_regions, rsp.regions_returned,
			  rsp.host_id);
	z->total = 0;
	for (int r = 0; r < 8; r++) {
		const struct daxm_fmapi_dc_region_config *c = &rsp.region_configs[r];
		if (r >= z->nregions) {
			if (!all_zero(c, sizeof(*c)))
				fuzz_fail("5601h: entry %d past the returned ones is not zero", r);
			continue;
		}
		if (!all_zero(c->rsvd, sizeof(c->rsvd)) || !all_zero(c->rsvd2, sizeof(c->rsvd2)) ||
		    c->decode_len != c->region_len || c->block_size == 0 ||
		    (c->block_size & (c->block_size - 1)) || c->decode_len % c->block_size ||
		    c->base != z->spec.regions[r].base || c->decode_len != z->spec.regions[r].decode_len)
			fuzz_fail("5601h: region %d reads base %#" PRIx64 " len %#" PRIx64 " block %#" PRIx64, r,
				  c->base, c->decode_len, c->block_size);
		z->reg[r] = *c;
		z->total += c->decode_len;
	}
	if (FM(daxm_fmapi_get_dcd_info(z->f, &info)) != 0)
		fuzz_fail("5600h: %s", daxm_last_error());
	if (info.total_dynamic_capacity != z->total || info.num_supported_dc_regions != z->nregions ||
	    info.num_hosts != z->nhosts || !all_zero(info.rsvd1, sizeof(info.rsvd1)) ||
	    !all_zero(info.rsvd2, sizeof(info.rsvd2)) || info.rsvd3)
		fuzz_fail("5600h: total %#" PRIx64 " vs regions %#" PRIx64 ", %u regions, %u hosts",
			  info.total_dynamic_capacity, z->total, info.num_supported_dc_regions, info.num_hosts);
}

/* ---- the manager's queue --------------------------------------------------------- */

static void take_record(struct fz *z, const struct daxm_fabric_event *ev)
{
	int len0 = ev->extent.len == 0;

	if (ev->event_type != DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE &&
	    ev->event_type != DAXM_DC_EVENT_CAPACITY_RELEASED)
		fuzz_fail("manager record of type %u", ev->event_type);
	if (ev->host_id >= z->nhosts || (ev->flags & ~DAXM_DC_EVENT_MORE))
		fuzz_fail("manager record: host %u flags %#x", ev->host_id, ev->flags);
	if (z->open_chain && (ev->event_type != z->chain_type || ev->host_id != z->chain_host))
		fuzz_fail("manager chain of type %u host %u interrupted by type %u host %u", z->chain_type,
			  z->chain_host, ev->event_type, ev->host_id);
	if (len0) {
		if (z->open_chain || (ev->flags & DAXM_DC_EVENT_MORE) ||
		    ev->event_type != DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE || ev->region_index != 0 ||
		    ev->extent.start_dpa != 0)
			fuzz_fail("a length-0 manager record not alone in an Add Capacity Response");
	} else {
		int r = region_of(z, ev->extent.start_dpa, ev->extent.len);
		if (r < 0 || (z->profile != DAXM_FABRIC_PROFILE_QEMU && r != ev->region_index))
			fuzz_fail("manager record: %#" PRIx64 "+%#" PRIx64 " in region %d, record says %u",
				  ev->extent.start_dpa, ev->extent.len, r, ev->region_index);
	}
	if (!all_zero(ev->extent.rsvd, sizeof(ev->extent.rsvd)))
		fuzz_fail("manager record: reserved bytes");
	z->open_chain = (ev->flags & DAXM_DC_EVENT_MORE) != 0;
	z->chain_type = ev->event_type;
	z->chain_host = ev->host_id;
	if (!z->open_chain)
		z->chains++;
}

static int drain_fm(struct fz *z, int max)
{
	struct daxm_fabric_event ev;
	int taken = 0;

	while (taken < max) {
		int before = daxm_fabric_get_nr_events(z->f);
		int rc = daxm_fabric_next_event(z->f, &ev);
		if (rc == -EAGAIN) {
			if (before != 0 || !all_zero(&ev, sizeof(ev)))
				fuzz_fail("next_event -EAGAIN with %d queued, or a non-zero record", before);
			break;
		}
		if (rc != 0)
			fuzz_fail("daxm_fabric_next_event: %d", rc);
		take_record(z, &ev);
		z->taken++;
		if (daxm_fabric_get_nr_events(z->f) != before - 1)
			fuzz_fail("nr_events %d after taking one of %d", daxm_fabric_get_nr_events(z->f), before);
		taken++;
	}
	return taken;
}

static void fabric_event_fn(struct daxm_fabric *f)
{
	struct fz *z = daxm_fabric_get_userdata(f);
	if (z != cur || f != z->f)
		fuzz_fail("fabric event fn: userdata %p is not the harness", (void *)z);
	z->fn_calls++;
	if (daxm_fabric_get_nr_events(f) <= 0)
		fuzz_fail("fabric event fn called with an empty queue");
	if (z->drain_in_fn)
		drain_fm(z, z->drain_in_fn);
}

/* ---- host contexts ------------------------------------------------------------- */

static struct daxm_region *region0(struct fz *z, int h)
{
	return daxm_region_get_first(z->h[h].ctx);
}

static void drain_host(struct daxm_ctx *ctx, int max)
{
	struct daxm_event *ev;

	while (max-- > 0) {
		int rc = daxm_ctx_next_event(ctx, &ev);
		if (rc == -EAGAIN)
			return;
		if (rc != 0 || !ev)
			fuzz_fail("host daxm_ctx_next_event: %d", rc);
		if (ev->type < DAXM_EVENT_GROUP || ev->type > DAXM_EVENT_KERNEL_WARNING ||
		    (ev->nr_records && !ev->records))
			fuzz_fail("host event type %u with %u records", ev->type, ev->nr_records);
		for (uint32_t i = 0; i < ev->nr_records; i++)
			if (!ev->records[i].reason || ev->records[i].result > 0 || ev->records[i].result < -4095)
				fuzz_fail("host event record %u: result %d", i, ev->records[i].result);
		daxm_event_free(ev);
	}
}

static int cmp_dpa(const void *a, const void *b)
{
	const xt *x = a, *y = b;
	return x->start_dpa < y->start_dpa ? -1 : x->start_dpa > y->start_dpa;
}

static int forced_covers(const struct host *hs, uint64_t dpa, uint64_t len)
{
	for (int i = 0; i < hs->nforced; i++)
		if (dpa >= hs->forced[i].start && dpa - hs->forced[i].start < hs->forced[i].len &&
		    len <= hs->forced[i].len - (dpa - hs->forced[i].start))
			return 1;
	return 0;
}

/* Quiet: host @h's context holds what the device lists for it. */
static void check_view(struct fz *z, int h)
{
	struct host *hs = &z->h[h];
	struct daxm_region *r0 = region0(z, h);
	struct daxm_extent *x;
	xt *v = NULL;
	uint32_t n = 0, cap = 0, i = 0, j = 0;
	int keeps_tags = z->profile != DAXM_FABRIC_PROFILE_QEMU;

	if (!r0 || daxm_region_get_start(r0) != z->reg[0].base)
		fuzz_fail("host %d: region0 missing or not at region 0's base", h);
	daxm_extent_foreach(r0, x) {
		int st = daxm_extent_get_state(x), seq = daxm_extent_get_sequence(x);
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				fuzz_fail("out of memory");
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].start_dpa = daxm_extent_get_offset(x) + z->reg[0].base;
		v[n].len = daxm_extent_get_length(x);
		if (daxm_extent_get_tag(x, v[n].tag) != 0 || seq < 0 ||
		    (st != DAXM_EXTENT_ACCEPTED && st != DAXM_EXTENT_RELEASING))
			fuzz_fail("host %d: extent getters (state %d seq %d)", h, st, seq);
		v[n].shared_seq = (uint16_t)seq;
		n++;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_dpa);
	while (i < n || j < hs->now.n) {
		const xt *a = i < n ? &v[i] : NULL, *d = j < hs->now.n ? &hs->now.e[j] : NULL;
		/* A Linux host keeps what a forced release took (stale), and
		 * accepts again, as a no-op, a later offer inside such an extent
		 * (Fabric/README.md): the device then lists the offer, the host
		 * its stale extent. Both are passed over; from then on the two
		 * disagree for good (a release of the offer gives back the whole
		 * stale extent, which the device refuses): this host's view and
		 * the chain count are no longer compared. */
		int stale = a && !(z->spec.flags & DAXM_FABRIC_HOSTS_REVOKE) && forced_covers(hs, a->start_dpa, a->len);
		if (stale && d && d->start_dpa >= a->start_dpa && d->start_dpa - a->start_dpa < a->len &&
		    d->len <= a->len - (d->start_dpa - a->start_dpa)) {
			hs->forced_lost = 1;
			z->chains_inexact = 1;
			j++;
			continue;
		}
		if (a && d && a->start_dpa == d->start_dpa) {
			if (a->len != d->len ||
			    (keeps_tags && (memcmp(a->tag, d->tag, DAXM_TAG_SIZE) || a->shared_seq != d->shared_seq)) ||
			    (!keeps_tags && (!tag_is_null(d->tag) || d->shared_seq)))
				fuzz_fail("host %d: extent %#" PRIx64 " is %#" PRIx64 " tag %s seq %u on the host, %#" PRIx64
					  " tag %s seq %u on the device", h, a->start_dpa, a->len, tagstr(a->tag), a->shared_seq,
					  d->len, tagstr(d->tag), d->shared_seq);
			i++, j++;
		} else if (a && (!d || a->start_dpa < d->start_dpa)) {
			/* Only a Linux host that ignored a forced release keeps more. */
			if (!stale)
				fuzz_fail("host %d holds %#" PRIx64 "+%#" PRIx64 ", which the device does not list", h,
					  a->start_dpa, a->len);
			i++;
		} else {
			fuzz_fail("host %d lacks %#" PRIx64 "+%#" PRIx64 ", which the device lists", h,
				  d->start_dpa, d->len);
		}
	}
	free(v);
}

/* ---- the checks after every op ------------------------------------------------- */

static int same_list(const struct list *a, const struct list *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->e, b->e, a->n * sizeof(xt)) == 0);
}

struct held {
	uint64_t dpa, len;
	int host;
};

static int cmp_held(const void *a, const void *b)
{
	const struct held *x = a, *y = b;
	return x->dpa < y->dpa ? -1 : x->dpa > y->dpa;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* The length host @h holds of @tag and the count; with @check_seq, the
 * sequence numbers must be distinct (a Sharable tag is offered numbered
 * 0..n-1; a host may have given part of it back since). */
static uint64_t tag_share(const struct fz *z, int h, const uint8_t *tag, uint32_t *count, int check_seq)
{
	const struct list *l = &z->h[h].now;
	uint64_t len = 0;
	uint32_t n = 0;
	uint16_t *seqs = check_seq ? malloc((l->n + 1) * sizeof(*seqs)) : NULL;

	if (check_seq && !seqs)
		fuzz_fail("out of memory");
	for (uint32_t k = 0; k < l->n; k++) {
		if (memcmp(l->e[k].tag, tag, DAXM_TAG_SIZE))
			continue;
		len += l->e[k].len;
		if (seqs)
			seqs[n] = l->e[k].shared_seq;
		n++;
	}
	if (seqs) {
		if (n > 1)
			qsort(seqs, n, sizeof(*seqs), cmp_u16);
		for (uint32_t s = 1; s < n; s++)
			if (seqs[s] == seqs[s - 1])
				fuzz_fail("host %d: a Sharable tag's sequence number %u repeats", h, seqs[s]);
		free(seqs);
	}
	*count = n;
	return len;
}

static const struct daxm_fmapi_dc_tag_info *find_tag(const struct fz *z, const uint8_t *tag)
{
	for (uint32_t i = 0; i < z->ntags; i++)
		if (!memcmp(z->tags[i].tag, tag, DAXM_TAG_SIZE))
			return &z->tags[i];
	return NULL;
}

static void check_fabric(struct fz *z)
{
	int spec = z->profile == DAXM_FABRIC_PROFILE_SPEC, qemu = z->profile == DAXM_FABRIC_PROFILE_QEMU;
	struct held *held = NULL;
	size_t nheld = 0, cap = 0;
	uint64_t used = 0;

	read_regions(z);
	for (int h = 0; h < z->nhosts; h++) {
		struct host *hs = &z->h[h];
		struct list *l = &hs->now;

		read_list(z, (uint16_t)h, l, 0, 0);
		if (h == z->step % z->nhosts) { /* one host a step: the same in pages */
			struct list paged = { 0 };
			read_list(z, (uint16_t)h, &paged, 1 + (uint32_t)z->step % 5, 1);
			if (!same_list(&paged, l) || paged.gen != l->gen)
				fuzz_fail("host %d: the list read in pages differs from the list read at once", h);
			free(paged.e);
		}
		for (uint32_t k = 0; k < l->n; k++) {
			const xt *e = &l->e[k];
			int r = region_of(z, e->start_dpa, e->len);
			if (e->len == 0 || r < 0 || e->start_dpa % z->reg[r].block_size ||
			    e->len % z->reg[r].block_size)
				fuzz_fail("host %d: extent %#" PRIx64 "+%#" PRIx64 " is empty, outside one region or not"
					  " block aligned", h, e->start_dpa, e->len);
			if (k > 0 && l->e[k - 1].start_dpa + l->e[k - 1].len > e->start_dpa)
				fuzz_fail("host %d: extents out of order or overlapping at %#" PRIx64, h, e->start_dpa);
			if (qemu && (!tag_is_null(e->tag) || e->shared_seq))
				fuzz_fail("qemu: host %d's accepted extent keeps a tag or sequence", h);
			if (!shared_extent(z, e)) {
				if (nheld == cap) {
					cap = cap ? 2 * cap : 64;
					held = realloc(held, cap * sizeof(*held));
					if (!held)
						fuzz_fail("out of memory");
				}
				held[nheld++] = (struct held){ e->start_dpa, e->len, h };
				used += e->len;
			}
		}
		/* The generation moves exactly when the list does. */
		if (!qemu && (same_list(l, &hs->before) != (l->gen == hs->before.gen)))
			fuzz_fail("host %d: list %s but generation %u -> %u", h,
				  same_list(l, &hs->before) ? "unchanged" : "changed", hs->before.gen, l->gen);
	}
	/* Direct capacity (DPA = physical address) is never held twice. */
	if (nheld > 1)
		qsort(held, nheld, sizeof(*held), cmp_held);
	for (size_t i = 1; i < nheld; i++)
		if (held[i - 1].dpa + held[i - 1].len > held[i].dpa)
			fuzz_fail("blocks at %#" PRIx64 " are held by hosts %d and %d", held[i].dpa, held[i - 1].host,
				  held[i].host);
	free(held);

	if (spec) {
		read_tags(z, &z->tags, &z->ntags, &z->tags_cap, &z->tag_gen,
			  z->step % 4 ? 0 : 1 + (uint32_t)z->step / 4 % 4);
		int same = z->ntags == z->ntags_before &&
			   (z->ntags == 0 || !memcmp(z->tags, z->tags_before, z->ntags * sizeof(*z->tags)));
		if (same != (z->tag_gen == z->tag_gen_before))
			fuzz_fail("List Tags %s but generation %u -> %u", same ? "unchanged" : "changed",
				  z->tag_gen_before, z->tag_gen);
		for (uint32_t i = 0; i < z->ntags; i++) {
			const struct daxm_fmapi_dc_tag_info *t = &z->tags[i];
			const struct home *home;
			uint64_t share = 0;
			for (uint32_t j = 0; j < i; j++)
				if (!memcmp(z->tags[j].tag, t->tag, DAXM_TAG_SIZE))
					fuzz_fail("List Tags shows a tag twice");
			for (int b = z->nhosts; b < 256; b++)
				if (bit(t->ref_bitmap, (unsigned)b) || bit(t->pending_ref_bitmap, (unsigned)b))
					fuzz_fail("List Tags names host %d of %d", b, z->nhosts);
			for (int h = 0; h < z->nhosts; h++) {
				uint32_t cnt;
				int sh = 0;
				uint64_t len;
				for (uint32_t k = 0; k < z->h[h].now.n && !sh; k++)
					if (!memcmp(z->h[h].now.e[k].tag, t->tag, DAXM_TAG_SIZE))
						sh = shared_extent(z, &z->h[h].now.e[k]);
				len = tag_share(z, h, t->tag, &cnt, sh);
				if ((cnt > 0) != bit(t->ref_bitmap, (unsigned)h))
					fuzz_fail("tag entry %u: host %d lists %u extents of it, reference bit %d", i, h, cnt,
						  bit(t->ref_bitmap, (unsigned)h));
				if (z->quiet && bit(t->pending_ref_bitmap, (unsigned)h))
					fuzz_fail("tag entry %u: pending to host %d with nothing in flight", i, h);
				if (!sh || !cnt)
					continue;
				/* A host may have given part of its share back: the
				 * tag is at least what its largest holder holds. */
				home = home_of(z, t->tag);
				if (home && len > home->len)
					fuzz_fail("Sharable tag entry %u: host %d holds %#" PRIx64 " of %#" PRIx64, i, h, len,
						  home->len);
				if (len > share)
					share = len;
			}
			used += share;
		}
		/* every tagged extent's tag is listed */
		for (int h = 0; h < z->nhosts; h++)
			for (uint32_t k = 0; k < z->h[h].now.n; k++)
				if (!tag_is_null(z->h[h].now.e[k].tag) && !find_tag(z, z->h[h].now.e[k].tag))
					fuzz_fail("host %d holds a tag List Tags does not show", h);
	}
	if (used > z->total)
		fuzz_fail("hosts hold %#" PRIx64 " bytes of a %#" PRIx64 "-byte device", used, z->total);

	/* One chain per answer (none under qemu) once the queue is drained. */
	if (qemu ? z->chains != 0 : z->chains > z->answers)
		fuzz_fail("%" PRIu64 " manager chains for %" PRIu64 " host answers", z->chains, z->answers);
	if (!qemu && !z->chains_inexact && !z->open_chain && daxm_fabric_get_nr_events(z->f) == 0 &&
	    z->chains != z->answers)
		fuzz_fail("%" PRIu64 " manager chains for %" PRIu64 " host answers", z->chains, z->answers);

	for (int h = 0; h < z->nhosts; h++) {
		struct daxm_fmapi_get_host_dc_region_config_req q = { (uint16_t)h, 0, 0 };
		struct daxm_fmapi_get_host_dc_region_config_rsp rsp;
		uint32_t ntags = 0;
		const struct list *l = &z->h[h].now;

		if (FM(daxm_fmapi_get_dc_reg_config(z->f, &q, &rsp)) != 0)
			fuzz_fail("5601h host %d: %s", h, daxm_last_error());
		if (rsp.regions_returned != 0 || (!qemu && rsp.host_id != h) || (qemu && rsp.host_id != 0))
			fuzz_fail("5601h host %d count 0: %u returned, host %u", h, rsp.regions_returned, rsp.host_id);
		for (uint32_t k = 0; k < l->n; k++) {
			uint32_t j;
			if (tag_is_null(l->e[k].tag))
				continue;
			for (j = 0; j < k; j++)
				if (!memcmp(l->e[j].tag, l->e[k].tag, DAXM_TAG_SIZE))
					break;
			ntags += j == k;
		}
		if (rsp.num_extents_available > rsp.num_extents_supported ||
		    (!qemu && rsp.num_extents_available > rsp.num_extents_supported - l->n) ||
		    rsp.num_tags_available > rsp.num_tags_supported ||
		    (!qemu && rsp.num_tags_available > rsp.num_tags_supported - ntags))
			fuzz_fail("host %d budgets: extents %u of %u (%u listed), tags %u of %u (%u listed)", h,
				  rsp.num_extents_available, rsp.num_extents_supported, l->n, rsp.num_tags_available,
				  rsp.num_tags_supported, ntags);
		if (z->quiet && !qemu &&
		    (rsp.num_extents_available != rsp.num_extents_supported - l->n ||
		     rsp.num_tags_available != rsp.num_tags_supported - ntags))
			fuzz_fail("host %d budgets with nothing in flight: extents %u of %u (%u listed), tags %u of %u"
				  " (%u listed)", h, rsp.num_extents_available, rsp.num_extents_supported, l->n,
				  rsp.num_tags_available, rsp.num_tags_supported, ntags);
		if (z->quiet && !z->h[h].forced_lost && !z->qemu_overflow)
			check_view(z, h);
		/* The library checks every host model after every call in this
		 * build; the API's view of it is checked where it may have moved. */
		if (z->quiet || (z->touched >> h & 1))
			check_model(z->h[h].ctx, NULL);
	}
}

/* Before an op: remember what the checks compare with (the op itself
 * reads the current lists and tags). */
static void snapshot(struct fz *z)
{
	for (int h = 0; h < z->nhosts; h++) {
		struct host *hs = &z->h[h];
		list_reserve(&hs->before, hs->now.n);
		hs->before.n = hs->now.n;
		hs->before.gen = hs->now.gen;
		if (hs->now.n)
			memcpy(hs->before.e, hs->now.e, hs->now.n * sizeof(xt));
	}
	if (z->ntags > z->tags_cap_before) {
		z->tags_cap_before = z->ntags + 8;
		z->tags_before = realloc(z->tags_before, z->tags_cap_before * sizeof(*z->tags_before));
		if (!z->tags_before)
			fuzz_fail("out of memory");
	}
	if (z->ntags)
		memcpy(z->tags_before, z->tags, z->ntags * sizeof(*z->tags));
	z->ntags_before = z->ntags;
	z->tag_gen_before = z->tag_gen;
}

/* ---- building a fabric --------------------------------------------------------- */

static void release_fabric(struct fz *z);

static void hostile_spec(struct fz *z)
{
	struct daxm_fabric_spec s;
	struct daxm_fabric *f = (struct daxm_fabric *)1;
	struct in *in = &z->in;
	int rc;

	daxm_fabric_spec_init(&s);
	s.num_regions = 1;
	s.regions[0].base = BASE0;
	s.regions[0].decode_len = UNIT;
	switch (in_below(in, 12)) {
	case 0: s.struct_size = in_u8(in); break;
	case 1: s.profile = in_u32(in); break;
	case 2: s.num_regions = in_u32(in); break;
	case 3: s.num_hosts = in_u32(in); break;
	case 4: s.regions[0].base = in_number(in); break;
	case 5: s.regions[0].decode_len = in_number(in); break;
	case 6: s.regions[0].block_size = in_number(in); break;
	case 7: s.regions[0].supported_blk_sz_mask = in_number(in); break;
	case 8: s.regions[0].flags = in_u32(in), s.profile = 1 + in_below(in, 3); break;
	case 9: s.max_extents_per_host = in_u32(in), s.max_tags_per_host = in_u32(in); break;
	case 10: s.event_log_depth = in_u32(in), s.flags = in_u32(in); break;
	default: /* a second region overlapping or below the first */
		s.num_regions = 2;
		s.regions[1].base = BASE0 + (uint64_t)in_below(in, 3) * UNIT - UNIT;
		s.regions[1].decode_len = UNIT * (1 + in_below(in, 2));
	}
	int no_out = in_u8(in) % 8 == 0;
	if (no_out)
		rc = daxm_fabric_new(in_u8(in) & 1 ? NULL : &s, NULL);
	else
		rc = daxm_fabric_new(&s, &f);
	if (rc == 0) {
		if (!f || f == (struct daxm_fabric *)1 || daxm_fabric_get_nr_hosts(f) != (int)s.num_hosts)
			fuzz_fail("daxm_fabric_new = 0 without the fabric asked for");
		daxm_fabric_set_log_fn(f, fabric_log);
		daxm_fabric_unref(f);
	} else if (rc != -EINVAL && rc != -EOPNOTSUPP && rc != -ENOMEM) {
		fuzz_fail("daxm_fabric_new of a hostile spec: %d", rc);
	} else if (no_out ? f != (struct daxm_fabric *)1 : f != NULL) {
		fuzz_fail("daxm_fabric_new refused (%d) but the fabric is %p", rc, (void *)f);
	}
}

static void build_fabric(struct fz *z)
{
	struct in *in = &z->in;
	struct daxm_fabric_spec *s = &z->spec;
	uint8_t sel = in_u8(in);
	uint64_t base = BASE0;
	int rc;

	if (sel % 8 == 7)
		hostile_spec(z);
	daxm_fabric_spec_init(s);
	switch (sel >> 6) {
	case 0:
	case 1: s->profile = DAXM_FABRIC_PROFILE_SPEC; break;
	case 2: s->profile = DAXM_FABRIC_PROFILE_MHSLD; break;
	default: s->profile = sel & 8 ? DAXM_FABRIC_PROFILE_QEMU : DAXM_FABRIC_PROFILE_SPEC;
	}
	z->profile = (int)s->profile;
	s->num_regions = 1 + in_below(in, 4);
	if (in_u8(in) % 8 == 0)
		s->num_regions = 1 + in_below(in, 8);
	s->num_hosts = z->profile == DAXM_FABRIC_PROFILE_QEMU ? 1 : 1 + in_below(in, MAX_HOSTS);
	for (uint32_t r = 0; r < s->num_regions; r++) {
		struct daxm_fabric_region *g = &s->regions[r];
		uint8_t b = in_u8(in);
		g->base = base + (b & 0x80 ? UNIT : 0);
		g->decode_len = UNIT * (1 + (b & 3) % 3);
		switch (b >> 2 & 7) {
		case 0: g->block_size = 4 * MiB; g->supported_blk_sz_mask = 2 * MiB | 4 * MiB; break;
		case 1: g->block_size = 64 * KiB; g->supported_blk_sz_mask = 64 * KiB | 2 * MiB; break;
		case 2: g->block_size = 2 * MiB; g->supported_blk_sz_mask = 2 * MiB | 4 * MiB | 16 * MiB; break;
		default: g->block_size = 2 * MiB;
		}
		if (z->profile == DAXM_FABRIC_PROFILE_SPEC && (b & 0x20))
			g->flags |= DAXM_FABRIC_REGION_SHARABLE;
		if (b & 0x40)
			g->flags |= DAXM_FABRIC_REGION_READ_ONLY;
		if (z->profile != DAXM_FABRIC_PROFILE_QEMU && (in_u8(in) & 3) == 0)
			g->flags |= in_u8(in) & 1 ? DAXM_FABRIC_REGION_SANITIZE | DAXM_FABRIC_REGION_SANITIZE_FIXED
						  : DAXM_FABRIC_REGION_SANITIZE;
		base = g->base + g->decode_len;
	}
	s->max_extents_per_host = 1 + in_below(in, 48);
	s->max_tags_per_host = in_below(in, 10);
	s->event_log_depth = 1 + in_below(in, 40);
	if (in_u8(in) % 16 == 0) /* large budgets the capacity cannot reach */
		s->max_extents_per_host = 16777216, s->max_tags_per_host = in_u32(in) | 1u << 20;
	if (in_u8(in) & 1)
		s->flags |= DAXM_FABRIC_HOSTS_REVOKE;
	z->nregions = (int)s->num_regions;
	z->nhosts = (int)s->num_hosts;
	TRACE("fabric: profile %u, %d regions, %d hosts, extents %u tags %u log %u flags %#x\n", s->profile,
	      z->nregions, z->nhosts, s->max_extents_per_host, s->max_tags_per_host, s->event_log_depth, s->flags);
	for (int r = 0; r < z->nregions; r++)
		TRACE("  region %d: %#" PRIx64 "+%#" PRIx64 " block %#" PRIx64 " flags %#x\n", r, s->regions[r].base,
		      s->regions[r].decode_len, s->regions[r].block_size, s->regions[r].flags);

	z->f = NULL;
	rc = daxm_fabric_new(s, &z->f);
	if (rc != 0 || !z->f)
		fuzz_fail("daxm_fabric_new of a valid spec: %d (%s)", rc, daxm_last_error());
	daxm_fabric_set_log_fn(z->f, fabric_log);
	daxm_fabric_set_log_priority(z->f, LOG_INFO);
	daxm_fabric_set_userdata(z->f, z);
	z->fn_installed = in_u8(in) & 1;
	if (z->fn_installed)
		daxm_fabric_set_event_fn(z->f, fabric_event_fn);
	if (daxm_fabric_get_nr_hosts(z->f) != z->nhosts)
		fuzz_fail("daxm_fabric_get_nr_hosts");
	for (int h = 0; h < z->nhosts; h++) {
		struct host *hs = &z->h[h];
		struct daxm_ctx *again = NULL;
		memset(hs, 0, sizeof(*hs));
		if (daxm_fabric_get_host(z->f, (unsigned)h, &hs->ctx) != 0 || !hs->ctx)
			fuzz_fail("daxm_fabric_get_host(%d)", h);
		if (daxm_fabric_get_host(z->f, (unsigned)h, &again) != 0 || again != hs->ctx)
			fuzz_fail("daxm_fabric_get_host(%d) gives another context the second time", h);
		daxm_unref(again);
		fuzz_quiet(hs->ctx);
	}
	z->ntags = z->ntags_before = z->tag_gen = z->tag_gen_before = 0;
	z->answers = z->chains = 0;
	z->open_chain = 0;
	z->quiet = 1;
	z->qemu_overflow = z->qemu_posted = 0;
	z->chains_inexact = 0;
	z->nhomes = 0;
	z->drain_in_fn = 0;
	read_regions(z);
	/* The new fabric is the baseline the next check compares with. */
	for (int h = 0; h < z->nhosts; h++)
		read_list(z, (uint16_t)h, &z->h[h].now, 0, 1);
	if (z->profile == DAXM_FABRIC_PROFILE_SPEC)
		read_tags(z, &z->tags, &z->ntags, &z->tags_cap, &z->tag_gen, 0);
	snapshot(z);
}

static void release_fabric(struct fz *z)
{
	for (int h = 0; h < z->nhosts; h++) {
		free(z->h[h].now.e);
		free(z->h[h].before.e);
		z->h[h].now = z->h[h].before = (struct list){ 0 };
	}
	daxm_fabric_unref(z->f);
	for (int h = 0; h < z->nhosts; h++) {
		/* The fabric is gone: its host contexts answer -ENODEV. */
		if (daxm_ctx_get_nr_events(z->h[h].ctx) != -ENODEV || daxm_region_get_first(z->h[h].ctx))
			fuzz_fail("host %d's context outlives its fabric", h);
		daxm_unref(z->h[h].ctx);
		z->h[h].ctx = NULL;
	}
	z->f = NULL;
}

/* ---- argument generators ---------------------------------------------------------- */

static uint16_t pick_host(struct fz *z)
{
	uint8_t k = in_u8(&z->in);
	if (k % 16 == 15)
		return k & 0x10 ? (uint16_t)z->nhosts : in_u16(&z->in);
	return (uint16_t)(k % z->nhosts);
}

static const uint8_t *pick_tag(struct fz *z, uint8_t buf[DAXM_TAG_SIZE])
{
	unsigned k = in_below(&z->in, 12);

	memset(buf, 0, DAXM_TAG_SIZE);
	if (k < 4) { /* a fresh one: a new allocation needs a new tag */
		z->fresh++;
		buf[0] = 0xf0;
		buf[1] = (uint8_t)(z->fresh >> 8);
		buf[2] = (uint8_t)z->fresh;
		buf[15] = 1;
	} else if (k < 8 && z->ntags) { /* a live one */
		memcpy(buf, z->tags[in_below(&z->in, z->ntags)].tag, DAXM_TAG_SIZE);
	} else if (k < 10) {
		memcpy(buf, z->pool[in_below(&z->in, 6)], DAXM_TAG_SIZE);
	} else if (k == 10) {
		for (int i = 0; i < DAXM_TAG_SIZE; i++)
			buf[i] = in_u8(&z->in);
	} /* else null */
	return buf;
}

/* An extent a host holds (of @h's list), or NULL. */
static const xt *pick_listed(struct fz *z, int h)
{
	const struct list *l = &z->h[h].now;
	if (h >= z->nhosts || l->n == 0)
		return NULL;
	return &l->e[in_below(&z->in, l->n)];
}

/* An extent for a Prescriptive list: mostly block aligned inside region r. */
static xt gen_extent(struct fz *z, int r, const uint8_t *tag)
{
	xt e;
	uint64_t blk = z->reg[r].block_size, blocks = z->reg[r].decode_len / blk;
	uint64_t lim = blocks < 96 ? blocks : 96;

	memset(&e, 0, sizeof(e));
	e.start_dpa = z->reg[r].base + blk * in_below(&z->in, (unsigned)lim);
	e.len = blk * (1 + in_below(&z->in, 4));
	if (tag)
		memcpy(e.tag, tag, DAXM_TAG_SIZE);
	e.shared_seq = (uint16_t)in_below(&z->in, 4);
	switch (in_u8(&z->in) % 24) {
	case 0: e.start_dpa = in_number(&z->in); break;
	case 1: e.len = in_number(&z->in); break;
	case 2: e.start_dpa += blk / 2 ? blk / 2 : 1; break;
	case 3: e.len = 0; break;
	case 4: e.start_dpa = z->reg[r].base + z->reg[r].decode_len - blk; break; /* may cross the end */
	case 5: e.rsvd[0] = 1; break;
	}
	return e;
}

/* A request of @hdr bytes with @n extents: an allocation of exactly the
 * size passed (so ASan sees any read past it); @size is hostile now and
 * then. */
static void *gen_request(struct fz *z, size_t hdr, uint32_t n, size_t *size)
{
	size_t need = hdr + (size_t)n * sizeof(xt);
	void *p;

	*size = need;
	switch (in_u8(&z->in) % 24) {
	case 0: *size = hdr - 1 - in_below(&z->in, 8); break;
	case 1: *size = hdr; break;
	case 2: *size = need > sizeof(xt) ? need - sizeof(xt) : need; break;
	case 3: *size = need - 1; break;
	case 4: *size = need + in_below(&z->in, 64); break;
	}
	p = calloc(1, *size ? *size : 1);
	if (!p)
		fuzz_fail("out of memory");
	return p;
}

static void note_forced(struct fz *z, int h, uint64_t dpa, uint64_t len)
{
	struct host *hs = &z->h[h];
	if (hs->nforced == MAX_FORCED) {
		hs->forced_lost = 1;
		return;
	}
	hs->forced[hs->nforced++] = (struct span){ dpa, len };
}

/* ---- ops: the fabric manager ----------------------------------------------------- */

static void op_add(struct fz *z)
{
	struct in *in = &z->in;
	uint8_t tagbuf[DAXM_TAG_SIZE];
	const uint8_t *tag = pick_tag(z, tagbuf);
	uint8_t policy = (uint8_t)in_below(in, 4);

	if (policy == ESA && z->ntags && in_u8(in) % 4) /* share a live tag, mostly */
		tag = z->tags[in_below(in, z->ntags)].tag;
	uint16_t host = pick_host(z);
	int region = (int)in_below(in, (unsigned)z->nregions);
	uint32_t n = policy == PRESC ? 1 + in_below(in, 6) : 0;
	size_t size;
	struct daxm_fmapi_initiate_dc_add_req *q;
	int rc, home;

	if (in_u8(in) % 16 == 0)
		policy = in_u8(in); /* unknown policies, reserved bits */
	if (policy == PRESC && in_u8(in) % 16 == 0)
		n = in_u8(in) % 16 == 0 ? in_u32(in) : 0; /* counts the size cannot hold */
	q = gen_request(z, sizeof(*q), n > 64 ? 0 : n, &size);
	if (size >= sizeof(*q)) {
		uint64_t blk = z->reg[region].block_size;
		q->host_id = host;
		q->selection_policy = policy;
		q->region_num = (uint8_t)region;
		q->length = blk * (1 + in_below(in, 8));
		if (in_u8(in) % 16 == 0)
			q->length = in_number(in);
		if (in_u8(in) % 16 == 0)
			q->region_num = in_u8(in);
		memcpy(q->tag, tag, DAXM_TAG_SIZE);
		q->ext_count = n;
		for (uint32_t i = 0; n <= 64 && i < n && size >= sizeof(*q) + (i + 1) * sizeof(xt); i++) {
			uint8_t t2[DAXM_TAG_SIZE];
			int r = in_u8(in) % 8 == 0 ? (int)in_below(in, (unsigned)z->nregions) : region;
			q->extents[i] = gen_extent(z, r, i > 0 && in_u8(in) % 4 == 0 ? pick_tag(z, t2) : tag);
		}
	}
	rc = FM(daxm_fmapi_initiate_dc_add(z->f, size >= sizeof(*q) || in_u8(in) & 1 ? q : NULL, size));
	if (size >= sizeof(*q)) {
		TRACE("add host %u policy %#x region %u len %#" PRIx64 " tag %s n %u size %zu: %d\n", q->host_id,
		      q->selection_policy, q->region_num, q->length, tagstr(q->tag), q->ext_count, size, rc);
		for (uint32_t i = 0; q->ext_count <= 64 && i < q->ext_count && size >= sizeof(*q) + (i + 1) * sizeof(xt); i++)
			TRACE("    %#" PRIx64 "+%#" PRIx64 " tag %s\n", q->extents[i].start_dpa, q->extents[i].len,
			      tagstr(q->extents[i].tag));
	} else {
		TRACE("add size %zu: %d\n", size, rc);
	}
	if (size < sizeof(*q) && rc != -EINVAL)
		fuzz_fail("5604h with in_size %zu < %zu: %d", size, sizeof(*q), rc);
	if (size >= sizeof(*q) && (q->selection_policy & 0xF) == PRESC &&
	    size < DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_add_req, extents, q->ext_count) && rc != -EINVAL)
		fuzz_fail("5604h: in_size %zu cannot hold %u extents, yet %d", size, q->ext_count, rc);
	if (rc == 0) {
		int p = q->selection_policy & 0xF;
		home = p == PRESC ? region_of(z, q->extents[0].start_dpa, q->extents[0].len) : q->region_num;
		if (z->profile == DAXM_FABRIC_PROFILE_QEMU) {
			if (p != PRESC)
				fuzz_fail("qemu accepted add policy %d", p);
			/* QEMU's 8-record log drops what does not fit: a lost Add
			 * Capacity record puts the host's answers out of step with
			 * the offers for good (Fabric/README.md, "qemu"). */
			if (z->qemu_posted + (int)q->ext_count > 8)
				z->qemu_overflow = 1;
			z->qemu_posted += (int)q->ext_count;
		}
		if (p == FREE || p == CONTIG)
			remember_home(z, q->tag, home, q->length);
		for (uint32_t i = 0; p == PRESC && i < q->ext_count; i++) {
			uint64_t len = 0;
			for (uint32_t j = 0; j < q->ext_count; j++)
				if (!memcmp(q->extents[j].tag, q->extents[i].tag, DAXM_TAG_SIZE))
					len += q->extents[j].len;
			remember_home(z, q->extents[i].tag, home, len);
		}
		if (host >= z->nhosts && z->profile != DAXM_FABRIC_PROFILE_QEMU)
			fuzz_fail("5604h for host %u of %d succeeded", host, z->nhosts);
	}
	if (rc > 0 && host >= z->nhosts && z->profile != DAXM_FABRIC_PROFILE_QEMU && rc != DAXM_CXL_RC_INVALID_INPUT)
		fuzz_fail("5604h for host %u of %d: %d, not Invalid Input", host, z->nhosts, rc);
	free(q);
	z->quiet = 0;
}

static void op_release(struct fz *z)
{
	struct in *in = &z->in;
	uint16_t host = pick_host(z);
	int h = host < z->nhosts ? host : 0;
	uint8_t flags = (uint8_t)in_below(in, 2);
	uint32_t n = flags == DAXM_FMAPI_REMOVAL_POLICY_PRESCRIPTIVE ? 1 + in_below(in, 4) : 0;
	uint8_t tagbuf[DAXM_TAG_SIZE];
	const xt *mine = pick_listed(z, h);
	struct daxm_fmapi_initiate_dc_release_req *q;
	int overflows;
	struct span forced[8];
	int nf = 0;
	size_t size;
	int rc;

	if (in_u8(in) % 4 == 0)
		flags |= DAXM_FMAPI_RELEASE_FORCED;
	if (in_u8(in) % 6 == 0)
		flags |= DAXM_FMAPI_RELEASE_SANITIZE;
	if (in_u8(in) % 24 == 0)
		flags = in_u8(in);
	if (n && in_u8(in) % 24 == 0)
		n = in_u8(in) % 4 == 0 ? in_u32(in) : 0;
	q = gen_request(z, sizeof(*q), n > 64 ? 0 : n, &size);
	if (size >= sizeof(*q)) {
		q->host_id = host;
		q->flags = flags;
		if (mine && in_u8(in) % 4)
			memcpy(q->tag, mine->tag, DAXM_TAG_SIZE);
		else
			memcpy(q->tag, pick_tag(z, tagbuf), DAXM_TAG_SIZE);
		switch (in_u8(in) % 8) {
		case 0: q->length = in_number(in); break;
		case 1: q->length = mine ? mine->len : 0; break;
		default: q->length = 0;
		}
		q->ext_count = n;
		for (uint32_t i = 0; n <= 64 && i < n && size >= sizeof(*q) + (i + 1) * sizeof(xt); i++) {
			const xt *e = pick_listed(z, h);
			unsigned how = in_below(in, 8);
			if (e && how < 5) {
				int er = region_of(z, e->start_dpa, e->len);
				uint64_t blk = z->reg[er < 0 ? 0 : er].block_size;
				q->extents[i] = *e;
				if (how == 3 && e->len > blk) /* a part of it */
					q->extents[i].len = e->len / 2 - (e->len / 2) % blk;
				if (how == 4) /* it and what follows */
					q->extents[i].len += blk * (1 + in_below(in, 3));
			} else {
				q->extents[i] = gen_extent(z, (int)in_below(in, (unsigned)z->nregions), NULL);
			}
		}
	}
	/* What a forced release may leave on a Linux host: note it first. */
	if (size >= sizeof(*q) && (flags & DAXM_FMAPI_RELEASE_FORCED) && host < z->nhosts) {
		if ((flags & 0xF) == DAXM_FMAPI_REMOVAL_POLICY_TAG_BASED) {
			const struct list *l = &z->h[h].now;
			for (uint32_t k = 0; k < l->n && nf < 8; k++)
				if (!memcmp(l->e[k].tag, q->tag, DAXM_TAG_SIZE))
					forced[nf++] = (struct span){ l->e[k].start_dpa, l->e[k].len };
			if (nf == 8)
				z->h[h].forced_lost = 1;
		} else {
			for (uint32_t i = 0; n <= 64 && i < n && nf < 8 && size >= sizeof(*q) + (i + 1) * sizeof(xt); i++)
				forced[nf++] = (struct span){ q->extents[i].start_dpa, q->extents[i].len };
		}
	}
	overflows = daxm_fabric_get_log_overflows(z->f, (unsigned)h);
	rc = FM(daxm_fmapi_initiate_dc_release(z->f, size >= sizeof(*q) || in_u8(in) & 1 ? q : NULL, size));
	if (size >= sizeof(*q)) {
		TRACE("release host %u flags %#x len %#" PRIx64 " tag %s n %u size %zu: %d\n", q->host_id, q->flags,
		      q->length, tagstr(q->tag), q->ext_count, size, rc);
		for (uint32_t i = 0; q->ext_count <= 64 && i < q->ext_count && size >= sizeof(*q) + (i + 1) * sizeof(xt); i++)
			TRACE("    %#" PRIx64 "+%#" PRIx64 "\n", q->extents[i].start_dpa, q->extents[i].len);
	} else {
		TRACE("release size %zu: %d\n", size, rc);
	}
	if (size < sizeof(*q) && rc != -EINVAL)
		fuzz_fail("5605h with in_size %zu < %zu: %d", size, sizeof(*q), rc);
	if (size >= sizeof(*q) && (q->flags & 0xF) == DAXM_FMAPI_REMOVAL_POLICY_PRESCRIPTIVE &&
	    size < DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_release_req, extents, q->ext_count) && rc != -EINVAL)
		fuzz_fail("5605h: in_size %zu cannot hold %u extents, yet %d", size, q->ext_count, rc);
	if (rc == 0) {
		/* Forced Capacity Release records that do not fit the host's log
		 * are dropped and counted (Fabric/README.md): the host then never
		 * learns of the revocation, keeps the extents, and may later
		 * release them in an answer the device refuses. Only a forced
		 * release drops records outside qemu. */
		int now = daxm_fabric_get_log_overflows(z->f, (unsigned)h);
		if (now < overflows)
			fuzz_fail("host %d's overflow count went from %d to %d", h, overflows, now);
		if (now != overflows && z->profile != DAXM_FABRIC_PROFILE_QEMU) {
			if (!(flags & DAXM_FMAPI_RELEASE_FORCED))
				fuzz_fail("an unforced release dropped %d records from host %d's log", now - overflows, h);
			z->h[h].forced_lost = 1;
			z->chains_inexact = 1;
		}
		for (int i = 0; i < nf; i++)
			note_forced(z, h, forced[i].start, forced[i].len);
		if (z->profile == DAXM_FABRIC_PROFILE_QEMU)
			z->qemu_posted += (int)q->ext_count;
		if (host >= z->nhosts && z->profile != DAXM_FABRIC_PROFILE_QEMU)
			fuzz_fail("5605h for host %u of %d succeeded", host, z->nhosts);
	}
	free(q);
	z->quiet = 0;
}

static void op_reference(struct fz *z)
{
	uint8_t tagbuf[DAXM_TAG_SIZE];
	const uint8_t *tag = pick_tag(z, tagbuf);
	int rc;

	if (in_u8(&z->in) & 1) {
		struct daxm_fmapi_dc_add_ref_req q;
		memcpy(q.tag, tag, DAXM_TAG_SIZE);
		rc = FM(daxm_fmapi_dc_add_reference(z->f, in_u8(&z->in) % 16 ? &q : NULL));
	} else {
		struct daxm_fmapi_dc_remove_ref_req q;
		memcpy(q.tag, tag, DAXM_TAG_SIZE);
		rc = FM(daxm_fmapi_dc_remove_reference(z->f, in_u8(&z->in) % 16 ? &q : NULL));
	}
	TRACE("reference %s: %d\n", tagstr(tag), rc);
	if (z->profile != DAXM_FABRIC_PROFILE_SPEC && rc > 0 && rc != DAXM_CXL_RC_UNSUPPORTED)
		fuzz_fail("tag references under profile %d: %d, not Unsupported", z->profile, rc);
	if (rc == 0 && z->profile != DAXM_FABRIC_PROFILE_SPEC)
		fuzz_fail("tag references succeed under profile %d", z->profile);
	z->quiet = 0;
}

/* Reads with fuzzed starts, counts and response sizes. */
static void op_read(struct fz *z)
{
	struct in *in = &z->in;
	size_t size;
	uint8_t *buf;
	int rc;

	switch (in_below(in, 4)) {
	case 0: {
		struct daxm_fmapi_get_dc_region_ext_list_req q = { pick_host(z), { 0 }, in_below(in, 8), in_below(in, 8) };
		size_t need;
		if (in_u8(in) % 8 == 0)
			q.extent_count = in_u32(in), q.start_ext_index = in_u32(in);
		need = DAXM_FMAPI_SIZE(struct daxm_fmapi_get_dc_region_ext_list_rsp, extents, q.extent_count);
		size = need > 4096 ? 4096 : need;
		if (in_u8(in) % 4 == 0)
			size = in_below(in, (unsigned)size + 1);
		buf = malloc(size ? size : 1);
		memset(buf, 0x3c, size);
		rc = FM(daxm_fmapi_get_dc_region_ext_list(z->f, &q, (void *)buf, size));
		if (size < need && rc != -ERANGE)
			fuzz_fail("5603h into %zu of %zu bytes: %d", size, need, rc);
		if (rc == 0) {
			struct daxm_fmapi_get_dc_region_ext_list_rsp *r = (void *)buf;
			if (q.host_id >= z->nhosts || r->host_id != q.host_id || r->start_ext_index != q.start_ext_index ||
			    r->extents_returned > q.extent_count ||
			    r->extents_returned != (r->total_extents - q.start_ext_index < q.extent_count
						    ? r->total_extents - q.start_ext_index : q.extent_count))
				fuzz_fail("5603h answer does not fit its request");
		} else if (rc != 0) {
			for (size_t i = 0; i < size; i++)
				if (buf[i] != 0x3c)
					fuzz_fail("5603h failed (%d) but wrote its response", rc);
		}
		free(buf);
		break;
	}
	case 1: {
		struct daxm_fmapi_dc_list_tags_req q = { in_below(in, 6), in_below(in, 6) };
		size_t need;
		if (in_u8(in) % 8 == 0)
			q.tags_count = in_u32(in), q.start_idx = in_u32(in);
		need = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, q.tags_count);
		size = need > 4096 ? 4096 : need;
		if (in_u8(in) % 4 == 0)
			size = in_below(in, (unsigned)size + 1);
		buf = malloc(size ? size : 1);
		memset(buf, 0x3c, size);
		rc = FM(daxm_fmapi_dc_list_tags(z->f, &q, (void *)buf, size));
		if (size < need && rc != -ERANGE)
			fuzz_fail("5608h into %zu of %zu bytes: %d", size, need, rc);
		if (rc == 0 && ((struct daxm_fmapi_dc_list_tags_rsp *)buf)->num_tags_returned > q.tags_count)
			fuzz_fail("5608h returned more than asked");
		if (rc != 0)
			for (size_t i = 0; i < size; i++)
				if (buf[i] != 0x3c)
					fuzz_fail("5608h failed (%d) but wrote its response", rc);
		if (z->profile != DAXM_FABRIC_PROFILE_SPEC && rc >= 0 && rc != DAXM_CXL_RC_UNSUPPORTED)
			fuzz_fail("List Tags under profile %d: %d", z->profile, rc);
		free(buf);
		break;
	}
	case 2: {
		struct daxm_fmapi_get_host_dc_region_config_req q = { pick_host(z), (uint8_t)in_below(in, 10),
								      (uint8_t)in_below(in, 10) };
		struct daxm_fmapi_get_host_dc_region_config_rsp r;
		memset(&r, 0x3c, sizeof(r));
		rc = FM(daxm_fmapi_get_dc_reg_config(z->f, &q, in_u8(in) % 16 ? &r : NULL));
		if (rc == 0) {
			unsigned want = q.start_region_id < z->nregions ? z->nregions - q.start_region_id : 0;
			if (want > q.region_cnt)
				want = q.region_cnt;
			if (r.regions_returned != want || r.num_regions != z->nregions)
				fuzz_fail("5601h start %u count %u: %u returned", q.start_region_id, q.region_cnt,
					  r.regions_returned);
			for (unsigned k = want; k < 8; k++)
				if (!all_zero(&r.region_configs[k], sizeof(r.region_configs[k])))
					fuzz_fail("5601h: entry %u past the returned ones is not zero", k);
		} else if (rc > 0) {
			for (size_t i = 0; i < sizeof(r); i++)
				if (((uint8_t *)&r)[i] != 0x3c)
					fuzz_fail("5601h failed but wrote its response");
		}
		break;
	}
	default: {
		struct daxm_fmapi_get_dcd_info_rsp info;
		if (FM(daxm_fmapi_get_dcd_info(in_u8(in) % 16 ? z->f : NULL, &info)) == 0 &&
		    (info.capacity_selection_policies & ~7u || info.capacity_removal_policies & ~3u ||
		     info.sanitize_on_release_config_mask >> z->nregions))
			fuzz_fail("5600h: policies %#x %#x mask %#x", info.capacity_selection_policies,
				  info.capacity_removal_policies, info.sanitize_on_release_config_mask);
	}
	}
}

static void op_set_config(struct fz *z)
{
	struct in *in = &z->in;
	struct daxm_fmapi_set_dc_region_config_req q;
	static const uint64_t sizes[] = { 2 * MiB, 4 * MiB, 64 * KiB, 16 * MiB, 1 * MiB, 0, 3 * MiB };
	int rc;

	memset(&q, 0, sizeof(q));
	q.region_id = (uint8_t)in_below(in, (unsigned)z->nregions + 1);
	q.block_sz = sizes[in_below(in, 7)];
	if (in_u8(in) % 4 == 0)
		q.block_sz = in_number(in);
	q.sanitize_on_release = in_u8(in) % 4 == 0 ? in_u8(in) : in_u8(in) & 1;
	rc = FM(daxm_fmapi_set_dc_region_config(z->f, in_u8(in) % 16 ? &q : NULL));
	TRACE("set region %u block %#" PRIx64 " sanitize %u: %d\n", q.region_id, q.block_sz, q.sanitize_on_release, rc);
	if (rc == 0) {
		read_regions(z);
		if (z->reg[q.region_id].block_size != q.block_sz ||
		    z->reg[q.region_id].sanitize_on_release != (q.sanitize_on_release & 1))
			fuzz_fail("5602h succeeded; 5601h reads block %#" PRIx64 " sanitize %u", z->reg[q.region_id].block_size,
				  z->reg[q.region_id].sanitize_on_release);
		if (z->profile == DAXM_FABRIC_PROFILE_QEMU)
			z->qemu_posted++;
	}
	z->quiet = 0;
}

static void op_deliver(struct fz *z)
{
	struct in *in = &z->in;
	int queued = daxm_fabric_get_nr_events(z->f), calls = z->fn_calls, rc;
	uint64_t taken = z->taken;
	uint8_t k = in_u8(in);
	long posted;

	if (k % 3 == 0) {
		unsigned host = k % 32 == 3 ? in_u32(in) : in_below(in, (unsigned)z->nhosts);
		rc = daxm_fabric_deliver(z->f, host);
		if (host >= (unsigned)z->nhosts) {
			if (rc != -ENOENT)
				fuzz_fail("daxm_fabric_deliver(%u) of %d hosts: %d", host, z->nhosts, rc);
			return;
		}
		if (host == 0)
			z->qemu_posted = 0;
		z->quiet = 0;
		z->touched |= 1u << host;
	} else {
		rc = daxm_fabric_run(z->f);
		z->touched = ~0u;
		z->qemu_posted = 0;
		z->quiet = 1;
	}
	TRACE("%s: %d answers\n", k % 3 == 0 ? "deliver" : "run", rc);
	if (rc < 0)
		fuzz_fail("delivery: %d", rc);
	z->answers += (uint64_t)rc;
	/* The fabric's event function runs once after a delivery that queued
	 * manager records, never after one that queued none. */
	posted = (long)daxm_fabric_get_nr_events(z->f) - queued + (long)(z->taken - taken);
	if (z->fn_installed && (posted > 0) != (z->fn_calls == calls + 1))
		fuzz_fail("delivery queued %ld manager records; the event function ran %d times", posted,
			  z->fn_calls - calls);
	if (!z->fn_installed && z->fn_calls != calls)
		fuzz_fail("a removed event function ran");
	if (z->quiet) {
		int again = daxm_fabric_run(z->f);
		if (again != 0)
			fuzz_fail("daxm_fabric_run right after a run sent %d answers", again);
	}
}

static void op_drain(struct fz *z)
{
	uint8_t k = in_u8(&z->in);

	if (k % 4 == 0) {
		z->drain_in_fn = (k >> 4) % 4;
		daxm_fabric_set_event_fn(z->f, k & 2 ? fabric_event_fn : NULL);
		z->fn_installed = (k & 2) != 0;
	} else {
		drain_fm(z, k % 8 == 1 ? INT_MAX : 1 + (k >> 3));
	}
}

/* Initiate Add (Free) against what the lists say is free in a region. */
static void op_probe(struct fz *z)
{
	struct in *in = &z->in;
	int r = (int)in_below(in, (unsigned)z->nregions), hb = -1;
	uint64_t blk = z->reg[r].block_size, used = 0, exp_free, allocs = 0;
	struct daxm_fmapi_initiate_dc_add_req q;
	int rc;

	if (!z->quiet || z->profile == DAXM_FABRIC_PROFILE_QEMU)
		return;
	/* capacity in region r: direct extents, and Sharable tags homed there */
	for (int h = 0; h < z->nhosts; h++)
		for (uint32_t k = 0; k < z->h[h].now.n; k++) {
			const xt *e = &z->h[h].now.e[k];
			if (!shared_extent(z, e) && region_of(z, e->start_dpa, e->len) == r)
				used += e->len, allocs++;
		}
	for (uint32_t i = 0; i < z->ntags; i++) {
		const struct daxm_fmapi_dc_tag_info *t = &z->tags[i];
		uint64_t len = 0;
		uint32_t cnt = 0;
		int holder = -1;
		const struct home *home;
		for (int h = 0; h < z->nhosts && holder < 0; h++)
			if (bit(t->ref_bitmap, (unsigned)h))
				holder = h;
		if (holder < 0)
			return; /* only the manager's reference holds it: length unknown */
		len = tag_share(z, holder, t->tag, &cnt, 0);
		for (uint32_t k = 0; k < z->h[holder].now.n; k++)
			if (!memcmp(z->h[holder].now.e[k].tag, t->tag, DAXM_TAG_SIZE) &&
			    !shared_extent(z, &z->h[holder].now.e[k]))
				len = 0; /* a private tag: counted as direct extents */
		if (!len)
			continue;
		/* The whole tag stays while any part of it is held. */
		home = home_of(z, t->tag);
		if (!home)
			return;
		if (home->region == r)
			used += home->len, allocs += home->len / blk;
	}
	if (used > z->reg[r].decode_len)
		fuzz_fail("region %d: %#" PRIx64 " bytes held of %#" PRIx64, r, used, z->reg[r].decode_len);
	exp_free = z->reg[r].decode_len - used;
	memset(&q, 0, sizeof(q));
	q.selection_policy = FREE;
	q.region_num = (uint8_t)r;
	q.host_id = (uint16_t)in_below(in, (unsigned)z->nhosts);
	q.length = exp_free + blk;
	rc = FM(daxm_fmapi_initiate_dc_add(z->f, &q, sizeof(q)));
	if (rc != DAXM_CXL_RC_RESOURCES_EXHAUSTED)
		fuzz_fail("region %d: lists leave %#" PRIx64 " free; an add of one block more gave %d", r, exp_free, rc);
	if (exp_free == 0)
		return;
	/* the lower bound: a host with no DPA used in r and room for every hole */
	for (int h = 0; h < z->nhosts && hb < 0; h++) {
		int any = 0;
		for (uint32_t k = 0; k < z->h[h].now.n && !any; k++)
			any = region_of(z, z->h[h].now.e[k].start_dpa, z->h[h].now.e[k].len) == r;
		if (!any)
			hb = h;
	}
	if (hb < 0)
		return;
	{
		struct daxm_fmapi_get_host_dc_region_config_req cq = { (uint16_t)hb, 0, 0 };
		struct daxm_fmapi_get_host_dc_region_config_rsp c;
		if (FM(daxm_fmapi_get_dc_reg_config(z->f, &cq, &c)) != 0)
			fuzz_fail("5601h");
		q.host_id = (uint16_t)hb;
		q.length = exp_free;
		rc = FM(daxm_fmapi_initiate_dc_add(z->f, &q, sizeof(q)));
		if (rc == DAXM_CXL_RC_RESOURCES_EXHAUSTED && c.num_extents_available > allocs + 1)
			fuzz_fail("region %d: lists leave %#" PRIx64 " free, but host %d (%u extents available) cannot be"
				  " offered it", r, exp_free, hb, c.num_extents_available);
		if (rc != 0 && rc != DAXM_CXL_RC_RESOURCES_EXHAUSTED && rc != DAXM_CXL_RC_RETRY_REQUIRED)
			fuzz_fail("region %d: an add of the free %#" PRIx64 " bytes gave %d", r, exp_free, rc);
		if (rc == 0)
			z->quiet = 0;
	}
}

/* ---- ops: hosts ------------------------------------------------------------------ */

static struct daxm_dev *pick_dev(struct fz *z, struct daxm_region *r0)
{
	unsigned k = in_below(&z->in, 4);
	struct daxm_dev *d = daxm_dev_get_first(r0);
	while (d && k--)
		d = daxm_dev_get_next(d) ? daxm_dev_get_next(d) : d;
	return d;
}

static struct daxm_extent *pick_host_extent(struct fz *z, struct daxm_region *r0)
{
	unsigned k = in_below(&z->in, 8);
	struct daxm_extent *x = daxm_extent_get_first(r0);
	while (x && k--)
		x = daxm_extent_get_next(x) ? daxm_extent_get_next(x) : x;
	return x;
}

static void op_host(struct fz *z)
{
	struct in *in = &z->in;
	int h = (int)in_below(in, (unsigned)z->nhosts);
	struct daxm_ctx *ctx = z->h[h].ctx;
	struct daxm_region *r0 = region0(z, h);
	struct daxm_dev *d;
	struct daxm_extent *x;
	uint8_t tag[DAXM_TAG_SIZE];
	int rc;

	if (!r0)
		fuzz_fail("host %d has no region0", h);
	z->touched |= 1u << h;
	switch (in_below(in, 14)) {
	case 12:
	case 13: /* a job: a device on the tag of an extent the host holds */
		x = pick_host_extent(z, r0);
		if (!x)
			break;
		for (d = daxm_dev_get_first(r0); d && daxm_dev_get_size(d) != 0; d = daxm_dev_get_next(d))
			;
		if (!d && RC_ERRNO(daxm_region_create_dev(r0, &d)) != 0)
			break;
		daxm_extent_get_tag(x, tag);
		if (in_u8(in) & 1) {
			rc = RC_ERRNO(daxm_dev_claim_tag(d, tag));
		} else {
			uint64_t len = daxm_extent_get_length(x);
			rc = RC_ERRNO(daxm_dev_set_tag(d, tag));
			if (rc == 0)
				rc = RC_ERRNO(daxm_dev_set_size(d, len - len % (2 * MiB)));
		}
		TRACE("host %d: job %s on %s: %d\n", h, daxm_dev_get_devname(d), tagstr(tag), rc);
		break;
	case 0:
		d = NULL;
		rc = RC_ERRNO(daxm_region_create_dev(r0, &d));
		TRACE("host %d: create dev: %d\n", h, rc);
		if (rc == 0 && (!d || daxm_dev_get_size(d) != 0))
			fuzz_fail("host %d: a new device is not empty", h);
		break;
	case 1: /* select a tag: one the host holds, mostly */
		d = pick_dev(z, r0);
		x = pick_host_extent(z, r0);
		if (x && in_u8(in) % 4)
			daxm_extent_get_tag(x, tag);
		else
			pick_tag(z, tag);
		rc = RC_ERRNO(daxm_dev_set_tag(d, in_u8(in) % 8 ? tag : NULL));
		TRACE("host %d: %s set tag %s: %d\n", h, d ? daxm_dev_get_devname(d) : "NULL", tagstr(tag), rc);
		break;
	case 2:
	case 3: {
		uint64_t size = 2 * MiB * in_below(in, 6);
		d = pick_dev(z, r0);
		if (in_u8(in) % 16 == 0)
			size = in_number(in);
		rc = RC_ERRNO(daxm_dev_set_size(d, size));
		TRACE("host %d: %s size %#" PRIx64 ": %d\n", h, d ? daxm_dev_get_devname(d) : "NULL", size, rc);
		if (rc == 0 && daxm_dev_get_size(d) != size)
			fuzz_fail("host %d: set_size %#" PRIx64 " = 0, size %#" PRIx64, h, size, daxm_dev_get_size(d));
		break;
	}
	case 4:
		d = pick_dev(z, r0);
		x = pick_host_extent(z, r0);
		if (x)
			daxm_extent_get_tag(x, tag);
		else
			pick_tag(z, tag);
		rc = RC_ERRNO(daxm_dev_claim_tag(d, tag));
		TRACE("host %d: %s claim %s: %d\n", h, d ? daxm_dev_get_devname(d) : "NULL", tagstr(tag), rc);
		break;
	case 5: /* delete (emptied first, mostly) */
		d = pick_dev(z, r0);
		if (d && in_u8(in) % 4)
			RC_ERRNO(daxm_dev_set_size(d, 0));
		TRACE("host %d: delete %s: %d\n", h, d ? daxm_dev_get_devname(d) : "NULL",
		      RC_ERRNO(daxm_region_destroy_dev(r0, d)));
		break;
	case 6:
		x = pick_host_extent(z, r0);
		TRACE("host %d: get %#" PRIx64 ": %d\n", h, daxm_extent_get_offset(x), RC_ERRNO(daxm_extent_get(x)));
		break;
	case 7:
		x = pick_host_extent(z, r0);
		TRACE("host %d: put %#" PRIx64 ": %d\n", h, daxm_extent_get_offset(x), RC_ERRNO(daxm_extent_put(x)));
		break;
	case 8: /* re-tag an extent on the host */
		x = pick_host_extent(z, r0);
		pick_tag(z, tag);
		rc = RC_ERRNO(daxm_extent_set_tag(x, tag, in_below(in, 3)));
		TRACE("host %d: re-tag %#" PRIx64 " to %s: %d\n", h, daxm_extent_get_offset(x), tagstr(tag), rc);
		break;
	case 9: { /* the device's calls on a bound region are refused */
		struct daxm_extent_spec es;
		memset(&es, 0, sizeof(es));
		es.length = 2 * MiB;
		if (daxm_region_add_extents(r0, &es, 1, 0) != -EPERM ||
		    daxm_region_release_extents(r0, 0, 2 * MiB, NULL, 0) != -EPERM)
			fuzz_fail("host %d: direct extent calls on region0 are not -EPERM", h);
		break;
	}
	case 10: {
		char buf[128];
		static const char *const paths[] = { "region0/available_size", "region0/size", "region0/extent0/tag",
						     "region0/extent1/refcount", "dax0.0/size", "region0/seed" };
		long n = daxm_attr_read(ctx, paths[in_below(in, 6)], buf, sizeof(buf));
		if (n < -4095 || n >= (long)sizeof(buf))
			fuzz_fail("host %d: attr read %ld", h, n);
		break;
	}
	default:
		drain_host(ctx, 1 + in_below(in, 8));
	}
	z->quiet = 0;
}

/* ---- ops: misuse, lifetime -------------------------------------------------------- */

static void op_misuse(struct fz *z)
{
	struct daxm_fmapi_get_dcd_info_rsp info;
	struct daxm_fabric_event ev;
	struct daxm_ctx *ctx = (struct daxm_ctx *)1;
	unsigned k = in_below(&z->in, 4);

	switch (k) {
	case 0:
		if (daxm_fmapi_get_dcd_info(NULL, &info) != -EINVAL || daxm_fmapi_get_dcd_info(z->f, NULL) != -EINVAL ||
		    daxm_fabric_next_event(z->f, NULL) != -EINVAL || daxm_fabric_deliver(NULL, 0) != -EINVAL ||
		    daxm_fabric_run(NULL) != -EINVAL || daxm_fabric_get_nr_hosts(NULL) != -EINVAL ||
		    daxm_fabric_next_event(NULL, &ev) != -EINVAL || daxm_fabric_get_host(z->f, 0, NULL) != -EINVAL ||
		    daxm_fmapi_initiate_dc_add(z->f, NULL, 64) != -EINVAL ||
		    daxm_fmapi_initiate_dc_release(z->f, NULL, 64) != -EINVAL ||
		    daxm_fmapi_set_dc_region_config(z->f, NULL) != -EINVAL)
			fuzz_fail("a NULL argument is not -EINVAL");
		break;
	case 1: {
		unsigned id = in_u8(&z->in) % 2 ? (unsigned)z->nhosts : in_u32(&z->in) | (unsigned)z->nhosts;
		if (daxm_fabric_get_host(z->f, id, &ctx) != -ENOENT || ctx != NULL)
			fuzz_fail("daxm_fabric_get_host(%u) of %d hosts", id, z->nhosts);
		break;
	}
	case 2:
		daxm_fabric_set_log_priority(z->f, (int)(int8_t)in_u8(&z->in));
		if (daxm_fabric_get_log_priority(z->f) < 0 || daxm_fabric_get_log_priority(z->f) > 7)
			fuzz_fail("fabric log priority %d", daxm_fabric_get_log_priority(z->f));
		daxm_fabric_set_log_priority(z->f, LOG_INFO);
		break;
	default:
		if (daxm_fabric_ref(z->f) != z->f)
			fuzz_fail("daxm_fabric_ref");
		daxm_fabric_unref(z->f);
		if (daxm_fabric_get_userdata(z->f) != z || daxm_retcode_tostr(-EINVAL) || !daxm_retcode_tostr(0))
			fuzz_fail("userdata or retcode names");
	}
}

/* A host context's state saves and loads as an ordinary context. */
static void op_host_roundtrip(struct fz *z)
{
	int h = (int)in_below(&z->in, (unsigned)z->nhosts);
	daxm_unref(roundtrip(z->h[h].ctx));
}

static void op_new_fabric(struct fz *z)
{
	z->touched = ~0u;
	TRACE("new fabric\n");
	drain_fm(z, INT_MAX);
	release_fabric(z);
	build_fabric(z);
}

typedef void (*op_fn)(struct fz *);
static const op_fn ops[] = {
	op_add,     op_add,     op_add,     op_release, op_release, op_reference,
	op_read,    op_set_config, op_deliver, op_deliver, op_deliver, op_drain,
	op_drain,   op_probe,   op_host,    op_host,    op_host,    op_host,
	op_misuse,  op_host_roundtrip, op_new_fabric, op_add, op_deliver, op_host,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fixed[6][DAXM_TAG_SIZE] = {
		{ 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 },
		{ 0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0xf0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	};
	static struct fz z;
	int nops = 0;

	memset(&z, 0, sizeof(z));
	z.in = (struct in){ data, size };
	memcpy(z.pool, fixed, sizeof(fixed));
	cur = &z;
	build_fabric(&z);
	check_fabric(&z);
	while (z.in.n > 0 && nops++ < MAX_OPS) {
		uint8_t op = in_u8(&z.in);
		z.step++;
		z.touched = 0;
		snapshot(&z);
		ops[op % (sizeof(ops) / sizeof(ops[0]))](&z);
		check_fabric(&z);
	}
	/* The end: everything delivered, drained, and compared. */
	snapshot(&z);
	z.answers += (uint64_t)daxm_fabric_run(z.f);
	z.quiet = 1;
	drain_fm(&z, INT_MAX);
	check_fabric(&z);
	release_fabric(&z);
	free(z.tags);
	free(z.tags_before);
	cur = NULL;
	return 0;
}
