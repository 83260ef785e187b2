/*
 * fabric_memory.c - the fabric's memory (include/daxmodel.h, "Fabric",
 * "Memory"): views of devices on host contexts map the device's memory
 * through each host's decoding, so hosts sharing a tag see the same bytes;
 * Read-Only regions refuse writable views; a forced release revokes the
 * host's views; the device's sanitize (and only the device's) zeroes
 * released capacity, and shared capacity keeps its bytes until the last
 * host gives it back.
 */
#define _DEFAULT_SOURCE
#include "fabric.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#define SHARABLE DAXM_FABRIC_REGION_SHARABLE
#define RO DAXM_FABRIC_REGION_READ_ONLY
#define SANITIZE DAXM_FABRIC_REGION_SANITIZE
#define FREE DAXM_FMAPI_SELECTION_POLICY_FREE
#define ESA DAXM_FMAPI_SELECTION_POLICY_ENABLE_SHARED_ACCESS
#define FORCED DAXM_FMAPI_RELEASE_FORCED

/* The permissions /proc/self/maps shows for the mapping holding @addr
 * ("rw-s", "r--s", "---p"), or "" when none does. */
static const char *perms(const void *addr)
{
	static char p[8];
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	p[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char q[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, q) == 3 && (uintptr_t)addr >= lo &&
		    (uintptr_t)addr < hi) {
			snprintf(p, sizeof(p), "%s", q);
			break;
		}
	}
	if (f)
		fclose(f);
	return p;
}

/* A device on host @h claiming all of @tag (NULL on failure, CHECKed). */
static struct daxm_dev *claim(struct daxm_ctx *h, const uint8_t *tag)
{
	struct daxm_dev *dev = NULL;

	CHECK_OK(daxm_region_create_dev(fab_region(h), &dev));
	if (dev)
		CHECK_OK(daxm_dev_claim_tag(dev, tag));
	return dev;
}

static struct daxm_view *map(struct daxm_dev *dev, int prot)
{
	struct daxm_view *v = NULL;

	CHECK_OK(daxm_dev_map(dev, prot, &v));
	return v;
}

/* The job is over: unmap, give the capacity back, delete the device. */
static void finish(struct daxm_ctx *h, struct daxm_dev *dev, struct daxm_view *v)
{
	if (v)
		CHECK_OK(daxm_view_unmap(v));
	CHECK_OK(daxm_dev_set_size(dev, 0));
	CHECK_OK(daxm_region_destroy_dev(fab_region(h), dev));
}

static uint64_t word(uint64_t seed, uint64_t i)
{
	return (i * 0x9e3779b97f4a7c15ull) ^ seed;
}

static void fill(struct daxm_view *v, uint64_t seed)
{
	volatile uint64_t *w = daxm_view_get_addr(v);
	uint64_t n = daxm_view_get_size(v) / 8;

	for (uint64_t i = 0; i < n; i++)
		w[i] = word(seed, i);
}

/* Words of @v that differ from the pattern @seed (0: from zero). */
static uint64_t differ(struct daxm_view *v, uint64_t seed)
{
	const volatile uint64_t *w = daxm_view_get_addr(v);
	uint64_t n = daxm_view_get_size(v) / 8, bad = 0;

	for (uint64_t i = 0; i < n; i++)
		bad += w[i] != (seed ? word(seed, i) : 0);
	return bad;
}

/* ---- two hosts, one tag, the same bytes -------------------------------- */

