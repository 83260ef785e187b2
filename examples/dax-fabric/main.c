/*
 * dax-fabric - a fabric manager and four hosts sharing one CXL Dynamic
 * Capacity device (DCD), on the model's emulated memory.
 *
 * The manager speaks only the FM API (daxm_fmapi_*, libcxlmi's commands
 * and payloads) and reads only its own event queue
 * (daxm_fabric_next_event()); the hosts use only ordinary daxm_* calls on
 * their contexts (claim a tag on a device, check its size, map it), as a
 * job on a Linux host would through /sys/bus/dax and /dev/daxX.Y.
 * daxm_fabric_run() is the wire: it lets each host read its DC event log
 * and answer.
 *
 *   1. job memory by tag on three hosts (Free, Contiguous, Prescriptive);
 *   2. a dataset written by host 0, then shared read-only with hosts 1-3
 *      (Enable Shared Access into a Read-Only region): they read host 0's
 *      bytes through their own views, at other addresses, and see its
 *      later stores at once; a writable view is refused;
 *   3. a release asked while the job still runs: the host answers when
 *      the job is done;
 *   4. a forced release during a pending offer: the offer is dead, the
 *      host's answer is refused and the manager sees a response of
 *      length 0;
 *   5. the manager restarts: it throws its bookkeeping away, rebuilds it
 *      from List Tags and each host's extent list, and checks that
 *      nothing leaked (every tag accounted for, capacity conserved, and
 *      the device agrees: exactly the free capacity can be offered).
 *
 *   dax-fabric             the story on stderr, one JSON document on stdout
 *   dax-fabric | jq .      the JSON only
 *
 * Every step is checked against daxmodel.h: exits 0 when all answers are
 * the documented ones, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <daxmodel.h>
#include <json-c/json.h>

#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)

#define NHOSTS 4
#define NREGIONS 3
/* DC region 0: job memory (private, sanitized on release). */
#define JOBS_BASE  0x1000000000ull
#define JOBS_LEN   GiB
/* DC region 1: datasets are created here (Sharable, writable). */
#define DATA_BASE  (JOBS_BASE + JOBS_LEN)
#define DATA_LEN   (256 * MiB)
/* DC region 2: datasets are shared through here (Sharable, Read-Only). */
#define SHARE_BASE (DATA_BASE + DATA_LEN)
#define SHARE_LEN  (256 * MiB)
#define BLOCK      (2 * MiB)

#define FREE   DAXM_FMAPI_SELECTION_POLICY_FREE
#define CONTIG DAXM_FMAPI_SELECTION_POLICY_CONTIGUOUS
#define PRESC  DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE
#define ESA    DAXM_FMAPI_SELECTION_POLICY_ENABLE_SHARED_ACCESS
#define FORCED DAXM_FMAPI_RELEASE_FORCED

static int failures;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

static void expect_u64(const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		fail("%s is %#" PRIx64 ", expected %#" PRIx64, what, got, want);
}

/* "Success", "Invalid Input" ... for CXL return codes, "-EACCES" ... for
 * negative errnos. */
static const char *rc_name(int rc)
{
	static char other[32];

	if (rc >= 0 && daxm_retcode_tostr(rc))
		return daxm_retcode_tostr(rc);
	switch (-rc) {
	case EINVAL: return "-EINVAL";
	case EACCES: return "-EACCES";
	case ENOENT: return "-ENOENT";
	case EBUSY: return "-EBUSY";
	case ENOSPC: return "-ENOSPC";
	case ENXIO: return "-ENXIO";
	case ENODEV: return "-ENODEV";
	case ERANGE: return "-ERANGE";
	case EAGAIN: return "-EAGAIN";
	case EPERM: return "-EPERM";
	default:
		snprintf(other, sizeof(other), "%d", rc);
		return other;
	}
}

/* One step, by the manager ("FM") or a host: printed with its answer, a
 * failure unless it is @want; a refusal as expected says why. */
static int step(const char *who, const char *what, int rc, int want)
{
	if (rc == want) {
		fprintf(stderr, "  %-5s %-26s %s\n", who, rc_name(rc), what);
		if (rc)
			fprintf(stderr, "        %26s \"%s\"\n", "", daxm_last_error());
		return 1;
	}
	fail("%s %s: got %s, expected %s: %s", who, what, rc_name(rc), rc_name(want), daxm_last_error());
	return 0;
}

/* ---- tags ---------------------------------------------------------------- */

enum { JOB0, JOB1, JOB2, JOB3, DATASET, PROBE0, PROBE1, PROBE2, NTAGS };

static const char *const tag_text[NTAGS] = {
	"0b000000-0000-4000-8000-000000000000", /* job 0, host 0   */
	"0b000000-0000-4000-8000-000000000001", /* job 1, host 1   */
	"0b000000-0000-4000-8000-000000000002", /* job 2, host 2   */
	"0b000000-0000-4000-8000-000000000003", /* job 3, cancelled */
	"da7a5e70-0000-4000-8000-000000000000", /* the dataset     */
	"0be00000-0000-4000-8000-000000000000", /* capacity probes */
	"0be00000-0000-4000-8000-000000000001",
	"0be00000-0000-4000-8000-000000000002",
};
static const char *const tag_label[NTAGS] = {
	"job0", "job1", "job2", "job3", "dataset", "probe0", "probe1", "probe2",
};
static uint8_t tags[NTAGS][DAXM_TAG_SIZE];

static int is_null_tag(const uint8_t *tag)
{
	static const uint8_t zero[DAXM_TAG_SIZE];

	return !memcmp(tag, zero, DAXM_TAG_SIZE);
}

static const char *tag_name(const uint8_t *tag)
{
	if (is_null_tag(tag))
		return "untagged";
	for (int i = 0; i < NTAGS; i++)
		if (!memcmp(tag, tags[i], DAXM_TAG_SIZE))
			return tag_label[i];
	return "unknown";
}

static json_object *tag_json(const uint8_t *tag)
{
	char text[40];

	if (is_null_tag(tag) || daxm_tag_format(tag, text, sizeof(text)) != 36)
		return json_object_new_string("untagged");
	return json_object_new_string(text);
}

/* ---- the manager: FM API requests ------------------------------------------- */

static struct daxm_fabric *fabric;
static json_object *fm_log; /* every record the manager read */

static int fm_add(uint16_t host, uint8_t policy, uint8_t region, uint64_t len, const uint8_t *tag,
		  const struct daxm_fmapi_extent *ext, uint32_t n)
{
	size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_add_req, extents, n);
	struct daxm_fmapi_initiate_dc_add_req *req = calloc(1, sz);
	int rc;

	if (!req)
		return -ENOMEM;
	req->host_id = host;
	req->selection_policy = policy;
	req->region_num = region;
	req->length = len;
	if (tag)
		memcpy(req->tag, tag, DAXM_TAG_SIZE);
	req->ext_count = n;
	if (n)
		memcpy(req->extents, ext, n * sizeof(*ext));
	rc = daxm_fmapi_initiate_dc_add(fabric, req, sz);
	free(req);
	return rc;
}

