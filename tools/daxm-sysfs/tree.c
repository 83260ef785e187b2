/*
 * tree.c - the sysfs tree daxm-sysfs serves, resolved from the model on
 * every call (nothing is cached, so the tree is always the model's):
 *
 *   bus/dax/devices/daxR.N -> ../../../devices/platform/P/daxR.N
 *   bus/dax/drivers/device_dax/{bind,unbind,new_id,remove_id}    0200
 *   bus/dax/drivers/device_dax/module -> ../../../../module/device_dax
 *   bus/dax/drivers/device_dax/daxR.N -> (bound devices)
 *   dev/char/MAJ:MIN -> ../../devices/platform/P/daxR.N
 *   devices/platform/P/dax_region/{id,size,align,available_size,
 *                                   create,seed,delete}
 *   devices/platform/P/daxR.N/{modalias,size,align,mapping,target_node,
 *                               numa_node,resource,dev,tag,uuid,
 *                               subsystem ->, driver ->, mappingK/}
 *   devices/platform/P/daxR.N/mappingK/{start,end,page_offset}
 *   devices/platform/P/extentK/{offset,length,tag,sequence,refcount,state}
 *   module/{device_dax,dax_hmem}/initstate = live, module/{device_hmem,dax}/
 *
 * P is the region's producer device: hmem.R (dynamic), pmem.R (static),
 * cxl_dcd.R (sparse). Modes are the kernel's (drivers/dax/bus.c): 0400
 * region align, resource and the mappingK files, 0200 delete, mapping and the
 * driver files, 0444/0644 elsewhere; attributes the kernel hides (static
 * regions' available_size, create, seed, delete and mapping; a negative
 * target_node) do not exist. Model attributes map to model paths
 * (regionR/..., daxR.N/..., daxR.N/mappingK/..., regionR/extentK/...,
 * device_dax/...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "daxm-sysfs.h"

/* ------------------------------------------------------------------ */
/* kernfs name hash                                                    */
/* ------------------------------------------------------------------ */

/*
 * fs/kernfs/dir.c kernfs_name_hash() with ns == NULL: the dcache's
 * partial_name_hash ((h + (c << 4) + (c >> 4)) * 11) over the name bytes,
 * end_name_hash = hash_64(h, 32), then reserved values avoided. kernfs
 * keeps a directory's children in an rbtree ordered by (hash, ns, name),
 * and readdir walks it in that order after "." and "..".
 */
unsigned int kernfs_name_hash(const char *name)
{
	uint64_t h = 0;
	unsigned int r;

	for (const char *p = name; *p; p++) {
		/* the kernel passes a (signed) char as unsigned long */
		uint64_t c = (uint64_t)(int64_t)*p;

		h = (h + (c << 4) + (c >> 4)) * 11;
	}
	r = (unsigned int)((h * 0x61C8864680B583EBull) >> 32);
	r &= 0x7fffffffU;
	if (r < 2)
		r += 2;
	if (r >= INT_MAX)
		r = INT_MAX - 1;
	return r;
}

/* ------------------------------------------------------------------ */
/* names                                                               */
/* ------------------------------------------------------------------ */

/* A decimal number as sysfs names print it: no sign, no leading zero. */
static bool parse_num(const char *s, int *out)
{
	long v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return false;
	}
	*out = (int)v;
	return true;
}

static const char *parent_prefix(int kind)
{
	switch (kind) {
	case DAXM_REGION_STATIC:
		return "pmem.";
	case DAXM_REGION_SPARSE:
		return "cxl_dcd.";
	default:
		return "hmem.";
	}
}

void tree_parent_name(struct daxm_region *region, char *buf, size_t len)
{
	snprintf(buf, len, "%s%d", parent_prefix(daxm_region_get_kind(region)),
		 daxm_region_get_id(region));
}

static struct daxm_region *region_by_parent(struct tree *t, const char *name)
{
	static const int kinds[] = { DAXM_REGION_DYNAMIC, DAXM_REGION_STATIC,
				     DAXM_REGION_SPARSE };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *pfx = parent_prefix(kinds[i]);
		size_t n = strlen(pfx);
		struct daxm_region *region;
		int id;

		if (strncmp(name, pfx, n) != 0 || !parse_num(name + n, &id))
			continue;
		region = daxm_region_get_by_id(t->ctx, id);
		if (region && daxm_region_get_kind(region) == kinds[i])
			return region;
	}
	return NULL;
}

/* The device named exactly @name ("daxR.N", canonical), or NULL; in
 * @region when it is not NULL. One lookup, no walk over the devices. */
