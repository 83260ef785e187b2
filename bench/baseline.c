/*
 * baseline.c - the C baselines of daxm-bench (see baseline.h).
 *
 * The dynamic-region baseline follows drivers/dax/bus.c (Linux 6.x)
 * function by function; the names in comments are the kernel's. It keeps
 * only what the allocator needs: no devices in a driver model, no sysfs,
 * no mapping devices. It is checked against the library at start (see
 * baseline_self_check() in dynamic.c).
 */
#include "baseline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BUNIT (2ull << 20)

struct bres {
	uint64_t start, end;
	struct bdev *owner;
	struct bres *sibling;
};

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* __request_region: insert [start, start + n) among the children, sorted;
 * NULL when it conflicts or does not fit in the region. */
static struct bres *request_region(struct bregion *r, uint64_t start,
				   uint64_t n, struct bdev *owner)
{
	uint64_t end = start + n - 1;
	struct bres **p, *res;

	if (n == 0 || end < start || start < r->start || end > r->end)
		return NULL;
	for (p = &r->child; *p; p = &(*p)->sibling) {
		if ((*p)->start > end)
			break;
		if ((*p)->end >= start)
			return NULL;
	}
	res = malloc(sizeof(*res));
	if (!res)
		return NULL;
	res->start = start;
	res->end = end;
	res->owner = owner;
	res->sibling = *p;
	*p = res;
	return res;
}

/* __release_region: find the child by its bounds, unlink it, free it. */
static int release_region(struct bregion *r, uint64_t start, uint64_t n)
{
	struct bres **p;

	for (p = &r->child; *p; p = &(*p)->sibling) {
		struct bres *res = *p;

		if (res->start == start && res->end == start + n - 1) {
			*p = res->sibling;
			free(res);
			return 0;
		}
	}
	return -ENXIO;
}

/* __adjust_resource: move the end of @res, checking both neighbours. */
static int adjust_resource(struct bregion *r, struct bres *res, uint64_t start,
			   uint64_t size)
{
	uint64_t end = start + size - 1;
	struct bres *tmp;

	if (start < r->start || end > r->end)
		return -EBUSY;
	if (res->sibling && res->sibling->start <= end)
		return -EBUSY;
	tmp = r->child;
	if (tmp != res) {
		while (tmp->sibling != res)
			tmp = tmp->sibling;
		if (start <= tmp->end)
			return -EBUSY;
	}
	res->start = start;
	res->end = end;
	return 0;
}

uint64_t bdev_size(const struct bdev *d)
{
	uint64_t size = 0;

	for (int i = 0; i < d->nr_range; i++)
		size += d->ranges[i].end - d->ranges[i].start + 1;
	return size;
}

/* dax_region_avail_size: walk every child. */
uint64_t breg_available(const struct bregion *r)
{
	uint64_t size = r->end - r->start + 1;

	for (const struct bres *res = r->child; res; res = res->sibling)
		size -= res->end - res->start + 1;
	return size;
}

/* alloc_dev_dax_range */
static int alloc_dev_dax_range(struct bregion *r, struct bdev *d,
			       uint64_t start, uint64_t size)
{
	struct brange *ranges;
	struct bres *res;
	uint64_t pgoff = 0;

	if (!size)
		return 0;
	res = request_region(r, start, size, d);
	if (!res)
		return -ENOMEM;
	ranges = realloc(d->ranges, sizeof(*ranges) * (size_t)(d->nr_range + 1));
	if (!ranges) {
		release_region(r, start, size);
		return -ENOMEM;
	}
	for (int i = 0; i < d->nr_range; i++)
		pgoff += ranges[i].end - ranges[i].start + 1;
	d->ranges = ranges;
	ranges[d->nr_range++] = (struct brange){
		.start = start, .end = start + size - 1, .pgoff = pgoff, .res = res,
	};
	return 0;
}

/* adjust_dev_dax_range: resize the device's last range and its resource */
static int adjust_dev_dax_range(struct bregion *r, struct bdev *d,
				struct bres *res, uint64_t size)
{
	struct brange *last = &d->ranges[d->nr_range - 1];
	int rc = adjust_resource(r, res, last->start, size);

	if (rc)
		return rc;
	last->end = last->start + size - 1;
	return 0;
}

/* trim_dev_dax_range: drop the device's last range */
static void trim_dev_dax_range(struct bregion *r, struct bdev *d)
{
	struct brange *last = &d->ranges[d->nr_range - 1];

	release_region(r, last->start, last->end - last->start + 1);
	if (--d->nr_range == 0) {
		free(d->ranges);
		d->ranges = NULL;
	}
}

/* adjust_ok: @res is the device's last range (by page offset) */
static int adjust_ok(const struct bdev *d, const struct bres *res)
{
	const struct brange *last;

	if (d->nr_range == 0 || res->owner != d)
		return 0;
	last = &d->ranges[d->nr_range - 1];
	if (last->start != res->start || last->end != res->end)
		return 0;
	for (int i = 0; i < d->nr_range - 1; i++)
		if (d->ranges[i].pgoff > last->pgoff)
			return 0;
	return 1;
}

/* dev_dax_shrink */
static int dev_dax_shrink(struct bregion *r, struct bdev *d, uint64_t size)
{
	uint64_t to_shrink = bdev_size(d) - size;

	for (int i = d->nr_range - 1; i >= 0; i--) {
		struct brange *range = &d->ranges[i];
		uint64_t len = range->end - range->start + 1;
		uint64_t shrink = min_u64(to_shrink, len);
		struct bres *adjust = NULL, *res;

		if (shrink >= len) {
			trim_dev_dax_range(r, d);
			to_shrink -= shrink;
			if (!to_shrink)
				break;
			continue;
		}
		/* for_each_dax_region_resource: find the range's resource */
		for (res = r->child; res; res = res->sibling)
			if (res->owner == d && res->start == range->start) {
				adjust = res;
				break;
			}
		if (!adjust || i != d->nr_range - 1)
			return -ENXIO;
		return adjust_dev_dax_range(r, d, adjust, len - shrink);
	}
	return 0;
}