static int fm_release(uint16_t host, const uint8_t *tag, uint8_t flags)
{
	struct daxm_fmapi_initiate_dc_release_req req;

	memset(&req, 0, sizeof(req));
	req.host_id = host;
	req.flags = DAXM_FMAPI_REMOVAL_POLICY_TAG_BASED | flags;
	memcpy(req.tag, tag, DAXM_TAG_SIZE);
	return daxm_fmapi_initiate_dc_release(fabric, &req, sizeof(req));
}

static struct daxm_fmapi_extent extent(uint64_t dpa, uint64_t len, const uint8_t *tag)
{
	struct daxm_fmapi_extent e;

	memset(&e, 0, sizeof(e));
	e.start_dpa = dpa;
	e.len = len;
	memcpy(e.tag, tag, DAXM_TAG_SIZE);
	return e;
}

/* The wire: every host reads its log and answers. */
static void wire(int want_answers)
{
	int n = daxm_fabric_run(fabric);

	say("  wire  daxm_fabric_run: %d host answer(s) reach the device", n);
	if (n != want_answers)
		fail("daxm_fabric_run sent %d answers, expected %d", n, want_answers);
}

/* ---- the manager's bookkeeping ------------------------------------------------ */

/* What the manager believes each host holds, learnt only from the Add
 * Capacity Response and Capacity Released records of its queue. */
struct book {
	struct {
		uint8_t tag[DAXM_TAG_SIZE];
		uint64_t held[NHOSTS]; /* bytes each host accepted      */
		int sharable;          /* lives in a Sharable DC region */
		int region;            /* the DC region of its first extent */
	} t[16];
	int n;
	uint64_t untagged[NHOSTS];
	unsigned uses[NHOSTS];     /* bit r: the host has DPAs in DC region r */
	/* From Get Host DC Region Configuration. */
	uint64_t region_base[NREGIONS], region_len[NREGIONS];
	int region_sharable[NREGIONS], region_ro[NREGIONS];
};

static struct book book;

static int fm_read_regions(struct book *b, json_object *jr);

static int region_of(const struct book *b, uint64_t dpa)
{
	for (int r = 0; r < NREGIONS; r++)
		if (dpa >= b->region_base[r] && dpa - b->region_base[r] < b->region_len[r])
			return r;
	return -1;
}

static int book_find(struct book *b, const uint8_t *tag, int add)
{
	for (int i = 0; i < b->n; i++)
		if (!memcmp(b->t[i].tag, tag, DAXM_TAG_SIZE))
			return i;
	if (!add || b->n == 16)
		return -1;
	memset(&b->t[b->n], 0, sizeof(b->t[0]));
	memcpy(b->t[b->n].tag, tag, DAXM_TAG_SIZE);
	return b->n++;
}

static void book_forget_empty(struct book *b)
{
	for (int i = 0; i < b->n;) {
		uint64_t any = 0;
		for (int h = 0; h < NHOSTS; h++)
			any |= b->t[i].held[h];
		if (any) {
			i++;
			continue;
		}
		b->t[i] = b->t[--b->n];
	}
}

/* One record: a host accepted (+) or gave back (-) an extent. */
static void book_apply(struct book *b, uint16_t host, const struct daxm_fmapi_extent *e, int sign)
{
	int r = region_of(b, e->start_dpa), i;

	if (host >= NHOSTS || e->len == 0)
		return;
	if (sign > 0 && r >= 0)
		b->uses[host] |= 1u << r;
	if (is_null_tag(e->tag)) {
		b->untagged[host] += sign > 0 ? e->len : -e->len;
		return;
	}
	i = book_find(b, e->tag, 1);
	if (i < 0)
		return;
	if (!b->t[i].held[0] && !b->t[i].held[1] && !b->t[i].held[2] && !b->t[i].held[3])
		b->t[i].region = r;
	b->t[i].held[host] += sign > 0 ? e->len : -e->len;
	b->t[i].sharable = r >= 0 && b->region_sharable[r];
	book_forget_empty(b);
}

/* A tag's physical capacity: a Sharable tag is the same capacity on every
 * host that holds it; any other is its one holder's. */
static uint64_t book_physical(const struct book *b, int i)
{
	uint64_t sum = 0, max = 0;

	for (int h = 0; h < NHOSTS; h++) {
		sum += b->t[i].held[h];
		if (b->t[i].held[h] > max)
			max = b->t[i].held[h];
	}
	return b->t[i].sharable ? max : sum;
}

static uint64_t book_allocated(const struct book *b)
{
	uint64_t n = 0;

	for (int i = 0; i < b->n; i++)
		n += book_physical(b, i);
	for (int h = 0; h < NHOSTS; h++)
		n += b->untagged[h];
	return n;
}

/* ---- the manager's queue ------------------------------------------------------ */

struct want_rec {
	uint8_t type;
	uint16_t host;
	uint64_t len;
	int tag; /* index in tags[], or -1 for none */
};

static const char *fm_event_name(uint8_t type)
{
	switch (type) {
	case DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE: return "Add Capacity Response";
	case DAXM_DC_EVENT_CAPACITY_RELEASED: return "Capacity Released";
	default: return "?";
	}
}

/* Take every record off the manager's queue, book it, print it, log it
 * for the JSON, and compare the lot with @want (@n records, in order). */
static void fm_drain(const char *when, const struct want_rec *want, int n)
{
	struct daxm_fabric_event ev;
	int i = 0;

	while (daxm_fabric_next_event(fabric, &ev) == 0) {
		json_object *j = json_object_new_object();

		say("  FM    event: %-21s host %u  region %u  dpa %#" PRIx64 "  %4" PRIu64 " MiB  %-8s seq %u%s",
		    fm_event_name(ev.event_type), ev.host_id, ev.region_index, ev.extent.start_dpa,
		    ev.extent.len / MiB, tag_name(ev.extent.tag), ev.extent.shared_seq,
		    ev.flags & DAXM_DC_EVENT_MORE ? "  (More)" : "");
		json_object_object_add(j, "type", json_object_new_string(fm_event_name(ev.event_type)));
		json_object_object_add(j, "host", json_object_new_int(ev.host_id));
		json_object_object_add(j, "region", json_object_new_int(ev.region_index));
		json_object_object_add(j, "dpa", json_object_new_int64((int64_t)ev.extent.start_dpa));
		json_object_object_add(j, "length", json_object_new_int64((int64_t)ev.extent.len));
		json_object_object_add(j, "tag", tag_json(ev.extent.tag));
		json_object_object_add(j, "more", json_object_new_boolean(ev.flags & DAXM_DC_EVENT_MORE));
		json_object_array_add(fm_log, j);

		if (ev.event_type == DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE)
			book_apply(&book, ev.host_id, &ev.extent, +1);
		else if (ev.event_type == DAXM_DC_EVENT_CAPACITY_RELEASED)
			book_apply(&book, ev.host_id, &ev.extent, -1);

		if (i >= n) {
			fail("unexpected manager record %s from host %u %s", fm_event_name(ev.event_type),
			     ev.host_id, when);
		} else if (ev.event_type != want[i].type || ev.host_id != want[i].host ||
			   ev.extent.len != want[i].len ||
			   (want[i].tag >= 0 && memcmp(ev.extent.tag, tags[want[i].tag], DAXM_TAG_SIZE))) {
			fail("manager record %d %s: %s host %u %" PRIu64 " MiB %s, expected %s host %u %" PRIu64
			     " MiB %s", i, when, fm_event_name(ev.event_type), ev.host_id, ev.extent.len / MiB,
			     tag_name(ev.extent.tag), fm_event_name(want[i].type), want[i].host,
			     want[i].len / MiB, want[i].tag >= 0 ? tag_label[want[i].tag] : "untagged");
		}
		i++;
	}
	if (i == 0 && n == 0)
		say("  FM    (no record %s)", when);
	if (i < n)
		fail("%d manager record(s) %s, expected %d", i, when, n);
}

