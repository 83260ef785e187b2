/*
 * dax-map - map a device-DAX device, check its bytes, place it on a NUMA
 * node and time it against anonymous memory.
 *
 *   dax-map                      a device of the model, in emulated memory
 *   dax-map /dev/daxX.Y          a real device (ITS CONTENTS ARE OVERWRITTEN)
 *
 * Options:
 *   --size BYTES   bytes to map, K/M/G suffixes allowed (default: 64 MiB
 *                  emulated, the whole real device); rounded down to the
 *                  device's align
 *   --node N       NUMA node to bind to (default: the highest node this
 *                  process may allocate on)
 *   --align BYTES  a real device's align when sysfs does not tell (2 MiB)
 *
 * Emulated: a dynamic region of the model with a device made of two
 * ranges (a hole between them), mapped with daxm_dev_map().
 * Real: the device is opened and mmap()ed by hand first, to show what
 * the kernel refuses (MAP_PRIVATE, a 4 KiB length), then described to the
 * model as a static region whose device is backed by the path
 * (daxm_dev_set_path()), and mapped through the library like the
 * emulated one.
 *
 * Then, for both: bind the view to a NUMA node with libnuma (mbind()
 * MPOL_BIND on its address, as numa_tonode_memory() does, but keeping the
 * errno), write a pattern through it and time that first touch, read it
 * back, read it through a second view of the same device and write back
 * through that one, check where sample pages are with
 * get_mempolicy(MPOL_F_NODE|MPOL_F_ADDR), and compare the touch bandwidth
 * with anonymous memory of the same size on the same node
 * (numa_tonode_memory()).
 *
 * Exits 0 when every check passes, 1 when one fails (the pattern, the
 * second view, a library answer that differs from daxmodel.h, placement of
 * emulated memory after a successful bind), 2 for bad usage or a device
 * that cannot be opened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <daxmodel.h>
#include <numa.h>
#include <numaif.h>

#define KiB (1024ull)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define PAGE (4 * KiB)
#define NR_SAMPLES 8

static int failures;

#define FAIL(...)                                           \
	do {                                                \
		fprintf(stderr, "FAIL: " __VA_ARGS__);      \
		fputc('\n', stderr);                        \
		failures++;                                 \
	} while (0)

/* "EINVAL" for EINVAL (or -EINVAL), "0" for 0. */
static const char *errno_name(int e)
{
	static char other[32];

	switch (e < 0 ? -e : e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default:
		snprintf(other, sizeof(other), "errno %d", e < 0 ? -e : e);
		return other;
	}
}

/* A library call that must return @want (0 or -errno, per daxmodel.h). */
static int expect_rc(const char *what, int rc, int want)
{
	if (rc == want) {
		if (rc)
			printf("  %-44s -> -%s, as documented (%s)\n", what, errno_name(rc),
			       daxm_last_error());
		return 1;
	}
	FAIL("%s returned %s%s, daxmodel.h says %s%s: %s", what, rc ? "-" : "", errno_name(rc),
	     want ? "-" : "", errno_name(want), daxm_last_error());
	return 0;
}
#define EXPECT_RC(call, want) expect_rc(#call, (call), (want))

