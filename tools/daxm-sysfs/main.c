/*
 * daxm-sysfs - serve a libdaxmodel model as a Linux sysfs tree over FUSE,
 * so that unmodified daxctl (and scripts reading /sys/bus/dax) manage the
 * model as they would a kernel.
 *
 *   daxm-sysfs [MODEL] --run [--] CMD [ARGS...]
 *       private mount namespace: the tree over /sys, a small tmpfs over
 *       /dev with /dev/daxR.N placeholder nodes; runs CMD; tears down;
 *       exits with CMD's status
 *   daxm-sysfs [MODEL] [--devdir DIR] MOUNTPOINT
 *       serves the tree at MOUNTPOINT until unmounted or signalled
 *   daxm-sysfs [MODEL] --list
 *       prints the model as `daxctl list -RDMi` would, and exits
 *
 * MODEL: --state FILE (loaded if it exists, saved back on exit) and/or
 * --region / --extent / --profile options that add regions and extents.
 *
 * It never mounts over /sys, nor creates nodes in /dev, in the mount
 * namespace of process 1 (the host's): the runner checks that its
 * unshare(CLONE_NEWNS) gave it a namespace of its own first.
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "daxm-sysfs.h"

#define DAXM_SYSFS_VERSION "0.1.0"
#define DEFAULT_MAJOR 252

void msg(const char *fmt, ...)
{
	va_list ap;

	fputs("daxm-sysfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: daxm-sysfs [MODEL] --run [--] CMD [ARGS...]\n"
"       daxm-sysfs [MODEL] [--devdir DIR] MOUNTPOINT\n"
"       daxm-sysfs [MODEL] --list\n"
"\n"
"Serves a libdaxmodel model as a sysfs tree (bus/dax, devices/platform/P,\n"
"dev/char, module) over FUSE, for unmodified daxctl.\n"
"\n"
"MODEL:\n"
"  --state FILE        load FILE if it exists (daxm_ctx_load); save the model\n"
"                      back to it on exit (daxm_ctx_save)\n"
"  --region SPEC       add a region: KIND[,key=value|flag]...\n"
"                      KIND: dynamic (hmem.R), static (pmem.R), sparse (cxl_dcd.R)\n"
"                      keys: id, start, size, align, target_node, numa_node,\n"
"                            dev_id, profile (6.1|6.12), max_extents_per_group,\n"
"                            max_extents; flags: idle, unbound, revoke, no_sanitize\n"
"                      sizes take 0x, and k/M/G/T suffixes: size=1G\n"
"  --extent SPEC       offer an extent to sparse region R:\n"
"                      R,offset=N,length=N[,tag=UUID|untagged][,seq=N]\n"
"                      (the extents of one region form one closed group)\n"
"  --profile 6.1|6.12  kernel profile of regions without profile= (default 6.12)\n"
"\n"
"Modes:\n"
"  --run [--] CMD...   private mount namespace with the tree on /sys and a\n"
"                      tmpfs on /dev holding placeholder /dev/daxR.N nodes\n"
"                      (on a nodev mount: they cannot be opened); runs CMD and\n"
"                      exits with its status (root only)\n"
"  MOUNTPOINT          serve there until unmounted (fusermount3 -u) or signalled\n"
"  --devdir DIR        with MOUNTPOINT: mirror the daxR.N nodes into DIR\n"
"  --dry-run           with MOUNTPOINT: check it (never /sys, nor nodes in /dev,\n"
"                      in the initial mount namespace), say so, and exit\n"
"  --list              print the model as `daxctl list -RDMi` would, and exit\n"
"\n"
"Other options:\n"
"  --log FILE          append every write (model path, value, errno) to FILE\n"
"  --major N           the dax character major (default %d)\n"
"  -d, --debug         libfuse debug output\n"
"  -h, --help          this text;  -V, --version  the version\n"
"\n"
"The library logs to stderr at the priority DAXM_LOG (err, info, debug).\n"
"system-ram (kmem) mode is not modelled: daxctl reconfigure-device -m system-ram\n"
"fails, and the server says why.\n", DEFAULT_MAJOR);
}

/* ------------------------------------------------------------------ */
/* option values                                                       */
/* ------------------------------------------------------------------ */