/* ---- the hosts ------------------------------------------------------------------ */

struct host {
	int id;
	struct daxm_ctx *ctx;
	struct daxm_region *region; /* region0: the DC DPA range */
	struct daxm_dev *job;       /* the job's device, on its tag */
	struct daxm_view *job_view;
	struct daxm_dev *data;      /* the dataset's device */
	struct daxm_view *data_view;
};

static struct host hosts[NHOSTS];

static void host_log(struct daxm_ctx *ctx, int priority, const char *file, int line, const char *fn,
		     const char *msg)
{
	const struct host *h = daxm_get_userdata(ctx);

	(void)file, (void)line;
	fprintf(stderr, "        log<%d> host %d %s: %s\n", priority, h ? h->id : -1, fn, msg);
}

static void fabric_log(struct daxm_fabric *f, int priority, const char *file, int line, const char *fn,
		       const char *msg)
{
	(void)f, (void)file, (void)line;
	fprintf(stderr, "        log<%d> fabric %s: %s\n", priority, fn, msg);
}

static const char *host_event_name(uint32_t type)
{
	switch (type) {
	case DAXM_EVENT_GROUP: return "GROUP";
	case DAXM_EVENT_RELEASE_DEFERRED: return "RELEASE_DEFERRED";
	case DAXM_EVENT_RELEASED: return "RELEASED";
	case DAXM_EVENT_FORCED_IGNORED: return "FORCED_IGNORED";
	case DAXM_EVENT_FORCED_APPLIED: return "FORCED_APPLIED";
	case DAXM_EVENT_DEV_LOST_MEMORY: return "DEV_LOST_MEMORY";
	default: return "?";
	}
}

/* What the host's own kernel side did (its context's event queue): the
 * types in order, compared with @want (@n of them). */
static void host_events(struct host *h, const uint32_t *want, int n)
{
	struct daxm_event *ev;
	int i = 0;

	while (daxm_ctx_next_event(h->ctx, &ev) == 0) {
		say("  host%d event: %s, %u extent(s)%s%s", h->id, host_event_name(ev->type), ev->nr_records,
		    ev->nr_records && ev->records[0].result ? ", refused: " : "",
		    ev->nr_records && ev->records[0].result ? ev->records[0].reason : "");
		if (i >= n || ev->type != want[i])
			fail("host %d: event %s, expected %s", h->id, host_event_name(ev->type),
			     i < n ? host_event_name(want[i]) : "none");
		i++;
		daxm_event_free(ev);
	}
	if (i < n)
		fail("host %d: %d event(s), expected %d", h->id, i, n);
}

static uint64_t word(uint64_t seed, uint64_t i)
{
	return (i * 0x9e3779b97f4a7c15ull) ^ seed;
}

/* A job on host @h: a device claiming all of @tag, mapped with @prot. */
static int host_claim(struct host *h, int tag, int prot, uint64_t want_size, struct daxm_dev **dev,
		      struct daxm_view **view)
{
	char who[8], what[96];

	snprintf(who, sizeof(who), "host%d", h->id);
	if (!step(who, "daxm_region_create_dev(region0, &dev)", daxm_region_create_dev(h->region, dev), 0))
		return 0;
	snprintf(what, sizeof(what), "daxm_dev_claim_tag(%s, %s)", daxm_dev_get_devname(*dev), tag_label[tag]);
	if (!step(who, what, daxm_dev_claim_tag(*dev, tags[tag]), 0))
		return 0;
	say("  host%d %s: %" PRIu64 " MiB at DPA %#" PRIx64 " (%d range(s))", h->id,
	    daxm_dev_get_devname(*dev), daxm_dev_get_size(*dev) / MiB, daxm_dev_get_resource(*dev),
	    daxm_dev_get_nr_mappings(*dev));
	expect_u64("the device's size", daxm_dev_get_size(*dev), want_size);
	snprintf(what, sizeof(what), "daxm_dev_map(%s, %s)", daxm_dev_get_devname(*dev),
		 prot & PROT_WRITE ? "PROT_READ | PROT_WRITE" : "PROT_READ");
	return step(who, what, daxm_dev_map(*dev, prot, view), 0);
}

/* The job's data over its whole device, written then read back. */
static void host_fill(struct host *h, struct daxm_view *v, uint64_t seed)
{
	volatile uint64_t *w = daxm_view_get_addr(v);
	uint64_t n = daxm_view_get_size(v) / 8, bad = 0;

	for (uint64_t i = 0; i < n; i++)
		w[i] = word(seed, i);
	for (uint64_t i = 0; i < n; i++)
		bad += w[i] != word(seed, i);
	say("  host%d wrote %" PRIu64 " MiB through its view and read it back: %s", h->id, n * 8 / MiB,
	    bad ? "MISMATCH" : "ok");
	if (bad)
		fail("host %d: %" PRIu64 " words differ", h->id, bad);
}

static uint64_t count_bad(struct daxm_view *v, uint64_t seed, uint64_t from)
{
	const volatile uint64_t *w = daxm_view_get_addr(v);
	uint64_t n = daxm_view_get_size(v) / 8, bad = 0;

	for (uint64_t i = from; i < n; i++)
		bad += w[i] != word(seed, i);
	return bad;
}

/* The job ends: unmap, give the memory back (size 0), delete the device. */
static void host_finish(struct host *h, struct daxm_dev **dev, struct daxm_view **view)
{
	char who[8], what[80];
	const char *name = daxm_dev_get_devname(*dev);

	snprintf(who, sizeof(who), "host%d", h->id);
	snprintf(what, sizeof(what), "daxm_view_unmap(view of %s)", name);
	step(who, what, daxm_view_unmap(*view), 0);
	*view = NULL;
	snprintf(what, sizeof(what), "daxm_dev_set_size(%s, 0)", name);
	step(who, what, daxm_dev_set_size(*dev, 0), 0);
	snprintf(what, sizeof(what), "daxm_region_destroy_dev(region0, %s)", name);
	step(who, what, daxm_region_destroy_dev(h->region, *dev), 0);
	*dev = NULL;
}

static int host_extents_of(struct host *h, int tag)
{
	struct daxm_extent *e;
	uint8_t t[DAXM_TAG_SIZE];
	int n = 0;

	daxm_extent_foreach(h->region, e)
		if (daxm_extent_get_tag(e, t) == 0 && !memcmp(t, tags[tag], DAXM_TAG_SIZE))
			n++;
	return n;
}

/* ---- the dataset ------------------------------------------------------------------ */

#define DATA_SEED 0xda7a5e7000000001ull
#define DATA_HEADER "dataset v1, written by host 0"

static json_object *dataset_json;

static void write_dataset(struct host *h)
{
	char *p = daxm_view_get_addr(h->data_view);

	host_fill(h, h->data_view, DATA_SEED);
	memcpy(p, DATA_HEADER, sizeof(DATA_HEADER)); /* the first 32 bytes: a header */
	say("  host0 header: \"%s\"", p);
}

