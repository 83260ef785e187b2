/*
 * sysfs-replay - apply a dax scenario to the real /sys/bus/dax of the
 * running kernel, one write(2) per step, and record what happened.
 *
 * Built with `gcc -static` and run as part of the guest's /init (see
 * tests/kernel/README.md). It finds the dynamic dax region that dax_hmem
 * made from the soft-reserved range (the device whose sysfs path contains
 * "/hmem."), then reads scenario files (format below) and, after every
 * write, records the errno and the whole state of that region on stdout,
 * between "@@DAXREC BEGIN" and "@@DAXREC END" lines. The host's
 * kernel-compare replays the record against libdaxmodel.
 *
 * Scenario format, one command a line ('#' starts a comment):
 *
 *   scenario NAME [noreset]   start a scenario; unless "noreset", first
 *                             bring the region back to its canonical idle
 *                             state (see reset_region(); every reset write
 *                             is recorded too)
 *   write PATH [VALUE]        one open(O_WRONLY) + one write(2) of VALUE
 *                             (the rest of the line after one space;
 *                             escapes \n \t \s (space) \\ \xHH; no VALUE =
 *                             a write of 0 bytes). PATH is one of
 *                             region/ATTR, dev:N/ATTR[/...], device_dax/F.
 *                             A VALUE starting with dev:N names daxR.N.
 *   map DEV OFF LEN           write DEV/mapping with the region-relative
 *                             range [OFF, OFF+LEN-1] ("%#llx-%#llx")
 *   expect TOKEN...           the previous step's result: OK or an errno
 *                             name, optionally for one kernel: 6.1=ENXIO
 *   ranges DEV [OFF+LEN...]   the device's ranges, region-relative, in
 *                             mappingK order (none when no token follows)
 *   avail BYTES               the region's available_size
 *   sleep MS                  wait MS milliseconds
 *   random SEED STEPS         STEPS random steps drawn from SEED and from
 *                             the live state (holes, exact fits, ...)
 *   capture NAME              print the dax part of sysfs as a tree, with
 *                             the expected state of every region (see
 *                             capture_tree()); the host keeps it as
 *                             fixture NAME
 *
 * Record lines (step numbers count every write of the boot, from 1):
 *
 *   @@ KERNEL release         uname -r
 *   @@ REGION id=R start=0x.. size=N align=N path=DIR
 *                             the region as its producer made it, followed
 *                             by its state: at the start, and after every
 *                             reload of dax_hmem (the id may change)
 *   @@ SCN index name         a scenario starts (its reset steps follow)
 *   @@ I random seed=S (...)  the random steps that follow come from seed S
 *   @@ KVERSION text          uname -v (Debian's own version is in it)
 *   @@ B step path =value     the write of this step starts (panic_on_warn
 *                             boots only: printed and drained to the
 *                             console before the write, so a panic is
 *                             seen to happen inside that step)
 *   @@ W step rc path =value  rc: OK or errno name; value %XX-escaped
 *   @@ K step FILE:LINE FUNC =MESSAGE
 *                             a kernel WARN that step printed, in order
 *                             (site as the WARNING line names it; the
 *                             line between "cut here" and WARNING, %XX-
 *                             escaped, empty for WARN_ON); follows W
 *   @@ K step OOPS =TEXT      a BUG/Oops line that step printed
 *   @@ U step FILE:LINE FUNC =MESSAGE
 *                             a WARN printed outside any write (after
 *                             step, before the next one)
 *   @@ O step                 the kernel's WARN_ONCE state was cleared
 *                             (/sys/kernel/debug/clear_warn_once): at the
 *                             start of every reset
 *   @@ S step avail=N seed=dev:N|- create=dev:N|-
 *   @@ D step dev:N size=N align=N resource=0x.. target_node=V|absent driver=NAME|-
 *   @@ M step dev:N K start=0x.. end=0x.. page_offset=0x..
 *   @@ E step                 end of the state after that step
 *   @@ C step                 the region is in its canonical idle state
 *   @@ X step message         an expect/ranges/avail line did not hold
 *   @@ FATAL message          the guest gave up (the record is incomplete)
 *   @@ TREE BEGIN ... @@ TREE END
 *                             a captured tree (capture_tree()): before
 *                             every REGION line ("boot", then "region"),
 *                             and where a scenario says "capture NAME"
 *
 * usage: sysfs-replay [-m /path/to/dax_hmem.ko] SCENARIO...
 *        sysfs-replay --capture NAME
 * With -m, every reset reloads dax_hmem (see reset_region()). --capture
 * only prints one tree of every dax region there is (no region under test).
 *
 * Step 0 is the state found at boot. Devices print as dev:N (N of daxR.N)
 * so the record does not depend on the region id the kernel chose.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define DAX_DEVICES "/sys/bus/dax/devices"
#define DAX_DRIVER "/sys/bus/dax/drivers/device_dax"
#define CLEAR_WARN_ONCE "/sys/kernel/debug/clear_warn_once"
#define MAX_WARNS 64
#define MAX_DEVS 128
#define MAX_MAPS 600	/* a 1 GiB region holds at most 512 2 MiB ranges */
#define MAX_VALUE 8192
#define MAX_NEWIDS 512

#define SZ_4K 0x1000ULL
#define SZ_1M 0x100000ULL
#define SZ_2M 0x200000ULL
#define SZ_1G 0x40000000ULL

/* Numbers as parsed (for the random steps) and as the kernel printed them
 * (for the record, so formatting is compared too). */
struct map_state {
	unsigned k;
	uint64_t start, end, pgoff;
	char start_s[24], end_s[24], pgoff_s[24];
};

struct dev_state {
	unsigned id;
	uint64_t size, align, resource;
	char size_s[24], align_s[24], resource_s[24];
	char target_node[32];
	char driver[64];
	unsigned nmaps;
	struct map_state *maps;
};

struct state {
	uint64_t avail;
	char avail_s[24];
	char seed[64], create[64];
	unsigned ndevs;
	struct dev_state devs[MAX_DEVS];
};

/* The region under test. */
static int region_id = -1;
static char region_dir[PATH_MAX];
static uint64_t region_start, region_size, region_align;
static int kmajor, kminor;
static const char *hmem_module;	/* dax_hmem.ko, for reloading it (-m) */

static unsigned long step;		/* writes so far, this boot */
static unsigned scn_index;		/* scenarios started */
static int last_rc = -1;		/* errno of the last write (0 = OK) */
static struct state cur;		/* the state after the last write */
static unsigned long nexpect_fail;
static char *newids[MAX_NEWIDS];	/* values new_id accepted (for reset) */
static unsigned nnewids;

static struct map_state map_pool[MAX_DEVS][MAX_MAPS];
static int panic_mode;			/* panic_on_warn=1: "@@ B" before each write */

/* ---- output ---------------------------------------------------------- */

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
	va_list ap;

	printf("@@ FATAL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n@@DAXREC END steps=%lu expect_failures=%lu fatal=1\n", step, nexpect_fail);
	fflush(stdout);
	exit(2);
}

static void expect_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void expect_fail(const char *fmt, ...)
{
	va_list ap;

	nexpect_fail++;
	printf("@@ X %lu ", step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#include "../common/errname.h"

/* Bytes 0x21..0x7e except '%' as they are, everything else as %XX. */
static void print_escaped(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c > 0x20 && c < 0x7f && c != '%')
			putchar(c);
		else
			printf("%%%02X", c);
	}
}

/* ---- the kernel log: the WARNs each step printed ---------------------------- */