/* dev_dax_resize */
int breg_set_size(struct bregion *r, struct bdev *d, uint64_t size)
{
	uint64_t avail = breg_available(r), to_alloc;
	uint64_t dev_size = bdev_size(d);
	struct bres *res, *first;
	uint64_t alloc = 0;
	int rc;

	if (size % BUNIT)
		return -EINVAL;
	if (size == dev_size)
		return 0;
	if (size > dev_size && size - dev_size > avail)
		return -ENOSPC;
	if (size < dev_size)
		return dev_dax_shrink(r, d, size);

	to_alloc = size - dev_size;
retry:
	first = r->child;
	if (!first)
		return alloc_dev_dax_range(r, d, r->start, to_alloc);

	rc = -ENOSPC;
	for (res = first; res; res = res->sibling) {
		struct bres *next = res->sibling;

		/* space at the beginning of the region */
		if (res == first && res->start > r->start) {
			alloc = min_u64(res->start - r->start, to_alloc);
			rc = alloc_dev_dax_range(r, d, r->start, alloc);
			break;
		}
		alloc = 0;
		/* space between allocations */
		if (next && next->start > res->end + 1)
			alloc = min_u64(next->start - (res->end + 1), to_alloc);
		/* space at the end of the region */
		if (!alloc && !next && res->end < r->end)
			alloc = min_u64(r->end - res->end, to_alloc);
		if (!alloc)
			continue;
		if (adjust_ok(d, res)) {
			rc = adjust_dev_dax_range(r, d, res,
						  res->end - res->start + 1 + alloc);
			break;
		}
		rc = alloc_dev_dax_range(r, d, res->end + 1, alloc);
		break;
	}
	if (rc)
		return rc;
	to_alloc -= alloc;
	if (to_alloc)
		goto retry;
	return 0;
}

/* ida_alloc, the linear way: the lowest id not in use */
static int alloc_id(struct bregion *r)
{
	int id;

	for (id = 0; id < r->nr_ids; id++)
		if (!r->devs[id])
			return id;
	{
		int n = r->nr_ids ? 2 * r->nr_ids : 16;
		struct bdev **devs = realloc(r->devs, sizeof(*devs) * (size_t)n);

		if (!devs)
			return -ENOMEM;
		memset(devs + r->nr_ids, 0, sizeof(*devs) * (size_t)(n - r->nr_ids));
		r->devs = devs;
		r->nr_ids = n;
	}
	return id;
}

static struct bdev *new_dev(struct bregion *r)
{
	int id = alloc_id(r);
	struct bdev *d;

	if (id < 0)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->id = id;
	r->devs[id] = d;
	return d;
}

int breg_init(struct bregion *r, uint64_t start, uint64_t size)
{
	memset(r, 0, sizeof(*r));
	r->start = start;
	r->end = start + size - 1;
	return new_dev(r) ? 0 : -ENOMEM; /* daxR.0, idle */
}

/* create_store */
int breg_create(struct bregion *r, struct bdev **out)
{
	struct bdev *d;

	if (breg_available(r) == 0)
		return -ENOSPC;
	d = new_dev(r);
	if (!d)
		return -ENOMEM;
	*out = d;
	return 0;
}

/* delete_store + __free_dev_dax_id */
int breg_destroy_dev(struct bregion *r, struct bdev *d)
{
	if (d->id == 0 || bdev_size(d) != 0)
		return -EBUSY;
	r->devs[d->id] = NULL;
	free(d->ranges);
	free(d);
	return 0;
}

void breg_destroy(struct bregion *r)
{
	struct bres *res, *next;

	for (res = r->child; res; res = next) {
		next = res->sibling;
		free(res);
	}
	for (int i = 0; i < r->nr_ids; i++)
		if (r->devs[i]) {
			free(r->devs[i]->ranges);
			free(r->devs[i]);
		}
	free(r->devs);
	memset(r, 0, sizeof(*r));
}

/* ---- the mutex object ----------------------------------------------------- */

void mobj_init(struct mobj *o)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->lock, NULL);
	o->size = 3 * BUNIT;
	o->avail = 5 * BUNIT;
	strcpy(o->name, "dax0.1");
}

int mobj_get(struct mobj *o)
{
	pthread_mutex_lock(&o->lock);
	o->refcount++;
	pthread_mutex_unlock(&o->lock);
	return 0;
}

int mobj_put(struct mobj *o)
{
	int rc = 0;

	pthread_mutex_lock(&o->lock);
	if (o->refcount > 0)
		o->refcount--;
	else
		rc = -EINVAL;
	pthread_mutex_unlock(&o->lock);
	return rc;
}

uint64_t mobj_get_size(struct mobj *o)
{
	uint64_t v;

	pthread_mutex_lock(&o->lock);
	v = o->size;
	pthread_mutex_unlock(&o->lock);
	return v;
}

uint64_t mobj_get_avail(struct mobj *o)
{
	uint64_t v;

	pthread_mutex_lock(&o->lock);
	v = o->avail;
	pthread_mutex_unlock(&o->lock);
	return v;
}

const char *mobj_get_name(struct mobj *o)
{
	return o->name;
}