static void shared_bytes(void)
{
	/* Region 0 Sharable and writable, region 1 Sharable and Read-Only. */
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 4, SHARABLE | SANITIZE, SHARABLE | RO, 64, 0);
	struct daxm_ctx *h[4];
	struct daxm_dev *d0, *d1, *d2, *d3;
	struct daxm_view *v0, *v1, *v2, *v3, *bad = (struct daxm_view *)1;
	struct daxm_fabric_event ev[8];
	struct daxm_fmapi_extent two[2];
	uint8_t t1[16], t2[16], t5[16];
	volatile uint64_t *w0, *w1;

	if (!f)
		return;
	for (int i = 0; i < 4; i++)
		h[i] = fabric_host(f, (unsigned)i);
	fab_tag(t1, 1);
	fab_tag(t2, 2);
	fab_tag(t5, 5);

	/* Host 0 writes tag t1 through its view. */
	CHECK_OK(fab_add(f, 0, FREE, 0, 4 * MiB, t1));
	CHECK_INT(daxm_fabric_run(f), 1);
	d0 = claim(h[0], t1);
	v0 = map(d0, PROT_READ | PROT_WRITE);
	if (!v0)
		goto out;
	CHECK_STR(perms(daxm_view_get_addr(v0)), "rw-s");
	fill(v0, 0x1111);

	/* Host 1 shares it writable (same DPAs), host 2 read-only (its own
	 * DPAs, in region 1: a host address that is not the physical one). */
	CHECK_OK(fab_add(f, 1, ESA, 0, 0, t1));
	CHECK_OK(fab_add(f, 2, ESA, 1, 0, t1));
	CHECK_INT(daxm_fabric_run(f), 2);
	CHECK_INT(fab_events(f, ev, 8), 3);
	d1 = claim(h[1], t1);
	d2 = claim(h[2], t1);
	CHECK_U64(daxm_dev_get_resource(d1), FB);
	CHECK_U64(daxm_dev_get_resource(d2), FB + RLEN);
	v1 = map(d1, PROT_READ | PROT_WRITE);
	if (!v1)
		goto out;
	CHECK_U64(differ(v1, 0x1111), 0); /* host 1 reads what host 0 wrote */
	w0 = daxm_view_get_addr(v0);
	w1 = daxm_view_get_addr(v1);
	w1[7] = 0xfeedface;
	CHECK_U64(w0[7], 0xfeedface);     /* and host 0 sees host 1's store */
	w1[7] = word(0x1111, 7);

	/* Read-Only: a writable view is refused, a read-only one reads. */
	daxm_clear_last_error();
	CHECK_ERR(daxm_dev_map(d2, PROT_READ | PROT_WRITE, &bad), EACCES);
	CHECK(strstr(daxm_last_error(), "read-only") != NULL);
	CHECK_PTR(bad, (struct daxm_view *)1); /* untouched on failure */
	v2 = map(d2, PROT_READ);
	if (!v2)
		goto out;
	CHECK_STR(perms(daxm_view_get_addr(v2)), "r--s");
	CHECK_U64(differ(v2, 0x1111), 0);

	/* A tag whose capacity is two runs reaches host 3 as one extent of
	 * its own: the view stitches the runs in the tag's order. */
	two[0] = fx(FB + 64 * MiB, 2 * MiB, t2);
	two[1] = fx(FB + 32 * MiB, 2 * MiB, t2);
	CHECK_OK(fab_add_list(f, 0, two, 2));
	CHECK_INT(daxm_fabric_run(f), 1);
	d3 = claim(h[0], t2);
	v3 = map(d3, PROT_READ | PROT_WRITE);
	if (!v3)
		goto out;
	fill(v3, 0x2222);
	CHECK_OK(daxm_view_unmap(v3));
	CHECK_OK(fab_add(f, 3, ESA, 1, 0, t2));
	CHECK_INT(daxm_fabric_run(f), 1);
	fab_events(f, ev, 8);
	CHECK_INT(count_extents(fab_region(h[3])), 1);
	{
		struct daxm_dev *d = claim(h[3], t2);
		struct daxm_view *v = map(d, PROT_READ);
		if (v) {
			CHECK_U64(daxm_view_get_size(v), 4 * MiB);
			CHECK_U64(differ(v, 0x2222), 0);
		}
		finish(h[3], d, v);
	}
	finish(h[0], d3, NULL);

	/* A forced release takes host 1's access at once: its view is
	 * revoked (the Linux host keeps the extent); host 0 keeps its own. */
	CHECK_OK(fab_release_tag(f, 1, t1, FORCED, 0));
	CHECK_STR(perms(daxm_view_get_addr(v1)), "---p");
	CHECK_STR(perms(daxm_view_get_addr(v0)), "rw-s");
	CHECK_U64(differ(v0, 0x1111), 0);
	CHECK_INT(count_extents(fab_region(h[1])), 1);
	CHECK_OK(daxm_view_unmap(v1));
	/* A new view of the stale device reaches nothing. */
	v1 = map(d1, PROT_READ);
	if (v1) {
		CHECK_STR(perms(daxm_view_get_addr(v1)), "---p");
		CHECK_OK(daxm_view_unmap(v1));
	}

	/* Shared capacity keeps its bytes until the last host gives it back:
	 * host 0 leaves, host 2 still reads them. */
	finish(h[0], d0, v0);
	CHECK_OK(fab_release_tag(f, 0, t1, 0, 0));
	CHECK_INT(daxm_fabric_run(f), 1);
	CHECK_U64(differ(v2, 0x1111), 0);
	finish(h[2], d2, v2);
	CHECK_OK(fab_release_tag(f, 2, t1, 0, 0));
	CHECK_INT(daxm_fabric_run(f), 1);
	fab_events(f, ev, 8);
	/* The tag is gone and sanitized (region 0 sanitizes on release):
	 * its blocks come back to host 3 as zeros. */
	{
		struct daxm_fmapi_extent e = fx(FB, 4 * MiB, t5);
		struct daxm_dev *d;
		struct daxm_view *v;

		CHECK_OK(fab_add_list(f, 3, &e, 1));
		CHECK_INT(daxm_fabric_run(f), 1);
		d = claim(h[3], t5);
		v = map(d, PROT_READ | PROT_WRITE);
		if (v)
			CHECK_U64(differ(v, 0), 0);
		finish(h[3], d, v);
	}