/*
 * /dev/kmsg, read without blocking: every read() returns one record,
 * "PRIO,SEQ,TS,FLAGS;TEXT\n" (then " KEY=VALUE" lines), or EAGAIN when
 * nothing is new. A WARN prints "------------[ cut here ]------------",
 * then its message (none for WARN_ON), then "WARNING: CPU: n PID: n at
 * FILE:LINE FUNC+0xOFF/0xSIZE [module]", then registers and a stack.
 */
struct kwarn {
	char site[400];		/* "FILE:LINE FUNC", or "OOPS" */
	char msg[1024];		/* the message line(s), '\n'-joined */
};

static int kmsg_fd = -1;
static int kmsg_cut;			/* "cut here" seen, WARNING line not yet */
static char kmsg_msg[1024];
static struct kwarn kwarns[MAX_WARNS];
static unsigned nkwarns;

static void kwarn_add(const char *site, const char *msg)
{
	if (nkwarns == MAX_WARNS)
		return;
	snprintf(kwarns[nkwarns].site, sizeof(kwarns[0].site), "%s", site);
	snprintf(kwarns[nkwarns].msg, sizeof(kwarns[0].msg), "%s", msg);
	nkwarns++;
}

/* kmsg escapes unprintable bytes as \xNN: undo that. */
static void kmsg_unescape(char *t)
{
	char *o = t;

	for (char *p = t; *p; p++) {
		unsigned v;

		if (p[0] == '\\' && p[1] == 'x' && sscanf(p + 2, "%2x", &v) == 1 && isxdigit((unsigned char)p[3])) {
			*o++ = (char)v;
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

static void kmsg_line(char *text)
{
	char file[256], func[128];
	unsigned line;
	const char *at;

	if (!strcmp(text, "------------[ cut here ]------------")) {
		kmsg_cut = 1;
		kmsg_msg[0] = '\0';
		return;
	}
	if (!strncmp(text, "WARNING: ", 9)) {
		char site[400];

		at = strstr(text, " at ");
		if (!at || sscanf(at + 4, "%255[^: ]:%u %127[^+ ]", file, &line, func) != 3)
			snprintf(site, sizeof(site), "?:0 %.300s", at ? at + 4 : text);
		else
			snprintf(site, sizeof(site), "%s:%u %s", file, line, func);
		kwarn_add(site, kmsg_cut ? kmsg_msg : "");
		kmsg_cut = 0;
		return;
	}
	if (!strncmp(text, "BUG: ", 5) || !strncmp(text, "Oops", 4) || strstr(text, "general protection fault") ||
	    !strncmp(text, "Kernel panic", 12)) {
		kwarn_add("OOPS", text);
		kmsg_cut = 0;
		return;
	}
	if (kmsg_cut) {
		size_t n = strlen(kmsg_msg);

		snprintf(kmsg_msg + n, sizeof(kmsg_msg) - n, "%s%s", n ? "\n" : "", text);
	}
}

/* Everything the kernel logged since the last call, into kwarns[]. */
static void kmsg_drain(void)
{
	static char rec[8192 + 1];

	nkwarns = 0;
	if (kmsg_fd < 0)
		return;
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);
		char *text, *end;

		if (n < 0 && errno == EPIPE)	/* overwritten records: go on */
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		rec[n] = '\0';
		text = strchr(rec, ';');
		if (!text)
			continue;
		text++;
		end = strchr(text, '\n');
		if (end)
			*end = '\0';
		kmsg_unescape(text);
		kmsg_line(text);
	}
}

/* The drained warnings as record lines of @kind for @at. */
static void print_kwarns(char kind, unsigned long at)
{
	for (unsigned i = 0; i < nkwarns; i++) {
		printf("@@ %c %lu %s =", kind, at, kwarns[i].site);
		print_escaped(kwarns[i].msg, strlen(kwarns[i].msg));
		putchar('\n');
	}
	nkwarns = 0;
}

static void kmsg_open(void)
{
	char v[16] = "";
	int fd;

	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0)
		fatal("open /dev/kmsg: %s", strerror(errno));
	fd = open("/proc/sys/kernel/panic_on_warn", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, v, sizeof(v) - 1) < 0)
			v[0] = '\0';
		close(fd);
	}
	panic_mode = atoi(v) != 0;
}

/* Forget which WARN_ONCE sites fired, as a fresh model context has. */
static void clear_warn_once(void)
{
	int fd = open(CLEAR_WARN_ONCE, O_WRONLY);

	if (fd < 0 || write(fd, "1", 1) != 1)
		fatal("%s: %s (is debugfs mounted?)", CLEAR_WARN_ONCE, strerror(errno));
	close(fd);
	kmsg_drain();
	print_kwarns('U', step);
	printf("@@ O %lu\n", step);
}

/* ---- sysfs reading ---------------------------------------------------- */

/* Reads a small file; strips one trailing newline. -errno on failure. */
static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* A number attribute; @raw (optional) receives the text as printed. */
static uint64_t read_u64(const char *path, char *raw, size_t rawlen)
{
	char buf[64], *end;
	unsigned long long v;
	int rc = read_text(path, buf, sizeof(buf));

	if (rc < 0)
		fatal("read %s: %s", path, strerror(-rc));
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno || end == buf || *end)
		fatal("read %s: not a number: \"%s\"", path, buf);
	if (raw)
		snprintf(raw, rawlen, "%s", buf);
	return v;
}

/* "daxR.N" of region @rid -> N, else -1. */
static int dev_id_of(const char *name, int rid)
{
	int r, n, len;

	if (sscanf(name, "dax%d.%d%n", &r, &n, &len) != 2 || name[len] || r != rid || n < 0)
		return -1;
	return n;
}

/* A device name as the record prints it: dev:N for region @rid's devices. */
static void record_name(const char *name, int rid, char *out, size_t len)
{
	int n = dev_id_of(name, rid);

	if (!*name)
		snprintf(out, len, "-");
	else if (n >= 0)
		snprintf(out, len, "dev:%d", n);
	else
		snprintf(out, len, "%s", name);
}