/* Host @h reads the dataset through its own read-only view. */
static void read_dataset(struct host *h)
{
	const char *p = daxm_view_get_addr(h->data_view);
	uint64_t bad = count_bad(h->data_view, DATA_SEED, 4);
	int header = !strcmp(p, DATA_HEADER);
	json_object *j = json_object_new_object();

	say("  host%d reads \"%s\" and %" PRIu64 " MiB of host 0's words at its own DPA %#" PRIx64
	    " (host 0's: %#" PRIx64 "): %s", h->id, header ? p : "?", daxm_view_get_size(h->data_view) / MiB,
	    daxm_dev_get_resource(h->data), daxm_dev_get_resource(hosts[0].data),
	    !bad && header ? "identical" : "DIFFERENT");
	if (bad || !header)
		fail("host %d reads %" PRIu64 " words unlike host 0's (header %s)", h->id, bad,
		     header ? "ok" : "wrong");
	json_object_object_add(j, "host", json_object_new_int(h->id));
	json_object_object_add(j, "dpa", json_object_new_int64((int64_t)daxm_dev_get_resource(h->data)));
	json_object_object_add(j, "header", json_object_new_string(header ? p : ""));
	json_object_object_add(j, "identical", json_object_new_boolean(!bad && header));
	json_object_array_add(json_object_object_get(dataset_json, "readers"), j);
}

/* ---- act 5: the restart ------------------------------------------------------------- */

/* List Tags, whole, paged by @page; starts again if the generation moved. */
static struct daxm_fmapi_dc_list_tags_rsp *fm_list_tags(uint32_t page, uint32_t *total)
{
	size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, page);
	struct daxm_fmapi_dc_list_tags_rsp *rsp = calloc(1, sz), *all = NULL;
	struct daxm_fmapi_dc_list_tags_req req = { 0 };
	int rc;

	if (!rsp)
		return NULL;
	for (int attempt = 0; attempt < 8; attempt++) {
		uint32_t gen, got = 0;

		req.start_idx = 0;
		req.tags_count = 0; /* the totals only */
		if (!step("FM", "List Tags (Max Tags 0: generation, total)",
			  rc = daxm_fmapi_dc_list_tags(fabric, &req, rsp, sz), 0))
			break;
		gen = rsp->generation_num;
		*total = rsp->total_num_tags;
		free(all);
		all = calloc(1, DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, *total + 1));
		if (!all)
			break;
		while (got < *total) {
			req.start_idx = got;
			req.tags_count = page;
			rc = daxm_fmapi_dc_list_tags(fabric, &req, rsp, sz);
			if (rc || rsp->generation_num != gen)
				break;
			say("  FM    List Tags from %u: %u of %u (generation %u)", got, rsp->num_tags_returned,
			    rsp->total_num_tags, rsp->generation_num);
			memcpy(&all->tags_list[got], rsp->tags_list, rsp->num_tags_returned * sizeof(rsp->tags_list[0]));
			got += rsp->num_tags_returned;
			if (!rsp->num_tags_returned)
				break;
		}
		if (got == *total && rsp->generation_num == gen) {
			all->generation_num = gen;
			all->total_num_tags = *total;
			free(rsp);
			return all;
		}
		say("  FM    the tag list changed while paging: again");
	}
	fail("List Tags: no stable page set");
	free(rsp);
	free(all);
	return NULL;
}

static int bit(const uint8_t map[32], unsigned ld)
{
	return (map[ld / 8] >> (ld % 8)) & 1;
}

/* One host's extent list, whole, paged by @page, again on a generation
 * change; the extents are booked into @b. */
static int fm_host_extents(struct book *b, uint16_t host, uint32_t page, json_object *jhosts)
{
	size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_get_dc_region_ext_list_rsp, extents, page);
	struct daxm_fmapi_get_dc_region_ext_list_rsp *rsp = calloc(1, sz);
	struct daxm_fmapi_get_dc_region_ext_list_req req = { .host_id = host };
	struct daxm_fmapi_extent ext[64];
	int ok = 0;

	if (!rsp)
		return 0;
	for (int attempt = 0; attempt < 8 && !ok; attempt++) {
		uint32_t gen, total, got = 0;

		req.extent_count = 0;
		req.start_ext_index = 0;
		if (daxm_fmapi_get_dc_region_ext_list(fabric, &req, rsp, sz) != 0)
			break;
		gen = rsp->list_generation_num;
		total = rsp->total_extents;
		while (got < total && got < 64) {
			req.extent_count = page;
			req.start_ext_index = got;
			if (daxm_fmapi_get_dc_region_ext_list(fabric, &req, rsp, sz) != 0 ||
			    rsp->list_generation_num != gen || !rsp->extents_returned)
				break;
			for (uint32_t k = 0; k < rsp->extents_returned && got < 64; k++)
				ext[got++] = rsp->extents[k];
		}
		if (got != total || rsp->list_generation_num != gen)
			continue;
		ok = 1;
		say("  FM    Get DC Region Extent Lists, host %u: %u extent(s), generation %u", host, total, gen);
		json_object *jh = json_object_new_object(), *je = json_object_new_array();
		json_object_object_add(jh, "host", json_object_new_int(host));
		json_object_object_add(jh, "generation", json_object_new_int64(gen));
		for (uint32_t k = 0; k < got; k++) {
			json_object *x = json_object_new_object();
			say("  FM      dpa %#" PRIx64 "  %4" PRIu64 " MiB  %-8s seq %u  (DC region %d)", ext[k].start_dpa,
			    ext[k].len / MiB, tag_name(ext[k].tag), ext[k].shared_seq, region_of(b, ext[k].start_dpa));
			book_apply(b, host, &ext[k], +1);
			json_object_object_add(x, "dpa", json_object_new_int64((int64_t)ext[k].start_dpa));
			json_object_object_add(x, "length", json_object_new_int64((int64_t)ext[k].len));
			json_object_object_add(x, "tag", tag_json(ext[k].tag));
			json_object_object_add(x, "shared_seq", json_object_new_int(ext[k].shared_seq));
			json_object_object_add(x, "region", json_object_new_int(region_of(b, ext[k].start_dpa)));
			json_object_array_add(je, x);
		}
		json_object_object_add(jh, "extents", je);
		json_object_array_add(jhosts, jh);
	}
	if (!ok)
		fail("Get DC Region Extent Lists for host %u: no stable list", host);
	free(rsp);
	return ok;
}

/* Where a tag's physical capacity lives: a private tag's extents are its
 * capacity; a Sharable one is this manager's rule: datasets are created
 * in DC region 1 (and shared through region 2). */
static int book_home(const struct book *b, int i)
{
	return b->t[i].sharable ? 1 : b->t[i].region;
}

/* The device must agree with the rebuilt books: exactly the free capacity
 * of DC region @r can be offered. A host with no DPAs in the region is
 * offered the free bytes plus one block (Resources Exhausted, nothing
 * changes), then exactly the free bytes (Success); that probe offer is
 * cancelled at once by a forced release: a dead offer, as in act 4.
 * Returns the probe host when an offer was made and cancelled, else -1. */
