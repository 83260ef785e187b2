/*
 * fabric_stress.c - the fabric under concurrent load, then its invariants
 * (issue 15 item 7, the thread half): for a bounded time, on one fabric,
 *
 *  - two manager threads issue every FM API command (Initiate Add Free,
 *    Contiguous, Prescriptive and Enable Shared Access; Tag-based and
 *    Prescriptive releases, some forced or asking to sanitize; add and
 *    remove references; Get DCD Info, Get Host DC Region Config, Set DC
 *    Region Config; extent lists read in pages with the generation
 *    protocol; List Tags) and drain the manager's queue;
 *  - a delivery thread runs the fabric or delivers to one host;
 *  - one thread per host uses its host context with ordinary daxm_* calls:
 *    devices on the tags it holds (select + size, claim), shrinks,
 *    deletes, pins and puts, attribute reads, its own event queue;
 *  - an observer reads whole lists and List Tags in single calls: a list
 *    is ascending and disjoint, and two reads with the same generation
 *    number are the same list;
 *  - the fabric's event function drains records on whichever thread
 *    delivered.
 * Map/unmap is not part of it (views of host contexts are private memory,
 * see the header's "Not modelled yet").
 *
 * Then, quiet (every device gone, the fabric run until nothing moves, the
 * queue drained), through the C API: one manager chain per host answer;
 * each host context's extents equal the device's list for it (the fabric
 * is made with DAXM_FABRIC_HOSTS_REVOKE, so no host keeps a force-released
 * extent); extents that are not a Sharable tag's never overlap across
 * hosts and every holder of a Sharable tag holds all of it; budgets are
 * the supported ones minus what is listed; a Free add of one block more
 * than the lists leave free is Resources Exhausted. Finally every host
 * gives everything back and the manager drops its references: lists and
 * List Tags are empty and each region can be offered whole again, so no
 * block leaked.
 *
 * Time: DAXM_FABRIC_STRESS_SECONDS (default 2; fractions allowed) of
 * load. A long run needs the area's 120 s alarm off:
 *   DAXM_FABRIC_STRESS_SECONDS=600 DAXM_CTEST_NOFORK=1 daxm-ctest fabric_stress
 * scripts/test.sh runs it under ThreadSanitizer with the default.
 */
#include "fabric.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <time.h>

#define NHOSTS 4
#define NMANAGERS 2
#define MAX_REPORTS 5 /* failures printed per thread; all are counted */
#define SHARABLE DAXM_FABRIC_REGION_SHARABLE
#define FREE DAXM_FMAPI_SELECTION_POLICY_FREE
#define CONTIG DAXM_FMAPI_SELECTION_POLICY_CONTIGUOUS
#define PRESC DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE
#define ESA DAXM_FMAPI_SELECTION_POLICY_ENABLE_SHARED_ACCESS

typedef struct daxm_fmapi_extent xt;

static atomic_int stop;
static atomic_long answers;    /* host answers the deliveries reported */
static atomic_long chain_ends; /* manager records without MORE taken */
static atomic_long records;    /* manager records taken */
static atomic_int open_more;   /* the last record taken had MORE (quiet only) */
static atomic_long ops_done[8]; /* per kind, for the verbose summary */

/* The last operations, printed when the library's own check (debug
 * builds) finds a broken invariant: calls are serialized by the fabric's
 * lock, so the order here is close to theirs. */
#define RING (1 << 16)
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static char ring[RING][128];
static long ring_pos;
static int ring_dumped;

__attribute__((format(printf, 1, 2))) static void trace(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&ring_lock);
	va_start(ap, fmt);
	vsnprintf(ring[ring_pos++ % RING], sizeof(ring[0]), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&ring_lock);
}

static void stress_log(struct daxm_fabric *f, int priority, const char *file, int line,
		       const char *fn, const char *msg)
{
	(void)f, (void)priority, (void)file, (void)line;
	if (!fn || strcmp(fn, "verifyAfterCall") != 0)
		return;
	t_result(0, __FILE__, __LINE__, "no broken fabric invariant after a call", msg);
	pthread_mutex_lock(&ring_lock);
	if (!ring_dumped++) {
		printf("fabric_stress: the last operations before it (newest last):\n");
		for (long p = ring_pos > RING ? ring_pos - RING : 0; p < ring_pos; p++)
			printf("  %s\n", ring[p % RING]);
	}
	pthread_mutex_unlock(&ring_lock);
}

/* A host context's debug check after a delivery (the host sees what the
 * device does not list, or misses what it lists): the first one prints the
 * traced operations that name the first address in the message. */
static void host_log(struct daxm_ctx *ctx, int priority, const char *file, int line, const char *fn,
		     const char *msg)
{
	static atomic_int told;
	const char *at = msg ? strstr(msg, "dpa 0x") : NULL;
	char addr[24] = "";

	(void)ctx, (void)priority, (void)file, (void)line;
	if (!fn || strcmp(fn, "verifyAfterCall") != 0)
		return;
	t_result(0, __FILE__, __LINE__, "no broken invariant after a call", msg);
	if (!at || atomic_fetch_add(&told, 1))
		return;
	sscanf(at + 6, "%20[0-9a-f]", addr);
	pthread_mutex_lock(&ring_lock);
	printf("fabric_stress: traced operations naming %s (newest last):\n", addr);
	for (long p = ring_pos > RING ? ring_pos - RING : 0; p < ring_pos; p++)
		if (*addr && strstr(ring[p % RING], addr))
			printf("  %s\n", ring[p % RING]);
	pthread_mutex_unlock(&ring_lock);
}

