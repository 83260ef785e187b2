/*
 * fs.c - the FUSE low-level server: inode numbers, lookups, attributes,
 * directory listings in kernfs order, reads and writes of model
 * attributes, the /dev character nodes and cache invalidation.
 *
 * The session loop is single-threaded, so the model, the inode table and
 * the minor table are only touched by that thread; the invalidation
 * notifier is a second thread that only sends notifications queued by the
 * loop (sending them from the loop could deadlock against a lookup that
 * holds the directory lock while it waits for the loop).
 *
 * Kernel-side caching is off: entry and attribute timeouts are 0, no
 * negative entries are cached, every file is direct_io; entries that
 * disappear or appear after a write are also invalidated explicitly.
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "daxm-sysfs.h"

static struct tree *T;
static struct server_opts O;
static struct fuse_session *SE;
static FILE *LOG;
static struct timespec START;

/* ------------------------------------------------------------------ */
/* inode table: (path, type) -> ino, never freed                       */
/* ------------------------------------------------------------------ */

struct ino_ent {
	char *path;
	enum node_type type;
};

static struct ino_ent *inos;      /* inos[i] is ino i + 1; inos[0] = root */
static size_t nr_inos, cap_inos;
static size_t *ino_hash;          /* open addressing: index + 1, 0 = empty */
static size_t ino_hash_size;

static size_t str_hash(const char *s, enum node_type type)
{
	size_t h = 1469598103934665603ull ^ (size_t)type;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int ino_rehash(size_t size)
{
	size_t *h = calloc(size, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < nr_inos; i++) {
		size_t b = str_hash(inos[i].path, inos[i].type) & (size - 1);

		while (h[b])
			b = (b + 1) & (size - 1);
		h[b] = i + 1;
	}
	free(ino_hash);
	ino_hash = h;
	ino_hash_size = size;
	return 0;
}

/* The ino of (@path, @type): 0 if unknown and @create is false. */
static fuse_ino_t ino_get(const char *path, enum node_type type, bool create)
{
	size_t b;

	if (ino_hash_size) {
		b = str_hash(path, type) & (ino_hash_size - 1);
		for (; ino_hash[b]; b = (b + 1) & (ino_hash_size - 1)) {
			struct ino_ent *e = &inos[ino_hash[b] - 1];

			if (e->type == type && strcmp(e->path, path) == 0)
				return ino_hash[b];
		}
	}
	if (!create)
		return 0;
	if ((nr_inos + 1) * 2 > ino_hash_size &&
	    ino_rehash(ino_hash_size ? ino_hash_size * 2 : 1024) < 0)
		return 0;
	if (nr_inos == cap_inos) {
		size_t n = cap_inos ? cap_inos * 2 : 1024;
		struct ino_ent *e = realloc(inos, n * sizeof(*e));

		if (!e)
			return 0;
		inos = e;
		cap_inos = n;
	}
	inos[nr_inos].path = strdup(path);
	if (!inos[nr_inos].path)
		return 0;
	inos[nr_inos].type = type;
	nr_inos++;
	b = str_hash(path, type) & (ino_hash_size - 1);
	while (ino_hash[b])
		b = (b + 1) & (ino_hash_size - 1);
	ino_hash[b] = nr_inos;
	return nr_inos;
}

static const char *ino_path(fuse_ino_t ino)
{
	if (ino == 0 || ino > nr_inos)
		return NULL;
	return inos[ino - 1].path;
}

/* Resolve @ino to its node now; -ENOENT when the path no longer exists
 * (or has another type). */
static int ino_node(fuse_ino_t ino, struct node *n, const char **path)
{
	const char *p = ino_path(ino);
	int rc;

	if (!p)
		return -ENOENT;
	rc = tree_lookup(T, p, n);
	if (rc < 0)
		return rc;
	if (n->type != inos[ino - 1].type)
		return -ENOENT;
	if (path)
		*path = p;
	return 0;
}

static int join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = *dir ? snprintf(buf, len, "%s/%s", dir, name) : snprintf(buf, len, "%s", name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ------------------------------------------------------------------ */
/* the write log                                                       */
/* ------------------------------------------------------------------ */

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ECANCELED: return "ECANCELED";
	default: return "E?";
	}
}