static int probe_region(const struct book *b, int r, uint64_t allocated, json_object *jprobes)
{
	uint64_t free_bytes = b->region_len[r] - allocated;
	json_object *p = json_object_new_object();
	int host = -1, over = -1, exact = -1, cancelled = 0;
	char what[128];

	for (int h = 0; h < NHOSTS && host < 0; h++)
		if (!(b->uses[h] & (1u << r)))
			host = h;
	json_object_object_add(p, "region", json_object_new_int(r));
	json_object_object_add(p, "allocated", json_object_new_int64((int64_t)allocated));
	json_object_object_add(p, "free", json_object_new_int64((int64_t)free_bytes));
	json_object_array_add(jprobes, p);
	if (host < 0) {
		say("  FM    region %d: every host has DPAs there; no probe", r);
		return -1;
	}
	snprintf(what, sizeof(what), "Initiate DC Add: host %d, Free, region %d, %" PRIu64 " MiB (free + 1 block)",
		 host, r, (free_bytes + BLOCK) / MiB);
	over = fm_add((uint16_t)host, FREE, (uint8_t)r, free_bytes + BLOCK, tags[PROBE0 + r], NULL, 0);
	step("FM", what, over, DAXM_CXL_RC_RESOURCES_EXHAUSTED);
	if (free_bytes) {
		snprintf(what, sizeof(what), "Initiate DC Add: host %d, Free, region %d, %" PRIu64 " MiB (the free bytes)",
			 host, r, free_bytes / MiB);
		exact = fm_add((uint16_t)host, FREE, (uint8_t)r, free_bytes, tags[PROBE0 + r], NULL, 0);
		if (step("FM", what, exact, 0))
			cancelled = step("FM", "Initiate DC Release: that probe, Tag-based, Forced (a dead offer)",
					 fm_release((uint16_t)host, tags[PROBE0 + r], FORCED), 0);
	}
	say("  FM    region %d: %" PRIu64 " MiB allocated, %" PRIu64 " MiB free: %s", r, allocated / MiB,
	    free_bytes / MiB, over == DAXM_CXL_RC_RESOURCES_EXHAUSTED && (!free_bytes || exact == 0) ?
	    "the device agrees" : "THE DEVICE DISAGREES");
	json_object_object_add(p, "probe_host", json_object_new_int(host));
	json_object_object_add(p, "offer_free_plus_block", json_object_new_string(rc_name(over)));
	json_object_object_add(p, "offer_free", json_object_new_string(exact < 0 ? "-" : rc_name(exact)));
	return cancelled ? host : -1;
}

/* The manager restarts: its bookkeeping rebuilt from the device alone,
 * then compared with what it knew (@old, kept aside only for this check). */
static json_object *restart(struct book *old)
{
	json_object *j = json_object_new_object(), *jtags = json_object_new_array(),
		    *jhosts = json_object_new_array(), *jprobes = json_object_new_array();
	struct daxm_fmapi_dc_list_tags_rsp *list;
	struct book fresh;
	uint32_t total = 0;
	uint64_t region_alloc[NREGIONS] = { 0 };
	int unknown = 0, missing = 0, wrong = 0, pending = 0, probe_host[NREGIONS], nprobes = 0;
	struct want_rec want[NREGIONS];

	say("\n== 5. the manager restarts: its bookkeeping is gone ==");
	memset(&book, 0, sizeof(book)); /* the crash */
	memset(&fresh, 0, sizeof(fresh));
	json_object_object_add(j, "tags", jtags);
	json_object_object_add(j, "hosts", jhosts);
	json_object_object_add(j, "capacity", jprobes);
	if (!fm_read_regions(&fresh, NULL))
		return j;

	list = fm_list_tags(2, &total);
	if (!list)
		return j;
	json_object_object_add(j, "tags_generation", json_object_new_int64(list->generation_num));
	for (uint32_t k = 0; k < total; k++) {
		const struct daxm_fmapi_dc_tag_info *t = &list->tags_list[k];
		json_object *x = json_object_new_object(), *hs = json_object_new_array(),
			    *ps = json_object_new_array();
		char holders[64] = "";

		for (unsigned ld = 0; ld < 256; ld++) {
			if (bit(t->ref_bitmap, ld)) {
				json_object_array_add(hs, json_object_new_int((int)ld));
				snprintf(holders + strlen(holders), sizeof(holders) - strlen(holders), " %u", ld);
			}
			if (bit(t->pending_ref_bitmap, ld)) {
				json_object_array_add(ps, json_object_new_int((int)ld));
				pending++;
			}
		}
		say("  FM      tag %-8s accepted by host(s)%s%s%s", tag_name(t->tag), holders,
		    t->flags & DAXM_FMAPI_TAG_FM_HOLDS_REFERENCE ? ", manager reference" : "",
		    json_object_array_length(ps) ? ", PENDING" : "");
		json_object_object_add(x, "tag", tag_json(t->tag));
		json_object_object_add(x, "name", json_object_new_string(tag_name(t->tag)));
		json_object_object_add(x, "hosts", hs);
		json_object_object_add(x, "pending", ps);
		json_object_object_add(x, "fm_reference",
				       json_object_new_boolean(t->flags & DAXM_FMAPI_TAG_FM_HOLDS_REFERENCE));
		json_object_array_add(jtags, x);
	}
	for (uint16_t h = 0; h < NHOSTS; h++)
		fm_host_extents(&fresh, h, 2, jhosts);

	/* List Tags and the extent lists agree: a tag is listed exactly when
	 * some host's list carries it, with exactly those hosts. */
	for (int i = 0; i < fresh.n; i++) {
		int listed = -1;
		for (uint32_t k = 0; k < total; k++)
			if (!memcmp(list->tags_list[k].tag, fresh.t[i].tag, DAXM_TAG_SIZE))
				listed = (int)k;
		for (int h = 0; h < NHOSTS; h++)
			if (listed < 0 || !!fresh.t[i].held[h] != bit(list->tags_list[listed].ref_bitmap, (unsigned)h)) {
				fail("tag %s, host %d: its extent list and List Tags disagree", tag_name(fresh.t[i].tag), h);
				wrong++;
			}
	}
	for (uint32_t k = 0; k < total; k++)
		if (book_find(&fresh, list->tags_list[k].tag, 0) < 0 &&
		    !(list->tags_list[k].flags & DAXM_FMAPI_TAG_FM_HOLDS_REFERENCE)) {
			fail("tag %s is listed but no host holds it and no reference keeps it: leaked",
			     tag_name(list->tags_list[k].tag));
			unknown++;
		}
	/* Against what the manager knew before: the same tags, the same bytes
	 * per host. */
	for (int i = 0; i < fresh.n; i++) {
		int o = book_find(old, fresh.t[i].tag, 0);
		if (o < 0) {
			fail("tag %s is on the device but the manager never booked it: leaked",
			     tag_name(fresh.t[i].tag));
			unknown++;
			continue;
		}
		for (int h = 0; h < NHOSTS; h++)
			if (fresh.t[i].held[h] != old->t[o].held[h]) {
				fail("tag %s, host %d: %" PRIu64 " MiB on the device, %" PRIu64 " MiB booked",
				     tag_name(fresh.t[i].tag), h, fresh.t[i].held[h] / MiB, old->t[o].held[h] / MiB);
				wrong++;
			}
	}
	for (int o = 0; o < old->n; o++)
		if (book_find(&fresh, old->t[o].tag, 0) < 0) {
			fail("tag %s was booked but the device has no such tag", tag_name(old->t[o].tag));
			missing++;
		}
	for (int h = 0; h < NHOSTS; h++)
		if (fresh.untagged[h] != old->untagged[h]) {
			fail("host %d: %" PRIu64 " MiB untagged on the device, %" PRIu64 " MiB booked", h,
			     fresh.untagged[h] / MiB, old->untagged[h] / MiB);
			wrong++;
		}
	if (pending) {
		fail("%d offer(s) still pending after the restart", pending);
		wrong++;
	}
	say("  FM    rebuilt: %d tag(s), %" PRIu64 " MiB allocated; booked before the restart: %d tag(s), %" PRIu64
	    " MiB; unknown %d, missing %d, different %d", fresh.n, book_allocated(&fresh) / MiB, old->n,
	    book_allocated(old) / MiB, unknown, missing, wrong);
	if (book_allocated(&fresh) != book_allocated(old))
		fail("allocated capacity is not conserved across the restart");

	say("  FM    does the device agree? per region, offer the free capacity + 1 block, then exactly it:");
	for (int i = 0; i < fresh.n; i++)
		if (book_home(&fresh, i) >= 0)
			region_alloc[book_home(&fresh, i)] += book_physical(&fresh, i);
	for (int h = 0; h < NHOSTS; h++)
		region_alloc[0] += fresh.untagged[h]; /* this manager hands out untagged memory in region 0 only */
	for (int r = 0; r < NREGIONS; r++)
		probe_host[r] = probe_region(&fresh, r, region_alloc[r], jprobes);

	json_object_object_add(j, "allocated", json_object_new_int64((int64_t)book_allocated(&fresh)));
	json_object_object_add(j, "allocated_before", json_object_new_int64((int64_t)book_allocated(old)));
	json_object_object_add(j, "unknown_tags", json_object_new_int(unknown));
	json_object_object_add(j, "missing_tags", json_object_new_int(missing));
	json_object_object_add(j, "mismatches", json_object_new_int(wrong));
	json_object_object_add(j, "leaked", json_object_new_boolean(unknown || missing || wrong ||
								     book_allocated(&fresh) != book_allocated(old)));

	/* The probes' dead offers: each host answers (in host order), is
	 * refused, and the manager gets one response of length 0 per probe. */
	for (int h = 0; h < NHOSTS; h++)
		for (int r = 0; r < NREGIONS; r++)
			if (probe_host[r] == h)
				want[nprobes++] = (struct want_rec){ DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE, (uint16_t)h, 0, -1 };
	wire(nprobes);
	book = fresh; /* the manager runs on with what it rebuilt */
	fm_drain("for the probes' dead offers", want, nprobes);
	free(list);
	return j;
}

