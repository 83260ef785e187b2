/*
 * daxm-sysfs.h - shared declarations of daxm-sysfs, the FUSE server that
 * serves a libdaxmodel model as a Linux sysfs tree (/sys/bus/dax and the
 * parts of /sys that daxctl needs).
 *
 *   tree.c   the tree: which paths exist, their type, mode, target or
 *            model attribute; directory listings in kernfs hash order
 *   fs.c     the FUSE low-level operations, inode numbers, the /dev
 *            character nodes, cache invalidation, the write log
 *   list.c   the model's own `daxctl list -RDMi`-shaped listing
 *   main.c   options, the model source, mount and runner modes
 */
#ifndef DAXM_SYSFS_H
#define DAXM_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <daxmodel.h>

/* Longest tree path the server produces or accepts (longer: ENAMETOOLONG). */
#define SYSFS_PATH_MAX 512
/* A sysfs attribute shows at most one page and stores at most one page. */
#define SYSFS_PAGE 4096

enum node_type {
	NODE_DIR,
	NODE_FILE,
	NODE_LINK,
};

/* What a file's content comes from. */
enum file_kind {
	FILE_MODEL,  /* a model attribute: daxm_attr_read / daxm_attr_write */
	FILE_TEXT,   /* fixed text (module initstate, a device's dev number) */
};

/*
 * One tree entry, as resolved from its path at the time of the call.
 * @name:   the last path component.
 * @perm:   permission bits (the kernel's mode for the attribute).
 * @target: NODE_LINK: the relative link target.
 * @kind, @model, @text: NODE_FILE: where the content comes from; @model is
 *          the model path ("dax0.1/size", "region0/create", ...).
 * @dev, @mapping, @extent: the model object a file belongs to, if any, so
 *          an open file can tell that its object went away (ENODEV, as
 *          kernfs answers on an fd whose node was removed).
 */
struct node {
	enum node_type type;
	mode_t perm;
	char name[128];
	char target[256];
	enum file_kind kind;
	char model[160];
	char text[64];
	struct daxm_dev *dev;
	struct daxm_mapping *mapping;
	struct daxm_extent *extent;
};

/* tree.c --------------------------------------------------------------- */

struct tree {
	struct daxm_ctx *ctx;
	unsigned int major;         /* the dax character major (default 252) */
	/* Minor numbers: assigned lowest-free when a device first appears and
	 * freed when it is deleted, as dax_minor_ida does. */
	struct minor_slot {
		char name[32];
		bool used;
	} *minors;
	size_t nr_minors;
};

/* Called for each child; return non-zero to stop the walk. */
typedef int (*tree_child_fn)(const struct node *child, void *arg);

/* The kernfs name hash (fs/kernfs/dir.c kernfs_name_hash, ns = NULL). */
unsigned int kernfs_name_hash(const char *name);

/*
 * tree_list - call @fn for every child of directory @dir ("" = root), in
 * no particular order. Returns 0, -ENOENT (no such path), -ENOTDIR.
 */
int tree_list(struct tree *t, const char *dir, tree_child_fn fn, void *arg);

/* tree_lookup - resolve @path ("" = root) into @out. 0 or -ENOENT/-ENOTDIR. */
int tree_lookup(struct tree *t, const char *path, struct node *out);

/* tree_parent_name - the producer device directory of a region, e.g.
 * "hmem.0" (under devices/platform). */
void tree_parent_name(struct daxm_region *region, char *buf, size_t len);

/* tree_minor - the minor of @devname, or -1 if it has none yet. */
int tree_minor(const struct tree *t, const char *devname);

/*
 * tree_sync_minors - assign minors to new devices (in region, then device
 * id order) and free those of deleted ones. @added / @removed (optional)
 * are called with each device name and minor that came or went.
 */
void tree_sync_minors(struct tree *t,
		      void (*added)(const char *name, int minor, void *arg),
		      void (*removed)(const char *name, int minor, void *arg),
		      void *arg);

/* list.c --------------------------------------------------------------- */

/* list_model - print the model as `daxctl list -RDMi` would see it. */
void list_model(struct daxm_ctx *ctx, FILE *out);

/* fs.c ----------------------------------------------------------------- */

struct server_opts {
	const char *mountpoint;
	const char *devdir;     /* where to mirror /dev/daxR.N; NULL: nowhere */
	const char *log_path;   /* write log; NULL: none */
	bool debug;             /* libfuse debug output */
	bool dry_run;           /* mount mode: check the mountpoint only */
};

struct fuse_session;

/* server_mount - create the FUSE session for @t and mount it (the loop is
 * the caller's: fuse_session_loop). */
struct fuse_session *server_mount(struct tree *t, const struct server_opts *o);

/* server_start_notifier / server_stop_notifier - the cache invalidation
 * thread (started after any fork). stop returns false if the thread is
 * stuck in the kernel, in which case the session must not be destroyed. */
int server_start_notifier(void);
bool server_stop_notifier(void);

/* server_set_devdir - mirror /dev nodes into @devdir from now on (NULL:
 * stop), creating the nodes of every current device. */
void server_set_devdir(const char *devdir);

/* server_sync_devnodes - create and remove the /dev nodes to match the
 * model (also called once at start). */
void server_sync_devnodes(void);

/* server_log_close - flush and close the write log. */
void server_log_close(void);

/* main.c helpers shared with others ---------------------------------- */

void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* DAXM_SYSFS_H */