struct worker {
	struct daxm_fabric *f;
	struct daxm_ctx *ctx; /* host workers */
	unsigned id, seed;
	int bad;
	long calls;
};

#define WCHECK(w, cond)                                                              \
	do {                                                                         \
		if (!(cond)) {                                                       \
			if ((w)->bad++ < MAX_REPORTS)                                \
				t_result(0, __FILE__, __LINE__, #cond, daxm_last_error()); \
		}                                                                    \
		(w)->calls++;                                                        \
	} while (0)

static int bit_of(const uint8_t map[32], unsigned ld)
{
	return (map[ld / 8] >> (ld % 8)) & 1;
}

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

/* Host, runner and observer threads leave the locks to the managers now
 * and then: a delivery holds the fabric's lock while it waits for a host's,
 * so spinning host threads would starve the manager's commands. */
static void pause_briefly(void)
{
	struct timespec ts = { 0, 100 * 1000 };
	nanosleep(&ts, NULL);
}

static int verbose(void)
{
	const char *v = getenv("DAXM_CTEST_VERBOSE");
	return v && *v && strcmp(v, "0") != 0;
}

/* A command's answer: 0 or a CXL return code this library defines. */
static int code_ok(int rc)
{
	return rc == 0 || (rc > 0 && daxm_retcode_tostr(rc) != NULL);
}

static void take_record(const struct daxm_fabric_event *ev)
{
	trace("mq: type %u host %u %#" PRIx64 "+%" PRIu64 "M flags %#x", ev->event_type, ev->host_id,
	      ev->extent.start_dpa, ev->extent.len >> 20, ev->flags);
	atomic_fetch_add(&records, 1);
	if (!(ev->flags & DAXM_DC_EVENT_MORE))
		atomic_fetch_add(&chain_ends, 1);
	atomic_store(&open_more, (ev->flags & DAXM_DC_EVENT_MORE) != 0);
}

static int drain(struct daxm_fabric *f, int max)
{
	struct daxm_fabric_event ev;
	int n = 0;

	while (n < max && daxm_fabric_next_event(f, &ev) == 0) {
		take_record(&ev);
		n++;
	}
	return n;
}

static void on_event(struct daxm_fabric *f)
{
	drain(f, 4);
}

/* A whole list in one call (at most @max extents): 0 or the call's code. */
static int list_once(struct daxm_fabric *f, uint16_t host, uint32_t max,
		     struct daxm_fmapi_get_dc_region_ext_list_rsp **out)
{
	return fab_list(f, host, 0, max, out);
}

static int sorted_disjoint(const struct daxm_fmapi_get_dc_region_ext_list_rsp *r)
{
	for (uint32_t k = 0; k < r->extents_returned; k++) {
		if (r->extents[k].len == 0)
			return 0;
		if (k && r->extents[k - 1].start_dpa + r->extents[k - 1].len > r->extents[k].start_dpa)
			return 0;
	}
	return 1;
}

/* A host whose DC event log dropped a record (a Forced Capacity Release
 * that did not fit): it keeps extents the device revoked, and may name
 * them in answers the device refuses (no manager chain) or never give
 * back what a tag group shares with them. Its view is not compared and
 * the chain count is a bound; everything the device says is still checked. */
static int tainted(struct daxm_fabric *f, unsigned h)
{
	int n = daxm_fabric_get_log_overflows(f, h);

	CHECK(n >= 0);
	return n > 0;
}

static int any_tainted(struct daxm_fabric *f)
{
	for (unsigned h = 0; h < NHOSTS; h++)
		if (tainted(f, h))
			return 1;
	return 0;
}

/* ---- the manager ----------------------------------------------------- */

/* A live tag from List Tags (page from a random start), or 0. */
static int some_tag(struct worker *w, uint8_t tag[DAXM_TAG_SIZE])
{
	struct daxm_fmapi_dc_list_tags_req q = { 0, 8 };
	size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, 8);
	struct daxm_fmapi_dc_list_tags_rsp *r = calloc(1, sz);
	int rc, ok = 0;

	if (!r)
		return 0;
	rc = daxm_fmapi_dc_list_tags(w->f, &q, r, sz);
	WCHECK(w, rc == 0);
	if (rc == 0 && r->total_num_tags) {
		q.start_idx = rnd(&w->seed) % r->total_num_tags;
		rc = daxm_fmapi_dc_list_tags(w->f, &q, r, sz);
		/* others may have freed tags in between: then past the end */
		WCHECK(w, rc == 0 || rc == DAXM_CXL_RC_INVALID_INPUT);
		if (rc == 0 && r->num_tags_returned) {
			memcpy(tag, r->tags_list[rnd(&w->seed) % r->num_tags_returned].tag, DAXM_TAG_SIZE);
			ok = 1;
		}
	}
	free(r);
	return ok;
}

/* An extent host @h holds now, or 0. */
static int some_extent(struct worker *w, uint16_t h, xt *out)
{
	struct daxm_fmapi_get_dc_region_ext_list_rsp *r = NULL;
	int rc = list_once(w->f, h, 32, &r), ok = 0;

	WCHECK(w, rc == 0 && r && sorted_disjoint(r));
	if (rc == 0 && r && r->extents_returned) {
		*out = r->extents[rnd(&w->seed) % r->extents_returned];
		ok = 1;
	}
	free(r);
	return ok;
}