/* ---- the listing ------------------------------------------------------------------- */

static json_object *host_json(struct host *h)
{
	json_object *j = json_object_new_object(), *je = json_object_new_array(), *jd = json_object_new_array();
	struct daxm_extent *e;
	struct daxm_dev *d;
	uint8_t t[DAXM_TAG_SIZE];
	uint64_t start = daxm_region_get_start(h->region);

	json_object_object_add(j, "host", json_object_new_int(h->id));
	json_object_object_add(j, "available_size",
			       json_object_new_int64((int64_t)daxm_region_get_available_size(h->region)));
	daxm_extent_foreach(h->region, e) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "dpa", json_object_new_int64((int64_t)(start + daxm_extent_get_offset(e))));
		json_object_object_add(x, "length", json_object_new_int64((int64_t)daxm_extent_get_length(e)));
		if (daxm_extent_get_tag(e, t) == 0)
			json_object_object_add(x, "tag", tag_json(t));
		json_object_object_add(x, "refcount", json_object_new_int(daxm_extent_get_refcount(e)));
		json_object_array_add(je, x);
	}
	daxm_dev_foreach(h->region, d) {
		json_object *x;
		if (daxm_dev_get_size(d) == 0)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "chardev", json_object_new_string(daxm_dev_get_devname(d)));
		json_object_object_add(x, "size", json_object_new_int64((int64_t)daxm_dev_get_size(d)));
		json_object_object_add(x, "resource", json_object_new_int64((int64_t)daxm_dev_get_resource(d)));
		if (daxm_dev_get_tag(d, t) == 1)
			json_object_object_add(x, "tag", tag_json(t));
		json_object_object_add(x, "mapped", json_object_new_boolean((d == h->job && h->job_view) ||
									   (d == h->data && h->data_view)));
		json_object_array_add(jd, x);
	}
	json_object_object_add(j, "extents", je);
	json_object_object_add(j, "devices", jd);
	return j;
}

/* ---- the story ------------------------------------------------------------------------ */

/* Get Host DC Region Configuration: the regions' layout and attributes
 * into @b (and @jr, when given). */
static int fm_read_regions(struct book *b, json_object *jr)
{
	struct daxm_fmapi_get_host_dc_region_config_req creq = { .host_id = 0, .region_cnt = 8 };
	struct daxm_fmapi_get_host_dc_region_config_rsp cfg;

	if (!step("FM", "Get Host DC Region Configuration (host 0, 8 regions)",
		  daxm_fmapi_get_dc_reg_config(fabric, &creq, &cfg), 0))
		return 0;
	for (int r = 0; r < cfg.regions_returned && r < NREGIONS; r++) {
		const struct daxm_fmapi_dc_region_config *c = &cfg.region_configs[r];
		json_object *x;

		b->region_base[r] = c->base;
		b->region_len[r] = c->decode_len;
		b->region_sharable[r] = !!(c->flags & DAXM_FMAPI_REGION_FLAG_SHARABLE);
		b->region_ro[r] = !!(c->flags & DAXM_FMAPI_REGION_FLAG_READ_ONLY);
		if (!jr)
			continue;
		say("  FM    DC region %d: %#" PRIx64 ", %4" PRIu64 " MiB, %" PRIu64 " MiB blocks%s%s%s", r, c->base,
		    c->decode_len / MiB, c->block_size / MiB, b->region_sharable[r] ? ", Sharable" : "",
		    b->region_ro[r] ? ", Read-Only" : "", c->sanitize_on_release ? ", sanitize on release" : "");
		x = json_object_new_object();
		json_object_object_add(x, "region", json_object_new_int(r));
		json_object_object_add(x, "base", json_object_new_int64((int64_t)c->base));
		json_object_object_add(x, "decode_len", json_object_new_int64((int64_t)c->decode_len));
		json_object_object_add(x, "block_size", json_object_new_int64((int64_t)c->block_size));
		json_object_object_add(x, "sharable", json_object_new_boolean(b->region_sharable[r]));
		json_object_object_add(x, "read_only", json_object_new_boolean(b->region_ro[r]));
		json_object_object_add(x, "sanitize_on_release", json_object_new_boolean(c->sanitize_on_release & 1));
		json_object_array_add(jr, x);
	}
	if (cfg.regions_returned != NREGIONS)
		fail("the device has %u DC regions, expected %d", cfg.regions_returned, NREGIONS);
	return cfg.regions_returned == NREGIONS;
}