static struct daxm_dev *dev_by_name(struct daxm_ctx *ctx, struct daxm_region *region,
				    const char *name)
{
	struct daxm_dev *dev;

	if (strncmp(name, "dax", 3) != 0)
		return NULL;
	dev = daxm_dev_get_by_name(ctx, name);
	if (!dev || strcmp(daxm_dev_get_devname(dev), name) != 0)
		return NULL;
	if (region && daxm_dev_get_region(dev) != region)
		return NULL;
	return dev;
}

static struct daxm_mapping *mapping_by_name(struct daxm_dev *dev, const char *name)
{
	struct daxm_mapping *m;
	int k;

	if (strncmp(name, "mapping", 7) != 0 || !parse_num(name + 7, &k))
		return NULL;
	daxm_mapping_foreach(dev, m)
		if (daxm_mapping_get_id(m) == k)
			return m;
	return NULL;
}

static struct daxm_extent *extent_by_name(struct daxm_region *region, const char *name)
{
	struct daxm_extent *e;
	int k;

	if (strncmp(name, "extent", 6) != 0 || !parse_num(name + 6, &k))
		return NULL;
	daxm_extent_foreach(region, e)
		if (daxm_extent_get_id(e) == k)
			return e;
	return NULL;
}

int tree_minor(const struct tree *t, const char *devname)
{
	for (size_t i = 0; i < t->nr_minors; i++)
		if (t->minors[i].used && strcmp(t->minors[i].name, devname) == 0)
			return (int)i;
	return -1;
}

void tree_sync_minors(struct tree *t,
		      void (*added)(const char *name, int minor, void *arg),
		      void (*removed)(const char *name, int minor, void *arg),
		      void *arg)
{
	struct daxm_region *region;
	struct daxm_dev *dev;
	bool *seen = calloc(t->nr_minors ? t->nr_minors : 1, sizeof(*seen));
	size_t nr_seen = t->nr_minors;

	if (!seen)
		return;
	/* One walk over the devices: mark the known ones and give each new
	 * one the lowest free minor (those of devices deleted since the last
	 * sync are freed after the walk). */
	daxm_region_foreach(t->ctx, region) {
		daxm_dev_foreach(region, dev) {
			const char *name = daxm_dev_get_devname(dev);
			int m = tree_minor(t, name);
			size_t i;

			if (m >= 0) {
				if ((size_t)m < nr_seen)
					seen[m] = true;
				continue;
			}
			for (i = 0; i < t->nr_minors && t->minors[i].used; i++)
				;
			if (i == t->nr_minors) {
				size_t n = t->nr_minors ? t->nr_minors * 2 : 64;
				struct minor_slot *sl = realloc(t->minors, n * sizeof(*sl));

				if (!sl)
					break; /* this device gets no node for now */
				memset(sl + t->nr_minors, 0, (n - t->nr_minors) * sizeof(*sl));
				t->minors = sl;
				t->nr_minors = n;
			}
			snprintf(t->minors[i].name, sizeof(t->minors[i].name), "%s", name);
			t->minors[i].used = true;
			if (i < nr_seen)
				seen[i] = true;
			if (added)
				added(name, (int)i, arg);
		}
	}
	/* Free the minors of devices that are gone. */
	for (size_t i = 0; i < nr_seen; i++) {
		if (!t->minors[i].used || seen[i])
			continue;
		t->minors[i].used = false;
		if (removed)
			removed(t->minors[i].name, (int)i, arg);
	}
	free(seen);
}

/* ------------------------------------------------------------------ */
/* node builders                                                       */
/* ------------------------------------------------------------------ */

struct walk {
	tree_child_fn fn;
	void *arg;
	int stop;
	const char *want;   /* a lookup of this one name: large directories
			     * emit just that entry (or nothing) */
};

static void emit(struct walk *w, const struct node *n)
{
	if (!w->stop)
		w->stop = w->fn(n, w->arg);
}

static void emit_dir(struct walk *w, const char *name)
{
	struct node n = { .type = NODE_DIR, .perm = 0755 };

	snprintf(n.name, sizeof(n.name), "%s", name);
	emit(w, &n);
}