static int cmp_dev(const void *a, const void *b)
{
	const struct dev_state *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_map(const void *a, const void *b)
{
	const struct map_state *x = a, *y = b;

	return x->k < y->k ? -1 : x->k > y->k;
}

static void read_maps(const char *devdir, struct dev_state *d, struct map_state *pool)
{
	char path[PATH_MAX];
	DIR *dir = opendir(devdir);
	struct dirent *de;

	if (!dir)
		fatal("opendir %s: %s", devdir, strerror(errno));
	d->maps = pool;
	d->nmaps = 0;
	while ((de = readdir(dir))) {
		unsigned k;
		int len;
		struct map_state *m;

		if (sscanf(de->d_name, "mapping%u%n", &k, &len) != 1 || de->d_name[len])
			continue;
		if (d->nmaps == MAX_MAPS)
			fatal("%s: more than %d mappings", devdir, MAX_MAPS);
		m = &d->maps[d->nmaps++];
		m->k = k;
		snprintf(path, sizeof(path), "%s/%s/start", devdir, de->d_name);
		m->start = read_u64(path, m->start_s, sizeof(m->start_s));
		snprintf(path, sizeof(path), "%s/%s/end", devdir, de->d_name);
		m->end = read_u64(path, m->end_s, sizeof(m->end_s));
		snprintf(path, sizeof(path), "%s/%s/page_offset", devdir, de->d_name);
		m->pgoff = read_u64(path, m->pgoff_s, sizeof(m->pgoff_s));
	}
	closedir(dir);
	qsort(d->maps, d->nmaps, sizeof(d->maps[0]), cmp_map);
}

/* An attribute a static region lacks (available_size, seed, create):
 * "absent" there; on a dynamic region a missing one is fatal. */
static int read_optional(const char *path, char *buf, size_t len)
{
	int rc = read_text(path, buf, len);

	if (rc == -ENOENT) {
		snprintf(buf, len, "absent");
		return 0;
	}
	if (rc < 0)
		fatal("read %s: %s", path, strerror(-rc));
	return 1;
}

/*
 * The whole state of region @rid (its attributes in @rdir, the parent's
 * dax_region directory), its devices' mappings kept in @pool. This is the
 * recorder: the record's S/D/M lines and the expected state of captured
 * trees both come from here.
 */
static void read_region_state(struct state *st, int rid, const char *rdir,
			      struct map_state (*pool)[MAX_MAPS])
{
	char path[PATH_MAX], buf[256], link[PATH_MAX];
	DIR *dir;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/available_size", rdir);
	if (read_optional(path, st->avail_s, sizeof(st->avail_s)))
		st->avail = read_u64(path, st->avail_s, sizeof(st->avail_s));
	else
		st->avail = 0;
	snprintf(path, sizeof(path), "%s/seed", rdir);
	if (read_optional(path, buf, sizeof(buf)))
		record_name(buf, rid, st->seed, sizeof(st->seed));
	else
		snprintf(st->seed, sizeof(st->seed), "absent");
	snprintf(path, sizeof(path), "%s/create", rdir);
	if (read_optional(path, buf, sizeof(buf)))
		record_name(buf, rid, st->create, sizeof(st->create));
	else
		snprintf(st->create, sizeof(st->create), "absent");

	st->ndevs = 0;
	dir = opendir(DAX_DEVICES);
	if (!dir)
		fatal("opendir " DAX_DEVICES ": %s", strerror(errno));
	while ((de = readdir(dir))) {
		int n = dev_id_of(de->d_name, rid);

		if (n < 0)
			continue;
		if (st->ndevs == MAX_DEVS)
			fatal("more than %d devices", MAX_DEVS);
		st->devs[st->ndevs++].id = (unsigned)n;
	}
	closedir(dir);
	qsort(st->devs, st->ndevs, sizeof(st->devs[0]), cmp_dev);

	for (unsigned i = 0; i < st->ndevs; i++) {
		struct dev_state *d = &st->devs[i];
		char devdir[PATH_MAX];
		ssize_t n;
		int rc;

		snprintf(devdir, sizeof(devdir), DAX_DEVICES "/dax%d.%u", rid, d->id);
		snprintf(path, sizeof(path), "%s/size", devdir);
		d->size = read_u64(path, d->size_s, sizeof(d->size_s));
		snprintf(path, sizeof(path), "%s/align", devdir);
		d->align = read_u64(path, d->align_s, sizeof(d->align_s));
		snprintf(path, sizeof(path), "%s/resource", devdir);
		d->resource = read_u64(path, d->resource_s, sizeof(d->resource_s));
		snprintf(path, sizeof(path), "%s/target_node", devdir);
		rc = read_text(path, d->target_node, sizeof(d->target_node));
		if (rc == -ENOENT)
			snprintf(d->target_node, sizeof(d->target_node), "absent");
		else if (rc < 0)
			fatal("read %s: %s", path, strerror(-rc));
		snprintf(path, sizeof(path), "%s/driver", devdir);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0) {
			snprintf(d->driver, sizeof(d->driver), "-");
		} else {
			link[n] = '\0';
			snprintf(d->driver, sizeof(d->driver), "%s",
				 strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
		}
		read_maps(devdir, d, pool[i]);
	}
}

static void read_state(struct state *st)
{
	read_region_state(st, region_id, region_dir, map_pool);
}

/* The state as record lines: "@@ S <step> ..." etc.; with @at NO_STEP
 * (a captured tree's expected state) "@@ T S ..." without a step. */
#define NO_STEP (~0UL)
static void record_prefix(char kind, unsigned long at)
{
	if (at == NO_STEP)
		printf("@@ T %c", kind);
	else
		printf("@@ %c %lu", kind, at);
}

static void print_state(const struct state *st, unsigned long at)
{
	record_prefix('S', at);
	printf(" avail=%s seed=%s create=%s\n", st->avail_s, st->seed, st->create);
	for (unsigned i = 0; i < st->ndevs; i++) {
		const struct dev_state *d = &st->devs[i];

		record_prefix('D', at);
		printf(" dev:%u size=%s align=%s resource=%s target_node=%s driver=%s\n", d->id,
		       d->size_s, d->align_s, d->resource_s, d->target_node, d->driver);
		for (unsigned j = 0; j < d->nmaps; j++) {
			record_prefix('M', at);
			printf(" dev:%u %u start=%s end=%s page_offset=%s\n", d->id, d->maps[j].k,
			       d->maps[j].start_s, d->maps[j].end_s, d->maps[j].pgoff_s);
		}
	}
	record_prefix('E', at);
	printf("\n");
}

static const struct dev_state *find_dev(const struct state *st, unsigned id)
{
	for (unsigned i = 0; i < st->ndevs; i++)
		if (st->devs[i].id == id)
			return &st->devs[i];
	return NULL;
}

/* ---- captured trees ----------------------------------------------------- */

/*
 * capture_tree() prints the dax part of sysfs as a tree the host rebuilds
 * (kernel-compare) and daxm_ctx_import_sysfs() reads:
 *
 *   @@ TREE BEGIN name
 *   @@ T f REL =CONTENT       a file, content %XX-escaped as in W lines
 *   @@ T w REL               a write-only attribute (mapping, delete, bind...):
 *                            it cannot be read, the tree keeps an empty file
 *   @@ T l REL =TARGET       a symlink, its target as readlink() gives it
 *   @@ T d REL               a directory
 *   @@ T REGION id=R kind=dynamic|static start=0x.. size=N align=N
 *   @@ T S/D/M/E ...         that region's state, as the recorder prints it
 *   @@ TREE END name entries=N
 *
 * REL is relative to the root ("sys/...", "proc/..."). The tree holds
 * proc/sys/kernel/osrelease, sys/bus/dax/devices/ (the relative links),
 * sys/bus/dax/drivers/<driver>/ (its device links and write-only files),
 * and every producer's dax_region/ and daxR.N/ directories (all attribute
 * files, mappingK/, the driver and subsystem links; not power/).
 */
static struct state tree_state;
static struct map_state tree_pool[MAX_DEVS][MAX_MAPS];
static unsigned long tree_entries;

static void tree_entry(char kind, const char *rel, const char *arg, size_t len)
{
	tree_entries++;
	printf("@@ T %c %s", kind, rel);
	if (arg) {
		printf(" =");
		print_escaped(arg, len);
	}
	putchar('\n');
}

static void capture_file(const char *abs, const char *rel)
{
	char buf[4097];
	int fd = open(abs, O_RDONLY);
	ssize_t n;

	if (fd < 0 && errno == EACCES) {
		tree_entry('w', rel, NULL, 0);
		return;
	}
	if (fd < 0)
		fatal("capture: open %s: %s", abs, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0 && errno == EACCES) {
		close(fd);
		tree_entry('w', rel, NULL, 0);
		return;
	}
	if (n < 0)
		fatal("capture: read %s: %s", abs, strerror(errno));
	close(fd);
	tree_entry('f', rel, buf, (size_t)n);
}

static void capture_link(const char *abs, const char *rel)
{
	char target[PATH_MAX];
	ssize_t n = readlink(abs, target, sizeof(target) - 1);

	if (n < 0)
		fatal("capture: readlink %s: %s", abs, strerror(errno));
	tree_entry('l', rel, target, (size_t)n);
}

/* A dax_region/ or daxR.N/ directory with its mappingK/ subdirectories. */
static void capture_dir(const char *abs, const char *rel, int depth)
{
	struct dirent **names;
	int n = scandir(abs, &names, NULL, alphasort);

	if (n < 0)
		fatal("capture: scandir %s: %s", abs, strerror(errno));
	tree_entry('d', rel, NULL, 0);
	for (int i = 0; i < n; i++) {
		char a[PATH_MAX], r[PATH_MAX];
		const char *name = names[i]->d_name;
		struct stat st;

		if (strcmp(name, ".") && strcmp(name, "..") && strcmp(name, "power")) {
			snprintf(a, sizeof(a), "%s/%s", abs, name);
			snprintf(r, sizeof(r), "%s/%s", rel, name);
			if (lstat(a, &st))
				fatal("capture: lstat %s: %s", a, strerror(errno));
			if (S_ISLNK(st.st_mode))
				capture_link(a, r);
			else if (S_ISDIR(st.st_mode) && depth > 0)
				capture_dir(a, r, depth - 1);
			else if (S_ISREG(st.st_mode))
				capture_file(a, r);
		}
		free(names[i]);
	}
	free(names);
}

/* The start of the "Soft Reserved" range of /proc/iomem holding @addr
 * (a dynamic hmem region is one such range); 0 if none does. */
static uint64_t soft_reserved_start(uint64_t addr, uint64_t *size)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[256];
	uint64_t found = 0;

	if (!f)
		fatal("open /proc/iomem: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		int used;

		if (sscanf(line, " %llx-%llx : %n", &a, &b, &used) == 2 &&
		    !strncmp(line + used, "Soft Reserved", 13) && a <= addr && addr <= b) {
			found = a;
			*size = b - a + 1;
			break;
		}
	}
	fclose(f);
	return found;
}