static int make_fabric(json_object *out)
{
	struct daxm_fabric_spec spec;
	struct daxm_fmapi_get_dcd_info_rsp info;
	json_object *jr = json_object_new_array();

	json_object_object_add(out, "profile", json_object_new_string("spec"));
	json_object_object_add(out, "hosts", json_object_new_int(NHOSTS));
	json_object_object_add(out, "regions", jr);
	daxm_fabric_spec_init(&spec);
	spec.num_hosts = NHOSTS;
	spec.num_regions = NREGIONS;
	spec.regions[0].base = JOBS_BASE;
	spec.regions[0].decode_len = JOBS_LEN;
	spec.regions[0].flags = DAXM_FABRIC_REGION_SANITIZE;
	spec.regions[1].base = DATA_BASE;
	spec.regions[1].decode_len = DATA_LEN;
	spec.regions[1].flags = DAXM_FABRIC_REGION_SHARABLE;
	spec.regions[2].base = SHARE_BASE;
	spec.regions[2].decode_len = SHARE_LEN;
	spec.regions[2].flags = DAXM_FABRIC_REGION_SHARABLE | DAXM_FABRIC_REGION_READ_ONLY;
	if (daxm_fabric_new(&spec, &fabric) != 0) {
		fail("daxm_fabric_new: %s", daxm_last_error());
		return 0;
	}
	daxm_fabric_set_log_fn(fabric, fabric_log);

	say("== 0. a DCD with %d hosts; the manager asks what it is ==", NHOSTS);
	step("FM", "Get DCD Info", daxm_fmapi_get_dcd_info(fabric, &info), 0);
	say("  FM    %u hosts, %u DC regions, %" PRIu64 " MiB; add policies %#x, release policies %#x",
	    info.num_hosts, info.num_supported_dc_regions, info.total_dynamic_capacity / MiB,
	    info.capacity_selection_policies, info.capacity_removal_policies);
	return fm_read_regions(&book, jr);
}

/* Forget the events a host's context queued so far (already told). */
static void host_events_skip(struct host *h)
{
	struct daxm_event *ev;

	while (daxm_ctx_next_event(h->ctx, &ev) == 0)
		daxm_event_free(ev);
}

