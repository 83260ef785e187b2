/*
 * fabric_threads.c - "any call from any thread" for the fabric: manager
 * threads issue FM API commands and deliveries while each host's thread
 * uses its host context with ordinary daxm_* calls (devices on the tags
 * the manager added, its own event queue) and a runner delivers. At the
 * end every host's view must match the device's extent list. Then host
 * pollers race the fabric's last reference. Meant for ThreadSanitizer
 * (scripts/test.sh runs every area under it).
 */
#include "fabric.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define NHOSTS 4
#define NMANAGERS 2
#define ITERS 60

static atomic_int stop;

struct mgr {
	struct daxm_fabric *f;
	unsigned id, seed;
	int bad;
};

struct hostw {
	struct daxm_fabric *f;
	struct daxm_ctx *ctx;
	unsigned id, seed;
	int bad, events;
};

/* Spinning threads leave the locks to the others now and then. */
static void pause_briefly(void)
{
	struct timespec ts = { 0, 200 * 1000 };
	nanosleep(&ts, NULL);
}

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static int is_code(int rc)
{
	return rc == 0 || daxm_retcode_tostr(rc) != NULL;
}

static void *manager(void *arg)
{
	struct mgr *m = arg;
	struct daxm_fabric_event ev[16];
	uint8_t tag[16];

	for (unsigned i = 0; i < ITERS; i++) {
		uint16_t host = (uint16_t)(rnd(&m->seed) % NHOSTS);
		unsigned n = m->id * 10000 + i;
		int rc;

		fab_tag(tag, n);
		switch (rnd(&m->seed) % 6) {
		case 0:
		case 1:
			rc = fab_add(m->f, host, DAXM_FMAPI_SELECTION_POLICY_FREE, (uint8_t)(n % 2),
				     2 * MiB * (1 + rnd(&m->seed) % 3), tag);
			TCHECK(m, rc == 0 || rc == DAXM_CXL_RC_RESOURCES_EXHAUSTED ||
				      rc == DAXM_CXL_RC_RETRY_REQUIRED);
			break;
		case 2: {
			/* Release a tag this manager added a little earlier. */
			fab_tag(tag, m->id * 10000 + (i >= 3 ? i - 3 : 0));
			rc = fab_release_tag(m->f, host, tag, rnd(&m->seed) % 4 == 0 ? DAXM_FMAPI_RELEASE_FORCED : 0, 0);
			TCHECK(m, is_code(rc) && rc >= 0);
			break;
		}
		case 3:
			rc = daxm_fabric_deliver(m->f, host);
			TCHECK(m, rc >= 0);
			break;
		case 4: {
			struct daxm_fmapi_get_dc_region_ext_list_rsp *rsp = NULL;
			rc = fab_list(m->f, host, 0, 8, &rsp);
			TCHECK(m, rc == 0 && rsp && rsp->extents_returned <= 8 &&
				      rsp->extents_returned <= rsp->total_extents);
			free(rsp);
			break;
		}
		default: {
			struct daxm_fmapi_dc_list_tags_req req = { 0, 4 };
			size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp, tags_list, 4);
			struct daxm_fmapi_dc_list_tags_rsp *rsp = calloc(1, sz);
			if (rsp) {
				rc = daxm_fmapi_dc_list_tags(m->f, &req, rsp, sz);
				TCHECK(m, rc == 0 && rsp->num_tags_returned <= 4);
				free(rsp);
			}
			fab_events(m->f, ev, 16);
			break;
		}
		}
	}
	return NULL;
}

/* A host's user: devices on whatever tags its region holds, its events. */
static void *host_user(void *arg)
{
	struct hostw *w = arg;
	struct daxm_region *r = fab_region(w->ctx);
	struct daxm_dev *dev = NULL;
	struct daxm_event *e;
	uint8_t tag[16];
	char buf[64];

	TCHECK(w, r != NULL);
	while (!atomic_load(&stop)) {
		struct daxm_extent *x = daxm_extent_get_first(r);

		if (!dev) {
			if (daxm_region_create_dev(r, &dev) != 0)
				dev = NULL;
		} else if (daxm_dev_get_size(dev) == 0 && x && daxm_extent_get_tag(x, tag) == 0) {
			int rc = daxm_dev_claim_tag(dev, tag);
			/* The extent may be released or shared by another device meanwhile. */
			TCHECK(w, rc == 0 || rc == -EBUSY || rc == -ENOENT || rc == -ENODEV);
		} else if (rnd(&w->seed) % 3 == 0) {
			int rc = daxm_dev_set_size(dev, 0);
			TCHECK(w, rc == 0 || rc == -EBUSY);
			if (rc == 0 && daxm_region_destroy_dev(r, dev) == 0)
				dev = NULL;
		}
		while (daxm_ctx_next_event(w->ctx, &e) == 0) {
			w->events++;
			daxm_event_free(e);
		}
		TCHECK(w, daxm_attr_read(w->ctx, "region0/available_size", buf, sizeof(buf)) > 0);
		pause_briefly();
	}
	if (dev) {
		TCHECK(w, daxm_dev_set_size(dev, 0) == 0);
		TCHECK(w, daxm_region_destroy_dev(r, dev) == 0);
	}
	return NULL;
}

static void *runner(void *arg)
{
	struct mgr *m = arg;

	while (!atomic_load(&stop)) {
		TCHECK(m, daxm_fabric_run(m->f) >= 0);
		pause_briefly();
	}
	return NULL;
}