out:
	for (int i = 0; i < 4; i++)
		daxm_unref(h[i]);
	daxm_fabric_unref(f);
}

/* ---- unshared capacity: the device's sanitize, deferred releases ------- */

static void released_capacity(void)
{
	/* Region 0 sanitizes on release; region 1 does not. */
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 2, SANITIZE, 0, 64, 0);
	struct daxm_ctx *h0, *h1;
	struct daxm_fabric_event ev[8];
	uint8_t t[8][16];

	if (!f)
		return;
	h0 = fabric_host(f, 0);
	h1 = fabric_host(f, 1);
	for (int i = 0; i < 8; i++)
		fab_tag(t[i], 0x40u + (unsigned)i);

	/* For each region, and for region 1 once more with the release's
	 * sanitize flag: host 0 writes, gives the capacity back, and host 1
	 * gets the same blocks. */
	for (int k = 0; k < 3; k++) {
		uint64_t at = FB + (k ? RLEN : 0) + (k == 2 ? 64 * MiB : 0);
		struct daxm_fmapi_extent e0 = fx(at, 8 * MiB, t[2 * k]), e1 = fx(at, 8 * MiB, t[2 * k + 1]);
		uint8_t flags = k == 2 ? DAXM_FMAPI_RELEASE_SANITIZE : 0;
		int zeroed = k != 1;
		struct daxm_dev *d;
		struct daxm_view *v;

		CHECK_OK(fab_add_list(f, 0, &e0, 1));
		CHECK_INT(daxm_fabric_run(f), 1);
		d = claim(h0, t[2 * k]);
		v = map(d, PROT_READ | PROT_WRITE);
		if (!v)
			break;
		fill(v, 0x3333 + (uint64_t)k);
		/* Asked while mapped: the host defers, the device keeps the
		 * blocks (and bytes) until the job is done. */
		CHECK_OK(fab_release_tag(f, 0, t[2 * k], flags, 0));
		CHECK_INT(daxm_fabric_run(f), 0);
		CHECK_INT(fab_total(f, 0), 1);
		CHECK_U64(differ(v, 0x3333 + (uint64_t)k), 0);
		CHECK_INT(fab_add_list(f, 1, &e1, 1), DAXM_CXL_RC_INVALID_EXTENT_LIST);
		finish(h0, d, v);
		CHECK_INT(daxm_fabric_run(f), 1);
		CHECK_INT(fab_events(f, ev, 8), 2);
		CHECK_INT(ev[1].event_type, DAXM_DC_EVENT_CAPACITY_RELEASED);

		CHECK_OK(fab_add_list(f, 1, &e1, 1));
		CHECK_INT(daxm_fabric_run(f), 1);
		fab_events(f, ev, 8);
		d = claim(h1, t[2 * k + 1]);
		v = map(d, PROT_READ);
		if (v) {
			/* Sanitized: zeros. Not sanitized: the old tenant's bytes
			 * are still there, as on a device without sanitize. */
			if (zeroed)
				CHECK_U64(differ(v, 0), 0);
			else
				CHECK_U64(differ(v, 0x3333 + (uint64_t)k), 0);
		}
		finish(h1, d, v);
		CHECK_OK(fab_release_tag(f, 1, t[2 * k + 1], DAXM_FMAPI_RELEASE_SANITIZE, 0));
		CHECK_INT(daxm_fabric_run(f), 1);
		fab_events(f, ev, 8);
	}
	daxm_unref(h0);
	daxm_unref(h1);
	daxm_fabric_unref(f);
}

