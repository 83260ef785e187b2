/*
 * dax-jobs - just-in-time memory for jobs, on a CXL Dynamic Capacity
 * ("sparse") DAX region of the model.
 *
 * A fabric manager (FM) offers capacity to the host as tagged extents, in
 * groups; the host answers each group with an event. Every job gets a DAX
 * device that draws only from its own tag, maps it, binds it to the
 * region's NUMA node and writes its data. When the FM asks for capacity
 * back while a job still uses it, the release waits for the job; the
 * memory is wiped before the next tag gets it.
 *
 *   dax-jobs               the story and the event stream on stderr,
 *                          a daxctl-style JSON listing on stdout
 *   dax-jobs | jq .        the listing only
 *   dax-jobs --node N      the region's target node (default 1, the CXL
 *                          memory's own node; on a machine without it the
 *                          binding is refused and the story says so)
 *
 * Every step is checked against daxmodel.h, and so is the exact event
 * stream: exits 0 when all answers are the documented ones, 1 otherwise.
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
#include <numa.h>
#include <numaif.h>

#define MiB (1024ull * 1024)
#define GiB (1024 * MiB)

/* Where the region sits and what the FM hands out (offsets in the region). */
#define REGION_START 0x200000000ull
#define REGION_SIZE  (1 * GiB)

/* One tag per job; D's group is rejected, E reuses B's memory. */
#define TAG_A "a0a0a0a0-0000-4000-8000-00000000000a" /* job A: two extents   */
#define TAG_B "b0b0b0b0-0000-4000-8000-00000000000b" /* job B: released late */
#define TAG_C "c0c0c0c0-0000-4000-8000-00000000000c" /* job C: short-lived   */
#define TAG_D "d0d0d0d0-0000-4000-8000-00000000000d" /* overlaps A: refused  */
#define TAG_E "e0e0e0e0-0000-4000-8000-00000000000e" /* B's range, re-offered */

static int failures;

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

static const char *errno_name(int rc)
{
	static char other[32];

	switch (rc < 0 ? -rc : rc) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case EBUSY: return "EBUSY";
	case ENOSPC: return "ENOSPC";
	case ENXIO: return "ENXIO";
	case ENOMEM: return "ENOMEM";
	case ENODEV: return "ENODEV";
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case EEXIST: return "EEXIST";
	case ERANGE: return "ERANGE";
	case EAGAIN: return "EAGAIN";
	case E2BIG: return "E2BIG";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ECANCELED: return "ECANCELED";
	case EPERM: return "EPERM";
	case EFAULT: return "EFAULT";
	default:
		snprintf(other, sizeof(other), "errno %d", rc < 0 ? -rc : rc);
		return other;
	}
}

/* Run one step: report it; a failure unless it returned @want. */
static int step(const char *what, int rc, int want)
{
	if (rc == want) {
		fprintf(stderr, "  %-11s %s\n", rc ? errno_name(rc) : "ok", what);
		if (rc) /* a refusal, as expected: say why */
			fprintf(stderr, "              daxm_last_error(): \"%s\"\n", daxm_last_error());
		return 1;
	}
	fail("%s: got %s, expected %s: %s", what, errno_name(rc), errno_name(want), daxm_last_error());
	return 0;
}
#define STEP(call, want) step(#call, (call), (want))