/* The documented protocol: page until total, start again when the
 * generation moved. Returns the pages read, or -1 if it never settled. */
static int read_paged(struct worker *w, uint16_t h)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		struct daxm_fmapi_get_dc_region_ext_list_rsp *r = NULL;
		uint32_t got = 0, total, gen;
		uint64_t last_end = 0;
		int pages = 0, moved = 0;

		if (fab_list(w->f, h, 0, 0, &r) != 0 || !r) {
			WCHECK(w, 0);
			return -1;
		}
		total = r->total_extents;
		gen = r->list_generation_num;
		free(r);
		while (got < total && !moved) {
			int rc = fab_list(w->f, h, got, 4, &r);
			if (rc == DAXM_CXL_RC_INVALID_INPUT) { /* the list shrank below got */
				moved = 1;
				break;
			}
			WCHECK(w, rc == 0 && r);
			if (rc || !r)
				return -1;
			pages++;
			if (r->list_generation_num != gen) {
				moved = 1;
			} else {
				/* Same generation: same list, so the pages join up. */
				WCHECK(w, r->total_extents == total && r->extents_returned > 0 && sorted_disjoint(r));
				WCHECK(w, r->extents_returned == 0 || got == 0 || r->extents[0].start_dpa >= last_end);
				if (r->extents_returned)
					last_end = r->extents[r->extents_returned - 1].start_dpa +
						   r->extents[r->extents_returned - 1].len;
				got += r->extents_returned ? r->extents_returned : total;
			}
			free(r);
		}
		if (!moved)
			return pages;
	}
	return -1; /* moving every time: not a failure under load */
}

static void *manager(void *arg)
{
	struct worker *w = arg;
	unsigned serial = 0;

	while (!atomic_load(&stop)) {
		uint16_t host = (uint16_t)(rnd(&w->seed) % NHOSTS);
		uint8_t tag[DAXM_TAG_SIZE];
		xt e;
		int rc, k = (int)(rnd(&w->seed) % 18);

		fab_tag(tag, w->id * 40000 + ++serial);
		switch (k) {
		case 0:
		case 1:
		case 2: /* Free or Contiguous, tagged or not */
			rc = fab_add(w->f, host, k == 2 ? CONTIG : FREE, (uint8_t)(k % 2), 2 * MiB * (1 + rnd(&w->seed) % 4),
				     serial % 3 ? tag : NULL);
			trace("m%u: add %s host %u region %d tag %04x: %d", w->id, k == 2 ? "contiguous" : "free", host,
			      k % 2, serial % 3 ? serial : 0, rc);
			WCHECK(w, code_ok(rc));
			atomic_fetch_add(&ops_done[0], rc == 0);
			break;
		case 3: { /* Prescriptive, somewhere in a region */
			xt list[2];
			uint32_t n = 1 + rnd(&w->seed) % 2;
			uint64_t at = FB + (rnd(&w->seed) % 2) * RLEN + 2 * MiB * (rnd(&w->seed) % 400);
			list[0] = fx(at, 2 * MiB * (1 + rnd(&w->seed) % 3), rnd(&w->seed) % 2 ? tag : NULL);
			list[1] = fx(at + 8 * MiB, 2 * MiB, list[0].tag);
			rc = fab_add_list(w->f, host, list, n);
			trace("m%u: add prescriptive host %u %#" PRIx64 "+%" PRIu64 "M (%u) tag %02x%02x: %d", w->id, host,
			      list[0].start_dpa, list[0].len >> 20, n, list[0].tag[1], list[0].tag[2], rc);
			WCHECK(w, code_ok(rc));
			atomic_fetch_add(&ops_done[0], rc == 0);
			break;
		}
		case 4: /* Enable Shared Access of a live tag */
			if (some_tag(w, tag)) {
				rc = fab_add(w->f, host, ESA, 0, 0, tag);
				trace("m%u: enable shared access host %u tag %02x%02x: %d", w->id, host, tag[1], tag[2], rc);
				WCHECK(w, code_ok(rc));
				atomic_fetch_add(&ops_done[1], rc == 0);
			}
			break;
		case 5:
		case 6:
		case 16:
		case 17: /* release what a host holds: by tag or by list */
			if (some_extent(w, host, &e)) {
				uint8_t flags = rnd(&w->seed) % 8 == 0 ? DAXM_FMAPI_RELEASE_FORCED : 0;
				/* Room in the host's log first: a Forced Capacity
				 * Release record that does not fit is dropped, and the
				 * host keeps what the device revoked (see tainted()). */
				if (flags) {
					int sent = daxm_fabric_deliver(w->f, host);
					WCHECK(w, sent >= 0);
					if (sent > 0)
						atomic_fetch_add(&answers, sent);
				}
				if (rnd(&w->seed) % 8 == 0)
					flags |= DAXM_FMAPI_RELEASE_SANITIZE;
				if (e.tag[0] && rnd(&w->seed) % 2)
					rc = fab_release_tag(w->f, host, e.tag, flags, 0);
				else
					rc = fab_release_list(w->f, host, flags, &e, 1);
				trace("m%u: release host %u flags %#x %#" PRIx64 "+%" PRIu64 "M tag %02x%02x: %d", w->id, host,
				      flags, e.start_dpa, e.len >> 20, e.tag[1], e.tag[2], rc);
				WCHECK(w, code_ok(rc));
				atomic_fetch_add(&ops_done[2], rc == 0);
			}
			break;
		case 7: /* references */
			if (some_tag(w, tag)) {
				struct daxm_fmapi_dc_add_ref_req a;
				struct daxm_fmapi_dc_remove_ref_req r;
				memcpy(a.tag, tag, DAXM_TAG_SIZE);
				memcpy(r.tag, tag, DAXM_TAG_SIZE);
				int add = rnd(&w->seed) % 2;
				rc = add ? daxm_fmapi_dc_add_reference(w->f, &a) : daxm_fmapi_dc_remove_reference(w->f, &r);
				trace("m%u: %s reference tag %02x%02x: %d", w->id, add ? "add" : "remove", tag[1], tag[2], rc);
				WCHECK(w, rc == 0 || rc == DAXM_CXL_RC_INVALID_INPUT);
				atomic_fetch_add(&ops_done[3], rc == 0);
			}
			break;
		case 8: {
			struct daxm_fmapi_get_dcd_info_rsp info;
			struct daxm_fmapi_get_host_dc_region_config_req q = { host, 8, 0 };
			struct daxm_fmapi_get_host_dc_region_config_rsp c;
			WCHECK(w, daxm_fmapi_get_dcd_info(w->f, &info) == 0 && info.total_dynamic_capacity == 2 * RLEN);
			rc = daxm_fmapi_get_dc_reg_config(w->f, &q, &c);
			WCHECK(w, rc == 0 && c.regions_returned == 2 &&
				      c.num_extents_available <= c.num_extents_supported &&
				      c.num_tags_available <= c.num_tags_supported);
			break;
		}
		case 9: { /* Set DC Region Config: refused while capacity is out */
			struct daxm_fmapi_set_dc_region_config_req q = { 0 };
			q.region_id = (uint8_t)(rnd(&w->seed) % 2);
			q.block_sz = 2 * MiB;
			rc = daxm_fmapi_set_dc_region_config(w->f, &q);
			WCHECK(w, code_ok(rc));
			break;
		}
		case 10:
			WCHECK(w, read_paged(w, host) >= -1);
			break;
		default:
			drain(w->f, 1 + (int)(rnd(&w->seed) % 8));
		}
	}
	return NULL;
}