static void emit_link(struct walk *w, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void emit_link(struct walk *w, const char *name, const char *fmt, ...)
{
	struct node n = { .type = NODE_LINK, .perm = 0777 };
	va_list ap;

	snprintf(n.name, sizeof(n.name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(n.target, sizeof(n.target), fmt, ap);
	va_end(ap);
	emit(w, &n);
}

static void emit_text(struct walk *w, const char *name, mode_t perm, const char *text)
{
	struct node n = { .type = NODE_FILE, .perm = perm, .kind = FILE_TEXT };

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.text, sizeof(n.text), "%s", text);
	emit(w, &n);
}

/* A model attribute: @prefix is the model object ("dax0.1", "region0"). */
static void emit_attr(struct walk *w, const char *name, mode_t perm, const char *prefix,
		      struct daxm_dev *dev, struct daxm_mapping *m, struct daxm_extent *e)
{
	struct node n = { .type = NODE_FILE, .perm = perm, .kind = FILE_MODEL,
			  .dev = dev, .mapping = m, .extent = e };

	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.model, sizeof(n.model), "%s/%s", prefix, name);
	emit(w, &n);
}

/* ------------------------------------------------------------------ */
/* directories                                                         */
/* ------------------------------------------------------------------ */

static void list_region_attrs(struct walk *w, struct daxm_region *region)
{
	bool dynamic = daxm_region_get_kind(region) != DAXM_REGION_STATIC;
	char obj[32];

	snprintf(obj, sizeof(obj), "region%d", daxm_region_get_id(region));
	emit_attr(w, "id", 0444, obj, NULL, NULL, NULL);
	emit_attr(w, "size", 0444, obj, NULL, NULL, NULL);
	emit_attr(w, "align", 0400, obj, NULL, NULL, NULL);
	if (dynamic) {
		emit_attr(w, "available_size", 0444, obj, NULL, NULL, NULL);
		emit_attr(w, "create", 0644, obj, NULL, NULL, NULL);
		emit_attr(w, "seed", 0444, obj, NULL, NULL, NULL);
		emit_attr(w, "delete", 0200, obj, NULL, NULL, NULL);
	}
}

static void list_dev(struct walk *w, struct tree *t, struct daxm_dev *dev)
{
	struct daxm_region *region = daxm_dev_get_region(dev);
	int kind = daxm_region_get_kind(region);
	const char *name = daxm_dev_get_devname(dev);
	mode_t rw = kind == DAXM_REGION_STATIC ? 0444 : 0644;
	struct daxm_mapping *m;
	int minor = tree_minor(t, name);

	emit_attr(w, "modalias", 0444, name, dev, NULL, NULL);
	emit_attr(w, "size", rw, name, dev, NULL, NULL);
	emit_attr(w, "align", rw, name, dev, NULL, NULL);
	if (kind != DAXM_REGION_STATIC)
		emit_attr(w, "mapping", 0200, name, dev, NULL, NULL);
	if (daxm_dev_get_target_node(dev) >= 0)
		emit_attr(w, "target_node", 0444, name, dev, NULL, NULL);
	emit_attr(w, "numa_node", 0444, name, dev, NULL, NULL);
	emit_attr(w, "resource", 0400, name, dev, NULL, NULL);
	if (kind == DAXM_REGION_SPARSE) {
		emit_attr(w, "tag", 0644, name, dev, NULL, NULL);
		emit_attr(w, "uuid", 0644, name, dev, NULL, NULL);
	}
	if (minor >= 0) {
		char text[32];

		snprintf(text, sizeof(text), "%u:%d\n", t->major, minor);
		emit_text(w, "dev", 0444, text);
	}
	emit_link(w, "subsystem", "../../../../bus/dax");
	if (daxm_dev_is_enabled(dev) == 1)
		emit_link(w, "driver", "../../../../bus/dax/drivers/device_dax");
	daxm_mapping_foreach(dev, m) {
		char dir[32];

		snprintf(dir, sizeof(dir), "mapping%d", daxm_mapping_get_id(m));
		emit_dir(w, dir);
	}
}

static void list_mapping(struct walk *w, struct daxm_dev *dev, struct daxm_mapping *m)
{
	char obj[64];

	snprintf(obj, sizeof(obj), "%s/mapping%d", daxm_dev_get_devname(dev),
		 daxm_mapping_get_id(m));
	emit_attr(w, "start", 0400, obj, dev, m, NULL);
	emit_attr(w, "end", 0400, obj, dev, m, NULL);
	emit_attr(w, "page_offset", 0400, obj, dev, m, NULL);
}

static void list_extent(struct walk *w, struct daxm_region *region, struct daxm_extent *e)
{
	char obj[64];

	snprintf(obj, sizeof(obj), "region%d/extent%d", daxm_region_get_id(region),
		 daxm_extent_get_id(e));
	emit_attr(w, "offset", 0444, obj, NULL, NULL, e);
	emit_attr(w, "length", 0444, obj, NULL, NULL, e);
	emit_attr(w, "tag", 0644, obj, NULL, NULL, e);
	emit_attr(w, "sequence", 0444, obj, NULL, NULL, e);
	emit_attr(w, "refcount", 0444, obj, NULL, NULL, e);
	emit_attr(w, "state", 0444, obj, NULL, NULL, e);
}

static void emit_dev_link(struct walk *w, struct tree *t, int depth, bool bound_only,
			  bool by_devnum, struct daxm_dev *dev)
{
	static const char *const up[] = { "", "../", "../../", "../../../", "../../../../" };
	const char *name = daxm_dev_get_devname(dev);
	char entry[64], parent[64];

	if (bound_only && daxm_dev_is_enabled(dev) != 1)
		return;
	if (by_devnum) {
		int minor = tree_minor(t, name);

		if (minor < 0)
			return;
		snprintf(entry, sizeof(entry), "%u:%d", t->major, minor);
	} else {
		snprintf(entry, sizeof(entry), "%s", name);
	}
	tree_parent_name(daxm_dev_get_region(dev), parent, sizeof(parent));
	emit_link(w, entry, "%sdevices/platform/%s/%s", up[depth], parent, name);
}

/* Every device as a link @depth levels below the root, named by device
 * name or by MAJ:MIN. */
static void list_dev_links(struct walk *w, struct tree *t, int depth, bool bound_only,
			   bool by_devnum)
{
	struct daxm_region *region;
	struct daxm_dev *dev;

	if (w->want) {
		const char *name = w->want;
		unsigned int major;
		int minor, n = 0;

		if (by_devnum) {
			if (sscanf(w->want, "%u:%d%n", &major, &minor, &n) != 2 ||
			    w->want[n] || major != t->major || minor < 0 ||
			    (size_t)minor >= t->nr_minors || !t->minors[minor].used)
				return;
			name = t->minors[minor].name;
		}
		if ((dev = dev_by_name(t->ctx, NULL, name)))
			emit_dev_link(w, t, depth, bound_only, by_devnum, dev);
		return;
	}
	daxm_region_foreach(t->ctx, region)
		daxm_dev_foreach(region, dev)
			emit_dev_link(w, t, depth, bound_only, by_devnum, dev);
}

/* Split @path into at most @max components; returns their number or -1. */
static int split(char *path, char **comp, int max)
{
	int n = 0;
	char *save = NULL;

	for (char *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (n == max)
			return -1;
		comp[n++] = c;
	}
	return n;
}

#define IS(i, s) (strcmp(comp[i], (s)) == 0)

/* List directory @dir; -ENOENT / -ENOTDIR when it is not one. */
static int list_dir(struct tree *t, const char *dir, struct walk *w)
{
	char buf[SYSFS_PATH_MAX];
	char *comp[8];
	int n;

	if (strlen(dir) >= sizeof(buf))
		return -ENOENT;
	strcpy(buf, dir);
	n = split(buf, comp, 8);
	if (n < 0)
		return -ENOENT;

	switch (n) {
	case 0:
		emit_dir(w, "bus");
		emit_dir(w, "dev");
		emit_dir(w, "devices");
		emit_dir(w, "module");
		return 0;
	case 1:
		if (IS(0, "bus"))
			emit_dir(w, "dax");
		else if (IS(0, "dev"))
			emit_dir(w, "char");
		else if (IS(0, "devices"))
			emit_dir(w, "platform");
		else if (IS(0, "module")) {
			emit_dir(w, "device_dax");
			emit_dir(w, "dax_hmem");
			emit_dir(w, "device_hmem");
			emit_dir(w, "dax");
		} else
			return -ENOENT;
		return 0;
	case 2:
		if (IS(0, "bus") && IS(1, "dax")) {
			emit_dir(w, "devices");
			emit_dir(w, "drivers");
		} else if (IS(0, "dev") && IS(1, "char")) {
			list_dev_links(w, t, 2, false, true);
		} else if (IS(0, "devices") && IS(1, "platform")) {
			struct daxm_region *region;

			daxm_region_foreach(t->ctx, region) {
				char parent[64];

				tree_parent_name(region, parent, sizeof(parent));
				emit_dir(w, parent);
			}
		} else if (IS(0, "module") && (IS(1, "device_dax") || IS(1, "dax_hmem"))) {
			emit_text(w, "initstate", 0444, "live\n");
		} else if (IS(0, "module") && (IS(1, "device_hmem") || IS(1, "dax"))) {
			/* built in: a directory without initstate */
		} else {
			return -ENOENT;
		}
		return 0;
	case 3:
		if (IS(0, "bus") && IS(1, "dax") && IS(2, "devices")) {
			list_dev_links(w, t, 3, false, false);
			return 0;
		}
		if (IS(0, "bus") && IS(1, "dax") && IS(2, "drivers")) {
			emit_dir(w, "device_dax");
			return 0;
		}
		if (IS(0, "devices") && IS(1, "platform")) {
			struct daxm_region *region = region_by_parent(t, comp[2]);
			struct daxm_dev *dev;
			struct daxm_extent *e;

			if (!region)
				return -ENOENT;
			emit_dir(w, "dax_region");
			if (w->want) {
				if ((dev = dev_by_name(t->ctx, region, w->want)))
					emit_dir(w, w->want);
				else if ((e = extent_by_name(region, w->want)))
					emit_dir(w, w->want);
				return 0;
			}
			daxm_dev_foreach(region, dev)
				emit_dir(w, daxm_dev_get_devname(dev));
			daxm_extent_foreach(region, e) {
				char name[32];

				snprintf(name, sizeof(name), "extent%d", daxm_extent_get_id(e));
				emit_dir(w, name);
			}
			return 0;
		}
		return -ENOENT;
	case 4:
		if (IS(0, "bus") && IS(1, "dax") && IS(2, "drivers") && IS(3, "device_dax")) {
			emit_attr(w, "bind", 0200, "device_dax", NULL, NULL, NULL);
			emit_attr(w, "unbind", 0200, "device_dax", NULL, NULL, NULL);
			emit_attr(w, "new_id", 0200, "device_dax", NULL, NULL, NULL);
			emit_attr(w, "remove_id", 0200, "device_dax", NULL, NULL, NULL);
			emit_link(w, "module", "../../../../module/device_dax");
			list_dev_links(w, t, 4, true, false);
			return 0;
		}
		if (IS(0, "devices") && IS(1, "platform")) {
			struct daxm_region *region = region_by_parent(t, comp[2]);
			struct daxm_dev *dev;
			struct daxm_extent *e;

			if (!region)
				return -ENOENT;
			if (IS(3, "dax_region")) {
				list_region_attrs(w, region);
				return 0;
			}
			if ((dev = dev_by_name(t->ctx, region, comp[3]))) {
				list_dev(w, t, dev);
				return 0;
			}
			if ((e = extent_by_name(region, comp[3]))) {
				list_extent(w, region, e);
				return 0;
			}
		}
		return -ENOENT;
	case 5:
		if (IS(0, "devices") && IS(1, "platform")) {
			struct daxm_region *region = region_by_parent(t, comp[2]);
			struct daxm_dev *dev = region ? dev_by_name(t->ctx, region, comp[3]) : NULL;
			struct daxm_mapping *m = dev ? mapping_by_name(dev, comp[4]) : NULL;

			if (m) {
				list_mapping(w, dev, m);
				return 0;
			}
		}
		return -ENOENT;
	default:
		return -ENOENT;
	}
}

int tree_list(struct tree *t, const char *dir, tree_child_fn fn, void *arg)
{
	struct walk w = { .fn = fn, .arg = arg };
	struct node self;
	int rc;

	rc = list_dir(t, dir, &w);
	if (rc == -ENOENT && tree_lookup(t, dir, &self) == 0)
		return -ENOTDIR;
	return rc;
}

struct find {
	const char *name;
	struct node *out;
	bool found;
};

static int find_child(const struct node *child, void *arg)
{
	struct find *f = arg;

	if (strcmp(child->name, f->name) != 0)
		return 0;
	*f->out = *child;
	f->found = true;
	return 1;
}

int tree_lookup(struct tree *t, const char *path, struct node *out)
{
	char parent[SYSFS_PATH_MAX];
	const char *slash, *name;
	struct walk w;
	struct find f;
	int rc;

	if (!*path) {
		memset(out, 0, sizeof(*out));
		out->type = NODE_DIR;
		out->perm = 0755;
		return 0;
	}
	if (strlen(path) >= sizeof(parent))
		return -ENOENT;
	slash = strrchr(path, '/');
	if (slash) {
		memcpy(parent, path, (size_t)(slash - path));
		parent[slash - path] = '\0';
		name = slash + 1;
	} else {
		parent[0] = '\0';
		name = path;
	}
	f = (struct find){ .name = name, .out = out };
	w = (struct walk){ .fn = find_child, .arg = &f, .want = name };
	rc = list_dir(t, parent, &w);
	if (rc < 0)
		return rc;
	return f.found ? 0 : -ENOENT;
}