/* The library's messages, in line with ours (the default goes to stderr). */
static void log_fn(struct daxm_ctx *ctx, int priority, const char *file, int line,
		   const char *fn, const char *msg)
{
	(void)ctx, (void)file, (void)line;
	printf("  libdaxmodel<%d> %s: %s\n", priority, fn, msg);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the pattern ---------------------------------------------------------- */

static uint64_t pattern_word(uint64_t seed, uint64_t offset)
{
	/* Distinct for every word and every seed; never 0 (offset*odd + seed|1). */
	return (offset * 0x9e3779b97f4a7c15ull) ^ (seed | 1);
}

/* Write the pattern over @len bytes; returns the seconds it took. */
static double write_pattern(void *addr, uint64_t len, uint64_t seed)
{
	volatile uint64_t *w = addr;
	double t0 = now();

	for (uint64_t i = 0; i < len / 8; i++)
		w[i] = pattern_word(seed, i * 8);
	return now() - t0;
}

/* Number of words that differ from the pattern; prints the first. */
static uint64_t check_pattern(const char *what, const void *addr, uint64_t len, uint64_t seed)
{
	const volatile uint64_t *w = addr;
	uint64_t bad = 0;

	for (uint64_t i = 0; i < len / 8; i++) {
		uint64_t want = pattern_word(seed, i * 8);
		if (w[i] != want && bad++ == 0)
			fprintf(stderr, "  %s: first mismatch at offset %#" PRIx64 ": %#" PRIx64
				", expected %#" PRIx64 "\n", what, i * 8, w[i], want);
	}
	return bad;
}

static double mib_per_s(uint64_t len, double seconds)
{
	return seconds > 0 ? (double)len / (double)MiB / seconds : 0.0;
}

/* ---- NUMA ----------------------------------------------------------------- */

struct numa_info {
	int available;  /* numa_available() >= 0 */
	int nr_nodes;   /* nodes this process may allocate on */
	int allowed[64];
};

static void numa_info_init(struct numa_info *ni)
{
	memset(ni, 0, sizeof(*ni));
	ni->available = numa_available() >= 0;
	if (!ni->available)
		return;
	struct bitmask *mems = numa_get_mems_allowed();
	for (int n = 0; n <= numa_max_node() && n < 64; n++)
		if (numa_bitmask_isbitset(mems, (unsigned int)n)) {
			ni->allowed[n] = 1;
			ni->nr_nodes++;
		}
	numa_bitmask_free(mems);
}

static int numa_default_node(const struct numa_info *ni)
{
	for (int n = 63; n >= 0; n--)
		if (ni->allowed[n])
			return n;
	return 0;
}

static int node_allowed(const struct numa_info *ni, int node)
{
	return ni->available && node >= 0 && node < 64 && ni->allowed[node];
}

/* The node of the page at @addr (touching it if needed), or -errno. */
static int page_node(void *addr)
{
	int node = -1;

	if (get_mempolicy(&node, NULL, 0, addr, MPOL_F_NODE | MPOL_F_ADDR) != 0)
		return -errno;
	return node;
}

/* Bind [@addr, @addr + @len) to @node: numa_tonode_memory() with the
 * errno kept (libnuma reports its failures through numa_error()), and
 * MPOL_MF_MOVE for pages already there. Returns 0 or -errno. */
static int bind_to_node(void *addr, uint64_t len, int node)
{
	struct bitmask *mask;
	int rc = 0;

	if (node < 0 || node > numa_max_possible_node())
		return -EINVAL;
	mask = numa_allocate_nodemask();
	numa_bitmask_setbit(mask, (unsigned int)node);
	if (mbind(addr, len, MPOL_BIND, mask->maskp, mask->size + 1, MPOL_MF_MOVE) != 0)
		rc = -errno;
	numa_bitmask_free(mask);
	return rc;
}

/* Sample pages across @len; print requested vs actual; returns the
 * number of sampled pages not on @node (or -1 if none could be read). */
static int report_placement(const char *what, uint8_t *addr, uint64_t len, int node)
{
	int misplaced = 0, read = 0;

	printf("  %-9s %-12s %-9s %s\n", what, "page offset", "requested", "actual");
	for (int i = 0; i < NR_SAMPLES; i++) {
		uint64_t off = (len / PAGE - 1) * (uint64_t)i / (NR_SAMPLES - 1) * PAGE;
		int actual = page_node(addr + off);

		if (actual < 0) {
			printf("  %-9s 0x%-10" PRIx64 " %-9d get_mempolicy: %s\n", "", off, node,
			       errno_name(actual));
			continue;
		}
		read++;
		printf("  %-9s 0x%-10" PRIx64 " %-9d %d%s\n", "", off, node, actual,
		       actual == node ? "" : "  (elsewhere)");
		misplaced += actual != node;
	}
	return read ? misplaced : -1;
}

/* ---- a real device -------------------------------------------------------- */

/* Read an unsigned sysfs attribute of the character device @st; 0 if found. */
static int read_dev_attr(const struct stat *st, const char *name, const char *attr, long long *out)
{
	char path[PATH_MAX], buf[64];
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	const char *fmts[] = { "/sys/dev/char/%u:%u/%s", "/sys/bus/dax/devices/%s/%s" };

	for (int i = 0; i < 2; i++) {
		FILE *f;

		if (i == 0)
			snprintf(path, sizeof(path), fmts[0], major(st->st_rdev), minor(st->st_rdev), attr);
		else
			snprintf(path, sizeof(path), fmts[1], base, attr);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			char *end;
			errno = 0;
			long long v = strtoll(buf, &end, 0);
			if (!errno && end != buf) {
				fclose(f);
				*out = v;
				return 0;
			}
		}
		fclose(f);
	}
	return -ENOENT;
}