static void *runner(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stop)) {
		unsigned which = rnd(&w->seed) % 3, hh = rnd(&w->seed) % NHOSTS;
		int rc = which ? daxm_fabric_run(w->f) : daxm_fabric_deliver(w->f, hh);
		trace(which ? "run: %d answers" : "deliver to host %u: %d answers", which ? rc : (int)hh, rc);
		WCHECK(w, rc >= 0);
		if (rc > 0)
			atomic_fetch_add(&answers, rc);
		pause_briefly();
	}
	return NULL;
}

/* ---- the observer ------------------------------------------------------ */

static int same_extents(const struct daxm_fmapi_get_dc_region_ext_list_rsp *a,
			const struct daxm_fmapi_get_dc_region_ext_list_rsp *b)
{
	return a->total_extents == b->total_extents && a->extents_returned == b->extents_returned &&
	       memcmp(a->extents, b->extents, a->extents_returned * sizeof(xt)) == 0;
}

static void *observer(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stop)) {
		uint16_t h = (uint16_t)(rnd(&w->seed) % NHOSTS);
		struct daxm_fmapi_get_dc_region_ext_list_rsp *a = NULL, *b = NULL;
		int ra = list_once(w->f, h, 600, &a), rb = list_once(w->f, h, 600, &b);

		WCHECK(w, ra == 0 && rb == 0 && a && b);
		if (a && b) {
			WCHECK(w, sorted_disjoint(a) && sorted_disjoint(b));
			WCHECK(w, a->extents_returned == a->total_extents);
			/* Generation numbers move whenever the list does. */
			WCHECK(w, a->list_generation_num != b->list_generation_num || same_extents(a, b));
		}
		free(a);
		free(b);
		{
			struct daxm_fmapi_dc_list_tags_req q = { 0, 64 };
			size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, 64);
			struct daxm_fmapi_dc_list_tags_rsp *t = calloc(1, sz);
			if (t && daxm_fmapi_dc_list_tags(w->f, &q, t, sz) == 0) {
				for (uint32_t i = 0; i < t->num_tags_returned; i++) {
					const struct daxm_fmapi_dc_tag_info *x = &t->tags_list[i];
					WCHECK(w, x->tag[0] != 0 && (x->ref_bitmap[0] | x->pending_ref_bitmap[0]) >> NHOSTS == 0);
				}
			}
			free(t);
		}
		WCHECK(w, daxm_fabric_get_nr_events(w->f) >= 0);
		pause_briefly();
	}
	return NULL;
}

/* ---- hosts --------------------------------------------------------------- */

#define MAX_PINS 8

