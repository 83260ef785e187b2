/*
 * sysfs.c - the sysfs-text interface: daxm_attr_read() and
 * daxm_attr_write() with the kernel's formats, parsing rules and errnos
 * (kernel-dax.md §2; kernel-lab README "Rules confirmed").
 */
#include "ctest.h"

/* A table of reads: @want is the exact text, or NULL to expect -@err. */
struct read_case {
	int line;
	const char *path;
	const char *want;
	int err;
};

static void check_reads(struct daxm_ctx *ctx, const struct read_case *c, size_t n)
{
	char buf[256], expr[200];

	for (size_t i = 0; i < n; i++) {
		long rc = daxm_attr_read(ctx, c[i].path, buf, sizeof(buf));
		snprintf(expr, sizeof(expr), "daxm_attr_read(\"%s\")", c[i].path);
		if (c[i].want) {
			t_check_i64(__FILE__, c[i].line, expr, rc, (int64_t)strlen(c[i].want));
			t_check_str(__FILE__, c[i].line, expr, rc >= 0 ? buf : NULL, c[i].want);
		} else {
			t_check_i64(__FILE__, c[i].line, expr, rc, -c[i].err);
		}
	}
}

/* A table of writes and the errno each gives (0: success). */
struct write_case {
	int line;
	const char *path;
	const char *value;
	int err;
};

static void check_writes(struct daxm_ctx *ctx, const struct write_case *c, size_t n)
{
	char expr[200];

	for (size_t i = 0; i < n; i++) {
		snprintf(expr, sizeof(expr), "daxm_attr_write(\"%s\", \"%.60s\")",
			 c[i].path, c[i].value);
		t_check_i64(__FILE__, c[i].line, expr,
			    daxm_attr_write(ctx, c[i].path, c[i].value), -c[i].err);
	}
}

#define R(path, want) { __LINE__, path, want, 0 }
#define RE(path, err) { __LINE__, path, NULL, err }
#define W(path, value, err) { __LINE__, path, value, err }
#define CHECK_READS(ctx, t) check_reads(ctx, t, sizeof(t) / sizeof((t)[0]))
#define CHECK_WRITES(ctx, t) check_writes(ctx, t, sizeof(t) / sizeof((t)[0]))

/*
 * region0: dynamic, idle, 1 GiB at S0, target_node 1, numa_node 0.
 * region1: static, 256 MiB right after it, device dax1.3, no target node.
 * region2: dynamic, idle, 1 GiB after that, 6.1 profile, target_node 2.
 */
static struct daxm_ctx *layout(void)
{
	struct daxm_ctx *ctx = new_ctx();
	struct daxm_region_spec spec;

	daxm_region_spec_init(&spec);
	spec.id = 0;
	spec.start = S0;
	spec.size = GiB;
	spec.target_node = 1;
	spec.numa_node = 0;
	spec.flags = DAXM_REGION_IDLE;
	CHECK_OK(daxm_region_new(ctx, &spec, NULL));

	daxm_region_spec_init(&spec);
	spec.id = 1;
	spec.kind = DAXM_REGION_STATIC;
	spec.start = S0 + GiB;
	spec.size = 256 * MiB;
	spec.dev_id = 3;
	CHECK_OK(daxm_region_new(ctx, &spec, NULL));

	daxm_region_spec_init(&spec);
	spec.id = 2;
	spec.start = S0 + 2 * GiB;
	spec.size = GiB;
	spec.target_node = 2;
	spec.profile = DAXM_PROFILE_6_1;
	spec.flags = DAXM_REGION_IDLE;
	CHECK_OK(daxm_region_new(ctx, &spec, NULL));
	return ctx;
}

/* ---- daxm_attr_read ------------------------------------------------------ */