static void log_escaped(const char *s, size_t len)
{
	size_t shown = len > 96 ? 96 : len;

	fputc('"', LOG);
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			fputs("\\n", LOG);
		else if (c == '"' || c == '\\')
			fprintf(LOG, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(LOG, "\\x%02x", c);
		else
			fputc(c, LOG);
	}
	fputc('"', LOG);
	if (shown < len)
		fprintf(LOG, "...(%zu bytes)", len);
}

/* Kernel warnings the current write reached (the model logs them at
 * LOG_WARNING before the write returns), one per line, for log_op. */
static __thread char pending_warnings[2048];

static void keep_warnings(struct daxm_ctx *ctx, int priority, const char *file, int line,
			  const char *fn, const char *text)
{
	size_t n = strlen(pending_warnings);

	(void)ctx, (void)file, (void)line;
	if (priority != LOG_WARNING) {
		fprintf(stderr, "libdaxmodel: %s: %s\n", fn, text);
		return;
	}
	if (n + 1 < sizeof(pending_warnings))
		snprintf(pending_warnings + n, sizeof(pending_warnings) - n, "%s\n", text);
}

/* "write dax0.1/size "0x4000000\n" = -EINVAL", then "  warning: ..." for
 * each kernel warning the write reached. */
static void log_op(const char *op, const char *path, const char *value, size_t len, int err)
{
	if (!LOG)
		return;
	fprintf(LOG, "%s %s", op, path);
	if (value) {
		fputc(' ', LOG);
		log_escaped(value, len);
	}
	fprintf(LOG, " = %s%s\n", err ? "-" : "", errname(err));
	for (char *line = pending_warnings, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
		fprintf(LOG, "  warning: %.*s\n", (int)(nl - line), line);
	pending_warnings[0] = '\0';
	fflush(LOG);
}

void server_log_close(void)
{
	if (LOG)
		fclose(LOG);
	LOG = NULL;
}

/* ------------------------------------------------------------------ */
/* invalidation                                                        */
/* ------------------------------------------------------------------ */

struct inval {
	struct inval *next;
	fuse_ino_t parent;
	char name[128];
};

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct inval *q_head, **q_tail = &q_head;
static bool q_stop, q_busy, q_running;
static pthread_t q_thread;

static void *notifier(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&q_lock);
	for (;;) {
		struct inval *iv;

		while (!q_head && !q_stop)
			pthread_cond_wait(&q_cond, &q_lock);
		if (q_stop)
			break;
		iv = q_head;
		q_head = iv->next;
		if (!q_head)
			q_tail = &q_head;
		q_busy = true;
		pthread_mutex_unlock(&q_lock);
		/* -ENOENT when the kernel holds no such entry: fine. */
		fuse_lowlevel_notify_inval_entry(SE, iv->parent, iv->name, strlen(iv->name));
		free(iv);
		pthread_mutex_lock(&q_lock);
		q_busy = false;
		pthread_cond_broadcast(&q_cond);
	}
	pthread_mutex_unlock(&q_lock);
	return NULL;
}

int server_start_notifier(void)
{
	int rc = pthread_create(&q_thread, NULL, notifier, NULL);

	if (rc == 0)
		q_running = true;
	return -rc;
}

bool server_stop_notifier(void)
{
	struct timespec until;
	bool stuck;

	if (!q_running)
		return true;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	pthread_mutex_lock(&q_lock);
	q_stop = true;
	pthread_cond_broadcast(&q_cond);
	while (q_busy && pthread_cond_timedwait(&q_cond, &q_lock, &until) == 0)
		;
	stuck = q_busy;
	pthread_mutex_unlock(&q_lock);
	if (stuck) {
		pthread_detach(q_thread);
		return false;
	}
	pthread_join(q_thread, NULL);
	q_running = false;
	return true;
}