static void *host_user(void *arg)
{
	struct worker *w = arg;
	struct daxm_region *r = fab_region(w->ctx);
	struct daxm_extent *pins[MAX_PINS];
	int npins = 0;
	char buf[128];

	WCHECK(w, r != NULL);
	if (!r)
		return NULL;
	while (!atomic_load(&stop)) {
		struct daxm_dev *d = daxm_dev_get_first(r);
		struct daxm_extent *x = daxm_extent_get_first(r);
		struct daxm_event *ev;
		uint8_t tag[DAXM_TAG_SIZE];
		unsigned k = rnd(&w->seed) % 10, skip = rnd(&w->seed) % 4;
		int rc;

		/* Pointers from iteration are borrowed: only this thread deletes
		 * devices and drops pins here; extents may be released by a
		 * delivery meanwhile, and then answer -ENODEV or a state. */
		while (x && skip--)
			x = daxm_extent_get_next(x) ? daxm_extent_get_next(x) : x;
		while (d && daxm_dev_get_next(d) && rnd(&w->seed) % 2)
			d = daxm_dev_get_next(d);
		switch (k) {
		case 0:
			if (count_devs(r) < 6) {
				struct daxm_dev *nd = NULL;
				rc = daxm_region_create_dev(r, &nd);
				WCHECK(w, rc == 0 || rc == -ENOSPC);
			}
			break;
		case 1:
		case 2: /* select the tag of an extent held, size from it */
			if (d && x && daxm_dev_get_size(d) == 0 && daxm_extent_get_tag(x, tag) == 0) {
				rc = daxm_dev_set_tag(d, tag);
				WCHECK(w, rc == 0);
				rc = daxm_dev_set_size(d, 2 * MiB * (1 + rnd(&w->seed) % 2));
				trace("host %u: %s on tag %02x%02x sized: %d", w->id, daxm_dev_get_devname(d), tag[1], tag[2], rc);
				WCHECK(w, rc == 0 || rc == -ENOSPC);
				atomic_fetch_add(&ops_done[4], rc == 0);
			}
			break;
		case 3: /* claim a whole tag */
			if (d && x && daxm_dev_get_size(d) == 0 && daxm_extent_get_tag(x, tag) == 0) {
				rc = daxm_dev_claim_tag(d, tag);
				trace("host %u: %s claims tag %02x%02x: %d", w->id, daxm_dev_get_devname(d), tag[1], tag[2], rc);
				WCHECK(w, rc == 0 || rc == -EBUSY || rc == -ENOENT);
				atomic_fetch_add(&ops_done[4], rc == 0);
			}
			break;
		case 4: /* shrink, or empty and delete */
			if (d && daxm_dev_get_size(d) != 0) {
				rc = daxm_dev_set_size(d, rnd(&w->seed) % 2 ? 0 : 2 * MiB);
				trace("host %u: %s shrinks: %d", w->id, daxm_dev_get_devname(d), rc);
				WCHECK(w, rc == 0 || rc == -ENOSPC || rc == -EINVAL);
			} else if (d && daxm_dev_get_id(d) != 0) {
				rc = daxm_region_destroy_dev(r, d);
				WCHECK(w, rc == 0 || rc == -EBUSY);
			}
			break;
		case 5: /* pin */
			if (x && npins < MAX_PINS && daxm_extent_get(x) == 0) {
				trace("host %u: pin %#" PRIx64, w->id, (uint64_t)(daxm_extent_get_offset(x) + FB));
				daxm_extent_ref(x);
				pins[npins++] = x;
			}
			break;
		case 6: /* put a pin (may complete a deferred release) */
			if (npins) {
				struct daxm_extent *p = pins[--npins];
				rc = daxm_extent_put(p);
				trace("host %u: put %#" PRIx64 ": %d", w->id, (uint64_t)(daxm_extent_get_offset(p) + FB), rc);
				WCHECK(w, rc == 0 || rc == -ENODEV);
				daxm_extent_unref(p);
				atomic_fetch_add(&ops_done[5], 1);
			}
			break;
		case 7:
			WCHECK(w, daxm_attr_read(w->ctx, "region0/available_size", buf, sizeof(buf)) > 0);
			if (x) {
				int st = daxm_extent_get_state(x), rc2 = daxm_extent_get_refcount(x);
				WCHECK(w, (st >= DAXM_EXTENT_ACCEPTED && st <= DAXM_EXTENT_RELEASED) && rc2 >= 0);
			}
			break;
		default:
			while (daxm_ctx_next_event(w->ctx, &ev) == 0) {
				for (uint32_t i = 0; i < ev->nr_records; i++)
					trace("host %u: event %u request %" PRIu64 " %#" PRIx64 "+%" PRIu64 "M: %d", w->id,
					      ev->type, ev->request_id, (uint64_t)(ev->records[i].offset + FB),
					      ev->records[i].length >> 20, ev->records[i].result);
				daxm_event_free(ev);
			}
		}
		pause_briefly();
	}
	/* Leave nothing held: every device emptied and deleted, pins put. */
	while (npins) {
		struct daxm_extent *p = pins[--npins];
		(void)daxm_extent_put(p); /* -ENODEV if revoked meanwhile */
		daxm_extent_unref(p);
	}
	for (struct daxm_dev *d = daxm_dev_get_first(r), *n; d; d = n) {
		n = daxm_dev_get_next(d);
		WCHECK(w, daxm_dev_set_size(d, 0) == 0);
		if (daxm_dev_get_id(d) != 0)
			WCHECK(w, daxm_region_destroy_dev(r, d) == 0);
	}
	return NULL;
}

/* ---- quiet checks ------------------------------------------------------- */

/* A host holds an extent the device does not list: print it and the
 * traced operations that name its address (the first few such extents). */