void test_attr_read(void)
{
	struct daxm_ctx *ctx = layout();
	char buf[64], longpath[10000];

	const struct read_case fresh[] = {
		R("region0/id", "0\n"),
		R("region0/size", "1073741824\n"),
		R("region0/align", "2097152\n"),
		R("region0/available_size", "1073741824\n"),
		R("region0/seed", "\n"),
		R("region0/create", "\n"),
		R("dax0.0/size", "0\n"),
		R("dax0.0/align", "2097152\n"),
		R("dax0.0/target_node", "1\n"),
		R("dax0.0/numa_node", "0\n"),
		R("dax0.0/resource", "0x140000000\n"),
		R("dax0.0/modalias", "dax:t0\n"),
		R("region1/id", "1\n"),
		R("region1/size", "268435456\n"),
		R("region1/align", "2097152\n"),
		R("dax1.3/size", "268435456\n"),
		R("dax1.3/align", "2097152\n"),
		R("dax1.3/numa_node", "-1\n"),
		R("dax1.3/resource", "0x180000000\n"),
		R("dax1.3/modalias", "dax:t0\n"),
		R("dax1.3/mapping0/start", "0x180000000\n"),
		R("dax1.3/mapping0/end", "0x18fffffff\n"),
		R("dax1.3/mapping0/page_offset", "0x0\n"),
		R("region2/id", "2\n"),
		R("dax2.0/target_node", "2\n"),
		/* write-only */
		RE("region0/delete", EACCES),
		RE("dax0.0/mapping", EACCES),
		/* absent: hidden on static regions, no target node, no such object */
		RE("region1/available_size", ENOENT),
		RE("region1/create", ENOENT),
		RE("region1/seed", ENOENT),
		RE("region1/delete", ENOENT),
		RE("dax1.3/mapping", ENOENT),
		RE("dax1.3/target_node", ENOENT),
		RE("dax0.0/mapping0/start", ENOENT),
		RE("dax1.3/mapping1/start", ENOENT),
		RE("dax1.3/mapping0/bogus", ENOENT),
		RE("dax1.0/size", ENOENT),
		RE("dax0.9/size", ENOENT),
		RE("dax0.-1/size", ENOENT),
		RE("dax9.0/size", ENOENT),
		RE("region3/id", ENOENT),
		RE("region-1/id", ENOENT),
		RE("region0/bogus", ENOENT),
		RE("dax0.0/bogus", ENOENT),
		RE("region0/", ENOENT),
		RE("region0", ENOENT),
		RE("dax0.0", ENOENT),
		RE("", ENOENT),
		RE("/", ENOENT),
		RE("bogus/id", ENOENT),
		/* one part too many, whatever the first three name */
		RE("dax1.3/mapping0/start/x", ENOENT),
		RE("dax1.3/mapping0/start/", ENOENT),
		RE("device_dax/bind/x", ENOENT),
		RE("region0/id/x", ENOENT),
		RE("dax1.3/mapping0/", ENOENT),
		RE("//", ENOENT),
	};
	CHECK_READS(ctx, fresh);

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	CHECK_ERR(daxm_attr_read(ctx, longpath, buf, sizeof(buf)), ENOENT);
	memcpy(longpath, "region0/", 8);
	CHECK_ERR(daxm_attr_read(ctx, longpath, buf, sizeof(buf)), ENOENT);

	/* Buffer sizes: the text and its NUL must fit; nothing is written past
	 * @len. "1073741824\n" is 11 bytes. */
	memset(buf, 'X', sizeof(buf));
	CHECK_INT(daxm_attr_read(ctx, "region0/size", buf, 12), 11);
	CHECK(memcmp(buf, "1073741824\n", 12) == 0);
	CHECK(buf[12] == 'X');
	memset(buf, 'X', sizeof(buf));
	CHECK_ERR(daxm_attr_read(ctx, "region0/size", buf, 11), ERANGE);
	CHECK(buf[11] == 'X');
	CHECK_ERR(daxm_attr_read(ctx, "region0/size", buf, 5), ERANGE);
	CHECK(buf[5] == 'X');
	CHECK_ERR(daxm_attr_read(ctx, "region0/size", buf, 1), ERANGE);
	CHECK(buf[1] == 'X');
	CHECK_ERR(daxm_attr_read(ctx, "region0/size", buf, 0), ERANGE);
	CHECK(buf[0] == 'X');
	CHECK_ERR(daxm_attr_read(ctx, "region0/seed", buf, 1), ERANGE);
	CHECK_INT(daxm_attr_read(ctx, "region0/seed", buf, 2), 1);
	CHECK(memcmp(buf, "\n", 2) == 0);
	CHECK_INT(daxm_attr_read(ctx, "dax1.3/mapping0/page_offset", buf, 5), 4);
	CHECK_STR(buf, "0x0\n");
	CHECK_INT(daxm_attr_read(ctx, "region0/size", buf, SIZE_MAX), 11);

	/* Reads follow the model: dax0.1 = 256M, dax0.0 = 2M after it, then
	 * dax0.1 grows by 2M into a second range. */
	CHECK_OK(daxm_attr_write(ctx, "region0/create", "1"));
	CHECK_OK(daxm_attr_write(ctx, "dax0.1/size", "0x10000000"));
	CHECK_OK(daxm_attr_write(ctx, "dax0.0/size", "2097152"));
	CHECK_OK(daxm_attr_write(ctx, "dax0.1/size", "270532608"));
	CHECK_OK(daxm_attr_write(ctx, "region0/create", "1"));
	const struct read_case later[] = {
		R("region0/seed", "dax0.1\n"),
		R("region0/create", "dax0.2\n"),
		R("region0/available_size", "801112064\n"), /* 1G - 260M */
		R("dax0.1/size", "270532608\n"),
		R("dax0.1/resource", "0x140000000\n"),
		R("dax0.1/target_node", "1\n"),
		R("dax0.1/mapping0/start", "0x140000000\n"),
		R("dax0.1/mapping0/end", "0x14fffffff\n"),
		R("dax0.1/mapping0/page_offset", "0x0\n"),
		R("dax0.1/mapping1/start", "0x150200000\n"),
		R("dax0.1/mapping1/end", "0x1503fffff\n"),
		R("dax0.1/mapping1/page_offset", "0x10000\n"),
		R("dax0.0/resource", "0x150000000\n"),
		R("dax0.0/mapping0/page_offset", "0x0\n"),
		R("dax0.2/size", "0\n"),
		R("dax0.2/resource", "0x140000000\n"),
		RE("dax0.1/mapping2/start", ENOENT),
		RE("dax0.1/mapping", EACCES),
	};
	CHECK_READS(ctx, later);

	/* A trimmed-away mapping directory is gone. */
	CHECK_OK(daxm_attr_write(ctx, "dax0.1/size", "0x10000000"));
	CHECK_ERR(daxm_attr_read(ctx, "dax0.1/mapping1/start", buf, sizeof(buf)), ENOENT);
	CHECK_ATTR(ctx, "dax0.1/mapping0/end", "0x14fffffff\n");
	daxm_unref(ctx);
}