static void expect_u64(const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		fail("%s is %#" PRIx64 ", expected %#" PRIx64, what, got, want);
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The library's own messages (refusals at LOG_INFO, EOPNOTSUPP at LOG_ERR). */
static void log_fn(struct daxm_ctx *ctx, int priority, const char *file, int line,
		   const char *fn, const char *msg)
{
	(void)ctx, (void)file, (void)line;
	fprintf(stderr, "              log<%d> %s: %s\n", priority, fn, msg);
}

/* ---- tags -------------------------------------------------------------- */

static uint8_t tag_a[DAXM_TAG_SIZE], tag_b[DAXM_TAG_SIZE], tag_c[DAXM_TAG_SIZE],
	tag_d[DAXM_TAG_SIZE], tag_e[DAXM_TAG_SIZE];

static const char *tag_name(const uint8_t tag[DAXM_TAG_SIZE])
{
	static const struct { const uint8_t *tag; const char *name; } names[] = {
		{ tag_a, "A" }, { tag_b, "B" }, { tag_c, "C" }, { tag_d, "D" }, { tag_e, "E" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!memcmp(tag, names[i].tag, DAXM_TAG_SIZE))
			return names[i].name;
	return "?";
}

static struct daxm_extent_spec extent(uint64_t offset, uint64_t length, const uint8_t *tag,
				      uint16_t sequence)
{
	struct daxm_extent_spec s;

	memset(&s, 0, sizeof(s));
	s.offset = offset;
	s.length = length;
	memcpy(s.tag, tag, DAXM_TAG_SIZE);
	s.sequence = sequence;
	return s;
}

/* ---- events: drained, printed, checked ------------------------------------ */

static const char *event_name(uint32_t type)
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

/* What the host must answer next: a type, and per record the extent
 * (offset, length) and its result. */
struct want_record {
	uint64_t offset, length;
	int result;
};
struct want_event {
	uint32_t type;
	int nr_records;
	struct want_record records[4];
};


/* Take every waiting event off the queue, print it, and compare the lot
 * with @want (@n events, in this order). */
static int nr_events_seen;

static void drain(struct daxm_ctx *ctx, const char *when, const struct want_event *want, int n)
{
	struct daxm_event *ev;
	int i = 0, rc;

	for (;;) {
		rc = daxm_ctx_next_event(ctx, &ev);
		if (rc == -EAGAIN)
			break;
		if (rc != 0) {
			fail("daxm_ctx_next_event: %s: %s", errno_name(rc), daxm_last_error());
			break;
		}
		nr_events_seen++;
		say("  event #%d %s (request %" PRIu64 ", region%d)%s%s", nr_events_seen,
		    event_name(ev->type), ev->request_id, ev->region_id,
		    ev->device ? ", device " : "", ev->device ? ev->device : "");
		for (uint32_t r = 0; r < ev->nr_records; r++) {
			const struct daxm_extent_record *rec = &ev->records[r];
			say("      tag %s seq %u  offset 0x%08" PRIx64 "  length %3" PRIu64 " MiB  %s%s%s%s",
			    tag_name(rec->tag), rec->sequence, rec->offset, rec->length / MiB,
			    rec->result ? "-" : "", rec->result ? errno_name(rec->result) : "ok",
			    rec->reason && *rec->reason ? ": " : "", rec->reason ? rec->reason : "");
		}

		if (i >= n) {
			fail("unexpected event %s %s", event_name(ev->type), when);
		} else if (ev->type != want[i].type) {
			fail("event #%d is %s, expected %s", nr_events_seen, event_name(ev->type),
			     event_name(want[i].type));
		} else if ((int)ev->nr_records != want[i].nr_records) {
			fail("event #%d has %u records, expected %d", nr_events_seen, ev->nr_records,
			     want[i].nr_records);
		} else {
			for (int r = 0; r < want[i].nr_records; r++) {
				const struct daxm_extent_record *rec = &ev->records[r];
				const struct want_record *w = &want[i].records[r];
				if (rec->offset != w->offset || rec->length != w->length || rec->result != w->result)
					fail("event #%d record %d: %#" PRIx64 " +%#" PRIx64 " %s, expected %#" PRIx64
					     " +%#" PRIx64 " %s", nr_events_seen, r, rec->offset, rec->length,
					     errno_name(rec->result), w->offset, w->length, errno_name(w->result));
				if (!rec->reason)
					fail("event #%d record %d: reason is NULL", nr_events_seen, r);
			}
		}
		i++;
		daxm_event_free(ev);
	}
	if (i == 0 && n == 0)
		say("  (no event %s, as expected)", when);
	if (i < n)
		fail("%d event(s) %s, expected %d (first missing: %s)", i, when, n, event_name(want[i].type));
}

/* ---- NUMA ---------------------------------------------------------------------- */

static int numa_ok;      /* numa_available() >= 0 */
static int nr_mem_nodes; /* nodes this process may allocate on */

static int node_allowed(int node)
{
	struct bitmask *mems;
	int yes;

	if (!numa_ok || node < 0 || node > numa_max_node())
		return 0;
	mems = numa_get_mems_allowed();
	yes = numa_bitmask_isbitset(mems, (unsigned int)node);
	numa_bitmask_free(mems);
	return yes;
}

/* mbind(MPOL_BIND) the view to @node, as numa_tonode_memory() does but
 * keeping the errno; then check where its first page lands. */
static void bind_view(const char *job, void *addr, uint64_t len, int node)
{
	struct bitmask *mask;
	int rc = 0, actual = -1;

	if (!numa_ok) {
		say("  %s: NUMA is not available here (numa_available() < 0): not bound", job);
		return;
	}
	if (node < 0 || node > numa_max_possible_node()) {
		rc = -EINVAL;
	} else {
		mask = numa_allocate_nodemask();
		numa_bitmask_setbit(mask, (unsigned int)node);
		if (mbind(addr, len, MPOL_BIND, mask->maskp, mask->size + 1, MPOL_MF_MOVE) != 0)
			rc = -errno;
		numa_bitmask_free(mask);
	}
	if (rc != 0) {
		if (node_allowed(node))
			fail("%s: mbind(MPOL_BIND, node %d) -> %s, on a node this process may use", job,
			     node, errno_name(rc));
		else
			say("  %s: mbind(MPOL_BIND, node %d) -> %s: this machine has %d usable NUMA node(s)"
			    " and node %d is not one of them; the job runs unbound", job, node,
			    errno_name(rc), nr_mem_nodes, node);
		return;
	}
	*(volatile uint8_t *)addr = *(volatile uint8_t *)addr; /* make sure page 0 exists */
	if (get_mempolicy(&actual, NULL, 0, addr, MPOL_F_NODE | MPOL_F_ADDR) != 0) {
		say("  %s: bound to node %d; get_mempolicy: %s", job, node, errno_name(errno));
		return;
	}
	say("  %s: bound to node %d: first page on node %d", job, node, actual);
	if (actual != node)
		fail("%s: first page on node %d after binding to node %d", job, actual, node);
}

/* ---- jobs ------------------------------------------------------------------------ */

struct job {
	const char *name;
	const uint8_t *tag;
	uint64_t seed;
	struct daxm_dev *dev;
	struct daxm_view *view;
};

static uint64_t job_word(const struct job *job, uint64_t offset)
{
	return (offset * 0x9e3779b97f4a7c15ull) ^ job->seed;
}

static uint64_t count_bad_words(const struct job *job, int zeros)
{
	const volatile uint64_t *w = daxm_view_get_addr(job->view);
	uint64_t n = daxm_view_get_size(job->view) / 8, bad = 0;

	for (uint64_t i = 0; i < n; i++)
		if (w[i] != (zeros ? 0 : job_word(job, i * 8)))
			bad++;
	return bad;
}

/* Write the job's data over its whole device and read it back. */
static void job_write(struct job *job)
{
	volatile uint64_t *w = daxm_view_get_addr(job->view);
	uint64_t n = daxm_view_get_size(job->view) / 8, bad;

	for (uint64_t i = 0; i < n; i++)
		w[i] = job_word(job, i * 8);
	bad = count_bad_words(job, 0);
	say("  %s: wrote %" PRIu64 " MiB of data and read it back: %s", job->name, n * 8 / MiB,
	    bad ? "MISMATCH" : "ok");
	if (bad)
		fail("%s: %" PRIu64 " words differ after writing", job->name, bad);
}

static void job_verify(const struct job *job)
{
	uint64_t bad = count_bad_words(job, 0);

	say("  %s: its data on %s is intact: %s", job->name, daxm_dev_get_devname(job->dev),
	    bad ? "NO" : "yes");
	if (bad)
		fail("%s: %" PRIu64 " words of its data changed", job->name, bad);
}

/* Map the sized device and bind it to its target_node (the region's). */
static int job_map(struct job *job)
{
	int node = daxm_dev_get_target_node(job->dev);
	char what[80];

	snprintf(what, sizeof(what), "daxm_dev_map(%s, PROT_READ | PROT_WRITE, &view)",
		 daxm_dev_get_devname(job->dev));
	if (!step(what, daxm_dev_map(job->dev, PROT_READ | PROT_WRITE, &job->view), 0))
		return 0;
	if (daxm_view_get_size(job->view) != daxm_dev_get_size(job->dev) || !daxm_view_get_addr(job->view)) {
		fail("%s: view of %#" PRIx64 " bytes at %p for a device of %#" PRIx64, job->name,
		     daxm_view_get_size(job->view), daxm_view_get_addr(job->view),
		     daxm_dev_get_size(job->dev));
		return 0;
	}
	if (node < 0)
		say("  %s: %s has no target_node: not bound", job->name, daxm_dev_get_devname(job->dev));
	else
		bind_view(job->name, daxm_view_get_addr(job->view), daxm_view_get_size(job->view), node);
	return 1;
}

/* The job ends: unmap, give the memory back (size 0), delete the device. */
static void job_finish(struct daxm_ctx *ctx, struct daxm_region *region, struct job *job,
		       const struct want_event *on_shrink, int n_on_shrink)
{
	const char *name = daxm_dev_get_devname(job->dev);
	char what[80];

	say("%s ends:", job->name);
	snprintf(what, sizeof(what), "daxm_dev_set_size(%s, 0) while mapped", name);
	step(what, daxm_dev_set_size(job->dev, 0), -EBUSY); /* a view holds it */
	snprintf(what, sizeof(what), "daxm_view_unmap(view of %s)", name);
	step(what, daxm_view_unmap(job->view), 0);
	job->view = NULL;
	drain(ctx, "after unmap", NULL, 0);
	snprintf(what, sizeof(what), "daxm_dev_set_size(%s, 0)", name);
	step(what, daxm_dev_set_size(job->dev, 0), 0);
	drain(ctx, "after the shrink to 0", on_shrink, n_on_shrink);
	snprintf(what, sizeof(what), "daxm_region_destroy_dev(region, %s)", name);
	step(what, daxm_region_destroy_dev(region, job->dev), 0);
	job->dev = NULL;
	drain(ctx, "after delete", NULL, 0);
}

/* ---- the listing --------------------------------------------------------------------- */

static const char *state_name(int state)
{
	switch (state) {
	case DAXM_EXTENT_ACCEPTED: return "accepted";
	case DAXM_EXTENT_RELEASING: return "releasing";
	case DAXM_EXTENT_RELEASED: return "released";
	default: return "?";
	}
}

static json_object *tag_json(const uint8_t tag[DAXM_TAG_SIZE])
{
	static const uint8_t untagged[DAXM_TAG_SIZE];
	char text[40];

	if (!memcmp(tag, untagged, DAXM_TAG_SIZE) || daxm_tag_format(tag, text, sizeof(text)) != 36)
		return json_object_new_string("untagged");
	return json_object_new_string(text);
}

static json_object *region_json(struct daxm_region *region)
{
	json_object *jreg = json_object_new_object(), *jexts = json_object_new_array(),
		    *jdevs = json_object_new_array();
	struct daxm_extent *e;
	struct daxm_dev *dev;
	uint8_t tag[DAXM_TAG_SIZE];

	json_object_object_add(jreg, "id", json_object_new_int(daxm_region_get_id(region)));
	json_object_object_add(jreg, "kind", json_object_new_string("sparse"));
	json_object_object_add(jreg, "size", json_object_new_int64((int64_t)daxm_region_get_size(region)));
	json_object_object_add(jreg, "available_size",
			       json_object_new_int64((int64_t)daxm_region_get_available_size(region)));
	json_object_object_add(jreg, "align", json_object_new_int64((int64_t)daxm_region_get_align(region)));
	json_object_object_add(jreg, "target_node", json_object_new_int(daxm_region_get_target_node(region)));
	daxm_extent_foreach(region, e) {
		json_object *je = json_object_new_object();
		char name[32];

		snprintf(name, sizeof(name), "extent%d", daxm_extent_get_id(e));
		json_object_object_add(je, "extent", json_object_new_string(name));
		json_object_object_add(je, "offset", json_object_new_int64((int64_t)daxm_extent_get_offset(e)));
		json_object_object_add(je, "length", json_object_new_int64((int64_t)daxm_extent_get_length(e)));
		if (daxm_extent_get_tag(e, tag) == 0)
			json_object_object_add(je, "tag", tag_json(tag));
		json_object_object_add(je, "sequence", json_object_new_int(daxm_extent_get_sequence(e)));
		json_object_object_add(je, "refcount", json_object_new_int(daxm_extent_get_refcount(e)));
		json_object_object_add(je, "state", json_object_new_string(state_name(daxm_extent_get_state(e))));
		json_object_array_add(jexts, je);
	}
	json_object_object_add(jreg, "extents", jexts);
	daxm_dev_foreach(region, dev) {
		json_object *jdev, *jmaps;
		struct daxm_mapping *m;

		if (daxm_dev_get_size(dev) == 0) /* daxctl hides idle devices without -i */
			continue;
		jdev = json_object_new_object();
		jmaps = json_object_new_array();
		json_object_object_add(jdev, "chardev", json_object_new_string(daxm_dev_get_devname(dev)));
		json_object_object_add(jdev, "size", json_object_new_int64((int64_t)daxm_dev_get_size(dev)));
		if (daxm_dev_get_tag(dev, tag) == 1)
			json_object_object_add(jdev, "tag", tag_json(tag));
		if (daxm_dev_get_target_node(dev) >= 0)
			json_object_object_add(jdev, "target_node",
					       json_object_new_int(daxm_dev_get_target_node(dev)));
		json_object_object_add(jdev, "align", json_object_new_int64((int64_t)daxm_dev_get_align(dev)));
		json_object_object_add(jdev, "mode", json_object_new_string("devdax"));
		daxm_mapping_foreach(dev, m) {
			json_object *jm = json_object_new_object();
			json_object_object_add(jm, "page_offset",
					       json_object_new_int64((int64_t)daxm_mapping_get_offset(m)));
			json_object_object_add(jm, "start", json_object_new_int64((int64_t)daxm_mapping_get_start(m)));
			json_object_object_add(jm, "end", json_object_new_int64((int64_t)daxm_mapping_get_end(m)));
			json_object_object_add(jm, "size", json_object_new_int64((int64_t)daxm_mapping_get_size(m)));
			json_object_array_add(jmaps, jm);
		}
		json_object_object_add(jdev, "mappings", jmaps);
		json_object_array_add(jdevs, jdev);
	}
	json_object_object_add(jreg, "devices", jdevs);
	return jreg;
}

/* ---- the story ------------------------------------------------------------------------ */

static struct daxm_extent *extent_at(struct daxm_region *region, uint64_t offset)
{
	struct daxm_extent *e;

	daxm_extent_foreach(region, e)
		if (daxm_extent_get_offset(e) == offset)
			return e;
	return NULL;
}

static void expect_available(struct daxm_region *region, uint64_t want)
{
	uint64_t got = daxm_region_get_available_size(region);

	say("  region0 available_size: %" PRIu64 " MiB", got / MiB);
	if (got != want)
		fail("available_size is %" PRIu64 " MiB, expected %" PRIu64 " MiB", got / MiB, want / MiB);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dax-jobs [--node N]\n"
		   "  the just-in-time memory flow on a sparse region of the model:\n"
		   "  the story and the event stream on stderr, a JSON listing on stdout\n");
}

int main(int argc, char **argv)
{
	struct daxm_ctx *ctx = NULL;
	struct daxm_region_spec spec;
	struct daxm_region *region = NULL;
	struct daxm_dev *legacy = NULL;
	struct daxm_extent *ext_b;
	struct job a = { "job A", tag_a, 0xaaaa000000000001ull, NULL, NULL };
	struct job b = { "job B", tag_b, 0xbbbb000000000001ull, NULL, NULL };
	struct job c = { "job C", tag_c, 0xcccc000000000001ull, NULL, NULL };
	struct job e = { "job E", tag_e, 0xeeee000000000001ull, NULL, NULL };
	json_object *list;
	int node = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--node") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 0);
			if (*end || end == argv[i] || v < 0 || v > 1023) {
				usage(stderr);
				return 2;
			}
			node = (int)v;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}

	/* The extents the fabric manager hands out (offsets in the region). */
	if (daxm_tag_parse(TAG_A, tag_a) || daxm_tag_parse(TAG_B, tag_b) || daxm_tag_parse(TAG_C, tag_c) ||
	    daxm_tag_parse(TAG_D, tag_d) || daxm_tag_parse(TAG_E, tag_e)) {
		fprintf(stderr, "dax-jobs: daxm_tag_parse: %s\n", daxm_last_error());
		return 1;
	}
	const struct daxm_extent_spec a0 = extent(0, 32 * MiB, tag_a, 0),
		a1 = extent(256 * MiB, 32 * MiB, tag_a, 1), b0 = extent(64 * MiB, 64 * MiB, tag_b, 0),
		c0 = extent(384 * MiB, 32 * MiB, tag_c, 0), d0 = extent(512 * MiB, 16 * MiB, tag_d, 0),
		d1 = extent(16 * MiB, 32 * MiB, tag_d, 1), /* half over A's first extent */
		e0 = extent(64 * MiB, 64 * MiB, tag_e, 0); /* B's memory, for a new tag */
	const struct daxm_extent_spec group1_part2[] = { a1, b0 }, group2_part2[] = { d0, d1 };

	numa_ok = numa_available() >= 0;
	if (numa_ok)
		for (int n = 0; n <= numa_max_node(); n++)
			nr_mem_nodes += node_allowed(n);

	say("libdaxmodel %s: just-in-time memory for jobs on a CXL DCD (sparse) region", daxm_get_version());
	if (daxm_new(&ctx) != 0) {
		fprintf(stderr, "dax-jobs: daxm_new: %s\n", daxm_last_error());
		return 1;
	}
	daxm_set_log_fn(ctx, log_fn); /* LOG_ERR and worse; DAXM_LOG=info shows every refusal */

	say("host: a 1 GiB sparse region at %#llx on NUMA node %d, no capacity yet:", REGION_START, node);
	daxm_region_spec_init(&spec);
	spec.id = 0;
	spec.kind = DAXM_REGION_SPARSE;
	spec.start = REGION_START;
	spec.size = REGION_SIZE;
	spec.target_node = node;
	if (!STEP(daxm_region_new(ctx, &spec, &region), 0))
		goto out;
	expect_available(region, 0);

	/* ---- the FM offers capacity for jobs A and B: one group in three messages. */
	say("FM: offer A (2 extents) and B (1 extent) as one group, in three messages:");
	STEP(daxm_region_add_extents(region, &a0, 1, DAXM_GROUP_MORE), 0);
	STEP(daxm_region_add_extents(region, group1_part2, 2, DAXM_GROUP_MORE), 0);
	say("  while the group is open its extents are staged: invisible, unallocatable");
	expect_available(region, 0);
	STEP(daxm_region_create_dev(region, &legacy), -ENOSPC);
	drain(ctx, "before the group closes", NULL, 0);
	STEP(daxm_region_add_extents(region, NULL, 0, 0), 0);
	{
		const struct want_event want[] = {
			{ DAXM_EVENT_GROUP, 3, { { a0.offset, a0.length, 0 }, { a1.offset, a1.length, 0 },
						 { b0.offset, b0.length, 0 } } },
		};
		drain(ctx, "when the group closes", want, 1);
	}
	expect_available(region, 128 * MiB);

	/* ---- an old client: writes `size` without choosing a tag. */
	say("an old client (no tag support) sizes a new device, as daxctl create-device does:");
	STEP(daxm_region_create_dev(region, &legacy), 0);
	STEP(daxm_dev_set_size(legacy, 32 * MiB), -EOPNOTSUPP);
	STEP(daxm_attr_write(ctx, "dax0.1/size", "0x2000000"), -EOPNOTSUPP);
	STEP(daxm_region_destroy_dev(region, legacy), 0);

	/* ---- job A claims its whole tag group; job B takes part of its tag. */
	say("job A starts: a device claiming all of tag A:");
	STEP(daxm_region_create_dev(region, &a.dev), 0);
	STEP(daxm_dev_claim_tag(a.dev, tag_a), 0);
	expect_u64("job A's device size", daxm_dev_get_size(a.dev), 64 * MiB);
	expect_u64("job A's ranges", (uint64_t)daxm_dev_get_nr_mappings(a.dev), 2);
	expect_u64("job A's first range", daxm_mapping_get_start(daxm_mapping_get_first(a.dev)),
		   REGION_START + a0.offset);
	if (job_map(&a))
		job_write(&a);

	say("job B starts: a device on tag B, 48 of its 64 MiB:");
	STEP(daxm_region_create_dev(region, &b.dev), 0);
	STEP(daxm_dev_set_tag(b.dev, tag_b), 0);
	STEP(daxm_dev_set_size(b.dev, 48 * MiB), 0);
	expect_u64("job B's device start", daxm_dev_get_resource(b.dev), REGION_START + b0.offset);
	if (job_map(&b))
		job_write(&b);
	expect_available(region, 16 * MiB);

	/* ---- the second group: C is fine, D overlaps A and is refused whole. */
	say("FM: offer C, and D whose second extent overlaps A's first (two messages):");
	STEP(daxm_region_add_extents(region, &c0, 1, DAXM_GROUP_MORE), 0);
	STEP(daxm_region_add_extents(region, group2_part2, 2, 0), 0);
	{
		const struct want_event want[] = {
			{ DAXM_EVENT_GROUP, 3, { { c0.offset, c0.length, 0 },
						 { d0.offset, d0.length, -ECANCELED },
						 { d1.offset, d1.length, -EBUSY } } },
		};
		drain(ctx, "when the group closes", want, 1);
	}
	expect_available(region, 48 * MiB);

	say("job C starts: tag C holds 32 MiB, whatever else the region has free:");
	STEP(daxm_region_create_dev(region, &c.dev), 0);
	STEP(daxm_dev_set_tag(c.dev, tag_c), 0);
	STEP(daxm_dev_set_size(c.dev, 48 * MiB), -ENOSPC);
	STEP(daxm_dev_set_size(c.dev, 32 * MiB), 0);
	if (job_map(&c))
		job_write(&c);

	job_finish(ctx, region, &c, NULL, 0);
	expect_available(region, 48 * MiB);

	/* ---- releases: C's memory is free, B's is still in use. */
	say("FM: take C's capacity back (no device uses it):");
	STEP(daxm_region_release_extents(region, c0.offset, c0.length, tag_c, 0), 0);
	{
		const struct want_event want[] = {
			{ DAXM_EVENT_RELEASED, 1, { { c0.offset, c0.length, 0 } } },
		};
		drain(ctx, "after the release", want, 1);
	}
	expect_available(region, 16 * MiB);

	say("FM: take B's capacity back while job B still runs:");
	STEP(daxm_region_release_extents(region, b0.offset, b0.length, tag_b, 0), 0);
	{
		const struct want_event want[] = {
			{ DAXM_EVENT_RELEASE_DEFERRED, 1, { { b0.offset, b0.length, 0 } } },
		};
		drain(ctx, "after the release", want, 1);
	}
	ext_b = extent_at(region, b0.offset);
	say("  B's extent: %s, refcount %d", ext_b ? state_name(daxm_extent_get_state(ext_b)) : "gone",
	    ext_b ? daxm_extent_get_refcount(ext_b) : -1);
	if (!ext_b || daxm_extent_get_state(ext_b) != DAXM_EXTENT_RELEASING ||
	    daxm_extent_get_refcount(ext_b) != 1)
		fail("B's extent should be releasing with one reference (job B's range)");
	expect_available(region, 0);
	job_verify(&b);

	say("FM: offer B's range to a new tag E too early (job B still holds it):");
	STEP(daxm_region_add_extents(region, &e0, 1, 0), 0);
	{
		const struct want_event want[] = {
			{ DAXM_EVENT_GROUP, 1, { { e0.offset, e0.length, -EBUSY } } },
		};
		drain(ctx, "when the group closes", want, 1);
	}

	{
		const struct want_event want[] = {
			{ DAXM_EVENT_RELEASED, 1, { { b0.offset, b0.length, 0 } } },
		};
		job_finish(ctx, region, &b, want, 1);
	}
	expect_available(region, 0);

	/* ---- the range comes back under tag E; its new owner reads zeros. */
	say("FM: offer B's old range again, now tagged E:");
	STEP(daxm_region_add_extents(region, &e0, 1, 0), 0);
	{
		const struct want_event want[] = {
			{ DAXM_EVENT_GROUP, 1, { { e0.offset, e0.length, 0 } } },
		};
		drain(ctx, "when the group closes", want, 1);
	}
	expect_available(region, 64 * MiB);

	say("job E starts: claims tag E, expects no trace of job B:");
	STEP(daxm_region_create_dev(region, &e.dev), 0);
	STEP(daxm_dev_claim_tag(e.dev, tag_e), 0);
	if (e.dev && strcmp(daxm_dev_get_devname(e.dev), "dax0.2"))
		fail("job E's device is %s, expected dax0.2 (the lowest free id)", daxm_dev_get_devname(e.dev));
	expect_u64("job E's device start", daxm_dev_get_resource(e.dev), REGION_START + e0.offset);
	if (job_map(&e)) {
		uint64_t dirty = count_bad_words(&e, 1);
		say("  job E: its %" PRIu64 " MiB read as zeros (sanitized on release): %s",
		    daxm_view_get_size(e.view) / MiB, dirty ? "NO" : "yes");
		if (dirty)
			fail("job E sees %" PRIu64 " non-zero words left by job B", dirty);
		job_write(&e);
	}
	expect_available(region, 0);
	say("job A is still running:");
	if (a.view)
		job_verify(&a);

	say("%d events in all", nr_events_seen);
	if (nr_events_seen != 7)
		fail("%d events, expected 7", nr_events_seen);

	list = json_object_new_array();
	json_object_array_add(list, region_json(region));
	puts(json_object_to_json_string_ext(list, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(list);

out:
	if (a.view)
		daxm_view_unmap(a.view);
	if (e.view)
		daxm_view_unmap(e.view);
	daxm_unref(ctx);
	if (failures)
		fprintf(stderr, "dax-jobs: %d outcome(s) differ from daxmodel.h\n", failures);
	else
		fprintf(stderr, "dax-jobs: every outcome as documented\n");
	return failures ? 1 : 0;
}