static void queue_inval(const char *path)
{
	char parent[SYSFS_PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct inval *iv;
	fuse_ino_t pino;

	if (!q_running || !slash || (size_t)(slash - path) >= sizeof(parent))
		return;
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	pino = ino_get(parent, NODE_DIR, false);
	if (!pino || strlen(slash + 1) >= sizeof(iv->name))
		return; /* the kernel never looked the parent up */
	iv = calloc(1, sizeof(*iv));
	if (!iv)
		return;
	iv->parent = pino;
	strcpy(iv->name, slash + 1);
	pthread_mutex_lock(&q_lock);
	*q_tail = iv;
	q_tail = &iv->next;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

/*
 * The entries a write can make appear or disappear: device directories
 * and their links, driver links, mappingK and extentK directories. Kept
 * as a sorted list of paths; after each write the difference is
 * invalidated.
 */
struct pathset {
	char **v;
	size_t n, cap;
};

static struct pathset dyn_entries;

static void pathset_add(struct pathset *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void pathset_add(struct pathset *s, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (s->n == s->cap) {
		size_t n = s->cap ? s->cap * 2 : 64;
		char **v = realloc(s->v, n * sizeof(*v));

		if (!v)
			return;
		s->v = v;
		s->cap = n;
	}
	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) >= 0)
		s->v[s->n++] = p;
	va_end(ap);
}

static void pathset_free(struct pathset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	*s = (struct pathset){ 0 };
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dyn_collect(struct pathset *s)
{
	struct daxm_region *region;
	struct daxm_dev *dev;
	struct daxm_mapping *m;
	struct daxm_extent *e;

	daxm_region_foreach(T->ctx, region) {
		char p[64];

		tree_parent_name(region, p, sizeof(p));
		daxm_dev_foreach(region, dev) {
			const char *name = daxm_dev_get_devname(dev);
			int minor = tree_minor(T, name);

			pathset_add(s, "bus/dax/devices/%s", name);
			pathset_add(s, "devices/platform/%s/%s", p, name);
			if (minor >= 0)
				pathset_add(s, "dev/char/%u:%d", T->major, minor);
			if (daxm_dev_is_enabled(dev) == 1) {
				pathset_add(s, "bus/dax/drivers/device_dax/%s", name);
				pathset_add(s, "devices/platform/%s/%s/driver", p, name);
			}
			daxm_mapping_foreach(dev, m)
				pathset_add(s, "devices/platform/%s/%s/mapping%d", p, name,
					    daxm_mapping_get_id(m));
		}
		daxm_extent_foreach(region, e)
			pathset_add(s, "devices/platform/%s/extent%d", p, daxm_extent_get_id(e));
	}
	qsort(s->v, s->n, sizeof(*s->v), cmp_str);
}

static void dyn_update(void)
{
	struct pathset now = { 0 };
	size_t i = 0, j = 0;

	dyn_collect(&now);
	while (i < dyn_entries.n || j < now.n) {
		int c = i == dyn_entries.n ? 1 : j == now.n ? -1
			: strcmp(dyn_entries.v[i], now.v[j]);

		if (c < 0)
			queue_inval(dyn_entries.v[i++]);   /* gone */
		else if (c > 0)
			queue_inval(now.v[j++]);           /* new */
		else
			i++, j++;
	}
	pathset_free(&dyn_entries);
	dyn_entries = now;
}

/* ------------------------------------------------------------------ */
/* /dev nodes                                                          */
/* ------------------------------------------------------------------ */

static void node_added(const char *name, int minor, void *arg)
{
	char path[SYSFS_PATH_MAX];

	(void)arg;
	if (!O.devdir)
		return;
	snprintf(path, sizeof(path), "%s/%s", O.devdir, name);
	unlink(path);
	if (mknod(path, S_IFCHR | 0600, makedev(T->major, (unsigned int)minor)) < 0)
		msg("cannot create %s: %s", path, strerror(errno));
}

static void node_removed(const char *name, int minor, void *arg)
{
	char path[SYSFS_PATH_MAX];

	(void)arg;
	(void)minor;
	if (!O.devdir)
		return;
	snprintf(path, sizeof(path), "%s/%s", O.devdir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		msg("cannot remove %s: %s", path, strerror(errno));
}

void server_set_devdir(const char *devdir)
{
	O.devdir = devdir;
	tree_sync_minors(T, NULL, NULL, NULL);
	for (size_t i = 0; i < T->nr_minors; i++)
		if (T->minors[i].used)
			node_added(T->minors[i].name, (int)i, NULL);
}

void server_sync_devnodes(void)
{
	tree_sync_minors(T, node_added, node_removed, NULL);
	dyn_update();
}

/* ------------------------------------------------------------------ */
/* system-ram (kmem) mode                                              */
/* ------------------------------------------------------------------ */

/* daxctl's system-ram mode looks for the kmem module and driver and for
 * the memory-block tree; say once why they are missing. */
static void kmem_hint(const char *path)
{
	static bool told;

	if (told)
		return;
	if (strcmp(path, "devices/system") == 0 || strncmp(path, "devices/system/", 15) == 0 ||
	    strcmp(path, "module/kmem") == 0 || strcmp(path, "bus/dax/drivers/kmem") == 0) {
		told = true;
		msg("system-ram (kmem) mode is not supported: the model has no memory hotplug, "
		    "no kmem driver and no %s/devices/system/memory; only devdax mode works "
		    "(looked up: %s/%s)", O.mountpoint, O.mountpoint, path);
	}
}

/* ------------------------------------------------------------------ */
/* attributes                                                          */
/* ------------------------------------------------------------------ */

static void node_stat(const struct node *n, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = 0;
	st->st_gid = 0;
	st->st_atim = st->st_mtim = st->st_ctim = START;
	st->st_blksize = SYSFS_PAGE;
	switch (n->type) {
	case NODE_DIR:
		st->st_mode = S_IFDIR | n->perm;
		st->st_nlink = 2;
		break;
	case NODE_FILE:
		st->st_mode = S_IFREG | n->perm;
		st->st_nlink = 1;
		st->st_size = SYSFS_PAGE;   /* what kernfs reports */
		break;
	case NODE_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = (off_t)strlen(n->target);
		break;
	}
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* O_TRUNC arrives with open, as on sysfs no truncate is needed. */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS;
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	const char *dir = ino_path(parent);
	char path[SYSFS_PATH_MAX];
	struct fuse_entry_param e;
	struct node n;
	int rc;

	if (!dir) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	rc = join(path, sizeof(path), dir, name);
	if (rc == 0)
		rc = tree_lookup(T, path, &n);
	if (rc < 0) {
		if (rc == -ENOENT)
			kmem_hint(path);
		fuse_reply_err(req, -rc);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = ino_get(path, n.type, true);
	if (!e.ino) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	e.generation = 1;
	e.attr_timeout = 0;
	e.entry_timeout = 0;
	node_stat(&n, e.ino, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	struct node n;
	int rc = ino_node(ino, &n, NULL);

	(void)fi;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	node_stat(&n, ino, &st);
	fuse_reply_attr(req, &st, 0);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct stat st;
	struct node n;
	int rc = ino_node(ino, &n, NULL);

	(void)attr;
	(void)fi;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	/* Truncation and times are accepted and change nothing, as kernfs
	 * does for attributes; ownership and modes stay the kernel's. */
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	node_stat(&n, ino, &st);
	fuse_reply_attr(req, &st, 0);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct node n;
	int rc = ino_node(ino, &n, NULL);

	if (rc < 0)
		fuse_reply_err(req, -rc);
	else if (n.type != NODE_LINK)
		fuse_reply_err(req, EINVAL);
	else
		fuse_reply_readlink(req, n.target);
}

/* ------------------------------------------------------------------ */
/* directories                                                         */
/* ------------------------------------------------------------------ */

struct dirent_ent {
	unsigned int hash;
	char name[128];
	enum node_type type;
	fuse_ino_t ino;
};

struct dirlist {
	struct dirent_ent *v;
	size_t n, cap;
	bool failed;
	bool consumed;   /* a readdir ran: offset 0 again means rewinddir */
};

static int collect_child(const struct node *child, void *arg)
{
	struct dirlist *l = arg;

	if (l->n == l->cap) {
		size_t n = l->cap ? l->cap * 2 : 32;
		struct dirent_ent *v = realloc(l->v, n * sizeof(*v));

		if (!v) {
			l->failed = true;
			return 1;
		}
		l->v = v;
		l->cap = n;
	}
	l->v[l->n].hash = kernfs_name_hash(child->name);
	snprintf(l->v[l->n].name, sizeof(l->v[l->n].name), "%s", child->name);
	l->v[l->n].type = child->type;
	l->n++;
	return 0;
}

/* kernfs_name_compare with ns == NULL: hash, then name. */
static int cmp_kernfs(const void *a, const void *b)
{
	const struct dirent_ent *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int dirlist_build(struct dirlist *l, const char *path, fuse_ino_t self)
{
	char child[SYSFS_PATH_MAX];
	int rc;

	free(l->v);
	*l = (struct dirlist){ 0 };
	rc = tree_list(T, path, collect_child, l);
	if (rc < 0)
		return rc;
	if (l->failed)
		return -ENOMEM;
	qsort(l->v, l->n, sizeof(*l->v), cmp_kernfs);
	for (size_t i = 0; i < l->n; i++) {
		if (join(child, sizeof(child), path, l->v[i].name) < 0)
			return -ENAMETOOLONG;
		l->v[i].ino = ino_get(child, l->v[i].type, true);
		if (!l->v[i].ino)
			return -ENOMEM;
	}
	(void)self;
	return 0;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirlist *l;
	const char *path;
	struct node n;
	int rc = ino_node(ino, &n, &path);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (n.type != NODE_DIR) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = dirlist_build(l, path, ino);
	if (rc < 0) {
		free(l->v);
		free(l);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)l;
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct dirlist *l = (struct dirlist *)(uintptr_t)fi->fh;
	char *buf;
	size_t used = 0;

	if (off == 0 && l->consumed && ino_path(ino)) {
		/* rewinddir: read the directory again */
		int rc = dirlist_build(l, ino_path(ino), ino);

		if (rc < 0) {
			fuse_reply_err(req, -rc);
			return;
		}
	}
	l->consumed = true;
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Entries 0 and 1 are "." and "..", as kernfs emits them first. */
	for (size_t i = (size_t)off; i < l->n + 2; i++) {
		struct stat st = { 0 };
		const char *name;
		size_t need;

		if (i == 0) {
			name = ".";
			st.st_ino = ino;
			st.st_mode = S_IFDIR;
		} else if (i == 1) {
			name = "..";
			st.st_ino = ino; /* informational; the kernel resolves ".." */
			st.st_mode = S_IFDIR;
		} else {
			const struct dirent_ent *d = &l->v[i - 2];

			name = d->name;
			st.st_ino = d->ino;
			st.st_mode = d->type == NODE_DIR ? S_IFDIR : d->type == NODE_LINK ? S_IFLNK : S_IFREG;
		}
		need = fuse_add_direntry(req, buf + used, size - used, name, &st, (off_t)i + 1);
		if (need > size - used)
			break;
		used += need;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirlist *l = (struct dirlist *)(uintptr_t)fi->fh;

	(void)ino;
	free(l->v);
	free(l);
	fuse_reply_err(req, 0);
}

/* ------------------------------------------------------------------ */
/* files                                                               */
/* ------------------------------------------------------------------ */

struct ofile {
	struct node node;
	char path[SYSFS_PATH_MAX];
	char buf[SYSFS_PAGE + 1];
	long len;        /* bytes in buf, or -1 before the first read */
};

static void ofile_put(struct ofile *f)
{
	daxm_dev_unref(f->node.dev);
	daxm_mapping_unref(f->node.mapping);
	daxm_extent_unref(f->node.extent);
	free(f);
}

/*
 * The model path of the open file now, or -ENODEV when its object was
 * deleted since the open (kernfs answers ENODEV on an fd whose node went
 * away; a device re-created under the same name is another node). The
 * objects are found again by pointer, through lookups and walks that do
 * not log (a call on a deleted object would be logged as an error).
 */
static int ofile_model_path(const struct ofile *f, char *buf, size_t len)
{
	const struct node *n = &f->node;
	char devname[64];
	size_t k = strcspn(n->model, "/");

	if (n->dev) {
		struct daxm_mapping *m;

		snprintf(devname, sizeof(devname), "%.*s", (int)k, n->model);
		if (daxm_dev_get_by_name(T->ctx, devname) != n->dev)
			return -ENODEV;
		if (!n->mapping) {
			snprintf(buf, len, "%s", n->model);
			return 0;
		}
		daxm_mapping_foreach(n->dev, m)
			if (m == n->mapping) {
				snprintf(buf, len, "%s/mapping%d/%s", devname,
					 daxm_mapping_get_id(m), n->name);
				return 0;
			}
		return -ENODEV;
	}
	if (n->extent) {
		struct daxm_region *r;
		struct daxm_extent *e;
		int id;

		if (sscanf(n->model, "region%d/", &id) != 1 ||
		    !(r = daxm_region_get_by_id(T->ctx, id)))
			return -ENODEV;
		daxm_extent_foreach(r, e)
			if (e == n->extent) {
				snprintf(buf, len, "region%d/extent%d/%s", id,
					 daxm_extent_get_id(e), n->name);
				return 0;
			}
		return -ENODEV;
	}
	snprintf(buf, len, "%s", n->model);
	return 0;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int acc = fi->flags & O_ACCMODE;
	const char *path;
	struct ofile *f;
	struct node n;
	int rc = ino_node(ino, &n, &path);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (n.type == NODE_DIR) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	/* kernfs checks the mode even for root (KERNFS_ROOT_EXTRA_OPEN_PERM_CHECK). */
	if ((acc != O_WRONLY && !(n.perm & 0444)) || (acc != O_RDONLY && !(n.perm & 0222))) {
		log_op("open", n.kind == FILE_MODEL ? n.model : path, NULL, 0, EACCES);
		fuse_reply_err(req, EACCES);
		return;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	f->node = n;
	f->len = -1;
	snprintf(f->path, sizeof(f->path), "%s", path);
	daxm_dev_ref(n.dev);
	daxm_mapping_ref(n.mapping);
	daxm_extent_ref(n.extent);
	fi->fh = (uintptr_t)f;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	if (fuse_reply_open(req, fi) != 0)
		ofile_put(f);   /* the open was interrupted */
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct ofile *f = (struct ofile *)(uintptr_t)fi->fh;

	(void)ino;
	/* As seq_file: the show runs on a read at offset 0 (or the first). */
	if (off == 0 || f->len < 0) {
		if (f->node.kind == FILE_TEXT) {
			f->len = (long)strlen(f->node.text);
			memcpy(f->buf, f->node.text, (size_t)f->len);
		} else {
			char model[SYSFS_PATH_MAX];
			long rc = ofile_model_path(f, model, sizeof(model));

			if (rc == 0)
				rc = daxm_attr_read(T->ctx, model, f->buf, sizeof(f->buf));
			if (rc < 0) {
				f->len = -1;
				fuse_reply_err(req, (int)-rc);
				return;
			}
			f->len = rc;
		}
	}
	if (off >= f->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > (size_t)(f->len - off))
		size = (size_t)(f->len - off);
	fuse_reply_buf(req, f->buf + off, size);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	struct ofile *f = (struct ofile *)(uintptr_t)fi->fh;
	char model[SYSFS_PATH_MAX] = "";
	/* kernfs hands the store at most one page; the rest is a short write
	 * the writer repeats. */
	size_t n = size > SYSFS_PAGE ? SYSFS_PAGE : size;
	int rc;

	(void)ino;
	(void)off;   /* sysfs stores ignore the file position */
	if (f->node.kind != FILE_MODEL) {
		fuse_reply_err(req, EACCES);
		return;
	}
	rc = ofile_model_path(f, model, sizeof(model));
	if (rc == 0) {
		/* One model call per write, with the written bytes: the model
		 * cuts them at the first NUL as a store would (libdaxctl writes
		 * strlen + 1 bytes), and a lone NUL still reaches the store. */
		rc = daxm_attr_write_buf(T->ctx, model, buf, n);
	}
	log_op("write", model[0] && rc != -ENODEV ? model : f->path, buf, n, -rc);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, n);
	server_sync_devnodes();
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	ofile_put((struct ofile *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* sysfs refuses to make or remove anything. */
static void op_mkdir(fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode)
{
	(void)p, (void)name, (void)mode;
	fuse_reply_err(req, EPERM);
}

static void op_mknod(fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode, dev_t rdev)
{
	(void)p, (void)name, (void)mode, (void)rdev;
	fuse_reply_err(req, EACCES);
}

static void op_create(fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	(void)p, (void)name, (void)mode, (void)fi;
	fuse_reply_err(req, EACCES);
}

static void op_unlink(fuse_req_t req, fuse_ino_t p, const char *name)
{
	(void)p, (void)name;
	fuse_reply_err(req, EPERM);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t p, const char *name)
{
	(void)link, (void)p, (void)name;
	fuse_reply_err(req, EPERM);
}

static void op_rename(fuse_req_t req, fuse_ino_t p, const char *name, fuse_ino_t np,
		      const char *nname, unsigned int flags)
{
	(void)p, (void)name, (void)np, (void)nname, (void)flags;
	fuse_reply_err(req, EPERM);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t np, const char *nname)
{
	(void)ino, (void)np, (void)nname;
	fuse_reply_err(req, EPERM);
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_unlink,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.release = op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.create = op_create,
};

struct fuse_session *server_mount(struct tree *t, const struct server_opts *o)
{
	char *argv[] = { "daxm-sysfs", "-o", "fsname=daxm-sysfs,subtype=daxm-sysfs", "-d", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(o->debug ? 4 : 3, argv);
	struct fuse_session *se;

	T = t;
	O = *o;
	clock_gettime(CLOCK_REALTIME, &START);
	if (o->log_path) {
		LOG = fopen(o->log_path, "ae");
		if (!LOG) {
			msg("cannot open the log %s: %s", o->log_path, strerror(errno));
			return NULL;
		}
		daxm_set_log_fn(t->ctx, keep_warnings);
	}
	/* The root is ino 1. */
	if (ino_get("", NODE_DIR, true) != FUSE_ROOT_ID) {
		msg("out of memory");
		return NULL;
	}
	se = fuse_session_new(&args, &ops, sizeof(ops), t);
	fuse_opt_free_args(&args);
	if (!se) {
		msg("cannot create the FUSE session");
		return NULL;
	}
	if (fuse_session_mount(se, o->mountpoint) != 0) {
		msg("cannot mount FUSE on %s", o->mountpoint);
		fuse_session_destroy(se);
		return NULL;
	}
	SE = se;
	return se;
}