/* ---- daxm_attr_write ----------------------------------------------------- */

void test_attr_write(void)
{
	struct daxm_ctx *ctx = layout();
	struct daxm_dev *d1, *d2, *d21;
	static char big[10001];

	/* create: kstrtoint, only 1 */
	const struct write_case create[] = {
		W("region0/create", "2", EINVAL),
		W("region0/create", "0", EINVAL),
		W("region0/create", "-1", EINVAL),
		W("region0/create", "abc", EINVAL),
		W("region0/create", "", 0),  /* zero bytes: kernfs never calls the store */
		W("region0/create", "\n", EINVAL),
		W("region0/create", "1 ", EINVAL),
		W("region0/create", "99999999999", ERANGE),
		W("region1/create", "1", ENOENT),
		W("region9/create", "1", ENOENT),
	};
	CHECK_WRITES(ctx, create);
	CHECK_INT(count_devs(daxm_region_get_by_id(ctx, 0)), 1);
	CHECK_OK(daxm_attr_write(ctx, "region0/create", "1"));
	CHECK_OK(daxm_attr_write(ctx, "region0/create", "1\n"));
	CHECK_OK(daxm_attr_write(ctx, "region2/create", "1"));
	d1 = daxm_dev_get_by_name(ctx, "dax0.1");
	d2 = daxm_dev_get_by_name(ctx, "dax0.2");
	d21 = daxm_dev_get_by_name(ctx, "dax2.1");
	CHECK(d1 && d2 && d21);

	/* size: kstrtoull base 0, one trailing newline, no suffixes */
	const struct write_case size_bad[] = {
		W("dax0.1/size", "2M", EINVAL),
		W("dax0.1/size", "-1", EINVAL),
		W("dax0.1/size", "", 0),
		W("dax0.1/size", "\n", EINVAL),
		W("dax0.1/size", "0x", EINVAL),
		W("dax0.1/size", "junk", EINVAL),
		W("dax0.1/size", "0x2_00000", EINVAL),
		W("dax0.1/size", " 2097152", EINVAL),
		W("dax0.1/size", "2097152 ", EINVAL),
		W("dax0.1/size", "2097152\n\n", EINVAL),
		W("dax0.1/size", "0x200000x", EINVAL),
		W("dax0.1/size", "08", EINVAL), /* octal */
		W("dax0.1/size", "3145728", EINVAL),
		W("dax0.1/size", "4096", EINVAL),
		W("dax0.1/size", "18446744073709551615", EINVAL), /* UINT64_MAX */
		W("dax0.1/size", "18446744073709551616", ERANGE), /* 2^64 */
		W("dax0.1/size", "0x10000000000000000", ERANGE),
		W("dax0.1/size", "99999999999999999999999", ERANGE),
		W("dax0.1/size", "18446744073707454464", ENOSPC), /* 2^64 - 2M */
		W("dax0.1/size", "2147483648", ENOSPC),
		W("dax1.3/size", "268435456", EACCES), /* static: read-only */
		W("dax1.3/size", "garbage", EACCES),
		W("dax0.9/size", "0", ENOENT),
	};
	CHECK_WRITES(ctx, size_bad);
	CHECK_U64(daxm_dev_get_size(d1), 0);

	const struct write_case size_ok[] = {
		W("dax0.1/size", "0x200000\n", 0),
		W("dax0.1/size", "2097152", 0),
		W("dax0.1/size", "+4194304", 0),
		W("dax0.1/size", "010000000", 0), /* octal 2 MiB */
		W("dax0.1/size", "0X400000", 0),
		W("dax0.1/size", "0", 0),
	};
	for (size_t i = 0; i < sizeof(size_ok) / sizeof(size_ok[0]); i++)
		check_writes(ctx, &size_ok[i], 1); /* in order */
	CHECK_U64(daxm_dev_get_size(d1), 0);

	/* Only the first 4096 bytes of a value are read. */
	memset(big, '0', sizeof(big) - 1);
	CHECK_OK(daxm_attr_write(ctx, "dax0.1/size", big));
	memcpy(big + 4096, "junk", 4);
	CHECK_OK(daxm_attr_write(ctx, "dax0.1/size", big));
	memset(big, '9', sizeof(big) - 1);
	CHECK_ERR(daxm_attr_write(ctx, "dax0.1/size", big), ERANGE);
	CHECK_ERR(daxm_attr_write(ctx, "region0/create", big), ERANGE);
	CHECK_ERR(daxm_attr_write(ctx, "dax0.1/align", big), ENXIO);
	memset(big, 'x', sizeof(big) - 1);
	CHECK_ERR(daxm_attr_write(ctx, "dax0.1/mapping", big), EINVAL);
	CHECK_ERR(daxm_attr_write(ctx, "region0/delete", big), ENXIO);
	CHECK_ERR(daxm_attr_write(ctx, "device_dax/bind", big), ENODEV);
	CHECK_ERR(daxm_attr_write(ctx, big, "1"), ENOENT);
	CHECK_U64(daxm_dev_get_size(d1), 0);

	/* align: parse errors are ENXIO, invalid values EINVAL */
	const struct write_case align[] = {
		W("dax0.1/align", "abc", ENXIO),
		W("dax0.1/align", "2M", ENXIO),
		W("dax0.1/align", "", 0),
		W("dax0.1/align", "\n", ENXIO),
		W("dax0.1/align", "-1", ENXIO),
		W("dax0.1/align", "99999999999999999999999", ENXIO),
		W("dax0.1/align", "12345", EINVAL),
		W("dax0.1/align", "0", EINVAL),
		W("dax0.1/align", "8192", EINVAL),
		W("dax0.1/align", "4294971392", EINVAL), /* 2^32 + 4096 */
		W("dax1.3/align", "2097152", EACCES),
		W("dax0.1/align", "4096", 0),
		W("dax0.1/align", "1073741824\n", 0),
		W("dax0.1/align", "0x200000", 0),
	};
	for (size_t i = 0; i < sizeof(align) / sizeof(align[0]); i++)
		check_writes(ctx, &align[i], 1);
	CHECK_U64(daxm_dev_get_align(d1), 2 * MiB);

	/* mapping: "START-END", hex, END inclusive */
	const struct write_case mapping[] = {
		W("dax0.2/mapping", "garbage", EINVAL),
		W("dax0.2/mapping", "0x140000000", EINVAL),
		W("dax0.2/mapping", "", 0),
		W("dax0.2/mapping", "\n", EINVAL),
		W("dax0.2/mapping", "-", EINVAL),
		W("dax0.2/mapping", "0x140000000-", EINVAL),
		W("dax0.2/mapping", "-0x1401fffff", EINVAL),
		W("dax0.2/mapping", "0x140000000-0x1401fffff-1", EINVAL),
		W("dax0.2/mapping", "0x140000000-0x1401fffffg", EINVAL),
		W("dax0.2/mapping", "0x1ffffffffffffffff-0x2", ERANGE),
		W("dax0.2/mapping", "0x140000000-0x1ffffffffffffffff", ERANGE),
		W("dax0.2/mapping", "0x180000000-0x1801fffff", ENOMEM), /* region1's */
		W("dax0.2/mapping", "0x140400000-0x1401fffff", ENOMEM), /* end < start */
		W("dax1.3/mapping", "0x180000000-0x1801fffff", ENOENT), /* static */
		W("dax0.2/mapping", "0x140000000-0x1401fffff\n", 0),
		W("dax0.2/mapping", "0x140000000-0x1401fffff", ENOMEM), /* taken */
		W("dax0.2/mapping", "140200000-1403fffff", 0),          /* no 0x */
		W("dax0.2/mapping", "+0x140400000-0x1405fffff", 0),     /* leading + */
		W("dax0.2/mapping", "0x140600000-0x140600fff", 0), /* 4K: 6.12 no-op */
		W("dax2.1/mapping", "0x1c0000000-0x1c0000fff", ENXIO), /* 4K: 6.1 */
		W("dax2.1/mapping", "0x1c0000000-0x1c01fffff", 0),
	};
	for (size_t i = 0; i < sizeof(mapping) / sizeof(mapping[0]); i++)
		check_writes(ctx, &mapping[i], 1);
	EXPECT_RANGES(d2, { S0, S0 + 2 * MiB - 1, 0 },
		      { S0 + 2 * MiB, S0 + 4 * MiB - 1, 0x200 },
		      { S0 + 4 * MiB, S0 + 6 * MiB - 1, 0x400 });
	EXPECT_RANGES(d21, { S0 + 2 * GiB, S0 + 2 * GiB + 2 * MiB - 1, 0 });

	/* delete: a device name, sysfs_streq */
	const struct write_case del[] = {
		W("region0/delete", "dax0.9", ENXIO),
		W("region0/delete", "", 0),
		W("region0/delete", "\n", ENXIO),
		W("region0/delete", "garbage", ENXIO),
		W("region0/delete", "dax1.3", ENXIO),  /* another region's */
		W("region0/delete", "dax2.1", ENXIO),
		W("region0/delete", "dax0.0", EBUSY),  /* id 0 */
		W("region0/delete", "dax0.2", EBUSY),  /* sized */
		W("region1/delete", "dax1.3", ENOENT), /* static */
		W("region0/delete", "dax0.1\n", 0),
		W("region0/delete", "dax0.1", ENXIO),  /* gone */
	};
	for (size_t i = 0; i < sizeof(del) / sizeof(del[0]); i++)
		check_writes(ctx, &del[i], 1);
	CHECK_PTR(daxm_dev_get_by_name(ctx, "dax0.1"), NULL);

	/* Paths that do not exist, and read-only attributes (checked before
	 * the value). */
	const struct write_case paths[] = {
		W("region0/bogus", "1", ENOENT),
		W("region9/delete", "dax9.1", ENOENT),
		W("dax0.9/mapping", "0x140000000-0x1401fffff", ENOENT),
		W("dax0.9/align", "4096", ENOENT),
		W("dax0.2/bogus", "1", ENOENT),
		W("dax0.2/mapping3/start", "0", ENOENT),
		W("dax0.0/mapping0/start", "0", ENOENT),
		W("device_dax/bogus", "dax0.2", ENOENT),
		W("bogus/size", "0", ENOENT),
		W("", "1", ENOENT),
		W("region0", "1", ENOENT),
		W("region0/id", "1", EACCES),
		W("region0/id", "garbage", EACCES),
		W("region0/size", "1", EACCES),
		W("region0/align", "4096", EACCES),
		W("region0/available_size", "0", EACCES),
		W("region0/seed", "dax0.2", EACCES),
		W("region1/id", "1", EACCES),
		W("region1/size", "1", EACCES),
		W("dax0.2/resource", "0", EACCES),
		W("dax0.2/modalias", "dax:t0", EACCES),
		W("dax0.2/numa_node", "0", EACCES),
		W("dax0.2/target_node", "0", EACCES),
		W("dax0.2/mapping0/start", "0", EACCES),
		W("dax0.2/mapping0/end", "0", EACCES),
		W("dax0.2/mapping0/page_offset", "0", EACCES),
		W("dax1.3/mapping0/start", "0", EACCES),
	};
	CHECK_WRITES(ctx, paths);

	/* Text and API agree. */
	CHECK_U64(daxm_dev_get_size(d2), 6 * MiB);
	CHECK_ATTR(ctx, "dax0.2/size", "6291456\n");
	CHECK_U64(daxm_region_get_available_size(daxm_region_get_by_id(ctx, 0)), GiB - 6 * MiB);
	daxm_unref(ctx);
}