/* The device's list for @host and the host's region hold the same extents. */
static void check_views(struct daxm_fabric *f, struct daxm_ctx *host, uint16_t id)
{
	struct daxm_fmapi_get_dc_region_ext_list_rsp *rsp = NULL;
	struct daxm_region *r = fab_region(host);
	uint32_t total = fab_total(f, id);

	CHECK_OK(fab_list(f, id, 0, total, &rsp));
	if (!rsp)
		return;
	CHECK_INT(rsp->extents_returned, total);
	for (uint32_t k = 0; k < rsp->extents_returned; k++) {
		struct daxm_extent *x = daxm_extent_get_by_offset(r, rsp->extents[k].start_dpa - FB);
		CHECK(x != NULL);
		if (x) {
			CHECK_U64(daxm_extent_get_offset(x), rsp->extents[k].start_dpa - FB);
			CHECK_U64(daxm_extent_get_length(x), rsp->extents[k].len);
		}
	}
	/* Forced releases leave extents a Linux host ignored: no more than those. */
	CHECK(count_extents(r) >= (int)total);
	free(rsp);
}

struct poller {
	struct daxm_ctx *ctx;
	atomic_int calls;
	int bad;
};

static void *poll_host(void *arg)
{
	struct poller *p = arg;

	for (int i = 0; i < 4000; i++) {
		int n = daxm_ctx_get_nr_events(p->ctx);
		struct daxm_region *r = daxm_region_get_first(p->ctx);
		TCHECK(p, n >= 0 || n == -ENODEV);
		TCHECK(p, r != NULL || n == -ENODEV || daxm_ctx_get_nr_events(p->ctx) == -ENODEV);
		atomic_fetch_add(&p->calls, 1);
	}
	return NULL;
}

static void *manager_to_the_end(void *arg)
{
	struct mgr *m = arg;

	for (unsigned i = 0; i < ITERS / 2; i++) {
		TCHECK(m, fab_add(m->f, (uint16_t)(i % NHOSTS), DAXM_FMAPI_SELECTION_POLICY_FREE, 0, 2 * MiB, NULL) >= 0);
		TCHECK(m, daxm_fabric_run(m->f) >= 0);
	}
	daxm_fabric_unref(m->f); /* perhaps the last reference */
	return NULL;
}

void test_fabric_threads(void)
{
	struct daxm_fabric *f = fabric_make(DAXM_FABRIC_PROFILE_SPEC, NHOSTS,
					    DAXM_FABRIC_REGION_SHARABLE, 0, 16, 0);
	struct mgr mgrs[NMANAGERS], run;
	struct hostw hosts[NHOSTS];
	pthread_t mt[NMANAGERS], ht[NHOSTS], rt;
	struct poller polls[NHOSTS];
	pthread_t pt[NHOSTS], last;
	struct mgr lastm;

	if (!f)
		return;
	atomic_store(&stop, 0);
	for (unsigned h = 0; h < NHOSTS; h++) {
		hosts[h] = (struct hostw){ .f = f, .ctx = fabric_host(f, h), .id = h, .seed = 7 + h };
		CHECK(pthread_create(&ht[h], NULL, host_user, &hosts[h]) == 0);
	}
	run = (struct mgr){ .f = f, .id = 99 };
	CHECK(pthread_create(&rt, NULL, runner, &run) == 0);
	for (unsigned k = 0; k < NMANAGERS; k++) {
		mgrs[k] = (struct mgr){ .f = f, .id = k + 1, .seed = 31 * (k + 1) };
		CHECK(pthread_create(&mt[k], NULL, manager, &mgrs[k]) == 0);
	}
	for (unsigned k = 0; k < NMANAGERS; k++)
		pthread_join(mt[k], NULL);
	atomic_store(&stop, 1);
	pthread_join(rt, NULL);
	for (unsigned h = 0; h < NHOSTS; h++)
		pthread_join(ht[h], NULL);

	/* Quiet: every device gone, every answer delivered. */
	for (int round = 0; round < 4; round++)
		CHECK(daxm_fabric_run(f) >= 0);
	CHECK_INT(daxm_fabric_run(f), 0);
	for (unsigned h = 0; h < NHOSTS; h++) {
		struct daxm_event *e;

		check_views(f, hosts[h].ctx, (uint16_t)h);
		/* Events the host thread had no time to take before the stop
		 * (an optimized build on a loaded machine) count too. */
		while (daxm_ctx_next_event(hosts[h].ctx, &e) == 0) {
			hosts[h].events++;
			daxm_event_free(e);
		}
		CHECK(hosts[h].events > 0);
		CHECK_INT(hosts[h].bad, 0);
		daxm_unref(hosts[h].ctx);
	}
	for (unsigned k = 0; k < NMANAGERS; k++)
		CHECK_INT(mgrs[k].bad, 0);
	CHECK_INT(run.bad, 0);

	/* The fabric's last reference races host pollers and a manager that
	 * holds its own reference: calls answer or give -ENODEV, none crash. */
	for (unsigned h = 0; h < NHOSTS; h++) {
		polls[h] = (struct poller){ .ctx = fabric_host(f, h) };
		atomic_init(&polls[h].calls, 0);
		CHECK(pthread_create(&pt[h], NULL, poll_host, &polls[h]) == 0);
	}
	lastm = (struct mgr){ .f = daxm_fabric_ref(f), .id = 7 };
	CHECK(pthread_create(&last, NULL, manager_to_the_end, &lastm) == 0);
	daxm_fabric_unref(f);
	pthread_join(last, NULL);
	for (unsigned h = 0; h < NHOSTS; h++) {
		pthread_join(pt[h], NULL);
		CHECK_INT(polls[h].bad, 0);
		CHECK_ERR(daxm_ctx_get_nr_events(polls[h].ctx), ENODEV);
		daxm_unref(polls[h].ctx);
	}
	CHECK_INT(lastm.bad, 0);
}