static bool parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static bool parse_int(const char *s, int *out)
{
	long v;
	char *end;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

static bool parse_profile(const char *s, uint32_t *out)
{
	if (strcmp(s, "6.1") == 0)
		*out = DAXM_PROFILE_6_1;
	else if (strcmp(s, "6.12") == 0)
		*out = DAXM_PROFILE_6_12;
	else
		return false;
	return true;
}

struct region_opt {
	struct daxm_region_spec spec;
	bool profile_set;
};

static bool parse_region(char *arg, struct region_opt *r)
{
	char *save = NULL;

	daxm_region_spec_init(&r->spec);
	r->profile_set = false;
	for (char *tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		const char *val = eq ? eq + 1 : NULL;
		uint64_t u;
		int i;

		if (eq)
			*eq = '\0';
		if (!val) {
			if (strcmp(tok, "dynamic") == 0)
				r->spec.kind = DAXM_REGION_DYNAMIC;
			else if (strcmp(tok, "static") == 0)
				r->spec.kind = DAXM_REGION_STATIC;
			else if (strcmp(tok, "sparse") == 0)
				r->spec.kind = DAXM_REGION_SPARSE;
			else if (strcmp(tok, "idle") == 0)
				r->spec.flags |= DAXM_REGION_IDLE;
			else if (strcmp(tok, "unbound") == 0)
				r->spec.flags |= DAXM_REGION_UNBOUND;
			else if (strcmp(tok, "revoke") == 0)
				r->spec.flags |= DAXM_REGION_REVOKE;
			else if (strcmp(tok, "no_sanitize") == 0)
				r->spec.flags |= DAXM_REGION_NO_SANITIZE;
			else
				goto bad;
			continue;
		}
		if (strcmp(tok, "id") == 0 && parse_int(val, &i))
			r->spec.id = i;
		else if (strcmp(tok, "start") == 0 && parse_u64(val, &u))
			r->spec.start = u;
		else if (strcmp(tok, "size") == 0 && parse_u64(val, &u))
			r->spec.size = u;
		else if (strcmp(tok, "align") == 0 && parse_u64(val, &u))
			r->spec.align = u;
		else if ((strcmp(tok, "target_node") == 0 || strcmp(tok, "node") == 0) &&
			 parse_int(val, &i))
			r->spec.target_node = i;
		else if (strcmp(tok, "numa_node") == 0 && parse_int(val, &i))
			r->spec.numa_node = i;
		else if (strcmp(tok, "dev_id") == 0 && parse_int(val, &i))
			r->spec.dev_id = i;
		else if (strcmp(tok, "profile") == 0 && parse_profile(val, &r->spec.profile))
			r->profile_set = true;
		else if (strcmp(tok, "max_extents_per_group") == 0 && parse_u64(val, &u) &&
			 u <= UINT32_MAX)
			r->spec.max_extents_per_group = (uint32_t)u;
		else if (strcmp(tok, "max_extents") == 0 && parse_u64(val, &u) && u <= UINT32_MAX)
			r->spec.max_extents = (uint32_t)u;
		else
			goto bad;
		continue;
bad:
		msg("--region: bad item \"%s%s%s\"", tok, val ? "=" : "", val ? val : "");
		return false;
	}
	return true;
}

struct extent_opt {
	int region;
	struct daxm_extent_spec spec;
};

static bool parse_extent(char *arg, struct extent_opt *e)
{
	char *save = NULL;
	bool have_region = false;

	memset(e, 0, sizeof(*e));
	for (char *tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		const char *val = eq ? eq + 1 : NULL;
		uint64_t u;
		int i;

		if (eq)
			*eq = '\0';
		if (!val && !have_region && parse_int(tok, &i) && i >= 0) {
			e->region = i;
			have_region = true;
		} else if (val && strcmp(tok, "region") == 0 && parse_int(val, &i) && i >= 0) {
			e->region = i;
			have_region = true;
		} else if (val && strcmp(tok, "offset") == 0 && parse_u64(val, &u)) {
			e->spec.offset = u;
		} else if (val && strcmp(tok, "length") == 0 && parse_u64(val, &u)) {
			e->spec.length = u;
		} else if (val && strcmp(tok, "tag") == 0 && daxm_tag_parse(val, e->spec.tag) == 0) {
			;
		} else if (val && (strcmp(tok, "seq") == 0 || strcmp(tok, "sequence") == 0) &&
			   parse_u64(val, &u) && u <= UINT16_MAX) {
			e->spec.sequence = (uint16_t)u;
		} else {
			msg("--extent: bad item \"%s%s%s\"", tok, val ? "=" : "", val ? val : "");
			return false;
		}
	}
	if (!have_region) {
		msg("--extent: no region id (R,offset=N,length=N,...)");
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* the model                                                           */
/* ------------------------------------------------------------------ */

static int add_extents(struct daxm_ctx *ctx, const struct extent_opt *ext, size_t n)
{
	int pending = daxm_ctx_get_nr_events(ctx);
	bool *done = calloc(n ? n : 1, sizeof(*done));
	int status = 0;

	if (!done)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct daxm_extent_spec *specs;
		struct daxm_region *region;
		size_t k = 0;
		int rc;

		if (done[i])
			continue;
		specs = calloc(n, sizeof(*specs));
		if (!specs) {
			free(done);
			return -1;
		}
		for (size_t j = i; j < n; j++)
			if (ext[j].region == ext[i].region) {
				specs[k++] = ext[j].spec;
				done[j] = true;
			}
		region = daxm_region_get_by_id(ctx, ext[i].region);
		rc = region ? daxm_region_add_extents(region, specs, k, 0) : -ENOENT;
		free(specs);
		if (rc < 0) {
			msg("--extent: region%d: %s (%s)", ext[i].region, strerror(-rc),
			    region ? daxm_last_error() : "no such region");
			status = -1;
		}
	}
	free(done);
	if (status < 0)
		return status;

	if (pending == 0) {
		/* Our groups' answers: report every refused extent. */
		struct daxm_event *ev;

		while (daxm_ctx_next_event(ctx, &ev) == 0) {
			for (uint32_t r = 0; ev->type == DAXM_EVENT_GROUP && r < ev->nr_records; r++) {
				const struct daxm_extent_record *rec = &ev->records[r];

				if (rec->result == 0)
					continue;
				msg("--extent: region%d offset %#llx length %#llx refused: %s%s%s",
				    ev->region_id, (unsigned long long)rec->offset,
				    (unsigned long long)rec->length, strerror(-rec->result),
				    rec->reason && *rec->reason ? ": " : "",
				    rec->reason ? rec->reason : "");
				status = -1;
			}
			daxm_event_free(ev);
		}
		return status;
	}
	/* Events of the loaded state are waiting: leave the queue alone and
	 * check that each extent is there. */
	for (size_t i = 0; i < n; i++) {
		struct daxm_region *region = daxm_region_get_by_id(ctx, ext[i].region);
		struct daxm_extent *e;
		bool found = false;

		daxm_extent_foreach(region, e)
			if (daxm_extent_get_offset(e) == ext[i].spec.offset &&
			    daxm_extent_get_length(e) == ext[i].spec.length)
				found = true;
		if (!found) {
			msg("--extent: region%d offset %#llx length %#llx was refused (see the "
			    "model's events)", ext[i].region,
			    (unsigned long long)ext[i].spec.offset,
			    (unsigned long long)ext[i].spec.length);
			status = -1;
		}
	}
	return status;
}

/* ------------------------------------------------------------------ */
/* namespaces                                                          */
/* ------------------------------------------------------------------ */

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* 1 when this process's mount namespace is known not to be the one of
 * process 1 (the host's, or a container's own), 0 when it is that one,
 * -1 when it cannot be told (process 1's namespace is not readable). */
static int private_mount_ns(void)
{
	struct stat self, init;

	if (stat("/proc/self/ns/mnt", &self) < 0)
		return -1;
	if (stat("/proc/1/ns/mnt", &init) < 0)
		return -1;
	return !same_file(&self, &init);
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* ------------------------------------------------------------------ */
/* the runner's /dev                                                   */
/* ------------------------------------------------------------------ */

/* A tmpfs over /dev (nodev: the dax placeholders cannot be opened) with
 * the host's null, zero, full, random, urandom and tty bind-mounted in,
 * the usual links, the host's pts and a fresh shm. */
static int setup_dev(int olddev)
{
	static const char *const binds[] = { "null", "zero", "full", "random", "urandom", "tty" };
	static const char *const links[][2] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
		{ "ptmx", "pts/ptmx" },
	};
	char src[PATH_MAX], dst[PATH_MAX];
	struct stat st;

	if (mount("daxm-sysfs-dev", "/dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=1m,nr_inodes=4096") < 0) {
		msg("cannot mount a tmpfs on /dev: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(binds) / sizeof(binds[0]); i++) {
		int fd;

		snprintf(src, sizeof(src), "/proc/self/fd/%d/%s", olddev, binds[i]);
		snprintf(dst, sizeof(dst), "/dev/%s", binds[i]);
		if (stat(src, &st) < 0)
			continue;
		fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd >= 0)
			close(fd);
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
			msg("warning: cannot bind %s into the private /dev: %s", binds[i],
			    strerror(errno));
			unlink(dst);
		}
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(dst, sizeof(dst), "/dev/%s", links[i][0]);
		if (symlink(links[i][1], dst) < 0)
			msg("warning: cannot create %s: %s", dst, strerror(errno));
	}
	snprintf(src, sizeof(src), "/proc/self/fd/%d/pts", olddev);
	if (stat(src, &st) == 0 && S_ISDIR(st.st_mode) && mkdir("/dev/pts", 0755) == 0 &&
	    mount(src, "/dev/pts", NULL, MS_BIND | MS_REC, NULL) < 0)
		msg("warning: cannot bind pts into the private /dev: %s", strerror(errno));
	if (mkdir("/dev/shm", 01777) == 0 &&
	    mount("daxm-sysfs-shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=1777,size=64m") < 0)
		msg("warning: cannot mount /dev/shm: %s", strerror(errno));
	return 0;
}

/* ------------------------------------------------------------------ */
/* the runner                                                          */
/* ------------------------------------------------------------------ */

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t loop_done;
static pthread_t main_thread;
static struct fuse_session *run_se;
static int child_status;
static bool served;   /* the tree was up: the state is saved back */

static void on_wake(int sig)
{
	(void)sig;
}

static void on_forward(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

static void *waiter(void *arg)
{
	pid_t pid = (pid_t)(intptr_t)arg;
	struct timespec tick = { 0, 20 * 1000 * 1000 };

	while (waitpid(pid, &child_status, 0) < 0 && errno == EINTR)
		;
	child_pid = 0;
	fuse_session_exit(run_se);
	/* Interrupt the loop's read of /dev/fuse until it has returned. */
	while (!loop_done) {
		pthread_kill(main_thread, SIGUSR1);
		nanosleep(&tick, NULL);
	}
	return NULL;
}

static int start_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	/* Threads other than the loop's take no signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int run(struct tree *t, const struct server_opts *base, char **cmd)
{
	struct server_opts o = *base;
	struct stat before, after;
	struct sigaction sa;
	pthread_t wait_thread;
	struct fuse_session *se;
	int olddev, status;
	pid_t pid;

	if (stat("/proc/self/ns/mnt", &before) < 0) {
		msg("cannot read /proc/self/ns/mnt (%s); refusing to mount anything",
		    strerror(errno));
		return 1;
	}
	if (unshare(CLONE_NEWNS) < 0) {
		msg("cannot make a private mount namespace: unshare(CLONE_NEWNS): %s "
		    "(the runner needs root, or CAP_SYS_ADMIN)", strerror(errno));
		return 1;
	}
	/* The namespace must have changed (and must not be process 1's, when
	 * that can be read) before anything is mounted. */
	if (stat("/proc/self/ns/mnt", &after) < 0 || same_file(&before, &after) ||
	    private_mount_ns() == 0) {
		msg("unshare(CLONE_NEWNS) did not give a mount namespace of our own; "
		    "refusing to mount over /sys");
		return 1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		msg("cannot make the mounts private (mount --make-rprivate /): %s",
		    strerror(errno));
		return 1;
	}
	olddev = open("/dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (olddev < 0) {
		msg("cannot open /dev: %s", strerror(errno));
		return 1;
	}

	o.mountpoint = "/sys";
	o.devdir = NULL;
	se = server_mount(t, &o);
	if (!se) {
		close(olddev);
		return 1;
	}
	if (setup_dev(olddev) < 0) {
		close(olddev);
		fuse_session_unmount(se);
		fuse_session_destroy(se);
		return 1;
	}
	close(olddev);
	server_set_devdir("/dev");
	server_sync_devnodes();

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_wake;          /* no SA_RESTART: read() returns EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_forward;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		msg("fork: %s", strerror(errno));
		status = 1;
		goto teardown;
	}
	if (pid == 0) {
		sigset_t none;

		sa.sa_handler = SIG_DFL;
		for (int s = 1; s < NSIG; s++)
			sigaction(s, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(fuse_session_fd(se));
		execvp(cmd[0], cmd);
		msg("cannot run %s: %s", cmd[0], strerror(errno));
		_exit(127);
	}
	child_pid = pid;
	served = true;
	run_se = se;
	main_thread = pthread_self();
	if (server_start_notifier() < 0)
		msg("warning: no cache invalidation thread");
	if (start_thread(&wait_thread, waiter, (void *)(intptr_t)pid) != 0) {
		msg("cannot start a thread; stopping %s", cmd[0]);
		kill(pid, SIGKILL);
		waitpid(pid, &child_status, 0);
		status = 1;
		goto teardown;
	}
	fuse_session_loop(se);
	if (child_pid > 0)
		msg("the FUSE session ended while %s still runs; waiting for it", cmd[0]);
	loop_done = 1;
	pthread_join(wait_thread, NULL);
	if (WIFEXITED(child_status))
		status = WEXITSTATUS(child_status);
	else if (WIFSIGNALED(child_status))
		status = 128 + WTERMSIG(child_status);
	else
		status = 1;

teardown:
	server_set_devdir(NULL);
	{
		bool idle = server_stop_notifier();

		fuse_session_unmount(se);
		if (umount2("/dev", MNT_DETACH) < 0)
			msg("warning: cannot unmount the private /dev: %s", strerror(errno));
		if (idle)
			fuse_session_destroy(se);
	}
	return status;
}

/* ------------------------------------------------------------------ */
/* mount mode                                                          */
/* ------------------------------------------------------------------ */

static int serve(struct tree *t, const struct server_opts *base)
{
	struct server_opts o = *base;
	char mnt[PATH_MAX], dev[PATH_MAX];
	const char *devdir;
	struct fuse_session *se;
	bool idle;

	if (!realpath(o.mountpoint, mnt)) {
		msg("%s: %s", o.mountpoint, strerror(errno));
		return 1;
	}
	if (path_under(mnt, "/sys") && private_mount_ns() != 1) {
		msg("refusing to mount over %s: this may be the initial mount namespace; use "
		    "--run, which mounts on /sys in a private namespace of its own", mnt);
		return 1;
	}
	if (o.devdir) {
		if (!realpath(o.devdir, dev)) {
			msg("%s: %s", o.devdir, strerror(errno));
			return 1;
		}
		if (path_under(dev, "/dev") && private_mount_ns() != 1) {
			msg("refusing to create nodes in %s: this may be the initial mount "
			    "namespace", dev);
			return 1;
		}
		o.devdir = dev;
	}
	o.mountpoint = mnt;
	devdir = o.devdir;
	o.devdir = NULL;
	if (o.dry_run) {
		printf("would serve at %s%s%s\n", mnt, devdir ? ", nodes in " : "",
		       devdir ? devdir : "");
		return 0;
	}
	se = server_mount(t, &o);
	if (!se)
		return 1;
	if (devdir)
		server_set_devdir(devdir);
	server_sync_devnodes();
	if (fuse_set_signal_handlers(se) != 0) {
		fuse_session_unmount(se);
		fuse_session_destroy(se);
		return 1;
	}
	if (server_start_notifier() < 0)
		msg("warning: no cache invalidation thread");
	served = true;
	fuse_session_loop(se);
	fuse_remove_signal_handlers(se);
	idle = server_stop_notifier();
	fuse_session_unmount(se);
	if (idle)
		fuse_session_destroy(se);
	if (devdir) {
		/* Remove the nodes this server made. */
		for (size_t i = 0; i < t->nr_minors; i++) {
			char path[PATH_MAX];

			if (!t->minors[i].used)
				continue;
			snprintf(path, sizeof(path), "%s/%s", devdir, t->minors[i].name);
			unlink(path);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "region", required_argument, NULL, 'r' },
		{ "extent", required_argument, NULL, 'e' },
		{ "profile", required_argument, NULL, 'p' },
		{ "state", required_argument, NULL, 's' },
		{ "list", no_argument, NULL, 'L' },
		{ "run", no_argument, NULL, 'R' },
		{ "devdir", required_argument, NULL, 'D' },
		{ "major", required_argument, NULL, 'm' },
		{ "log", required_argument, NULL, 'l' },
		{ "debug", no_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct region_opt *regions = NULL;
	struct extent_opt *extents = NULL;
	size_t nr_regions = 0, nr_extents = 0;
	struct server_opts o = { 0 };
	const char *state = NULL;
	uint32_t profile = 0;
	bool list = false, do_run = false;
	unsigned int major = DEFAULT_MAJOR;
	struct daxm_ctx *ctx = NULL;
	struct tree t = { 0 };
	int c, rc, status;

	while ((c = getopt_long(argc, argv, "+dhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'r': {
			struct region_opt *r = realloc(regions, (nr_regions + 1) * sizeof(*r));

			if (!r || !parse_region(optarg, &r[nr_regions])) {
				free(r ? r : regions);
				return 2;
			}
			regions = r;
			nr_regions++;
			break;
		}
		case 'e': {
			struct extent_opt *e = realloc(extents, (nr_extents + 1) * sizeof(*e));

			if (!e || !parse_extent(optarg, &e[nr_extents])) {
				free(e ? e : extents);
				return 2;
			}
			extents = e;
			nr_extents++;
			break;
		}
		case 'p':
			if (!parse_profile(optarg, &profile)) {
				msg("--profile: \"%s\" is not 6.1 or 6.12", optarg);
				return 2;
			}
			break;
		case 's':
			state = optarg;
			break;
		case 'L':
			list = true;
			break;
		case 'R':
			do_run = true;
			break;
		case 'D':
			o.devdir = optarg;
			break;
		case 'm': {
			int v;

			if (!parse_int(optarg, &v) || v <= 0 || v > 4095) {
				msg("--major: \"%s\" is not a major number", optarg);
				return 2;
			}
			major = (unsigned int)v;
			break;
		}
		case 'l':
			o.log_path = optarg;
			break;
		case 'd':
			o.debug = true;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("daxm-sysfs %s (libdaxmodel %s)\n", DAXM_SYSFS_VERSION,
			       daxm_get_version());
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (list + do_run > 1 || (list && optind < argc) || (do_run && optind >= argc) ||
	    (!list && !do_run && optind + 1 != argc) ||
	    ((o.devdir || o.dry_run) && (list || do_run))) {
		usage(stderr);
		return 2;
	}

	/* The model. */
	if (state && access(state, F_OK) == 0) {
		rc = daxm_ctx_load(state, &ctx);
		if (rc < 0) {
			msg("cannot load %s: %s (%s)", state, strerror(-rc), daxm_last_error());
			return 1;
		}
	} else if (state && nr_regions == 0) {
		msg("%s does not exist, and no --region says what to start with", state);
		return 1;
	} else if ((rc = daxm_new(&ctx)) < 0) {
		msg("daxm_new: %s", strerror(-rc));
		return 1;
	}
	for (size_t i = 0; i < nr_regions; i++) {
		if (!regions[i].profile_set && profile)
			regions[i].spec.profile = profile;
		rc = daxm_region_new(ctx, &regions[i].spec, NULL);
		if (rc < 0) {
			msg("--region #%zu: %s (%s)", i + 1, strerror(-rc), daxm_last_error());
			daxm_unref(ctx);
			return 1;
		}
	}
	free(regions);
	if (nr_extents && add_extents(ctx, extents, nr_extents) < 0) {
		daxm_unref(ctx);
		return 1;
	}
	free(extents);

	if (list) {
		list_model(ctx, stdout);
		daxm_unref(ctx);
		return fflush(stdout) == 0 ? 0 : 1;
	}

	t.ctx = ctx;
	t.major = major;
	tree_sync_minors(&t, NULL, NULL, NULL);
	if (do_run) {
		status = run(&t, &o, argv + optind);
	} else {
		o.mountpoint = argv[optind];
		status = serve(&t, &o);
	}
	server_log_close();
	if (state && served) {
		rc = daxm_ctx_save(ctx, state);
		if (rc < 0) {
			msg("cannot save %s: %s (%s)", state, strerror(-rc), daxm_last_error());
			if (status == 0)
				status = 1;
		}
	}
	daxm_unref(ctx);
	free(t.minors);
	return status;
}