/* ---- revoke mode, pending offers, host contexts that close --------------- */

static void revoke_and_close(void)
{
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 2, 0, 0, 64, DAXM_FABRIC_HOSTS_REVOKE);
	struct daxm_ctx *h0, *h1;
	struct daxm_dev *d;
	struct daxm_view *v, *kept;
	struct daxm_fmapi_extent e = fx(FB, 4 * MiB, NULL);
	uint8_t t[16];

	if (!f)
		return;
	h0 = fabric_host(f, 0);
	h1 = fabric_host(f, 1);
	fab_tag(t, 0x77);
	memcpy(e.tag, t, 16);

	/* Revoking host: the view is revoked at the command, before the host
	 * hears of it; the delivery then drops the extent. */
	CHECK_OK(fab_add_list(f, 0, &e, 1));
	CHECK_INT(daxm_fabric_run(f), 1);
	d = claim(h0, t);
	v = map(d, PROT_READ | PROT_WRITE);
	if (!v)
		goto out;
	fill(v, 0x4444);
	CHECK_OK(fab_release_tag(f, 0, t, FORCED, 0));
	CHECK_STR(perms(daxm_view_get_addr(v)), "---p");
	CHECK_INT(daxm_fabric_run(f), 0);
	CHECK_INT(count_extents(fab_region(h0)), 0);
	CHECK_U64(daxm_dev_get_lost_bytes(d), 4 * MiB);
	CHECK_OK(daxm_view_unmap(v));
	CHECK_OK(daxm_region_destroy_dev(fab_region(h0), d));

	/* A pending offer maps nothing until the host accepts it. */
	CHECK_OK(fab_add_list(f, 1, &e, 1));
	CHECK_INT(count_extents(fab_region(h1)), 0);
	CHECK_INT(daxm_fabric_deliver(f, 1), 1);
	d = claim(h1, t);
	kept = map(d, PROT_READ | PROT_WRITE);
	if (!kept)
		goto out;
	/* Not sanitized (region 0 has no sanitize): host 0's bytes. */
	CHECK_U64(differ(kept, 0x4444), 0);
	/* A host that is down loses the device's memory. */
	daxm_unref(h1);
	daxm_unref(h1); /* unbalanced: the fabric's reference goes too */
	CHECK_STR(perms(daxm_view_get_addr(kept)), "---p");
	CHECK_OK(daxm_view_unmap(kept));
out:
	daxm_unref(h0);
	daxm_fabric_unref(f);
}

/* ---- threads: maps on a host while the manager revokes and re-adds ------ */

struct mapper {
	struct daxm_ctx *h;
	uint8_t tag[16];
	_Atomic int stop;
	int maps, faults;
};

/* A read of a view the manager may revoke at any moment, made by the
 * kernel (write(2) to a pipe): a revoked page is EFAULT, not a fault of
 * this thread. */
static int try_read(int fds[2], const void *p, uint64_t *out)
{
	if (write(fds[1], p, sizeof(*out)) != (ssize_t)sizeof(*out))
		return -1;
	return read(fds[0], out, sizeof(*out)) == (ssize_t)sizeof(*out) ? 0 : -1;
}

static void *mapper_run(void *arg)
{
	struct mapper *m = arg;
	uint64_t x;
	int fds[2];

	if (pipe(fds) != 0)
		return NULL;
	while (!m->stop) {
		struct daxm_dev *d = NULL;
		struct daxm_view *v = NULL;

		if (daxm_region_create_dev(fab_region(m->h), &d) != 0)
			continue;
		if (daxm_dev_claim_tag(d, m->tag) == 0 && daxm_dev_map(d, PROT_READ, &v) == 0) {
			m->maps++;
			if (try_read(fds, daxm_view_get_addr(v), &x) != 0)
				m->faults++;
			daxm_view_unmap(v);
		}
		daxm_dev_set_size(d, 0);
		daxm_region_destroy_dev(fab_region(m->h), d);
	}
	close(fds[0]);
	close(fds[1]);
	return NULL;
}