/* Map the device by hand: what the kernel accepts and refuses. */
static void probe_kernel(int fd, uint64_t align)
{
	struct {
		const char *what;
		uint64_t len;
		int flags;
		int expect; /* errno Linux gives (reference/qemu-devdax.md) */
	} probes[] = {
		{ "MAP_SHARED, one align unit", align, MAP_SHARED, 0 },
		{ "MAP_PRIVATE", align, MAP_PRIVATE, EINVAL },
		{ "MAP_SHARED, length 4 KiB", PAGE, MAP_SHARED, align > PAGE ? EINVAL : 0 },
	};

	printf("what the kernel says to mmap(2) of the device:\n");
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		void *p = mmap(NULL, probes[i].len, PROT_READ | PROT_WRITE, probes[i].flags, fd, 0);
		int e = p == MAP_FAILED ? errno : 0;

		if (p != MAP_FAILED)
			munmap(p, probes[i].len);
		printf("  %-32s -> %s%s\n", probes[i].what, e ? errno_name(e) : "ok",
		       e == probes[i].expect ? "" : "  (NOTE: Linux 6.1/6.12 answer differently)");
	}
}

/* Describe /dev/daxR.N to the model: a static region whose one device
 * has the real device's size (or @size), backed by @path. */
static struct daxm_dev *model_real_device(struct daxm_ctx *ctx, const char *path, uint64_t size,
					  uint64_t align_opt, int node)
{
	struct daxm_region_spec spec;
	struct daxm_region *region;
	struct stat st;
	long long v;
	uint64_t dev_size = 0, align = align_opt ? align_opt : 2 * MiB, start = 0x1000000000ull;
	int region_id = 0, dev_id = 0, fd;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	fd = open(path, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "dax-map: cannot open %s: %s (%s)\n", path, strerror(errno),
			errno_name(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) {
		fprintf(stderr, "dax-map: %s is not a character device\n", path);
		close(fd);
		return NULL;
	}
	if (read_dev_attr(&st, base, "size", &v) == 0 && v > 0)
		dev_size = (uint64_t)v;
	if (!align_opt && read_dev_attr(&st, base, "align", &v) == 0 && v > 0)
		align = (uint64_t)v;
	printf("%s: char %u:%u, size %#" PRIx64 "%s, align %#" PRIx64, path, major(st.st_rdev),
	       minor(st.st_rdev), dev_size, dev_size ? "" : " (unknown: no sysfs)", align);
	if (read_dev_attr(&st, base, "target_node", &v) == 0)
		printf(", target_node %lld", v);
	if (read_dev_attr(&st, base, "numa_node", &v) == 0)
		printf(", numa_node %lld", v);
	printf("\n");
	if (read_dev_attr(&st, base, "resource", &v) == 0 && v > 0 && (uint64_t)v % align == 0)
		start = (uint64_t)v;
	if (sscanf(base, "dax%d.%d", &region_id, &dev_id) != 2)
		region_id = dev_id = 0;

	probe_kernel(fd, align);
	close(fd);

	if (size == 0)
		size = dev_size;
	if (dev_size && size > dev_size)
		size = dev_size;
	size -= size % align;
	if (size == 0) {
		fprintf(stderr, "dax-map: %s: no size to map (pass --size, a multiple of %#" PRIx64 ")\n",
			path, align);
		return NULL;
	}

	daxm_region_spec_init(&spec);
	spec.id = region_id;
	spec.dev_id = dev_id;
	spec.kind = DAXM_REGION_STATIC;
	spec.start = start;
	spec.size = size;
	spec.align = align;
	spec.target_node = node;
	if (!EXPECT_RC(daxm_region_new(ctx, &spec, &region), 0))
		return NULL;
	struct daxm_dev *dev = daxm_dev_get_first(region);
	if (!dev || !EXPECT_RC(daxm_dev_set_path(dev, path), 0))
		return NULL;
	printf("model: %s (static region%d), %#" PRIx64 " bytes backed by %s\n",
	       daxm_dev_get_devname(dev), region_id, size, path);
	return dev;
}

/* ---- an emulated device --------------------------------------------------- */

/* A dynamic region with dax0.1 made of two ranges: a hole (dax0.2)
 * between them, so the view must put them together. */
static struct daxm_dev *model_emulated_device(struct daxm_ctx *ctx, uint64_t size, int node)
{
	const uint64_t unit = 2 * MiB;
	struct daxm_region_spec spec;
	struct daxm_region *region;
	struct daxm_dev *dev, *spacer;
	struct daxm_view *view = NULL;
	uint64_t half;

	size -= size % unit;
	if (size < unit) {
		fprintf(stderr, "dax-map: --size must be at least 2 MiB\n");
		return NULL;
	}
	half = size / 2 - (size / 2) % unit;

	daxm_region_spec_init(&spec);
	spec.id = 0;
	spec.start = 0x140000000ull; /* the QEMU lab's hmem region */
	spec.size = 2 * size;
	spec.target_node = node;
	spec.flags = DAXM_REGION_IDLE;
	if (!EXPECT_RC(daxm_region_new(ctx, &spec, &region), 0) ||
	    !EXPECT_RC(daxm_region_create_dev(region, &dev), 0) ||
	    !EXPECT_RC(daxm_dev_set_size(dev, half ? half : size), 0))
		return NULL;
	if (half) {
		if (!EXPECT_RC(daxm_region_create_dev(region, &spacer), 0) ||
		    !EXPECT_RC(daxm_dev_set_size(spacer, unit), 0) ||
		    !EXPECT_RC(daxm_dev_set_size(dev, size), 0))
			return NULL;
		if (daxm_dev_get_nr_mappings(dev) != 2)
			FAIL("%s has %d ranges, expected 2 (grown past %s)", daxm_dev_get_devname(dev),
			     daxm_dev_get_nr_mappings(dev), daxm_dev_get_devname(spacer));
	}
	printf("model: %s in emulated memory, %#" PRIx64 " bytes in %d range(s):\n",
	       daxm_dev_get_devname(dev), daxm_dev_get_size(dev), daxm_dev_get_nr_mappings(dev));
	for (struct daxm_mapping *m = daxm_mapping_get_first(dev); m; m = daxm_mapping_get_next(m))
		printf("  mapping%d: %#" PRIx64 "-%#" PRIx64 " page_offset %#" PRIx64 "\n",
		       daxm_mapping_get_id(m), daxm_mapping_get_start(m), daxm_mapping_get_end(m),
		       daxm_mapping_get_offset(m));

	printf("what the library refuses:\n");
	EXPECT_RC(daxm_dev_map(dev, PROT_READ | PROT_EXEC, &view), -EINVAL);
	EXPECT_RC(daxm_dev_map(daxm_dev_get_first(region), PROT_READ, &view), -ENXIO);
	EXPECT_RC(daxm_dev_map(dev, PROT_READ, NULL), -EINVAL);
	return dev;
}

/* ---- both ------------------------------------------------------------------ */

/* Map @dev twice, check the bytes, bind, place and time it. */
static void exercise(struct daxm_dev *dev, int real, int node, const struct numa_info *ni)
{
	struct daxm_view *v1 = NULL, *v2 = NULL, *v3 = NULL;
	uint64_t size = daxm_dev_get_size(dev), align = daxm_dev_get_align(dev);
	const uint64_t seed = 0xda0da0da0ull;
	uint8_t *a, *b, *anon;
	double t_dax, t_anon;
	int rc, bound = 0;

	printf("map %s (%" PRIu64 " MiB):\n", daxm_dev_get_devname(dev), (uint64_t)(size / MiB));
	if (!EXPECT_RC(daxm_dev_map(dev, PROT_READ | PROT_WRITE, &v1), 0))
		return;
	a = daxm_view_get_addr(v1);
	printf("  view 1 at %p, %#" PRIx64 " bytes (%s-aligned: %s)\n", (void *)a,
	       daxm_view_get_size(v1), align >= GiB ? "1 GiB" : align >= 2 * MiB ? "2 MiB" : "4 KiB",
	       (uintptr_t)a % align ? "NO" : "yes");
	if (!a || (uintptr_t)a % align)
		FAIL("view address %p is not a multiple of the device align %#" PRIx64, (void *)a, align);
	if (daxm_view_get_size(v1) != size)
		FAIL("view size %#" PRIx64 " != device size %#" PRIx64, daxm_view_get_size(v1), size);
	if (daxm_view_get_dev(v1) != dev)
		FAIL("daxm_view_get_dev() does not return the mapped device");
	if (!a) {
		daxm_view_unmap(v1);
		return;
	}

	/* Bind before the first touch, so pages are allocated on @node. */
	if (!ni->available) {
		printf("  NUMA: not available here (numa_available() < 0): no binding, no placement check\n");
	} else {
		rc = bind_to_node(a, size, node);
		if (rc == 0) {
			bound = 1;
			printf("  mbind(view 1, MPOL_BIND, node %d) -> 0\n", node);
		} else if (!node_allowed(ni, node)) {
			printf("  mbind(view 1, MPOL_BIND, node %d) -> %s: node %d is not one this process can"
			       " use here; the pages go where the kernel puts them\n", node, errno_name(rc), node);
		} else {
			FAIL("mbind(view 1, MPOL_BIND, node %d) -> %s on an allowed node", node,
			     errno_name(rc));
		}
		if (ni->nr_nodes == 1)
			printf("  this machine has one NUMA node: every page is on it; the placement check is trivial\n");
	}

	/* First touch: the pattern, timed. */
	t_dax = write_pattern(a, size, seed);
	uint64_t bad = check_pattern("view 1", a, size, seed);
	printf("  pattern: wrote and read back %" PRIu64 " words through view 1: %s\n", size / 8,
	       bad ? "MISMATCH" : "ok");
	if (bad)
		FAIL("%" PRIu64 " words differ from the pattern in view 1", bad);

	/* A second view sees the same bytes, and writes through it show in the first. */
	if (EXPECT_RC(daxm_dev_map(dev, PROT_READ | PROT_WRITE, &v2), 0)) {
		b = daxm_view_get_addr(v2);
		if (b == a)
			FAIL("two views share one address %p", (void *)a);
		bad = b ? check_pattern("view 2", b, size, seed) : size / 8;
		printf("  view 2 at %p reads the same bytes: %s\n", (void *)b, bad ? "NO" : "yes");
		if (bad)
			FAIL("view 2 differs from view 1 in %" PRIu64 " words", bad);
		if (b) {
			int unseen = 0;
			for (uint64_t off = 0; off < size; off += size / 4) {
				((volatile uint64_t *)(b + off))[1] = ~pattern_word(seed, off + 8);
				if (((volatile uint64_t *)(a + off))[1] != ~pattern_word(seed, off + 8)) {
					FAIL("a write through view 2 at %#" PRIx64 " is not seen in view 1", off + 8);
					unseen++;
				}
				((volatile uint64_t *)(b + off))[1] = pattern_word(seed, off + 8);
			}
			printf("  writes through view 2 show in view 1 (4 offsets): %s\n", unseen ? "NO" : "yes");
		}
		/* While mapped the device is held like a bound one. */
		EXPECT_RC(daxm_dev_set_path(dev, NULL), -EBUSY);
		if (!real)
			EXPECT_RC(daxm_dev_set_size(dev, 0), -EBUSY);
		EXPECT_RC(daxm_view_unmap(v2), 0);
	}

	/* Where the pages are. */
	if (ni->available) {
		printf("placement (get_mempolicy(MPOL_F_NODE|MPOL_F_ADDR)):\n");
		int misplaced = report_placement(real ? "device" : "emulated", a, size, node);
		if (misplaced > 0 && real)
			printf("  device-dax pages belong to the device's memory: mbind() is accepted"
			       " but moves nothing (see numa_node)\n");
		else if (misplaced > 0 && bound)
			FAIL("%d of %d sampled pages are not on node %d after a successful bind",
			     misplaced, NR_SAMPLES, node);
	}

	/* The same touch on anonymous memory of the same size, on the same node. */
	anon = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED) {
		printf("anonymous memory of %" PRIu64 " MiB: mmap failed (%s): no comparison\n", (uint64_t)(size / MiB),
		       errno_name(errno));
	} else {
		if (node_allowed(ni, node))
			numa_tonode_memory(anon, size, node); /* the same policy, the libnuma way */
		t_anon = write_pattern(anon, size, seed);
		if (check_pattern("anonymous", anon, size, seed))
			FAIL("the pattern does not read back from anonymous memory");
		if (ni->available) {
			int misplaced = report_placement("anonymous", anon, size, node);
			if (misplaced > 0)
				printf("  (anonymous memory was %s)\n", node_allowed(ni, node) ?
				       "bound with numa_tonode_memory()" : "not bound");
		}
		munmap(anon, size);
		printf("first-touch write bandwidth (%" PRIu64 " MiB):\n", (uint64_t)(size / MiB));
		printf("  %-10s %10.0f MiB/s\n", real ? "device" : "emulated", mib_per_s(size, t_dax));
		printf("  %-10s %10.0f MiB/s\n", "anonymous", mib_per_s(size, t_anon));
		printf("  ratio      %10.2f (%s / anonymous)\n", t_dax > 0 ? t_anon / t_dax : 0.0,
		       real ? "device" : "emulated");
	}

	EXPECT_RC(daxm_view_unmap(v1), 0);

	/* A new view after all are gone still finds the bytes. */
	if (EXPECT_RC(daxm_dev_map(dev, PROT_READ, &v3), 0)) {
		bad = check_pattern("view 3", daxm_view_get_addr(v3), size, seed);
		printf("a new view after unmapping both reads the pattern: %s\n", bad ? "NO" : "yes");
		if (bad)
			FAIL("the pattern did not survive unmapping (%" PRIu64 " words differ)", bad);
		EXPECT_RC(daxm_view_unmap(v3), 0);
	}
	if (!real) /* free again once unmapped */
		EXPECT_RC(daxm_dev_set_size(dev, 0), 0);
}

