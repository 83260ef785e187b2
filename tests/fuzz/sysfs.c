/*
 * sysfs.c - libFuzzer harness: daxm_ctx_import_sysfs over a small tree.
 *
 * The input is decoded into a fake /sys/bus/dax the way Linux lays it out
 * (see tests of ImportTests.swift): sys/devices/<producer>/dax_region/
 * {id,size,align,available_size,seed,create}, sys/devices/<producer>/daxR.N/
 * {size,align,numa_node,target_node,resource,mappingK/{start,end,
 * page_offset},driver}, sys/bus/dax/devices/daxR.N -> ../../../devices/
 * <producer>/daxR.N, and proc/sys/kernel/osrelease. An input of zeros
 * gives a consistent tree; other bytes choose ids, sizes, ranges, gaps,
 * bound state, seed/create and then damage chosen files (new text, a
 * number, removal).
 *
 * A refusal must be a negative errno; whatever was imported (also before
 * a refusal) must keep the header's invariants (check_model). After a
 * success the model must round-trip through save/load and survive the next
 * calls a user would make (exercise_model).
 *
 * Encoding (one region after another; tests/fuzz/seeds.c writes seeds in it):
 *   u8 top: bits 0-1 osrelease (6.1 / 6.12 / absent / input text)
 *   u8 number of regions - 1 (mod 3)
 *   per region: producer, id, kind, slot, wild, size, align, devices,
 *   per device: id, ranges, (gap, length) per range, bound, target node,
 *   align; then seed, create, damage count, (file, action, value) each.
 */
#include "common.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#define BASE 0x100000000ull
#define MAX_FILES 160

struct file {
	char path[200]; /* relative to the tree's root */
	char text[160]; /* contents, or a symlink's target */
	int link;       /* a symlink to text */
	int gone;
};

struct tree {
	struct file f[MAX_FILES];
	int n;
};

static struct file *add(struct tree *t, int link, const char *text, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct file *add(struct tree *t, int link, const char *text, const char *fmt, ...)
{
	struct file *f;
	va_list ap;

	if (t->n == MAX_FILES)
		return NULL;
	f = &t->f[t->n++];
	memset(f, 0, sizeof(*f));
	va_start(ap, fmt);
	vsnprintf(f->path, sizeof(f->path), fmt, ap);
	va_end(ap);
	snprintf(f->text, sizeof(f->text), "%s", text);
	f->link = link;
	return f;
}

static void mkdirs(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
}

static void write_tree(const char *root, const struct tree *t)
{
	char path[PATH_MAX];

	for (int i = 0; i < t->n; i++) {
		const struct file *f = &t->f[i];
		if (f->gone)
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, f->path);
		mkdirs(path);
		if (f->link) {
			(void)symlink(f->text, path); /* a damaged or duplicate link: no link */
		} else {
			fuzz_write_file(path, f->text, strlen(f->text));
		}
	}
}

static uint64_t pick_align(struct in *in)
{
	static const uint64_t aligns[] = { 2 * MiB, PAGE, GiB, 2 * MiB };
	return aligns[in_below(in, 4)];
}