static void explain_extra(unsigned h, struct daxm_extent *x)
{
	static int told;
	char at[32];
	uint8_t tag[DAXM_TAG_SIZE] = { 0 };

	if (told++ >= 3)
		return;
	daxm_extent_get_tag(x, tag);
	snprintf(at, sizeof(at), "%#" PRIx64, (uint64_t)(daxm_extent_get_offset(x) + FB));
	printf("fabric_stress: host %u holds %s+%" PRIu64 "M tag %02x%02x state %d refcount %d, not listed; "
	       "traced operations naming it:\n", h, at, daxm_extent_get_length(x) >> 20, tag[1], tag[2],
	       daxm_extent_get_state(x), daxm_extent_get_refcount(x));
	pthread_mutex_lock(&ring_lock);
	for (long p = ring_pos > RING ? ring_pos - RING : 0; p < ring_pos; p++)
		if (strstr(ring[p % RING], at + 2))
			printf("  %s\n", ring[p % RING]);
	pthread_mutex_unlock(&ring_lock);
}

static double seconds(void)
{
	const char *v = getenv("DAXM_FABRIC_STRESS_SECONDS");
	double s = v && *v ? strtod(v, NULL) : 2.0;
	return s > 0 ? s : 2.0;
}

static void quiesce(struct daxm_fabric *f)
{
	int rounds = 0, rc;

	do {
		rc = daxm_fabric_run(f);
		CHECK(rc >= 0);
		if (rc > 0)
			atomic_fetch_add(&answers, rc);
	} while (rc > 0 && ++rounds < 16);
	CHECK_INT(rc, 0);
	drain(f, 1 << 30);
	CHECK_INT(daxm_fabric_get_nr_events(f), 0);
	CHECK_INT(atomic_load(&open_more), 0);
	/* One manager chain per host answer (a refused answer gives none). */
	if (any_tainted(f))
		CHECK(atomic_load(&chain_ends) <= atomic_load(&answers));
	else
		CHECK_INT(atomic_load(&chain_ends), atomic_load(&answers));
}

static struct daxm_fmapi_get_dc_region_ext_list_rsp *whole_list(struct daxm_fabric *f, uint16_t h)
{
	struct daxm_fmapi_get_dc_region_ext_list_rsp *r = NULL;
	uint32_t total = fab_total(f, h);

	CHECK_OK(fab_list(f, h, 0, total, &r));
	if (r)
		CHECK(r->extents_returned == total && sorted_disjoint(r));
	return r;
}

struct held {
	uint64_t dpa, len;
	unsigned host;
};

static int cmp_held(const void *a, const void *b)
{
	const struct held *x = a, *y = b;
	return x->dpa < y->dpa ? -1 : x->dpa > y->dpa;
}

static int is_tagged(const uint8_t *t)
{
	for (int i = 0; i < DAXM_TAG_SIZE; i++)
		if (t[i])
			return 1;
	return 0;
}

/* Region 0 is Sharable: a tagged extent there is a Sharable tag's. */
static int shared_extent(const xt *e)
{
	return is_tagged(e->tag) && e->start_dpa >= FB && e->start_dpa < FB + RLEN;
}