static uint64_t parse_u64(const char *opt, const char *text)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno || end == text)
		goto bad;
	switch (*end) {
	case 'G': v *= 1024; /* fall through */
	case 'M': v *= 1024; /* fall through */
	case 'K': v *= 1024; end++; break;
	}
	if (*end == '\0')
		return v;
bad:
	fprintf(stderr, "dax-map: %s: bad number '%s'\n", opt, text);
	exit(2);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dax-map [--size BYTES] [--node N] [--align BYTES] [/dev/daxX.Y]\n"
		   "  without a device: map an emulated device of the model\n"
		   "  with one: map it (its contents are overwritten)\n");
}

int main(int argc, char **argv)
{
	struct numa_info ni;
	struct daxm_ctx *ctx = NULL;
	struct daxm_dev *dev;
	const char *path = NULL;
	uint64_t size = 0, align = 0;
	int node = -1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			size = parse_u64("--size", argv[++i]);
		} else if (!strcmp(argv[i], "--node") && i + 1 < argc) {
			node = (int)parse_u64("--node", argv[++i]);
		} else if (!strcmp(argv[i], "--align") && i + 1 < argc) {
			align = parse_u64("--align", argv[++i]);
		} else if (argv[i][0] != '-' && !path) {
			path = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	numa_info_init(&ni);
	if (node < 0)
		node = numa_default_node(&ni);
	if (ni.available)
		printf("NUMA: %d node(s) this process may use (highest possible node %d); binding to node %d\n",
		       ni.nr_nodes, numa_max_node(), node);
	else
		printf("NUMA: not available (numa_available() < 0)\n");

	printf("libdaxmodel %s\n", daxm_get_version());
	if (daxm_new(&ctx) != 0)
		return 2;
	daxm_set_log_fn(ctx, log_fn);
	if (path)
		dev = model_real_device(ctx, path, size, align, node);
	else
		dev = model_emulated_device(ctx, size ? size : 64 * MiB, node);
	if (!dev) {
		daxm_unref(ctx);
		return failures ? 1 : 2;
	}
	exercise(dev, path != NULL, node, &ni);
	daxm_unref(ctx);

	printf("dax-map: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