struct producer {
	char dir[PATH_MAX];	/* /sys/devices/..., the parent of dax_region */
	int id;
};

static int cmp_producer(const void *a, const void *b)
{
	const struct producer *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The expected state of the region of producer @p: where it starts (not
 * an attribute: the region under test's known start, a static region's
 * one device, or the Soft Reserved range of /proc/iomem), then its state. */
static void capture_expected(const struct producer *p)
{
	char rdir[PATH_MAX], path[PATH_MAX], size_s[32], align_s[32];
	uint64_t start = 0, iosize = 0;
	int dynamic;

	snprintf(rdir, sizeof(rdir), "%s/dax_region", p->dir);
	snprintf(path, sizeof(path), "%s/available_size", rdir);
	dynamic = access(path, F_OK) == 0;
	snprintf(path, sizeof(path), "%s/size", rdir);
	read_u64(path, size_s, sizeof(size_s));
	snprintf(path, sizeof(path), "%s/align", rdir);
	read_u64(path, align_s, sizeof(align_s));
	read_region_state(&tree_state, p->id, rdir, tree_pool);
	if (!tree_state.ndevs)
		fatal("capture: region%d has no device", p->id);
	if (!dynamic) {
		start = tree_state.devs[0].resource;
	} else {
		start = soft_reserved_start(tree_state.devs[0].resource, &iosize);
		if (!start || iosize != strtoull(size_s, NULL, 10))
			fatal("capture: region%d: no Soft Reserved range of its size in /proc/iomem holds %#" PRIx64,
			      p->id, tree_state.devs[0].resource);
		if (p->id == region_id && start != region_start)
			fatal("capture: region%d: /proc/iomem says it starts at %#" PRIx64 ", not %#" PRIx64,
			      p->id, start, region_start);
	}
	printf("@@ T REGION id=%d kind=%s start=%#" PRIx64 " size=%s align=%s\n", p->id,
	       dynamic ? "dynamic" : "static", start, size_s, align_s);
	print_state(&tree_state, NO_STEP);
}

static void capture_tree(const char *name)
{
	static struct producer producers[MAX_DEVS];
	unsigned nprod = 0;
	struct dirent **names;
	int n;

	tree_entries = 0;
	printf("@@ TREE BEGIN %s\n", name);
	capture_file("/proc/sys/kernel/osrelease", "proc/sys/kernel/osrelease");
	tree_entry('d', "sys/bus/dax/devices", NULL, 0);
	n = scandir(DAX_DEVICES, &names, NULL, alphasort);
	if (n < 0)
		fatal("capture: scandir " DAX_DEVICES ": %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		char a[PATH_MAX], r[PATH_MAX], real[PATH_MAX], *slash;
		const char *dname = names[i]->d_name;
		unsigned j;

		if (dname[0] != '.') {
			snprintf(a, sizeof(a), DAX_DEVICES "/%s", dname);
			snprintf(r, sizeof(r), "sys/bus/dax/devices/%s", dname);
			capture_link(a, r);
			if (!realpath(a, real) || !(slash = strrchr(real, '/')))
				fatal("capture: realpath %s: %s", a, strerror(errno));
			*slash = '\0';
			for (j = 0; j < nprod && strcmp(producers[j].dir, real); j++)
				;
			if (j == nprod) {
				char path[PATH_MAX];

				if (nprod == MAX_DEVS)
					fatal("capture: more than %d regions", MAX_DEVS);
				snprintf(producers[nprod].dir, sizeof(producers[0].dir), "%s", real);
				snprintf(path, sizeof(path), "%s/dax_region/id", real);
				producers[nprod].id = (int)read_u64(path, NULL, 0);
				nprod++;
			}
		}
		free(names[i]);
	}
	free(names);
	qsort(producers, nprod, sizeof(producers[0]), cmp_producer);

	/* the drivers: their device links and write-only files, not "module" */
	n = scandir("/sys/bus/dax/drivers", &names, NULL, alphasort);
	if (n < 0)
		fatal("capture: scandir /sys/bus/dax/drivers: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *drv = names[i]->d_name;

		if (drv[0] != '.') {
			char a[PATH_MAX], r[PATH_MAX];
			struct dirent **files;
			int m;

			snprintf(a, sizeof(a), "/sys/bus/dax/drivers/%s", drv);
			snprintf(r, sizeof(r), "sys/bus/dax/drivers/%s", drv);
			tree_entry('d', r, NULL, 0);
			m = scandir(a, &files, NULL, alphasort);
			if (m < 0)
				fatal("capture: scandir %s: %s", a, strerror(errno));
			for (int k = 0; k < m; k++) {
				char fa[PATH_MAX], fr[PATH_MAX];
				const char *f = files[k]->d_name;
				struct stat st;

				snprintf(fa, sizeof(fa), "%s/%s", a, f);
				snprintf(fr, sizeof(fr), "%s/%s", r, f);
				if (f[0] != '.' && strcmp(f, "module") && !lstat(fa, &st)) {
					if (S_ISLNK(st.st_mode))
						capture_link(fa, fr);
					else if (S_ISREG(st.st_mode))
						capture_file(fa, fr);
				}
				free(files[k]);
			}
			free(files);
		}
		free(names[i]);
	}
	free(names);

	/* each producer: dax_region/ and its devices */
	for (unsigned j = 0; j < nprod; j++) {
		char a[PATH_MAX], r[PATH_MAX];
		const char *rel = producers[j].dir + 1;	/* without the leading '/' */

		snprintf(a, sizeof(a), "%s/dax_region", producers[j].dir);
		snprintf(r, sizeof(r), "%s/dax_region", rel);
		capture_dir(a, r, 0);
		n = scandir(DAX_DEVICES, &names, NULL, alphasort);
		for (int i = 0; i < n; i++) {
			char real[PATH_MAX], *slash;

			snprintf(a, sizeof(a), DAX_DEVICES "/%s", names[i]->d_name);
			if (names[i]->d_name[0] != '.' && realpath(a, real) && (slash = strrchr(real, '/'))) {
				*slash = '\0';
				if (!strcmp(real, producers[j].dir)) {
					snprintf(a, sizeof(a), "%s/%s", producers[j].dir, slash + 1);
					snprintf(r, sizeof(r), "%s/%s", rel, slash + 1);
					capture_dir(a, r, 1);
				}
			}
			free(names[i]);
		}
		free(names);
	}

	{
		struct utsname u;

		if (uname(&u))
			fatal("uname");
		printf("@@ T KERNEL %s\n", u.release);
	}
	for (unsigned j = 0; j < nprod; j++)
		capture_expected(&producers[j]);
	printf("@@ TREE END %s entries=%lu\n", name, tree_entries);
	fflush(stdout);
}

/* ---- writing ------------------------------------------------------------ */

/* "dev:N..." -> "daxR.N...": the device's real name. @in need not end in
 * a NUL: only its @len bytes are looked at. */
static int expand_value(const char *in, size_t len, char *out, size_t outlen, size_t *outn)
{
	size_t digits = 0;

	while (4 + digits < len && isdigit((unsigned char)in[4 + digits]))
		digits++;
	if (len > 4 && !strncmp(in, "dev:", 4) && digits && digits < 10) {
		char num[16];
		int w;

		memcpy(num, in + 4, digits);
		num[digits] = '\0';
		w = snprintf(out, outlen, "dax%d.%s", region_id, num);
		if (w < 0 || (size_t)w + (len - 4 - digits) > outlen)
			return -1;
		memcpy(out + w, in + 4 + digits, len - 4 - digits);
		*outn = (size_t)w + len - 4 - digits;
		return 0;
	}
	if (len > outlen)
		return -1;
	memcpy(out, in, len);
	*outn = len;
	return 0;
}

/* region/ATTR, dev:N/REST, device_dax/F -> absolute path; -1 if malformed. */
static int expand_path(const char *rel, char *out, size_t len)
{
	unsigned n;
	int used;

	if (!strncmp(rel, "region/", 7) && rel[7])
		snprintf(out, len, "%s/%s", region_dir, rel + 7);
	else if (!strncmp(rel, "device_dax/", 11) && rel[11])
		snprintf(out, len, DAX_DRIVER "/%s", rel + 11);
	else if (sscanf(rel, "dev:%u%n", &n, &used) == 1 && rel[used] == '/' && rel[used + 1])
		snprintf(out, len, DAX_DEVICES "/dax%d.%u/%s", region_id, n, rel + used + 1);
	else
		return -1;
	return 0;
}

/* Values written to new_id (once each): the reset writes them to remove_id. */
static void remember_newid(const char *value, size_t len)
{
	char *copy;

	if (!len || memchr(value, '\0', len) || nnewids == MAX_NEWIDS)
		return;
	for (unsigned i = 0; i < nnewids; i++)
		if (strlen(newids[i]) == len && !memcmp(newids[i], value, len))
			return;
	copy = malloc(len + 1);
	if (!copy)
		fatal("out of memory");
	memcpy(copy, value, len);
	copy[len] = '\0';
	newids[nnewids++] = copy;
}

/* The step: one open + one write; record errno and the state after it. */
static void do_write(const char *rel, const char *value, size_t len)
{
	char path[PATH_MAX], buf[MAX_VALUE + 64];
	size_t n;
	int fd, e = 0;

	if (expand_path(rel, path, sizeof(path)) < 0)
		fatal("bad path \"%s\" (want region/ATTR, dev:N/ATTR or device_dax/FILE)", rel);
	if (expand_value(value, len, buf, sizeof(buf), &n) < 0)
		fatal("value too long for %s", rel);
	/* what the kernel logged since the last step is not this step's */
	kmsg_drain();
	print_kwarns('U', step);
	step++;
	if (panic_mode) {
		/* on the console before the write: a panic comes after it */
		printf("@@ B %lu %s =", step, rel);
		print_escaped(value, len);
		putchar('\n');
		fflush(stdout);
		tcdrain(STDOUT_FILENO);
	}
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		e = errno;
	} else {
		if (write(fd, buf, n) < 0)
			e = errno;
		close(fd);
	}
	last_rc = e;
	kmsg_drain();
	if (!strcmp(rel, "device_dax/new_id"))
		remember_newid(value, len);
	printf("@@ W %lu %s %s =", step, errname(e), rel);
	print_escaped(value, len);
	putchar('\n');
	print_kwarns('K', step);
	read_state(&cur);
	print_state(&cur, step);
	fflush(stdout);
}