/* The manager's side: offers, deliveries, releases (forced or sanitizing). */
struct manager {
	struct daxm_fabric *f;
	const uint8_t *tag;
	int added;
};

static void *manager_run(void *arg)
{
	struct manager *g = arg;
	struct daxm_fabric_event ev[8];

	for (int i = 0; i < 200; i++) {
		struct daxm_fmapi_extent e = fx(FB + (uint64_t)(i % 4) * 8 * MiB, 8 * MiB, g->tag);

		/* Refused while the last round's capacity is still held (a
		 * deferred release): the next rounds deliver until it is back. */
		g->added += fab_add_list(g->f, 1, &e, 1) == 0;
		daxm_fabric_run(g->f);
		fab_release_tag(g->f, 1, g->tag, (i & 1) ? FORCED : DAXM_FMAPI_RELEASE_SANITIZE, 0);
		daxm_fabric_run(g->f);
		fab_events(g->f, ev, 8);
	}
	return NULL;
}

/* Both sides run on threads of their own, the area's thread only waits
 * (as in fabric_threads.c): the thread fork() made keeps some of the
 * parent's thread state, which ThreadSanitizer builds of the Swift
 * runtime trip over when it contends with another thread. */
static void threads(void)
{
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 2, SANITIZE, 0, 64,
					    DAXM_FABRIC_HOSTS_REVOKE);
	struct mapper m = { 0 };
	struct manager g = { 0 };
	pthread_t mt, gt;

	if (!f)
		return;
	m.h = fabric_host(f, 1);
	fab_tag(m.tag, 0x99);
	g.f = f;
	g.tag = m.tag;
	CHECK(pthread_create(&mt, NULL, mapper_run, &m) == 0);
	CHECK(pthread_create(&gt, NULL, manager_run, &g) == 0);
	pthread_join(gt, NULL);
	m.stop = 1;
	pthread_join(mt, NULL);
	CHECK(g.added > 0);
	daxm_unref(m.h);
	daxm_fabric_unref(f);
}

/* ---- a loaded fabric: decoding in place, bytes not saved ---------------- */

static void loaded(void)
{
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, 2, SHARABLE, 0, 64, 0), *g = NULL;
	char path[] = "/tmp/daxm-fabric-memory-XXXXXX";
	struct daxm_ctx *h0, *h1;
	struct daxm_dev *d0, *d1;
	struct daxm_view *v0, *v1;
	struct daxm_fabric_event ev[8];
	uint8_t t1[16];
	int fd;

	if (!f)
		return;
	fab_tag(t1, 1);
	CHECK_OK(fab_add(f, 0, FREE, 0, 4 * MiB, t1));
	CHECK_INT(daxm_fabric_run(f), 1);
	CHECK_OK(fab_add(f, 1, ESA, 0, 0, t1));
	CHECK_INT(daxm_fabric_run(f), 1);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		goto out;
	close(fd);
	CHECK_OK(daxm_fabric_save(f, path));
	CHECK_OK(daxm_fabric_load(path, &g));
	unlink(path);
	if (!g)
		goto out;
	fab_events(g, ev, 8);
	/* No call on the loaded fabric yet: its hosts can map at once, and
	 * both see one device memory, zero-filled. */
	h0 = fabric_host(g, 0);
	h1 = fabric_host(g, 1);
	d0 = claim(h0, t1);
	d1 = claim(h1, t1);
	v0 = d0 ? map(d0, PROT_READ | PROT_WRITE) : NULL;
	v1 = d1 ? map(d1, PROT_READ) : NULL;
	if (v0 && v1) {
		CHECK_U64(differ(v1, 0), 0);
		fill(v0, 0x2222);
		CHECK_U64(differ(v1, 0x2222), 0);
	}
	if (v1)
		CHECK_OK(daxm_view_unmap(v1));
	if (d0)
		finish(h0, d0, v0);
	daxm_unref(h0);
	daxm_unref(h1);
	daxm_fabric_unref(g);
out:
	daxm_fabric_unref(f);
}

void test_fabric_memory(void)
{
	loaded();
	shared_bytes();
	released_capacity();
	revoke_and_close();
	threads();
}
