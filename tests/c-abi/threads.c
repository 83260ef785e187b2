/*
 * threads.c - "any function may be called from any thread at any time":
 * workers create, size, bind, read and destroy devices on one context
 * while an observer reads; the region's accounting must add up at the
 * end. Then pollers hold device references while the context is freed.
 */
#include "ctest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <syslog.h>
#include <time.h>

#define NWORKERS 8
#define ITERS 150

static atomic_int log_calls;

static void count_log(struct daxm_ctx *ctx, int priority, const char *file,
		      int line, const char *fn, const char *msg)
{
	(void)priority, (void)file, (void)line, (void)fn, (void)msg;
	atomic_fetch_add(&log_calls, 1);
	(void)daxm_get_log_priority(ctx); /* re-entry from any thread */
}

struct worker {
	struct daxm_ctx *ctx;
	struct daxm_region *r;
	unsigned seed;
	int bad;               /* checks that failed in this thread */
	int deliberate;        /* failures caused on purpose */
	struct daxm_dev *keep; /* the device left sized at the end */
};

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static uint64_t read_u64(struct daxm_ctx *ctx, const char *path, int *ok)
{
	char buf[64], *end;
	long n = daxm_attr_read(ctx, path, buf, sizeof(buf));
	unsigned long long v;

	*ok = n > 0 && buf[n - 1] == '\n';
	v = strtoull(buf, &end, 10);
	*ok = *ok && end == buf + n - 1;
	return v;
}

/* The device's ranges add up and are laid out as page_offset says. */
static int ranges_consistent(struct daxm_dev *d, uint64_t rstart, uint64_t rsize)
{
	struct daxm_mapping *m;
	uint64_t sum = 0;
	int k = 0;

	daxm_mapping_foreach(d, m) {
		uint64_t s = daxm_mapping_get_start(m), e = daxm_mapping_get_end(m);
		if (daxm_mapping_get_id(m) != k++ || e < s || s < rstart ||
		    e > rstart + rsize - 1 || daxm_mapping_get_size(m) != e - s + 1 ||
		    daxm_mapping_get_offset(m) != sum / PAGE)
			return 0;
		sum += e - s + 1;
	}
	return sum == daxm_dev_get_size(d) && k == daxm_dev_get_nr_mappings(d);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char path[64];

	for (int i = 0; i < ITERS; i++) {
		struct daxm_dev *d = NULL;
		const char *name;
		uint64_t size = (1 + rnd(&w->seed) % 32) * 2 * MiB;
		int rc, ok;

		rc = daxm_region_create_dev(w->r, &d);
		TCHECK(w, rc == 0 || rc == -ENOSPC);
		if (rc != 0)
			continue;
		name = daxm_dev_get_devname(d);
		TCHECK(w, name != NULL && strncmp(name, "dax0.", 5) == 0);

		rc = daxm_dev_set_size(d, size);
		TCHECK(w, rc == 0 || rc == -ENOSPC);
		if (rc == 0)
			TCHECK(w, daxm_dev_get_size(d) == size);
		TCHECK(w, ranges_consistent(d, S0, GiB));

		snprintf(path, sizeof(path), "%s/size", name);
		TCHECK(w, read_u64(w->ctx, path, &ok) == daxm_dev_get_size(d) && ok);
		TCHECK(w, read_u64(w->ctx, "region0/available_size", &ok) <= GiB && ok);
		TCHECK(w, daxm_region_get_available_size(w->r) <= GiB);

		/* A deliberate failure; the message is this thread's own. */
		TCHECK(w, daxm_dev_set_size(d, 3 * MiB) == -EINVAL);
		TCHECK(w, strstr(daxm_last_error(), name) != NULL);
		w->deliberate++;

		if (i % 4 == 0 && daxm_dev_get_size(d) > 0) {
			TCHECK(w, daxm_dev_enable(d) == 0);
			TCHECK(w, daxm_dev_set_size(d, 0) == -EBUSY);
			TCHECK(w, daxm_region_destroy_dev(w->r, d) == -EBUSY);
			TCHECK(w, daxm_dev_disable(d) == 0);
			w->deliberate += 2;
		}
		if (i % 8 == 1) {
			rc = daxm_attr_write(w->ctx, path, "0x400000\n");
			TCHECK(w, rc == 0 || rc == -ENOSPC);
		}

		TCHECK(w, daxm_ref(w->ctx) == w->ctx);
		daxm_unref(w->ctx);
		TCHECK(w, daxm_dev_ref(d) == d);
		daxm_dev_unref(d);

		if (i == ITERS - 1 && daxm_dev_get_size(d) > 0) {
			w->keep = d;
			break;
		}
		TCHECK(w, daxm_dev_set_size(d, 0) == 0);
		TCHECK(w, daxm_region_destroy_dev(w->r, d) == 0);
	}
	return NULL;
}

struct observer {
	struct daxm_ctx *ctx;
	struct daxm_region *r;
	atomic_int *stop;
	int bad;
	long reads;
};