static void region(struct in *in, struct tree *t, int i)
{
	static const char *const producers[] = {
		"platform/hmem.%d", "platform/e820_pmem/ndbus0/region%d/dax%d.0",
		"platform/ACPI0017:00/root0/decoder0.%d/region%d/dax_region%d", "platform/shared",
	};
	char parent[96], text[160], devs[4][48];
	uint8_t psel = in_u8(in), idsel = in_u8(in);
	uint64_t id = idsel < 0xF0 ? (uint64_t)(idsel % 8) : in_number(in);
	int dynamic = !(in_u8(in) & 1);
	uint64_t start = BASE + (uint64_t)in_below(in, 8) * GiB;
	uint8_t wild = in_u8(in);
	uint64_t size = (uint64_t)(16 + in_below(in, 48)) * 2 * MiB;
	uint64_t align = pick_align(in), used = 0, cursor;
	int ndev = 1 + (int)in_below(in, 4), first = t->n;

	if (wild & 1)
		start = in_number(in);
	if (wild & 2)
		size = in_number(in);
	if (wild & 4)
		align = in_number(in);
	snprintf(parent, sizeof(parent), producers[psel % 4], i, i, i);
	if (psel & 0x80) /* a second level of the same producer */
		snprintf(parent + strlen(parent), sizeof(parent) - strlen(parent), "/sub%d", i);
	cursor = start;

	for (int j = 0; j < ndev; j++) {
		uint8_t dsel = in_u8(in);
		uint64_t did = dsel < 0xF0 ? (uint64_t)((j + dsel) % 16) : in_number(in);
		int nr = (int)in_below(in, 4), bound, node;
		uint64_t dsize = 0, first_start = start, dalign;
		char dir[160];

		snprintf(devs[j], sizeof(devs[j]), "dax%" PRIu64 ".%" PRIu64, id, did);
		snprintf(dir, sizeof(dir), "sys/devices/%s/%s", parent, devs[j]);
		for (int k = 0; k < nr; k++) {
			uint64_t gap = (uint64_t)in_below(in, 4) * 2 * MiB;
			uint64_t len = (uint64_t)(1 + in_below(in, 8)) * 2 * MiB;
			uint64_t s = cursor + gap;
			if (k == 0)
				first_start = s;
			snprintf(text, sizeof(text), "%#" PRIx64 "\n", s);
			add(t, 0, text, "%s/mapping%d/start", dir, k);
			snprintf(text, sizeof(text), "%#" PRIx64 "\n", s + len - 1);
			add(t, 0, text, "%s/mapping%d/end", dir, k);
			snprintf(text, sizeof(text), "%#" PRIx64 "\n", (uint64_t)(dsize / PAGE));
			add(t, 0, text, "%s/mapping%d/page_offset", dir, k);
			dsize += len;
			cursor = s + len;
		}
		used += dsize;
		bound = in_u8(in) & 1;
		node = (int)in_below(in, 4) - 1;
		dalign = pick_align(in);
		snprintf(text, sizeof(text), "%" PRIu64 "\n", dsize);
		add(t, 0, text, "%s/size", dir);
		snprintf(text, sizeof(text), "%" PRIu64 "\n", dalign);
		add(t, 0, text, "%s/align", dir);
		add(t, 0, "0\n", "%s/numa_node", dir);
		snprintf(text, sizeof(text), "%#" PRIx64 "\n", first_start);
		add(t, 0, text, "%s/resource", dir);
		if (node >= 0) {
			snprintf(text, sizeof(text), "%d\n", node);
			add(t, 0, text, "%s/target_node", dir);
		}
		add(t, 0, "dax:t0\n", "%s/modalias", dir);
		if (bound)
			add(t, 1, "../../../../bus/dax/drivers/device_dax", "%s/driver", dir);
		snprintf(text, sizeof(text), "../../../devices/%s/%s", parent, devs[j]);
		add(t, 1, text, "sys/bus/dax/devices/%s", devs[j]);
	}

	snprintf(text, sizeof(text), "%" PRIu64 "\n", id);
	add(t, 0, text, "sys/devices/%s/dax_region/id", parent);
	snprintf(text, sizeof(text), "%" PRIu64 "\n", size);
	add(t, 0, text, "sys/devices/%s/dax_region/size", parent);
	snprintf(text, sizeof(text), "%" PRIu64 "\n", align);
	add(t, 0, text, "sys/devices/%s/dax_region/align", parent);
	if (dynamic) {
		snprintf(text, sizeof(text), "%" PRIu64 "\n", size - used);
		add(t, 0, text, "sys/devices/%s/dax_region/available_size", parent);
		for (int k = 0; k < 2; k++) {
			unsigned sel = in_below(in, 4);
			snprintf(text, sizeof(text), "%s\n",
				 sel == 0 ? "" : sel == 1 ? devs[0] : sel == 2 ? devs[ndev - 1] : "dax9.9");
			add(t, 0, text, "sys/devices/%s/dax_region/%s", parent, k ? "create" : "seed");
		}
	}

	/* damage */
	for (int n = (int)in_below(in, 4); n > 0 && t->n > first; n--) {
		struct file *f = &t->f[first + in_below(in, (unsigned)(t->n - first))];
		switch (in_below(in, 5)) {
		case 0: in_bytes(in, f->text, 24); break;
		case 1: f->gone = 1; break;
		case 2: snprintf(f->text, sizeof(f->text), "%" PRIu64 "\n", in_number(in)); break;
		case 3: snprintf(f->text, sizeof(f->text), "%#" PRIx64 "\n", in_number(in)); break;
		default: snprintf(f->text, sizeof(f->text), "%" PRId64 "\n", (int64_t)in_number(in));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tree t;
	struct in in = { data, size };
	char root[PATH_MAX];
	struct daxm_ctx *ctx = NULL;
	uint8_t top = in_u8(&in);
	int nregions = 1 + (int)in_below(&in, 3), rc;

	t.n = 0;
	switch (top & 3) {
	case 0: add(&t, 0, "6.1.0-56-amd64\n", "proc/sys/kernel/osrelease"); break;
	case 1: add(&t, 0, "6.12.9+bpo-amd64\n", "proc/sys/kernel/osrelease"); break;
	case 2: break;
	default: {
		struct file *f = add(&t, 0, "", "proc/sys/kernel/osrelease");
		in_bytes(&in, f->text, 24);
	}
	}
	for (int i = 0; i < nregions; i++)
		region(&in, &t, i);

	fuzz_path(root, sizeof(root), "sysfs");
	fuzz_rm_tree(root);
	if (mkdir(root, 0755) != 0)
		fuzz_fail("mkdir %s", root);
	write_tree(root, &t);

	if (daxm_new(&ctx) != 0)
		fuzz_fail("daxm_new");
	fuzz_quiet(ctx);
	rc = daxm_ctx_import_sysfs(ctx, root);
	if (fuzz_verbose())
		fprintf(stderr, "fuzz: import of %d regions: %d %s\n", nregions, rc,
			rc < 0 ? daxm_last_error() : "");
	if (rc == 0 || rc < -4095 || rc > nregions)
		fuzz_fail("daxm_ctx_import_sysfs = %d for a tree of %d regions", rc, nregions);
	check_model(ctx, NULL);
	if (rc > 0) {
		daxm_unref(roundtrip(ctx));
		exercise_model(ctx);
		daxm_unref(roundtrip(ctx));
	}
	daxm_unref(ctx);
	return 0;
}