int main(int argc, char **argv)
{
	json_object *doc = json_object_new_object(), *jfabric = json_object_new_object(), *jhosts, *jrestart = NULL;
	struct book before;
	char what[160];

	if (argc > 1) {
		int help = !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help");
		fprintf(help ? stdout : stderr,
			"usage: dax-fabric\n"
			"  a fabric manager and four hosts on one CXL DCD (emulated memory):\n"
			"  the story on stderr, one JSON document on stdout\n");
		return help ? 0 : 2;
	}
	for (int i = 0; i < NTAGS; i++)
		if (daxm_tag_parse(tag_text[i], tags[i]) != 0) {
			fprintf(stderr, "dax-fabric: daxm_tag_parse: %s\n", daxm_last_error());
			return 1;
		}
	fm_log = json_object_new_array();
	dataset_json = json_object_new_object();
	json_object_object_add(dataset_json, "readers", json_object_new_array());
	json_object_object_add(doc, "fabric", jfabric);
	json_object_object_add(doc, "manager_events", fm_log);
	json_object_object_add(doc, "dataset", dataset_json);

	say("libdaxmodel %s: a fabric manager and %d hosts on one CXL Dynamic Capacity device", daxm_get_version(),
	    NHOSTS);
	if (!make_fabric(jfabric))
		goto out;
	for (int i = 0; i < NHOSTS; i++) {
		hosts[i].id = i;
		if (daxm_fabric_get_host(fabric, (unsigned)i, &hosts[i].ctx) != 0) {
			fail("daxm_fabric_get_host(%d): %s", i, daxm_last_error());
			goto out;
		}
		daxm_set_userdata(hosts[i].ctx, &hosts[i]);
		daxm_set_log_fn(hosts[i].ctx, host_log);
		hosts[i].region = daxm_region_get_by_id(hosts[i].ctx, 0);
	}
	say("  hosts 0-%d boot: each is an ordinary daxm_ctx whose sparse region0 spans the DC DPA range", NHOSTS - 1);

	/* ---- 1. job memory by tag on three hosts. */
	say("\n== 1. job memory by tag on three hosts ==");
	step("FM", "Initiate DC Add: host 0, Free, region 0, 64 MiB, job0",
	     fm_add(0, FREE, 0, 64 * MiB, tags[JOB0], NULL, 0), 0);
	step("FM", "Initiate DC Add: host 1, Contiguous, region 0, 128 MiB, job1",
	     fm_add(1, CONTIG, 0, 128 * MiB, tags[JOB1], NULL, 0), 0);
	{
		const struct daxm_fmapi_extent job2[] = {
			extent(JOBS_BASE + 512 * MiB, 32 * MiB, tags[JOB2]),
			extent(JOBS_BASE + 640 * MiB, 32 * MiB, tags[JOB2]),
		};
		step("FM", "Initiate DC Add: host 2, Prescriptive, 2 x 32 MiB, job2", fm_add(2, PRESC, 0, 0, NULL, job2, 2), 0);
	}
	say("  (the offers wait in the hosts' DC event logs; nothing is accepted yet)");
	fm_drain("before the hosts read their logs", NULL, 0);
	wire(3);
	{
		const struct want_rec want[] = {
			{ DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE, 0, 64 * MiB, JOB0 },
			{ DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE, 1, 128 * MiB, JOB1 },
			{ DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE, 2, 32 * MiB, JOB2 },
			{ DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE, 2, 32 * MiB, JOB2 },
		};
		fm_drain("after the hosts answered", want, 4);
	}
	{
		static const uint64_t size[3] = { 64 * MiB, 128 * MiB, 64 * MiB };
		for (int i = 0; i < 3; i++)
			if (host_claim(&hosts[i], JOB0 + i, PROT_READ | PROT_WRITE, size[i], &hosts[i].job,
				       &hosts[i].job_view))
				host_fill(&hosts[i], hosts[i].job_view, 0x0b00000000000000ull + (uint64_t)i);
	}

	/* ---- 2. a dataset written by host 0, shared read-only. */
	say("\n== 2. a dataset written by host 0, then shared read-only with hosts 1-3 ==");
	step("FM", "Initiate DC Add: host 0, Free, region 1 (Sharable), 32 MiB, dataset",
	     fm_add(0, FREE, 1, 32 * MiB, tags[DATASET], NULL, 0), 0);
	wire(1);
	{
		const struct want_rec want[] = { { DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE, 0, 32 * MiB, DATASET } };
		fm_drain("after host 0 answered", want, 1);
	}
	if (host_claim(&hosts[0], DATASET, PROT_READ | PROT_WRITE, 32 * MiB, &hosts[0].data, &hosts[0].data_view))
		write_dataset(&hosts[0]);
	say("  (the spec's recipe: share only once the first host's Add Capacity Response came)");
	for (int i = 1; i < NHOSTS; i++) {
		snprintf(what, sizeof(what),
			 "Initiate DC Add: host %d, Enable Shared Access, region 2 (Read-Only), dataset", i);
		step("FM", what, fm_add((uint16_t)i, ESA, 2, 0, tags[DATASET], NULL, 0), 0);
	}
	wire(3);
	{
		const struct want_rec want[] = {
			{ DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE, 1, 32 * MiB, DATASET },
			{ DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE, 2, 32 * MiB, DATASET },
			{ DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE, 3, 32 * MiB, DATASET },
		};
		fm_drain("after hosts 1-3 answered", want, 3);
	}
	for (int i = 1; i < NHOSTS; i++) {
		struct host *h = &hosts[i];
		struct daxm_view *rw = NULL;
		char who[8];

		snprintf(who, sizeof(who), "host%d", i);
		if (!step(who, "daxm_region_create_dev(region0, &dev)", daxm_region_create_dev(h->region, &h->data), 0))
			continue;
		snprintf(what, sizeof(what), "daxm_dev_claim_tag(%s, dataset)", daxm_dev_get_devname(h->data));
		if (!step(who, what, daxm_dev_claim_tag(h->data, tags[DATASET]), 0))
			continue;
		expect_u64("a reader's dataset device size", daxm_dev_get_size(h->data), 32 * MiB);
		expect_u64("a reader's dataset DPA", daxm_dev_get_resource(h->data), SHARE_BASE);
		if (i == 1) {
			snprintf(what, sizeof(what), "daxm_dev_map(%s, PROT_READ | PROT_WRITE): Read-Only",
				 daxm_dev_get_devname(h->data));
			step(who, what, daxm_dev_map(h->data, PROT_READ | PROT_WRITE, &rw), -EACCES);
		}
		snprintf(what, sizeof(what), "daxm_dev_map(%s, PROT_READ)", daxm_dev_get_devname(h->data));
		if (step(who, what, daxm_dev_map(h->data, PROT_READ, &h->data_view), 0))
			read_dataset(h);
	}
	json_object_object_add(dataset_json, "writer_dpa",
			       json_object_new_int64((int64_t)daxm_dev_get_resource(hosts[0].data)));
	if (hosts[0].data_view) {
		volatile uint64_t *w = daxm_view_get_addr(hosts[0].data_view);
		int seen = 0;

		w[1 << 20] = 0x5eed0000000000a2ull; /* 8 MiB in: a new word */
		say("  host0 stores 0x5eed0000000000a2 at byte 8 MiB of the dataset");
		for (int i = 1; i < NHOSTS; i++) {
			const volatile uint64_t *r = hosts[i].data_view ? daxm_view_get_addr(hosts[i].data_view) : NULL;
			int ok = r && r[1 << 20] == 0x5eed0000000000a2ull;
			say("  host%d reads %#" PRIx64 " there: %s", i, r ? r[1 << 20] : 0, ok ? "the same memory" : "STALE");
			if (!ok)
				fail("host %d does not see host 0's store", i);
			seen += ok;
		}
		w[1 << 20] = word(DATA_SEED, 1 << 20);
		json_object_object_add(dataset_json, "store_seen_by", json_object_new_int(seen));
	}
	json_object_object_add(dataset_json, "writable_map_on_read_only", json_object_new_string("-EACCES"));

	/* ---- 3. a release asked while the job still runs. */
	say("\n== 3. the manager asks for job1's memory while job1 still runs ==");
	step("FM", "Initiate DC Release: host 1, Tag-based, job1", fm_release(1, tags[JOB1], 0), 0);
	wire(0);
	say("  host1's own events (its context's queue): job1's offer, the dataset's, then the deferral:");
	{
		const uint32_t want[] = { DAXM_EVENT_GROUP, DAXM_EVENT_GROUP, DAXM_EVENT_RELEASE_DEFERRED };
		host_events(&hosts[1], want, 3);
	}
	fm_drain("while host 1 still uses job1", NULL, 0);
	say("  job1 ends on host 1:");
	host_finish(&hosts[1], &hosts[1].job, &hosts[1].job_view);
	{
		const uint32_t want[] = { DAXM_EVENT_RELEASED };
		host_events(&hosts[1], want, 1);
	}
	fm_drain("yet: the host answers when it next reads its log", NULL, 0);
	wire(1);
	{
		const struct want_rec want[] = { { DAXM_DC_EVENT_CAPACITY_RELEASED, 1, 128 * MiB, JOB1 } };
		fm_drain("after the delivery", want, 1);
	}

	/* ---- 4. a forced release during a pending offer. */
	say("\n== 4. job3 is offered to host 3, then cancelled before host 3 reads its log ==");
	host_events_skip(&hosts[3]); /* its offer of the dataset, in act 2 */
	step("FM", "Initiate DC Add: host 3, Free, region 0, 64 MiB, job3",
	     fm_add(3, FREE, 0, 64 * MiB, tags[JOB3], NULL, 0), 0);
	step("FM", "Initiate DC Release: host 3, Tag-based, Forced, job3 (pending)",
	     fm_release(3, tags[JOB3], FORCED), 0);
	say("  (the offer is dead: no record is added to host 3's log, its Add Capacity record stays)");
	wire(1);
	{
		const struct want_rec want[] = { { DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE, 3, 0, -1 } };
		fm_drain("after host 3 answered the dead offer", want, 1);
	}
	{
		const uint32_t want[] = { DAXM_EVENT_GROUP, DAXM_EVENT_RELEASED };
		host_events(&hosts[3], want, 2);
	}
	say("  host3 accepted the offer, the device refused its answer (Invalid Physical Address), and the");
	say("        host gave the extent back at once: %d job3 extent(s) left on host 3",
	    host_extents_of(&hosts[3], JOB3));
	if (host_extents_of(&hosts[3], JOB3))
		fail("host 3 still holds job3 capacity");

	/* ---- 5. the manager restarts. */
	before = book; /* kept aside only to check the rebuild */
	jrestart = restart(&before);

	/* ---- the end: the hosts' state, as JSON. */
	say("\n== the end: the hosts keep running ==");
	if (hosts[0].job_view)
		say("  host0 job0's data intact: %s", count_bad(hosts[0].job_view, 0x0b00000000000000ull, 0) ? "NO" : "yes");
	if (hosts[2].job_view)
		say("  host2 job2's data intact: %s", count_bad(hosts[2].job_view, 0x0b00000000000002ull, 0) ? "NO" : "yes");
	if ((hosts[0].job_view && count_bad(hosts[0].job_view, 0x0b00000000000000ull, 0)) ||
	    (hosts[2].job_view && count_bad(hosts[2].job_view, 0x0b00000000000002ull, 0)))
		fail("a job's data changed");
	jhosts = json_object_new_array();
	for (int i = 0; i < NHOSTS; i++)
		json_object_array_add(jhosts, host_json(&hosts[i]));

	json_object_object_add(doc, "restart", jrestart ? jrestart : json_object_new_object());
	json_object_object_add(doc, "hosts", jhosts);
	json_object_object_add(doc, "failures", json_object_new_int(failures));
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));

out:
	for (int i = 0; i < NHOSTS; i++) {
		if (hosts[i].job_view)
			daxm_view_unmap(hosts[i].job_view);
		if (hosts[i].data_view)
			daxm_view_unmap(hosts[i].data_view);
		daxm_unref(hosts[i].ctx);
	}
	daxm_fabric_unref(fabric);
	json_object_put(doc);
	if (failures)
		fprintf(stderr, "dax-fabric: %d outcome(s) differ from daxmodel.h\n", failures);
	else
		fprintf(stderr, "dax-fabric: every outcome as documented\n");
	return failures ? 1 : 0;
}
