/*
 * consumer.c - a C program that uses an *installed* libdaxmodel.
 *
 * scripts/test.sh builds it four ways against the installed tree: plain gcc
 * with pkg-config (shared, and static with swift_static_link), and a CMake
 * project with find_package(DaxModel) (DaxModel::daxmodel and
 * DaxModel::daxmodel_static). It walks a small scenario through the
 * header's API and prints "consumer: N passed, N failed".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <daxmodel.h>

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

static int passed, failed;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (cond) {                                                \
			passed++;                                          \
		} else {                                                   \
			failed++;                                          \
			fprintf(stderr, "consumer: FAIL %s:%d: %s (last error: %s)\n", \
				__FILE__, __LINE__, #cond, daxm_last_error()); \
		}                                                          \
	} while (0)

/* Failures below are expected: keep them off stderr, count them. */
static int logged;
static void quiet_log(struct daxm_ctx *ctx, int priority, const char *file,
		      int line, const char *fn, const char *msg)
{
	(void)ctx; (void)priority; (void)file; (void)line; (void)fn; (void)msg;
	logged++;
}

static int attr_is(struct daxm_ctx *ctx, const char *path, const char *want)
{
	char buf[128];
	long n = daxm_attr_read(ctx, path, buf, sizeof(buf));

	return n == (long)strlen(want) && strcmp(buf, want) == 0;
}

int main(void)
{
	struct daxm_ctx *ctx = NULL;
	struct daxm_region_spec spec;
	struct daxm_region *region = NULL, *r;
	struct daxm_dev *dev = NULL, *d;
	struct daxm_mapping *m;
	char want[64];
	int n;

	snprintf(want, sizeof(want), "%d.%d.%d", DAXM_VERSION_MAJOR,
		 DAXM_VERSION_MINOR, DAXM_VERSION_PATCH);
	CHECK(strcmp(daxm_get_version(), want) == 0);

	/* Bad input is an errno or a sentinel, never a crash. */
	CHECK(daxm_new(NULL) == -EINVAL);
	CHECK(daxm_dev_get_size(NULL) == DAXM_INVALID);
	CHECK(daxm_region_get_first(NULL) == NULL);

	CHECK(daxm_new(&ctx) == 0 && ctx != NULL);
	daxm_set_log_fn(ctx, quiet_log);

	/* A 1 GiB dynamic region at 4 GiB whose dax0.0 starts at size 0. */
	daxm_region_spec_init(&spec);
	spec.start = 4 * GiB;
	spec.size = 1 * GiB;
	spec.flags = DAXM_REGION_IDLE;
	CHECK(daxm_region_new(ctx, &spec, &region) == 0 && region != NULL);
	CHECK(daxm_region_get_id(region) == 0);
	CHECK(daxm_region_get_kind(region) == DAXM_REGION_DYNAMIC);
	CHECK(daxm_region_get_available_size(region) == 1 * GiB);

	/* regionR/create, then size the new device. */
	CHECK(daxm_region_create_dev(region, &dev) == 0 && dev != NULL);
	CHECK(dev != NULL && strcmp(daxm_dev_get_devname(dev), "dax0.1") == 0);
	CHECK(daxm_dev_set_size(dev, 4 * MiB) == 0);
	CHECK(daxm_dev_get_size(dev) == 4 * MiB);
	CHECK(daxm_dev_set_size(dev, 3 * MiB) == -EINVAL);
	CHECK(daxm_last_error()[0] != '\0');

	/* The same through the sysfs-text interface. */
	CHECK(daxm_attr_write(ctx, "dax0.1/size", "2M") == -EINVAL);
	CHECK(daxm_attr_write(ctx, "dax0.1/size", "0x800000") == 0);
	CHECK(attr_is(ctx, "dax0.1/size", "8388608\n"));
	snprintf(want, sizeof(want), "%" PRIu64 "\n", 1 * GiB - 8 * MiB);
	CHECK(attr_is(ctx, "region0/available_size", want));
	CHECK(attr_is(ctx, "dax0.1/mapping0/start", "0x100000000\n"));

	/* Iteration: one region, two devices, one range grown in place. */
	n = 0;
	daxm_region_foreach(ctx, r)
		n++;
	CHECK(n == 1);
	n = 0;
	daxm_dev_foreach(region, d)
		n++;
	CHECK(n == 2);
	n = 0;
	daxm_mapping_foreach(dev, m) {
		CHECK(daxm_mapping_get_start(m) == 4 * GiB);
		CHECK(daxm_mapping_get_end(m) == 4 * GiB + 8 * MiB - 1);
		CHECK(daxm_mapping_get_offset(m) == 0);
		n++;
	}
	CHECK(n == 1);

	/* Delete it while holding a reference: the pointer stays valid. */
	daxm_dev_ref(dev);
	CHECK(daxm_region_destroy_dev(region, dev) == -EBUSY); /* sized */
	CHECK(daxm_dev_set_size(dev, 0) == 0);
	CHECK(daxm_region_destroy_dev(region, dev) == 0);
	CHECK(daxm_dev_get_size(dev) == DAXM_INVALID);
	CHECK(daxm_dev_get_by_name(ctx, "dax0.1") == NULL);
	daxm_dev_unref(dev);

	daxm_unref(ctx);
	printf("consumer: libdaxmodel %s, %d log messages\n", daxm_get_version(), logged);
	printf("consumer: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