static void check_quiet(struct daxm_fabric *f, struct daxm_ctx *hosts[NHOSTS])
{
	struct daxm_fmapi_get_dc_region_ext_list_rsp *l[NHOSTS];
	struct held *held = NULL;
	size_t nheld = 0;
	uint64_t used = 0;

	for (unsigned h = 0; h < NHOSTS; h++) {
		struct daxm_region *r = fab_region(hosts[h]);
		struct daxm_fmapi_get_host_dc_region_config_req q = { (uint16_t)h, 0, 0 };
		struct daxm_fmapi_get_host_dc_region_config_rsp c;
		struct daxm_extent *x;
		uint32_t ntags = 0, seen = 0;

		l[h] = whole_list(f, (uint16_t)h);
		if (!l[h])
			return;
		/* The host context holds exactly what the device lists. */
		daxm_extent_foreach(r, x) {
			if (tainted(f, h))
				break;
			uint64_t dpa = daxm_extent_get_offset(x) + FB;
			uint8_t tag[DAXM_TAG_SIZE];
			uint32_t k;
			for (k = 0; k < l[h]->extents_returned; k++)
				if (l[h]->extents[k].start_dpa == dpa)
					break;
			CHECK(k < l[h]->extents_returned);
			if (k == l[h]->extents_returned) {
				explain_extra(h, x);
				continue;
			}
			daxm_extent_get_tag(x, tag);
			CHECK_U64(daxm_extent_get_length(x), l[h]->extents[k].len);
			CHECK(memcmp(tag, l[h]->extents[k].tag, DAXM_TAG_SIZE) == 0);
			CHECK_INT(daxm_extent_get_sequence(x), l[h]->extents[k].shared_seq);
			CHECK_INT(daxm_extent_get_state(x), DAXM_EXTENT_ACCEPTED);
			seen++;
		}
		if (!tainted(f, h))
			CHECK_INT(seen, l[h]->extents_returned);
		held = realloc(held, (nheld + l[h]->extents_returned + 1) * sizeof(*held));
		for (uint32_t k = 0; k < l[h]->extents_returned; k++) {
			const xt *e = &l[h]->extents[k];
			uint32_t j;
			if (!shared_extent(e)) {
				held[nheld++] = (struct held){ e->start_dpa, e->len, h };
				used += e->len;
			}
			if (!is_tagged(e->tag))
				continue;
			for (j = 0; j < k; j++)
				if (!memcmp(l[h]->extents[j].tag, e->tag, DAXM_TAG_SIZE))
					break;
			ntags += j == k;
		}
		/* Nothing in flight: budgets are what the list leaves. */
		CHECK_OK(daxm_fmapi_get_dc_reg_config(f, &q, &c));
		CHECK_INT(c.num_extents_available, c.num_extents_supported - l[h]->extents_returned);
		CHECK_INT(c.num_tags_available, c.num_tags_supported - ntags);
	}
	/* Blocks that are not a Sharable tag's are held by one host. */
	if (nheld > 1)
		qsort(held, nheld, sizeof(*held), cmp_held);
	for (size_t i = 1; i < nheld; i++)
		CHECK(held[i - 1].dpa + held[i - 1].len <= held[i].dpa);
	free(held);
	/* Every holder of a Sharable tag holds all of it, numbered 0..n-1. */
	{
		struct daxm_fmapi_dc_list_tags_req q = { 0, 512 };
		size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, 512);
		struct daxm_fmapi_dc_list_tags_rsp *t = calloc(1, sz);
		int fm_only = 0;

		CHECK_OK(daxm_fmapi_dc_list_tags(f, &q, t, sz));
		CHECK(t->num_tags_returned == t->total_num_tags);
		for (uint32_t i = 0; i < t->num_tags_returned; i++) {
			const struct daxm_fmapi_dc_tag_info *x = &t->tags_list[i];
			uint64_t share = 0;
			int holders = 0, shared = 0;
			CHECK_INT(x->pending_ref_bitmap[0], 0);
			for (unsigned h = 0; h < NHOSTS; h++) {
				uint64_t len = 0;
				uint32_t n = 0, seqmask = 0;
				for (uint32_t k = 0; k < l[h]->extents_returned; k++) {
					const xt *e = &l[h]->extents[k];
					if (memcmp(e->tag, x->tag, DAXM_TAG_SIZE))
						continue;
					len += e->len;
					n++;
					shared |= shared_extent(e);
					if (e->shared_seq < 32)
						seqmask |= 1u << e->shared_seq;
				}
				CHECK_INT(n > 0, bit_of(x->ref_bitmap, h));
				if (!n || !shared)
					continue;
				CHECK(n > 31 || seqmask == (1u << n) - 1);
				if (holders++)
					CHECK_U64(len, share);
				share = len;
			}
			if (shared)
				used += share;
			if (!holders && (x->flags & DAXM_FMAPI_TAG_FM_HOLDS_REFERENCE))
				fm_only = 1;
		}
		CHECK(used <= 2 * RLEN);
		/* A Free add of one block more than the lists leave free cannot
		 * succeed (tags only the manager holds have no list: skipped). */
		if (!fm_only) {
			uint64_t in0 = 0;
			for (unsigned h = 0; h < NHOSTS; h++)
				for (uint32_t k = 0; k < l[h]->extents_returned; k++) {
					const xt *e = &l[h]->extents[k];
					if (!shared_extent(e) && e->start_dpa >= FB + RLEN)
						in0 += e->len;
				}
			/* region 1 holds no Sharable tags: its free space is exact */
			CHECK_INT(fab_add(f, 0, FREE, 1, RLEN - in0 + 2 * MiB, NULL), DAXM_CXL_RC_RESOURCES_EXHAUSTED);
		}
		free(t);
	}
	for (unsigned h = 0; h < NHOSTS; h++)
		free(l[h]);
}

/* Every host gives everything back, the manager drops its references. */
static void give_back(struct daxm_fabric *f)
{
	for (int round = 0; round < 12; round++) {
		int left = 0;
		for (unsigned h = 0; h < NHOSTS; h++) {
			struct daxm_fmapi_get_dc_region_ext_list_rsp *l = whole_list(f, (uint16_t)h);
			int bad = tainted(f, h);
			for (uint32_t k = 0; l && k < l->extents_returned; k++) {
				const xt *e = &l->extents[k];
				int rc = is_tagged(e->tag) ? fab_release_tag(f, (uint16_t)h, e->tag, 0, 0)
							   : fab_release_list(f, (uint16_t)h, 0, e, 1);
				/* a tag's second extent: its release is already asked */
				CHECK(rc == 0 || rc == DAXM_CXL_RC_RETRY_REQUIRED || rc == DAXM_CXL_RC_INVALID_INPUT ||
				      rc == DAXM_CXL_RC_INVALID_PHYSICAL_ADDRESS);
				/* a tainted host may never give back what shares a
				 * tag group with an extent it kept */
				left += !bad;
			}
			free(l);
		}
		{
			struct daxm_fmapi_dc_list_tags_req q = { 0, 512 };
			size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, 512);
			struct daxm_fmapi_dc_list_tags_rsp *t = calloc(1, sz);
			int rc;
			CHECK_OK(daxm_fmapi_dc_list_tags(f, &q, t, sz));
			for (uint32_t i = 0; i < t->num_tags_returned; i++) {
				struct daxm_fmapi_dc_remove_ref_req r;
				int kept = 0;
				memcpy(r.tag, t->tags_list[i].tag, DAXM_TAG_SIZE);
				/* a private tag has no reference: Invalid Input */
				rc = daxm_fmapi_dc_remove_reference(f, &r);
				CHECK(rc == 0 || rc == DAXM_CXL_RC_INVALID_INPUT);
				/* a tag a tainted host holds may stay */
				for (unsigned h = 0; h < NHOSTS; h++)
					kept |= tainted(f, h) && (bit_of(t->tags_list[i].ref_bitmap, h) ||
								  bit_of(t->tags_list[i].pending_ref_bitmap, h));
				left += !kept;
			}
			free(t);
		}
		quiesce(f);
		if (!left)
			return;
	}
	CHECK(!"everything given back within 12 rounds");
}