static void write_fmt(const char *rel, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void write_fmt(const char *rel, const char *fmt, ...)
{
	char v[MAX_VALUE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(v))
		fatal("value too long");
	do_write(rel, v, (size_t)n);
}

static void write_map(unsigned dev, uint64_t start, uint64_t len)
{
	char rel[32];

	snprintf(rel, sizeof(rel), "dev:%u/mapping", dev);
	write_fmt(rel, "%#" PRIx64 "-%#" PRIx64, start, start + len - 1);
}

/* ---- reset to the canonical idle state ----------------------------------- */

static int is_canonical(const struct state *st)
{
	const struct dev_state *d = st->ndevs == 1 ? &st->devs[0] : NULL;

	return d && d->id == 0 && d->size == 0 && d->nmaps == 0 && d->align == region_align &&
	       !strcmp(d->driver, "-") && st->avail == region_size && !strcmp(st->seed, "-") &&
	       !strcmp(st->create, "-");
}

static void begin_region(void);

/* rmmod + insmod dax_hmem: the region and its devices are made anew. */
static void reload_hmem(void)
{
	int fd;

	if (syscall(SYS_delete_module, "dax_hmem", O_NONBLOCK) != 0)
		fatal("rmmod dax_hmem: %s", strerror(errno));
	fd = open(hmem_module, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fatal("open %s: %s", hmem_module, strerror(errno));
	if (syscall(SYS_finit_module, fd, "", 0) != 0)
		fatal("insmod %s: %s", hmem_module, strerror(errno));
	close(fd);
	begin_region();
}

/*
 * A failed probe leaves the kernel's direct map of its range behind (1 GiB
 * or 2 MiB pages, or page tables) for the rest of the boot, reloads or
 * not: a later probe that maps part of such a 2 MiB page warns
 * (phys_pmd_init), part of such a 1 GiB page too (phys_pud_init). The
 * model starts every region without such leftovers, so the reset removes
 * them: unbinding a device whose probe succeeded unmaps its whole range.
 * 6.1 binds the reloaded daxR.0, which covers the region, and the reset
 * unbinds it below; 6.12 leaves it unbound, so it is bound here (new_id),
 * unbound, and its name taken out of the id list again.
 */
static void scrub_direct_map(void)
{
	const struct dev_state *d = cur.ndevs == 1 ? &cur.devs[0] : NULL;

	if (!d || d->id || d->size != region_size || strcmp(d->driver, "-"))
		return;
	do_write("device_dax/new_id", "dev:0", 5);
	do_write("device_dax/unbind", "dev:0", 5);
	do_write("device_dax/remove_id", "dev:0", 5);
	for (unsigned i = 0; i < nnewids; i++) {
		if (!strcmp(newids[i], "dev:0")) {
			free(newids[i]);
			newids[i] = newids[--nnewids];
			break;
		}
	}
}

/*
 * Bring the region to its canonical idle state: daxR.0 alone, unbound, at
 * size 0 with the region's align, no seed, nothing created, no name left
 * in device_dax's id list. Every step is a recorded write, except the
 * reload of dax_hmem (when the guest has its module), which replaces the
 * region and its devices by fresh ones, as at boot: a device's hidden
 * kernel state (a stale page map after a failed probe, say) cannot leak
 * from one scenario into the next. Without the reload: unbind everything,
 * shrink everything to 0, delete every device but daxR.0.
 */
static void reset_region(void)
{
	char rel[32];

	clear_warn_once();
	/* the id list belongs to device_dax and survives the reload; the
	 * names still mean this region's devices, so take them out first */
	for (unsigned i = 0; i < nnewids; i++) {
		do_write("device_dax/remove_id", newids[i], strlen(newids[i]));
		free(newids[i]);
	}
	nnewids = 0;
	if (hmem_module) {
		reload_hmem();
		scrub_direct_map();
	}
	read_state(&cur);
	for (unsigned i = 0; i < cur.ndevs; i++)
		if (strcmp(cur.devs[i].driver, "-"))
			write_fmt("device_dax/unbind", "dev:%u", cur.devs[i].id);
	for (unsigned i = 0; i < cur.ndevs; i++) {
		if (cur.devs[i].size) {
			snprintf(rel, sizeof(rel), "dev:%u/size", cur.devs[i].id);
			write_fmt(rel, "0");
		}
	}
	for (unsigned i = cur.ndevs; i-- > 0;) {
		if (cur.devs[i].id) {
			char name[32];

			snprintf(name, sizeof(name), "dev:%u", cur.devs[i].id);
			do_write("region/delete", name, strlen(name));
		}
	}
	if (cur.ndevs && cur.devs[0].id == 0 && cur.devs[0].align != region_align)
		write_fmt("dev:0/align", "%" PRIu64, region_align);
	read_state(&cur);
	if (!is_canonical(&cur)) {
		print_state(&cur, step);
		fatal("the reset did not reach the canonical idle state (state above)");
	}
	printf("@@ C %lu\n", step);
}

/* ---- expectations ----------------------------------------------------- */

/* "6.1=ENXIO" applies to 6.1 only; "EBUSY" to every kernel. */
static void check_expect(char *args)
{
	const char *want = NULL;
	char *tok, *save;

	for (tok = strtok_r(args, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		int ma, mi;

		if (!eq) {
			if (!want)
				want = tok;
			continue;
		}
		*eq = '\0';
		if (sscanf(tok, "%d.%d", &ma, &mi) != 2)
			fatal("expect: bad kernel \"%s\"", tok);
		if (ma == kmajor && mi == kminor)
			want = eq + 1;
	}
	if (!want)
		return;
	if (strcmp(want, errname(last_rc)))
		expect_fail("expected %s, got %s", want, errname(last_rc));
}

static void check_ranges(char *args)
{
	char *save, *tok = strtok_r(args, " \t", &save);
	const struct dev_state *d;
	unsigned id, k = 0;

	if (!tok || sscanf(tok, "dev:%u", &id) != 1)
		fatal("ranges: want dev:N");
	d = find_dev(&cur, id);
	if (!d) {
		expect_fail("ranges: dev:%u does not exist", id);
		return;
	}
	for (tok = strtok_r(NULL, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save), k++) {
		unsigned long long off, len;
		char *plus = strchr(tok, '+');

		if (!plus)
			fatal("ranges: want OFF+LEN, got \"%s\"", tok);
		off = strtoull(tok, NULL, 0);
		len = strtoull(plus + 1, NULL, 0);
		if (k >= d->nmaps) {
			expect_fail("ranges: dev:%u has %u ranges, expected more", id, d->nmaps);
			return;
		}
		if (d->maps[k].start != region_start + off || d->maps[k].end != region_start + off + len - 1) {
			expect_fail("ranges: dev:%u mapping%u is %#" PRIx64 "-%#" PRIx64 ", expected %#llx-%#llx",
				    id, k, d->maps[k].start, d->maps[k].end,
				    (unsigned long long)(region_start + off),
				    (unsigned long long)(region_start + off + len - 1));
			return;
		}
	}
	if (k != d->nmaps)
		expect_fail("ranges: dev:%u has %u ranges, expected %u", id, d->nmaps, k);
}

/* ---- random steps ----------------------------------------------------- */

static uint64_t rng;

static uint64_t rnd(void)
{
	/* splitmix64: small, good enough, the same on every machine */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static int chance(unsigned percent)
{
	return below(100) < percent;
}

struct hole {
	uint64_t start, len;
};

static int cmp_hole(const void *a, const void *b)
{
	const struct hole *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The region's free holes, in address order; returns how many. */
static unsigned free_holes(struct hole *holes, unsigned max)
{
	static struct hole used[MAX_DEVS * 4 + MAX_MAPS];
	unsigned nused = 0, n = 0;
	uint64_t at = region_start;

	for (unsigned i = 0; i < cur.ndevs; i++)
		for (unsigned j = 0; j < cur.devs[i].nmaps && nused < sizeof(used) / sizeof(used[0]); j++) {
			used[nused].start = cur.devs[i].maps[j].start;
			used[nused].len = cur.devs[i].maps[j].end - cur.devs[i].maps[j].start + 1;
			nused++;
		}
	qsort(used, nused, sizeof(used[0]), cmp_hole);
	for (unsigned i = 0; i <= nused && n < max; i++) {
		uint64_t next = i < nused ? used[i].start : region_start + region_size;

		if (next > at) {
			holes[n].start = at;
			holes[n].len = next - at;
			n++;
		}
		if (i < nused && used[i].start + used[i].len > at)
			at = used[i].start + used[i].len;
	}
	return n;
}

/* Mostly an existing device (weighted by @pick), sometimes one that is not. */
static unsigned pick_dev(int (*pick)(const struct dev_state *))
{
	unsigned cand[MAX_DEVS], n = 0;

	if (chance(6))
		return cur.ndevs ? cur.devs[cur.ndevs - 1].id + 1 + (unsigned)below(3) : 1;
	if (pick)
		for (unsigned i = 0; i < cur.ndevs; i++)
			if (pick(&cur.devs[i]))
				cand[n++] = cur.devs[i].id;
	if (n && chance(80))
		return cand[below(n)];
	return cur.ndevs ? cur.devs[below(cur.ndevs)].id : 0;
}

static int is_bound(const struct dev_state *d) { return strcmp(d->driver, "-") != 0; }
static int is_unbound(const struct dev_state *d) { return !is_bound(d); }
static int is_sized_unbound(const struct dev_state *d) { return d->size && !is_bound(d); }
static int is_deletable(const struct dev_state *d) { return d->id && !d->size && !is_bound(d); }
static int is_mapped(const struct dev_state *d) { return d->nmaps > 0; }

static uint64_t dev_unit(unsigned id)
{
	const struct dev_state *d = find_dev(&cur, id);
	uint64_t a = d ? d->align : region_align;

	return a > SZ_2M ? a : SZ_2M;
}

static void write_number(const char *rel, uint64_t v)
{
	if (chance(50))
		write_fmt(rel, "%#" PRIx64, v);
	else if (chance(90))
		write_fmt(rel, "%" PRIu64, v);
	else
		write_fmt(rel, "%" PRIu64 "\n", v);
}

static const char *const junk_numbers[] = {
	"junk", "-1", "2M", "0x", "", "0x2_00000", " 2097152", "2097152 ", "+2097152",
	"99999999999999999999", "0xffffffffffffffffff", "0x200000\n\n", "00", "0b10", "\n",
};

static void random_size(void)
{
	unsigned id = pick_dev(is_unbound);
	const struct dev_state *d = find_dev(&cur, id);
	uint64_t size = d ? d->size : 0, unit = dev_unit(id), v;
	char rel[32];
	unsigned r = (unsigned)below(100);

	snprintf(rel, sizeof(rel), "dev:%u/size", id);
	if (r < 10)
		v = 0;
	else if (r < 32)
		v = size + unit * (1 + below(8));
	else if (r < 44)
		v = size + cur.avail;				/* exact fit */
	else if (r < 52)
		v = size + cur.avail + unit;			/* one unit too many */
	else if (r < 68)
		v = size > unit ? size - unit * (1 + below(size / unit)) : size;
	else if (r < 80)
		v = (size + unit * below(4)) + (chance(50) ? SZ_4K : SZ_1M);	/* misaligned */
	else if (r < 90)
		v = SZ_2M * below(region_size / SZ_2M + 2);
	else {
		const char *j = junk_numbers[below(sizeof(junk_numbers) / sizeof(junk_numbers[0]))];

		do_write(rel, j, strlen(j));
		return;
	}
	write_number(rel, v);
}

static void random_mapping(void)
{
	struct hole holes[MAX_MAPS + 2];
	unsigned nh = free_holes(holes, MAX_MAPS + 2);
	unsigned id = pick_dev(NULL);
	unsigned r = (unsigned)below(100);
	uint64_t unit = dev_unit(id), start, len;
	char rel[32];

	snprintf(rel, sizeof(rel), "dev:%u/mapping", id);
	if (r < 58 && nh) {			/* a hole: an aligned piece, or all of it */
		const struct hole *h = &holes[below(nh)];
		uint64_t first = (h->start + unit - 1) / unit * unit;
		uint64_t slots = h->start + h->len > first ? (h->start + h->len - first) / unit : 0;

		if (r < 45 && slots) {
			start = first + unit * below(slots);
			len = unit * (1 + below((h->start + h->len - start) / unit));
		} else {
			start = h->start;
			len = h->len;
		}
	} else if (r < 68) {			/* overlap something allocated, if anything is */
		const struct dev_state *d = find_dev(&cur, pick_dev(is_mapped));

		if (d && d->nmaps) {
			const struct map_state *m = &d->maps[below(d->nmaps)];

			start = m->start + (chance(50) ? 0 : SZ_2M * below((m->end - m->start + 1) / SZ_2M));
		} else {
			start = region_start + SZ_2M * below(region_size / SZ_2M);
		}
		len = SZ_2M * (1 + below(4));
	} else if (r < 74) {			/* outside or straddling the region */
		start = chance(50) ? region_start - SZ_2M * (1 + below(2))
				   : region_start + region_size - SZ_2M * below(2);
		len = SZ_2M * (1 + below(3));
	} else if (r < 80) {			/* a length that is not a multiple of the unit */
		start = nh ? holes[below(nh)].start : region_start;
		len = chance(50) ? SZ_4K : SZ_2M + SZ_1M;
	} else if (r < 85 && nh) {		/* an unaligned start inside a hole */
		const struct hole *h = &holes[below(nh)];

		start = h->start + SZ_4K * (1 + below(4));
		len = SZ_2M;
	} else if (r < 90) {			/* end before start: a wrapped length */
		start = region_start + SZ_2M * below(region_size / SZ_2M);
		len = chance(50) ? 0 : (uint64_t)0 - SZ_2M;
	} else {
		static const char *const bad[] = {
			"garbage", "0x140000000", "0x140000000-", "-0x1401fffff", "",
			"+140000000-+1401fffff", "0x1ffffffffffffffffff-0x1", "140000000-1401fffff\n",
			"140000000 -1401fffff", "0x140000000-0x1401fffff-", "\n",
		};
		const char *b = bad[below(sizeof(bad) / sizeof(bad[0]))];

		do_write(rel, b, strlen(b));
		return;
	}
	write_map(id, start, len);
}

static void random_align(void)
{
	static const char *const odd[] = { "8192", "0", "12345", "junk", "0x200000\n",
					   "99999999999999999999", "", "0x1000" };
	unsigned id = pick_dev(is_unbound);
	char rel[32];
	unsigned r = (unsigned)below(100);

	snprintf(rel, sizeof(rel), "dev:%u/align", id);
	if (r < 30)
		write_number(rel, SZ_4K);
	else if (r < 65)
		write_number(rel, SZ_2M);
	else if (r < 80)
		write_number(rel, SZ_1G);
	else {
		const char *v = odd[below(sizeof(odd) / sizeof(odd[0]))];

		do_write(rel, v, strlen(v));
	}
}

static void random_name_write(const char *rel, int (*pick)(const struct dev_state *))
{
	static const char *const odd[] = { "dax", "nosuch", "", "dax9.0", "dax0", "dev:0 ", "\n" };
	char name[40];

	if (chance(8)) {
		const char *v = odd[below(sizeof(odd) / sizeof(odd[0]))];

		do_write(rel, v, strlen(v));
		return;
	}
	snprintf(name, sizeof(name), "dev:%u%s", pick_dev(pick), chance(20) ? "\n" : "");
	do_write(rel, name, strlen(name));
}

static void random_other(void)
{
	static const char *const rel[] = {
		"region/available_size", "region/size", "region/seed", "region/id", "region/align",
		"region/nosuch", "dev:0/resource", "dev:0/numa_node", "dev:0/modalias",
		"dev:0/target_node", "dev:0/mapping0/start", "dev:0/mapping0/page_offset",
		"dev:0/nosuch", "device_dax/nosuch",
	};
	const char *p = rel[below(sizeof(rel) / sizeof(rel[0]))];

	do_write(p, "0", 1);
}

static void random_step(void)
{
	unsigned r = (unsigned)below(100);

	if (r < 13) {
		static const char *const v[] = { "2", "0", "junk", "", "1\n" };
		const char *x = chance(85) ? "1" : v[below(sizeof(v) / sizeof(v[0]))];

		do_write("region/create", x, strlen(x));
	} else if (r < 39) {
		random_size();
	} else if (r < 53) {
		random_mapping();
	} else if (r < 59) {
		random_align();
	} else if (r < 67) {
		random_name_write("region/delete", is_deletable);
	} else if (r < 75) {
		random_name_write("device_dax/unbind", is_bound);
	} else if (r < 82) {
		random_name_write("device_dax/bind", is_sized_unbound);
	} else if (r < 87) {
		random_name_write("device_dax/new_id", is_sized_unbound);
	} else if (r < 90) {
		random_name_write("device_dax/remove_id", NULL);
	} else if (r < 93) {
		random_other();
	} else {
		/* all that is left, on a device that can take it: exact fits */
		unsigned id = pick_dev(is_unbound);
		const struct dev_state *d = find_dev(&cur, id);
		char rel[32];

		snprintf(rel, sizeof(rel), "dev:%u/size", id);
		write_number(rel, (d ? d->size : 0) + cur.avail);
	}
}

static void run_random(const char *args)
{
	unsigned long long seed, n;

	if (sscanf(args, "%llu %llu", &seed, &n) != 2)
		fatal("random: want SEED STEPS");
	rng = seed;
	for (unsigned long long i = 0; i < n; i++)
		random_step();
}

/* ---- scenario files --------------------------------------------------- */

/* Undo the scenario escapes; returns the length, -1 on a bad escape. */
static long unescape(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *in; in++) {
		char c = *in;

		if (n + 1 >= outlen)
			return -1;
		if (c == '\\') {
			in++;
			switch (*in) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 's': c = ' '; break;
			case '\\': c = '\\'; break;
			case 'x': {
				unsigned v;

				if (!isxdigit((unsigned char)in[1]) || !isxdigit((unsigned char)in[2]) ||
				    sscanf(in + 1, "%2x", &v) != 1 || v == 0)
					return -1;
				c = (char)v;
				in += 2;
				break;
			}
			default:
				return -1;
			}
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return (long)n;
}

static void run_line(const char *file, unsigned lineno, char *line)
{
	char *cmd = line, *args;
	size_t len = strlen(line);

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	while (*cmd == ' ' || *cmd == '\t')
		cmd++;
	if (!*cmd || *cmd == '#')
		return;
	args = cmd + strcspn(cmd, " \t");
	if (*args)
		*args++ = '\0';

	if (!strcmp(cmd, "scenario")) {
		char name[128] = "", opt[32] = "";
		int nf = sscanf(args, "%127s %31s", name, opt);

		if (nf < 1)
			fatal("%s:%u: scenario needs a name", file, lineno);
		scn_index++;
		printf("@@ SCN %u %s\n", scn_index, name);
		if (nf < 2 || strcmp(opt, "noreset"))
			reset_region();
	} else if (!strcmp(cmd, "write")) {
		char value[MAX_VALUE];
		char *path = args, *val = path + strcspn(path, " \t");
		long n = 0;

		if (*val)
			*val++ = '\0';
		if (!*path)
			fatal("%s:%u: write needs a path", file, lineno);
		if (*val && (n = unescape(val, value, sizeof(value))) < 0)
			fatal("%s:%u: bad escape in \"%s\"", file, lineno, val);
		do_write(path, value, (size_t)n);
	} else if (!strcmp(cmd, "map")) {
		unsigned dev;
		long long off, mlen;

		if (sscanf(args, "dev:%u %lli %lli", &dev, &off, &mlen) != 3)
			fatal("%s:%u: map wants dev:N OFF LEN", file, lineno);
		write_map(dev, region_start + (uint64_t)off, (uint64_t)mlen);
	} else if (!strcmp(cmd, "expect")) {
		check_expect(args);
	} else if (!strcmp(cmd, "ranges")) {
		check_ranges(args);
	} else if (!strcmp(cmd, "avail")) {
		unsigned long long want = strtoull(args, NULL, 0);

		if (cur.avail != want)
			expect_fail("avail: available_size is %" PRIu64 ", expected %llu", cur.avail, want);
	} else if (!strcmp(cmd, "random")) {
		unsigned long long seed = strtoull(args, NULL, 0);

		printf("@@ I random seed=%llu (%s)\n", seed, args);
		run_random(args);
	} else if (!strcmp(cmd, "capture")) {
		char name[64];

		if (sscanf(args, "%63[A-Za-z0-9_.-]", name) != 1 || strcmp(name, args))
			fatal("%s:%u: capture wants a NAME of letters, digits, '.', '_' or '-'", file, lineno);
		capture_tree(name);
	} else if (!strcmp(cmd, "sleep")) {
		usleep((useconds_t)strtoul(args, NULL, 0) * 1000);
	} else if (!strcmp(cmd, "reset")) {
		reset_region();
	} else {
		fatal("%s:%u: unknown command \"%s\"", file, lineno, cmd);
	}
}

static void run_file(const char *file)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;

	if (!f)
		fatal("open %s: %s", file, strerror(errno));
	while (getline(&line, &cap, f) > 0)
		run_line(file, ++lineno, line);
	free(line);
	fclose(f);
}

/* ---- the region ----------------------------------------------------------- */

/* The hmem device: the one whose sysfs path runs through a platform hmem.N. */
static int scan_for_hmem(void)
{
	char path[PATH_MAX], real[PATH_MAX];
	DIR *dir = opendir(DAX_DEVICES);
	struct dirent *de;

	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		int r, n, used;

		if (sscanf(de->d_name, "dax%d.%d%n", &r, &n, &used) != 2 || de->d_name[used] || n)
			continue;
		snprintf(path, sizeof(path), DAX_DEVICES "/%s", de->d_name);
		if (!realpath(path, real) || !strstr(real, "/hmem."))
			continue;
		region_id = r;
		snprintf(path, sizeof(path), "%s/../dax_region", real);
		if (!realpath(path, region_dir))
			fatal("%s: no dax_region next to it", real);
		break;
	}
	closedir(dir);
	return region_id >= 0;
}

static void find_region(void)
{
	char path[PATH_MAX];

	/* dax_hmem may still be probing: give it up to 10 s */
	for (int tries = 0; !scan_for_hmem(); tries++) {
		if (tries == 100)
			fatal("no hmem dax device under " DAX_DEVICES
			      " (are device_dax and dax_hmem loaded, is the soft-reserved memmap= range there?)");
		usleep(100000);
	}
	snprintf(path, sizeof(path), "%s/create", region_dir);
	if (access(path, F_OK))
		fatal("%s is not a dynamic region (no create)", region_dir);
	snprintf(path, sizeof(path), "%s/size", region_dir);
	region_size = read_u64(path, NULL, 0);
	snprintf(path, sizeof(path), "%s/align", region_dir);
	region_align = read_u64(path, NULL, 0);
	snprintf(path, sizeof(path), "%s/id", region_dir);
	if ((int)read_u64(path, NULL, 0) != region_id)
		fatal("%s: id does not match dax%d.0", region_dir, region_id);
	/* the region has no start attribute: daxR.0's resource is the region
	 * start whether it covers the region or has no range at all */
	snprintf(path, sizeof(path), DAX_DEVICES "/dax%d.0/resource", region_id);
	region_start = read_u64(path, NULL, 0);
}

/* Find the region and record it with its state as found (a producer's),
 * after the tree the host imports it from ("boot" the first time). */
static void begin_region(void)
{
	static int regions;

	region_id = -1;
	find_region();
	capture_tree(regions++ ? "region" : "boot");
	printf("@@ REGION id=%d start=%#" PRIx64 " size=%" PRIu64 " align=%" PRIu64 " path=%s\n",
	       region_id, region_start, region_size, region_align, region_dir);
	read_state(&cur);
	print_state(&cur, step);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct utsname u;
	struct timespec t0, t1;
	int i = 1;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (argc == 3 && !strcmp(argv[1], "--capture")) {
		/* capture only (the devmem guest): every region, starts from /proc/iomem */
		capture_tree(argv[2]);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "-m")) {
		hmem_module = argv[2];
		i = 3;
	}
	if (uname(&u) || sscanf(u.release, "%d.%d", &kmajor, &kminor) != 2)
		fatal("uname");
	kmsg_open();
	printf("@@DAXREC BEGIN\n@@ KERNEL %s\n@@ KVERSION %s\n", u.release, u.version);
	if (panic_mode)
		printf("@@ PANIC_ON_WARN 1\n");
	kmsg_drain();	/* the boot's log: a WARN there is outside every step */
	print_kwarns('U', 0);
	begin_region();
	for (; i < argc; i++)
		run_file(argv[i]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	kmsg_drain();
	print_kwarns('U', step);
	printf("@@DAXREC END steps=%lu expect_failures=%lu fatal=0 seconds=%.2f\n", step, nexpect_fail,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	fflush(stdout);
	return nexpect_fail ? 1 : 0;
}