static void *observe(void *arg)
{
	struct observer *o = arg;
	struct daxm_dev *d0 = daxm_dev_get_by_name(o->ctx, "dax0.0");
	char buf[64];

	while (!atomic_load(o->stop)) {
		struct daxm_region *it;
		int n = 0;

		if (daxm_attr_read(o->ctx, "region0/seed", buf, sizeof(buf)) < 1 ||
		    daxm_attr_read(o->ctx, "region0/create", buf, sizeof(buf)) < 1 ||
		    daxm_attr_read(o->ctx, "region0/available_size", buf, sizeof(buf)) < 2)
			o->bad++;
		if (daxm_region_get_available_size(o->r) > GiB)
			o->bad++;
		(void)daxm_region_get_dev_seed(o->r); /* borrowed: not dereferenced */
		(void)daxm_region_get_dev_youngest(o->r);
		if (daxm_dev_get_size(d0) != 0 || daxm_dev_get_id(d0) != 0)
			o->bad++;
		daxm_region_foreach(o->ctx, it)
			n++;
		if (n != 1)
			o->bad++;
		o->reads++;
	}
	return NULL;
}

/* Pollers hold a reference on a device while the context goes away. */
struct poller {
	struct daxm_dev *dev;
	int id;
	atomic_int *stop;
	int bad, saw_dead;
	char first_bad[160]; /* what the first wrong answer was */
};

static void poll_bad(struct poller *p, const char *what, int64_t v)
{
	if (p->bad++ == 0)
		snprintf(p->first_bad, sizeof(p->first_bad), "%s: %" PRId64 " %s (saw_dead %d)",
			 what, v, errname(v), p->saw_dead);
}

static void *poll_dev(void *arg)
{
	struct poller *p = arg;

	while (!atomic_load(p->stop)) {
		int id = daxm_dev_get_id(p->dev);
		uint64_t size = daxm_dev_get_size(p->dev);

		if (id == -ENODEV)
			p->saw_dead = 1;
		else if (id != p->id || p->saw_dead)
			poll_bad(p, "daxm_dev_get_id", id); /* alive after dead, or wrong */
		if (id == -ENODEV && size != DAXM_INVALID)
			poll_bad(p, "daxm_dev_get_size after -ENODEV", (int64_t)size);
		if (daxm_dev_ref(p->dev) != p->dev)
			poll_bad(p, "daxm_dev_ref", 0);
		daxm_dev_unref(p->dev);
	}
	if (daxm_dev_get_id(p->dev) != -ENODEV)
		poll_bad(p, "daxm_dev_get_id() after the last daxm_unref(ctx) returned "
			 "(want -ENODEV)", daxm_dev_get_id(p->dev));
	return NULL;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

void test_threads(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region *r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, GiB,
					   DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	struct worker w[NWORKERS];
	struct poller p[NWORKERS];
	pthread_t th[NWORKERS], obs_th;
	atomic_int stop = 0;
	struct observer obs = { ctx, r, &stop, 0, 0 };
	int deliberate = 0, kept = 0;

	daxm_set_log_fn(ctx, count_log);
	daxm_set_log_priority(ctx, LOG_DEBUG); /* every failure delivered */
	CHECK(pthread_create(&obs_th, NULL, observe, &obs) == 0);
	for (int i = 0; i < NWORKERS; i++) {
		w[i] = (struct worker){ ctx, r, 0x9e3779b9u * (unsigned)(i + 1), 0, 0, NULL };
		CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
	}
	for (int i = 0; i < NWORKERS; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(w[i].bad, 0);
		deliberate += w[i].deliberate;
		kept += w[i].keep != NULL;
	}
	atomic_store(&stop, 1);
	pthread_join(obs_th, NULL);
	CHECK_INT(obs.bad, 0);
	CHECK(obs.reads > 0);
	/* Every failure reached the log function, from whichever thread. */
	CHECK(atomic_load(&log_calls) >= deliberate);

	/* Final invariants: the accounting adds up, no range overlaps. */
	{
		struct daxm_dev *d;
		struct rng all[64];
		uint64_t sum = 0;
		int n = 0, devs = 0;

		daxm_dev_foreach(r, d) {
			struct daxm_mapping *m;
			devs++;
			sum += daxm_dev_get_size(d);
			CHECK(ranges_consistent(d, S0, GiB));
			CHECK_INT(daxm_dev_is_enabled(d), 0);
			daxm_mapping_foreach(d, m) {
				if (n < 64)
					all[n++] = (struct rng){ daxm_mapping_get_start(m),
								 daxm_mapping_get_end(m), 0 };
			}
		}
		CHECK_INT(devs, 1 + kept);
		CHECK_U64(sum + daxm_region_get_available_size(r), GiB);
		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < n; j++)
				CHECK(all[i].end < all[j].start || all[j].end < all[i].start);
	}

	/* Free the context while other threads use references to devices. */
	atomic_store(&stop, 0);
	for (int i = 0; i < NWORKERS; i++) {
		struct daxm_dev *d = w[i].keep ? w[i].keep : daxm_dev_get_first(r);
		p[i] = (struct poller){ daxm_dev_ref(d), daxm_dev_get_id(d), &stop, 0, 0, "" };
		CHECK(pthread_create(&th[i], NULL, poll_dev, &p[i]) == 0);
	}
	pause_ms(20);
	daxm_unref(ctx);
	pause_ms(20);
	atomic_store(&stop, 1);
	for (int i = 0; i < NWORKERS; i++) {
		pthread_join(th[i], NULL);
		t_result(p[i].bad == 0, __FILE__, __LINE__, "device reference used across daxm_unref(ctx)",
			 p[i].first_bad);
		daxm_dev_unref(p[i].dev);
	}
}