void test_fabric_stress(void)
{
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, NHOSTS, SHARABLE, 0, 24,
					    DAXM_FABRIC_HOSTS_REVOKE);
	struct worker mgr[NMANAGERS], run, obs, hw[NHOSTS];
	pthread_t mt[NMANAGERS], rt, ot, ht[NHOSTS];
	struct daxm_ctx *hosts[NHOSTS];
	struct timespec t0, t1;
	double limit = seconds(), took;
	long calls = 0;

	if (!f)
		return;
	atomic_store(&stop, 0);
	atomic_store(&answers, 0);
	atomic_store(&chain_ends, 0);
	atomic_store(&records, 0);
	atomic_store(&open_more, 0);
	daxm_fabric_set_event_fn(f, on_event);
	daxm_fabric_set_log_fn(f, stress_log);
	for (unsigned h = 0; h < NHOSTS; h++) {
		hosts[h] = fabric_host(f, h);
		daxm_set_log_fn(hosts[h], host_log);
		hw[h] = (struct worker){ .f = f, .ctx = hosts[h], .id = h, .seed = 101 + h };
		CHECK(pthread_create(&ht[h], NULL, host_user, &hw[h]) == 0);
	}
	run = (struct worker){ .f = f, .id = 90, .seed = 7 };
	obs = (struct worker){ .f = f, .id = 91, .seed = 11 };
	CHECK(pthread_create(&rt, NULL, runner, &run) == 0);
	CHECK(pthread_create(&ot, NULL, observer, &obs) == 0);
	for (unsigned k = 0; k < NMANAGERS; k++) {
		mgr[k] = (struct worker){ .f = f, .id = k + 1, .seed = 31 * (k + 1) };
		CHECK(pthread_create(&mt[k], NULL, manager, &mgr[k]) == 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	} while (took < limit);
	atomic_store(&stop, 1);
	for (unsigned k = 0; k < NMANAGERS; k++) {
		pthread_join(mt[k], NULL);
		CHECK_INT(mgr[k].bad, 0);
		calls += mgr[k].calls;
	}
	pthread_join(rt, NULL);
	pthread_join(ot, NULL);
	CHECK_INT(run.bad, 0);
	CHECK_INT(obs.bad, 0);
	for (unsigned h = 0; h < NHOSTS; h++) {
		pthread_join(ht[h], NULL);
		CHECK_INT(hw[h].bad, 0);
		calls += hw[h].calls;
	}
	calls += run.calls + obs.calls;
	daxm_fabric_set_event_fn(f, NULL);

	quiesce(f);
	check_quiet(f, hosts);
	/* The load did exercise the fabric. */
	CHECK(atomic_load(&answers) > 0 && atomic_load(&ops_done[0]) > 0);
	if (verbose())
		printf("fabric_stress: %.1f s, %ld checked calls, %ld answers, %ld manager records; adds %ld, ESA %ld,"
		       " releases %ld, references %ld, host sizes/claims %ld, puts %ld\n", took, calls,
		       atomic_load(&answers), atomic_load(&records), atomic_load(&ops_done[0]),
		       atomic_load(&ops_done[1]), atomic_load(&ops_done[2]), atomic_load(&ops_done[3]),
		       atomic_load(&ops_done[4]), atomic_load(&ops_done[5]));

	/* No block leaked: all given back, each region can be offered whole
	 * (to a host that kept nothing stale, which accepts it). */
	give_back(f);
	{
		struct daxm_fmapi_dc_list_tags_rsp head;
		struct daxm_fmapi_dc_list_tags_req q = { 0, 0 };
		int clean[2], n = 0, held = 0, ntainted = 0;

		for (unsigned h = 0; h < NHOSTS; h++) {
			int bad = tainted(f, h);
			if (!bad)
				CHECK_INT(fab_total(f, (uint16_t)h), 0);
			held += fab_total(f, (uint16_t)h) != 0;
			ntainted += bad;
			if (!bad && n < 2)
				clean[n++] = (int)h;
		}
		CHECK_OK(daxm_fmapi_dc_list_tags(f, &q, &head, sizeof(head)));
		if (!held)
			CHECK_INT(head.total_num_tags, 0);
		if (verbose() || ntainted)
			printf("fabric_stress: %d of %d hosts dropped a Forced Capacity Release record (%s)\n",
			       ntainted, NHOSTS,
			       held ? "they keep capacity: whole regions not offered" : "nothing kept");
		if (!held && n) {
			int h0 = clean[0], h1 = clean[n - 1];
			CHECK_OK(fab_add(f, (uint16_t)h0, CONTIG, 0, RLEN, NULL));
			CHECK_OK(fab_add(f, (uint16_t)h1, CONTIG, 1, RLEN, NULL));
			quiesce(f);
			CHECK_INT(fab_total(f, (uint16_t)h0), h0 == h1 ? 2 : 1);
			if (h0 != h1)
				CHECK_INT(fab_total(f, (uint16_t)h1), 1);
		}
	}
	for (unsigned h = 0; h < NHOSTS; h++)
		daxm_unref(hosts[h]);
	daxm_fabric_unref(f);
}
