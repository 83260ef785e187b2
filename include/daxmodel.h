/*
 * daxmodel.h - libdaxmodel: a userspace model of the Linux device-DAX
 * allocator (drivers/dax/bus.c), for C programs.
 *
 * This header is the specification of the library: what is not declared
 * here is not API. It is implemented in Swift (every function below is an
 * `@implementation @c` definition checked against this file by the
 * compiler) and exported from libdaxmodel.so.0 / libdaxmodel.a.
 *
 * Object model (mirrors the kernel and libdaxctl):
 *
 *   daxm_ctx ── daxm_region (regionR: id, start, size, align, kind, profile)
 *                 └─ daxm_dev  (daxR.N: size, align, ranges, bound state)
 *                      └─ daxm_mapping (mappingK: one device range)
 *
 *   daxm_fabric (a CXL Dynamic Capacity device and its fabric manager;
 *                see "Fabric") ── one daxm_ctx per host
 *
 * General rules, which every function below follows unless its own
 * comment says otherwise:
 *
 *  - Actions return 0 on success or a negative errno (<errno.h> values).
 *    Errnos are the kernel's for the same operation and are never squashed
 *    (libdaxctl turns every set_size failure into -ENXIO; this library
 *    does not).
 *  - Every pointer parameter may be NULL: a NULL object gives -EINVAL (or
 *    the documented sentinel), never a crash. No input a caller can pass
 *    traps, asserts or aborts.
 *  - Every failure leaves a message, readable with daxm_last_error() on the
 *    same thread, and is sent to the context's log function: refusals the
 *    kernel would also give (EINVAL, ENOSPC, EBUSY ...) at LOG_INFO;
 *    -EOPNOTSUPP (an old client on a sparse region), calls on deleted
 *    objects and internal consistency failures at LOG_ERR. Kernel
 *    warnings (see "Kernel warnings") are logged at LOG_WARNING, which is
 *    the default priority; set LOG_INFO to see every refusal too. A NULL
 *    context has no log: only daxm_last_error() tells.
 *  - Object pointers (region, dev, mapping, extent) are borrowed from the
 *    context: valid until the context is freed, whatever any thread does
 *    meanwhile. A deleted object (a device by destroy or a `delete` write,
 *    a mapping whose range a shrink or a revoke removed) stays allocated
 *    and answers -ENODEV (or the sentinel); a released extent stays
 *    readable in state DAXM_EXTENT_RELEASED. The memory so kept is bounded
 *    by the objects whose pointers were handed out, and goes with the
 *    context. Taking a reference with daxm_<object>_ref() keeps a pointer
 *    valid after the context is freed too; calls then return -ENODEV, and
 *    the memory is freed by the last daxm_<object>_unref().
 *  - Thread safety: any function may be called from any thread at any
 *    time; calls on one context are serialized by the context's lock.
 *    The hot calls that only read (the number getters of regions,
 *    devices, mappings and extents) and daxm_extent_get() / _put() on an
 *    accepted extent hold that lock shared: they run side by side on
 *    several threads, and every other call waits for them and they for
 *    it, so each call still sees the model between two whole calls. The
 *    log function is called without that lock held, so it may call back
 *    into the library.
 *  - fork(): in a child that keeps running (no exec), call the library
 *    only from threads the child creates, not from the thread that called
 *    fork(). The Swift runtime caches each thread's id for its locks, and
 *    the forking thread's copy in the child keeps the parent's id, which
 *    can deadlock the child's first contended runtime lock.
 *
 * Sizes and addresses are bytes, as uint64_t. Mapping page offsets are in
 * 4 KiB pages, as the kernel prints them. Range ends are inclusive.
 *
 * Version nodes: every function is in DAXMODEL_1 unless its comment names
 * a later node. Nodes are append-only.
 */
#ifndef DAXMODEL_H
#define DAXMODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DAXM_VERSION_MAJOR 0
#define DAXM_VERSION_MINOR 1
#define DAXM_VERSION_PATCH 0

/** Numeric getters return this when the object is NULL or deleted. */
#define DAXM_INVALID UINT64_MAX

/* Region kinds (struct daxm_region_spec.kind, daxm_region_get_kind()). */
#define DAXM_REGION_STATIC  1 /* pmem devdax namespace: one fixed device   */
#define DAXM_REGION_DYNAMIC 2 /* hmem / CXL RAM: create, resize, delete    */
#define DAXM_REGION_SPARSE  3 /* CXL DCD: capacity only inside tagged
                                 extents; allocation by tag               */

/* Kernel profiles: where Linux versions differ, the region follows one. */
#define DAXM_PROFILE_6_1  1   /* Linux 6.1 (v5.10..v6.8 era bus.c)          */
#define DAXM_PROFILE_6_12 2   /* Linux 6.12 (rwsem era bus.c, v6.9+)        */

/* struct daxm_region_spec.flags */
#define DAXM_REGION_IDLE    0x1u /* daxR.0 starts at size 0 (hmem
                                    region_idle=1); otherwise it covers the
                                    whole region                          */
#define DAXM_REGION_UNBOUND 0x2u /* a full daxR.0 starts unbound; otherwise
                                    it starts bound to device_dax, as after
                                    boot                                   */
#define DAXM_REGION_NO_SANITIZE 0x8u /* released sparse capacity keeps
                                    its bytes (default: discarded, reads
                                    back as zeros)                         */
#define DAXM_REGION_REVOKE  0x4u /* sparse: a forced release removes the
                                    extents at once and drops the device
                                    ranges inside them; otherwise forced
                                    releases are logged and ignored, as
                                    Linux does                             */

/* Opaque objects. */
struct daxm_ctx;
struct daxm_region;
struct daxm_dev;
struct daxm_mapping;
struct daxm_extent;
struct daxm_view;

/*
 * struct daxm_region_spec - what a producer (hmem, CXL, pmem) knows about a
 * new region. Always fill it with daxm_region_spec_init() first, then set
 * the fields you need: fields added by later versions then keep their
 * defaults.
 *
 * @struct_size: sizeof(struct daxm_region_spec) as the caller compiled it;
 *               set by daxm_region_spec_init().
 * @id:          region id (R in regionR, daxR.N); -1 (default) = lowest id
 *               not in use; below -1 is -EINVAL.
 * @kind:        DAXM_REGION_STATIC, DAXM_REGION_DYNAMIC (default) or
 *               DAXM_REGION_SPARSE.
 * @profile:     DAXM_PROFILE_6_1 or DAXM_PROFILE_6_12 (default).
 * @start:       physical start address; a multiple of @align.
 * @size:        bytes; non-zero, a multiple of @align, start+size-1 must
 *               not pass 2^64-1.
 * @align:       4096, 2 MiB (default) or 1 GiB; new devices inherit it.
 * @target_node: NUMA node the memory belongs to; -1 (default) = none (the
 *               device attribute target_node is then absent, as in Linux).
 * @numa_node:   the devices' numa_node attribute; -1 (default).
 * @dev_id:      static regions only: the id N of the one device daxR.N
 *               (the namespace number in Linux); default 0; negative is
 *               -EINVAL.
 * @flags:       DAXM_REGION_IDLE, DAXM_REGION_UNBOUND, DAXM_REGION_REVOKE,
 *               DAXM_REGION_NO_SANITIZE.
 * @max_extents_per_group: sparse: most extents one group may offer,
 *               1..16777216 (2^24; default 100); others are -EINVAL.
 * @max_extents: sparse: most extents the region holds, 1..1073741824
 *               (2^30; default 1048576); others are -EINVAL.
 */
struct daxm_region_spec {
	uint32_t struct_size;
	int32_t id;
	uint32_t kind;
	uint32_t profile;
	uint64_t start;
	uint64_t size;
	uint64_t align;
	int32_t target_node;
	int32_t numa_node;
	int32_t dev_id;
	uint32_t flags;
	uint32_t max_extents_per_group;
	uint32_t max_extents;
};

/* ------------------------------------------------------------------ */
/* Context                                                             */
/* ------------------------------------------------------------------ */

/*
 * daxm_new - create an empty model context.
 * @ctx: out; receives the context, holding one reference.
 *
 * The log priority starts at LOG_WARNING, or at the value of the
 * environment variable DAXM_LOG ("err", "warning", "info", "debug" or a
 * syslog number).
 * Returns 0, or -EINVAL if @ctx is NULL.
 */
int daxm_new(struct daxm_ctx **ctx);

/*
 * daxm_ref - take one more reference on @ctx. Returns @ctx (NULL stays NULL).
 */
struct daxm_ctx *daxm_ref(struct daxm_ctx *ctx);

/*
 * daxm_unref - drop one reference; the last one frees the context and all
 * its regions, devices and mappings. Objects the caller still holds a
 * reference on stay readable and answer -ENODEV. NULL is a no-op.
 */
void daxm_unref(struct daxm_ctx *ctx);

/*
 * daxm_log_fn - log callback: the libdaxctl shape, except that the message
 * arrives formatted (@msg, no trailing newline) instead of as a format and
 * a va_list. @priority is a syslog level (LOG_ERR 3 .. LOG_DEBUG 7); @file
 * and @line name the library's source, @fn the API function that logged.
 * The callback may call back into the library (no lock is held); use
 * daxm_get_userdata(@ctx) to find the application's state.
 */
typedef void (*daxm_log_fn)(struct daxm_ctx *ctx, int priority,
			    const char *file, int line, const char *fn,
			    const char *msg);

/*
 * daxm_set_log_fn - replace the logger. NULL restores the default, which
 * prints "libdaxmodel: <fn>: <message>" to stderr. Only messages at or
 * below the log priority are delivered. NULL @ctx is a no-op.
 */
void daxm_set_log_fn(struct daxm_ctx *ctx, daxm_log_fn fn);

/* daxm_get_log_priority - the current syslog priority, or -EINVAL. */
int daxm_get_log_priority(struct daxm_ctx *ctx);

/* daxm_set_log_priority - set the syslog priority (0..7; others clamp). */
void daxm_set_log_priority(struct daxm_ctx *ctx, int priority);

/* daxm_set_userdata / daxm_get_userdata - one caller pointer per context,
 * for the log function. NULL @ctx: no-op / NULL. */
void daxm_set_userdata(struct daxm_ctx *ctx, void *userdata);
void *daxm_get_userdata(struct daxm_ctx *ctx);

/*
 * daxm_last_error - the message of the last failed call on this thread
 * (e.g. "dax0.1: size 0x300000 is not a multiple of 0x200000"), or "" if
 * none failed yet or daxm_clear_last_error() cleared it. A successful call
 * does not clear it (errno's rule). The text is owned by the library and
 * stays valid until the next call on this thread. Never NULL.
 */
const char *daxm_last_error(void);

/*
 * daxm_clear_last_error - set this thread's message to "". Like errno,
 * the message is set by every failure and left alone by successes (a
 * successful call costs no string work); clear it before a call to tell
 * whether that call left a message. Useful for calls whose NULL or 0 is
 * not always an error (a lookup that finds nothing, a getter).
 */
void daxm_clear_last_error(void);

/* daxm_get_version - "MAJOR.MINOR.PATCH" of the library, static storage. */
const char *daxm_get_version(void);

/* ------------------------------------------------------------------ */
/* The sysfs-text interface                                            */
/* ------------------------------------------------------------------ */

/*
 * daxm_attr_write - write @value to the attribute @path, as write(2) on
 * the matching file of /sys/bus/dax would.
 *
 * Paths: "regionR/{create,delete}", "daxR.N/{size,align,mapping}", the
 * driver files "device_dax/{bind,unbind,new_id,remove_id}" (value: a
 * device name; on the 6.12 profile a dynamic region's device binds only
 * after its name was written to new_id, as with Linux's kmem-typed hmem
 * regions), and on sparse regions "daxR.N/tag" (a UUID or "untagged":
 * select the allocation tag), "daxR.N/uuid" (a UUID, or "0"/"untagged":
 * claim a whole tag group) and "regionR/extentK/tag" (re-tag). @value is parsed with the kernel's rules: numbers as
 * kstrtoull base 0 ("0x200000" and "2097152" are fine, "2M" and "-1" are
 * -EINVAL, overflow -ERANGE, one trailing newline accepted; `align` gives
 * -ENXIO for any unparsable value, as Linux does); "mapping" takes
 * "START-END" in hex with an inclusive END. Only the first 4096 bytes of
 * @value are read.
 *
 * A @value of length 0 passes the path and mode checks and then changes
 * nothing, as a write(2) of 0 bytes does.
 *
 * Returns 0 or the negative errno write(2) would give: -ENOENT for a path
 * that does not exist (a static region's "create", an unknown device),
 * -EACCES for a read-only attribute, then the store's errno (-EINVAL,
 * -ENOSPC, -EBUSY, -ENXIO, -ENOMEM, -ERANGE ...). A `mapping` write whose
 * length is not a multiple of max(align, 2 MiB) returns -ENXIO on the 6.1
 * profile and 0 with no change on 6.12, as those kernels do. -EINVAL if
 * @ctx, @path or @value is NULL.
 */
int daxm_attr_write(struct daxm_ctx *ctx, const char *path, const char *value);

/*
 * daxm_attr_write_buf - daxm_attr_write() for a value given as @len bytes,
 * exactly as one write(2) of them: @len 0 changes nothing; otherwise the
 * value is cut at the first NUL (daxctl writes strlen+1 bytes) and the
 * store runs even when that leaves it empty (a write of "\0" to `size` is
 * -EINVAL, as in Linux). At most 4096 bytes are read. @buf may be NULL
 * only when @len is 0. Returns as daxm_attr_write(). (DAXMODEL_1)
 */
int daxm_attr_write_buf(struct daxm_ctx *ctx, const char *path,
			const void *buf, size_t len);

/*
 * daxm_attr_read - read the attribute @path into @buf, formatted as the
 * kernel prints it, with a trailing newline, NUL-terminated.
 *
 * Paths: "regionR/{id,size,align,available_size,create,seed}",
 * "daxR.N/{size,align,target_node,numa_node,resource,modalias}",
 * "daxR.N/mappingK/{start,end,page_offset}", and on sparse regions
 * "daxR.N/{tag,uuid}" and "regionR/extentK/{offset,length,tag,sequence,
 * refcount,state}" (state: "accepted" or "releasing"; a released extent
 * has no directory). Decimal numbers print as
 * "%llu\n"; resource, start and end as "%#llx\n" and page_offset (pages)
 * as "%#lx\n", where zero prints "0x0" as in Linux. `seed` and `create`
 * print a device name or an empty line.
 *
 * Returns the number of bytes stored (without the NUL), or -ENOENT (no
 * such attribute; target_node is absent when the region has none),
 * -EACCES (write-only attribute: delete, mapping), -ERANGE if @len cannot
 * hold the text and its NUL, -EINVAL for NULL @ctx, @path or @buf.
 */
long daxm_attr_read(struct daxm_ctx *ctx, const char *path, char *buf,
		    size_t len);

/* ------------------------------------------------------------------ */
/* Regions                                                             */
/* ------------------------------------------------------------------ */

/*
 * daxm_region_spec_init - fill @spec with the defaults listed at struct
 * daxm_region_spec (start and size 0: the caller must set them). NULL is
 * a no-op.
 */
void daxm_region_spec_init(struct daxm_region_spec *spec);

/*
 * daxm_region_new - add a region, as a producer driver's probe would, with
 * its first device daxR.0 (daxR.<dev_id> for static regions): covering the
 * whole region (bound unless DAXM_REGION_UNBOUND), or at size 0 with
 * DAXM_REGION_IDLE (dynamic regions only). The first device is never the
 * region's seed.
 * @out: optional; receives the region (borrowed).
 *
 * Returns 0, or -EINVAL (NULL @ctx or @spec, struct_size too small,
 * unknown kind, profile or flags, size 0, start or size not a multiple of
 * align, align not 4096/2 MiB/1 GiB, start+size wraps, IDLE on a static
 * region, sparse limits of 0 or above 2^24 / 2^30), -EEXIST (id in use),
 * -EBUSY (overlaps another region's addresses, as Linux's "DAX Regions"
 * resource root refuses). A sparse region starts with no capacity and an idle daxR.0
 * (whatever the flags say); capacity arrives with daxm_region_add_extents().
 */
int daxm_region_new(struct daxm_ctx *ctx, const struct daxm_region_spec *spec,
		    struct daxm_region **out);

/*
 * daxm_region_get_first / daxm_region_get_next - iterate regions in id
 * order. NULL at the end or for a NULL/deleted argument.
 */
struct daxm_region *daxm_region_get_first(struct daxm_ctx *ctx);
struct daxm_region *daxm_region_get_next(struct daxm_region *region);

/* daxm_region_get_by_id - the region with id @id, or NULL. */
struct daxm_region *daxm_region_get_by_id(struct daxm_ctx *ctx, int id);

/* daxm_region_ref / daxm_region_unref - keep a region pointer valid past
 * its context (see the general rules). ref returns @region; NULL is a
 * no-op for both. */
struct daxm_region *daxm_region_ref(struct daxm_region *region);
void daxm_region_unref(struct daxm_region *region);

/* daxm_region_get_ctx - the owning context, or NULL once it is freed. */
struct daxm_ctx *daxm_region_get_ctx(struct daxm_region *region);

/* daxm_region_get_id - the region id (>= 0), or -EINVAL / -ENODEV. */
int daxm_region_get_id(struct daxm_region *region);

/* daxm_region_get_kind / daxm_region_get_profile - DAXM_REGION_* /
 * DAXM_PROFILE_* value, or -EINVAL / -ENODEV. */
int daxm_region_get_kind(struct daxm_region *region);
int daxm_region_get_profile(struct daxm_region *region);

/* daxm_region_get_start / _size / _align - the region's physical start,
 * its whole size (attribute `size`), its align; DAXM_INVALID for a NULL or
 * deleted region. */
uint64_t daxm_region_get_start(struct daxm_region *region);
uint64_t daxm_region_get_size(struct daxm_region *region);
uint64_t daxm_region_get_align(struct daxm_region *region);

/*
 * daxm_region_get_available_size - bytes not assigned to any device
 * (attribute `available_size`): on a dynamic region, region size minus
 * the sum of all device ranges; on a sparse region, the free bytes inside
 * accepted extents (extents being released do not count). 0 for a static
 * region (Linux hides the attribute there); DAXM_INVALID for a NULL or
 * deleted region.
 */
uint64_t daxm_region_get_available_size(struct daxm_region *region);

/* daxm_region_get_target_node - the target NUMA node, -1 if none, or
 * -EINVAL / -ENODEV (both below -1). */
int daxm_region_get_target_node(struct daxm_region *region);

/*
 * daxm_region_create_dev - write "1" to regionR/create: add a device with
 * the lowest free id and size 0. It becomes the region's youngest device,
 * and its seed if there was none.
 * @out: optional; receives the new device (borrowed).
 *
 * Returns 0, or -ENOSPC (available_size is 0, or every id 0..INT_MAX is
 * in use, as the kernel's ida fails; nothing is created),
 * -EOPNOTSUPP (static region: Linux has no `create` there), -EINVAL,
 * -ENODEV.
 */
int daxm_region_create_dev(struct daxm_region *region, struct daxm_dev **out);

/*
 * daxm_region_get_dev_seed - the device `seed` names: made by a create
 * while no seed existed, cleared when that device is bound or deleted.
 * NULL if none (always for static regions).
 */
struct daxm_dev *daxm_region_get_dev_seed(struct daxm_region *region);

/* daxm_region_get_dev_youngest - the device `create` reads: the last one
 * created by daxm_region_create_dev(); NULL if none was, and NULL again
 * once that device is deleted (it is not handed back to an older one). */
struct daxm_dev *daxm_region_get_dev_youngest(struct daxm_region *region);

/*
 * daxm_region_destroy_dev - write the device's name to regionR/delete.
 * On success @dev is deleted (see the general rules on pointers) and its
 * id is free for the next create.
 *
 * Returns 0, or -EBUSY (device id 0, a size other than 0, or bound),
 * -ENXIO (@dev does not belong to @region), -EOPNOTSUPP (static region),
 * -EINVAL (NULL), -ENODEV (deleted).
 */
int daxm_region_destroy_dev(struct daxm_region *region, struct daxm_dev *dev);

/* ------------------------------------------------------------------ */
/* Devices                                                             */
/* ------------------------------------------------------------------ */

/* daxm_dev_get_first / daxm_dev_get_next - iterate a region's devices in
 * id order; NULL at the end or for a NULL/deleted argument. */
struct daxm_dev *daxm_dev_get_first(struct daxm_region *region);
struct daxm_dev *daxm_dev_get_next(struct daxm_dev *dev);

/* daxm_dev_get_by_name - the device named @name ("daxR.N"), or NULL. */
struct daxm_dev *daxm_dev_get_by_name(struct daxm_ctx *ctx, const char *name);

/* daxm_dev_ref / daxm_dev_unref - see the general rules. */
struct daxm_dev *daxm_dev_ref(struct daxm_dev *dev);
void daxm_dev_unref(struct daxm_dev *dev);

/* daxm_dev_get_region / daxm_dev_get_ctx - the parents, or NULL for a
 * NULL or deleted device. */
struct daxm_region *daxm_dev_get_region(struct daxm_dev *dev);
struct daxm_ctx *daxm_dev_get_ctx(struct daxm_dev *dev);

/* daxm_dev_get_id - N of daxR.N, or -EINVAL / -ENODEV. */
int daxm_dev_get_id(struct daxm_dev *dev);

/* daxm_dev_get_devname - "daxR.N"; valid as long as @dev is. Deleted
 * devices keep their name; NULL only for a NULL @dev. */
const char *daxm_dev_get_devname(struct daxm_dev *dev);

/* daxm_dev_get_size - sum of the device's range lengths (attribute
 * `size`); DAXM_INVALID for NULL or deleted. */
uint64_t daxm_dev_get_size(struct daxm_dev *dev);

/*
 * daxm_dev_set_size - write @size to daxR.N/size: grow or shrink the
 * device with the kernel's allocator.
 *
 * Growing takes free space lowest address first, splitting across holes;
 * the device's last range is extended in place only when the hole chosen
 * that way directly follows it, otherwise a new range (and mappingK) is
 * appended with page_offset = the size so far. Shrinking trims or drops
 * ranges from the end.
 *
 * Returns 0, or -EINVAL (@size not a multiple of max(align, 2 MiB)),
 * -EBUSY (device bound; even when @size is the current size), -ENOSPC
 * (growth beyond available_size; an exact fit succeeds), -EACCES (static
 * region: `size` is read-only there), -ENODEV.
 */
int daxm_dev_set_size(struct daxm_dev *dev, uint64_t size);

/* daxm_dev_get_align - the device's align; DAXM_INVALID for NULL/deleted. */
uint64_t daxm_dev_get_align(struct daxm_dev *dev);

/*
 * daxm_dev_set_align - write @align to daxR.N/align.
 * Returns 0, or -EINVAL (@align not 4096, 2 MiB or 1 GiB; or a range
 * length not a multiple of max(@align, 2 MiB): the old align stays),
 * -EBUSY (bound), -EACCES (static region), -ENODEV.
 */
int daxm_dev_set_align(struct daxm_dev *dev, uint64_t align);

/*
 * daxm_dev_set_mapping - write "START-END" to daxR.N/mapping: append the
 * exact physical range [@start, @end] (END inclusive) as the next range,
 * page_offset = the size so far. Not merged with neighbours; allowed on a
 * bound device, as in Linux.
 *
 * The length is @end - @start + 1 computed modulo 2^64, as the kernel
 * does, and checked in the kernel's order: first its alignment, then 0,
 * then the range.
 *
 * Returns 0, or -ENXIO on the 6.1 profile when the length is not a
 * multiple of max(align, 2 MiB) (the 6.12 profile returns 0 and changes
 * nothing), 0 with no change for a length of 0 on a device without ranges
 * (-EBUSY on one with ranges), -ENOMEM (overlaps any allocated range, not
 * inside the region, or @end < @start with an aligned wrapped length),
 * -EACCES (static region: no `mapping`), -EOPNOTSUPP (sparse region),
 * -ENODEV.
 */
int daxm_dev_set_mapping(struct daxm_dev *dev, uint64_t start, uint64_t end);

/* daxm_dev_get_resource - start of the first range, or the region start
 * when the device has none (attribute `resource`); DAXM_INVALID. */
uint64_t daxm_dev_get_resource(struct daxm_dev *dev);

/* daxm_dev_get_target_node - as daxm_region_get_target_node(). */
int daxm_dev_get_target_node(struct daxm_dev *dev);

/* daxm_dev_get_nr_mappings - number of ranges (>= 0), or -EINVAL/-ENODEV. */
int daxm_dev_get_nr_mappings(struct daxm_dev *dev);

/* daxm_dev_is_enabled - 1 if bound to device_dax, 0 if not, or
 * -EINVAL / -ENODEV. */
int daxm_dev_is_enabled(struct daxm_dev *dev);

/*
 * daxm_dev_enable - bind the device to device_dax, as `daxctl
 * enable-device` does (it writes new_id, then bind, so the 6.12 profile's
 * new_id requirement of "device_dax/bind" does not apply here). Clears the
 * region's seed if it named @dev.
 * Returns 0, or -ENXIO (size 0: the probe refuses it), -EBUSY (already
 * bound), -EINVAL (a range whose start or length is not a whole number of
 * 2 MiB in 4 KiB pages, possible only after a `mapping` write at an
 * unaligned start; a start 1..4095 bytes past 2 MiB alignment binds, as
 * on Linux), -ENOMEM (a range's first or last 4 KiB page is a page of a
 * bound device's range: possible only with sub-page `mapping` starts),
 * -ENODEV. Both probe failures print kernel warnings (see "Kernel
 * warnings"). As on Linux 6.1 and 6.12, a failed probe leaves the device
 * unable to bind: every later enable (and bind, and new_id probe) fails
 * -EINVAL until the device is deleted, even after its ranges were made
 * aligned.
 */
int daxm_dev_enable(struct daxm_dev *dev);

/*
 * daxm_dev_disable - unbind the device, as drivers/device_dax/unbind does.
 * Returns 0, or -ENODEV (not bound: the kernel's answer; unlike
 * libdaxctl, disabling twice is reported), -EINVAL.
 */
int daxm_dev_disable(struct daxm_dev *dev);

/* ------------------------------------------------------------------ */
/* Mappings (one per device range, mappingK)                           */
/* ------------------------------------------------------------------ */

/* daxm_mapping_get_first / daxm_mapping_get_next - a device's ranges in
 * page_offset order (mapping0 first, unlike libdaxctl's reverse order). */
struct daxm_mapping *daxm_mapping_get_first(struct daxm_dev *dev);
struct daxm_mapping *daxm_mapping_get_next(struct daxm_mapping *mapping);

/* daxm_mapping_ref / daxm_mapping_unref - see the general rules. */
struct daxm_mapping *daxm_mapping_ref(struct daxm_mapping *mapping);
void daxm_mapping_unref(struct daxm_mapping *mapping);

/* daxm_mapping_get_dev - the owning device, NULL once deleted. */
struct daxm_dev *daxm_mapping_get_dev(struct daxm_mapping *mapping);

/* daxm_mapping_get_id - K of mappingK, or -EINVAL / -ENODEV. */
int daxm_mapping_get_id(struct daxm_mapping *mapping);

/* daxm_mapping_get_start / _end / _size / _offset - physical start,
 * inclusive end, length in bytes, page_offset in pages; DAXM_INVALID for
 * a NULL or deleted mapping. */
uint64_t daxm_mapping_get_start(struct daxm_mapping *mapping);
uint64_t daxm_mapping_get_end(struct daxm_mapping *mapping);
uint64_t daxm_mapping_get_size(struct daxm_mapping *mapping);
uint64_t daxm_mapping_get_offset(struct daxm_mapping *mapping);

/* ------------------------------------------------------------------ */
/* Sparse regions: tags, extents, events (CXL Dynamic Capacity)        */
/* ------------------------------------------------------------------ */

/*
 * Where this model differs from Linux on purpose (the review of the DCD
 * series asked for it; no released kernel does it):
 *  - allocation is bounded by tag: a device on a sparse region selects a
 *    tag (daxm_dev_set_tag, or writing daxR.N/tag) before it can be
 *    sized; sizing without one fails -EOPNOTSUPP, so an old client that
 *    only writes `size` fails loudly instead of taking arbitrary memory;
 *  - each device range holds a reference on its extent, and a release of
 *    a referenced extent is deferred until the last reference drops (DCD
 *    v1..v9 refused such releases and leaked a count on grow-in-place);
 *  - tags may be re-written while nothing references the extents;
 *  - `mapping` stays visible on sparse regions and answers -EOPNOTSUPP
 *    (Linux v1..v9 hides it).
 * Sizes stay multiples of max(align, 2 MiB); growth is first fit over the
 * tag's extents in acceptance order, lowest hole first inside each extent,
 * growing the last range in place only inside the same extent.
 */

#define DAXM_TAG_SIZE 16 /* bytes of a tag; all zero = untagged */

/* Extent states (daxm_extent_get_state()). */
#define DAXM_EXTENT_ACCEPTED  2 /* allocatable to devices of its tag     */
#define DAXM_EXTENT_RELEASING 3 /* release requested while referenced    */
#define DAXM_EXTENT_RELEASED  4 /* given back; no longer in the region   */

/* daxm_region_add_extents() flags. */
#define DAXM_GROUP_MORE      0x1u /* more records of this group follow  */
#define DAXM_GROUP_SHAREABLE 0x2u /* sequence numbers must run 0..n-1
                                     per tag                            */
/* daxm_region_release_extents() flags. */
#define DAXM_RELEASE_FORCED  0x1u /* the device forces the release      */
/* daxm_extent_set_tag() flags. */
#define DAXM_TAG_WHOLE_GROUP 0x1u /* re-tag every extent of the old tag */

/*
 * struct daxm_extent_spec - one extent as the device offers it: the fields
 * of a CXL Dynamic Capacity Extent record the host uses.
 * @offset:   start, relative to the region start (DPA minus region base);
 *            a multiple of 2 MiB.
 * @length:   bytes; a non-zero multiple of 2 MiB.
 * @tag:      16-byte tag; all zero = untagged.
 * @sequence: shared extent sequence number (orders a tag group).
 * @reserved: must be 0.
 */
struct daxm_extent_spec {
	uint64_t offset;
	uint64_t length;
	uint8_t tag[DAXM_TAG_SIZE];
	uint16_t sequence;
	uint16_t reserved;
	uint32_t reserved2;
};

/*
 * daxm_tag_parse - parse "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either
 * case, bytes in the order written) or the word "untagged" into @tag.
 * Returns 0, or -EINVAL (NULL argument or malformed text).
 */
int daxm_tag_parse(const char *text, uint8_t tag[DAXM_TAG_SIZE]);

/*
 * daxm_tag_format - write @tag as 36 lower-case UUID characters and a NUL.
 * Returns 36, or -EINVAL (NULL argument), -ERANGE (@len < 37).
 */
int daxm_tag_format(const uint8_t tag[DAXM_TAG_SIZE], char *buf, size_t len);

/*
 * daxm_region_add_extents - offer @count extents to a sparse region. With
 * DAXM_GROUP_MORE the group stays open (staged: invisible and
 * unallocatable); otherwise it closes and is answered with one
 * DAXM_EVENT_GROUP event. On close each extent is checked: offset and
 * length multiples of 2 MiB (-EINVAL), inside the region (-ERANGE), no
 * partial overlap with an accepted or releasing extent or an earlier one
 * of the group (-EBUSY; one wholly inside an accepted extent of the same
 * tag is accepted again as a no-op; inside a releasing one it is -EBUSY), a non-null tag not already on the host
 * (-EEXIST: a later group cannot add to a tag), with
 * DAXM_GROUP_SHAREABLE sequence numbers 0..n-1 per tag (-EINVAL), room in
 * the region and a free extent id 0..INT_MAX (-ENOSPC). A tag group is all or nothing: when one extent of
 * tag A is rejected, the others of A in the group are too (-ECANCELED);
 * other tags are unaffected. Each untagged extent stands alone.
 * @specs may be NULL when @count is 0 (closing a group).
 *
 * Returns 0 (whatever the per-extent results: read them from the event),
 * or -EINVAL (NULL region, NULL @specs with @count > 0, unknown flags,
 * non-zero reserved fields), -E2BIG (the group would exceed
 * max_extents_per_group; nothing of this call is staged), -EOPNOTSUPP
 * (not a sparse region), -ENODEV.
 */
int daxm_region_add_extents(struct daxm_region *region,
			    const struct daxm_extent_spec *specs, size_t count,
			    unsigned int flags);

/*
 * daxm_region_release_extents - the device asks for capacity back, naming
 * a range and the capacity's tag (release records carry it): every extent
 * touching [@offset, @offset + @length) is released whole, and a tagged
 * one takes its whole tag group along.
 * Events follow one rule: one event per request (and per call) lists
 * every extent it concerns, as a CXL Release Dynamic Capacity response
 * lists its extents. Unreferenced extents are released at once: one
 * DAXM_EVENT_RELEASED listing them all. Referenced ones become
 * DAXM_EXTENT_RELEASING: no longer allocatable nor counted in
 * available_size (one DAXM_EVENT_RELEASE_DEFERRED listing them), and are
 * released when their last reference drops: each later call that drops
 * last references (a put, a shrink) queues one
 * DAXM_EVENT_RELEASED per request listing the extents it gave back, with
 * that request's id. The deferred event comes first. A range with no
 * extent is acknowledged at once (DAXM_EVENT_RELEASED
 * carrying the range). With DAXM_RELEASE_FORCED the request is logged and
 * ignored (DAXM_EVENT_FORCED_IGNORED) unless the region was made with
 * DAXM_REGION_REVOKE: then the extents go at once, the device ranges in
 * them are dropped (later ranges of the device keep their order; page
 * offsets are renumbered; a bound device left with no memory is unbound),
 * views of those devices become inaccessible,
 * and the events are, with the request's id: one
 * DAXM_EVENT_FORCED_APPLIED listing the extents, one
 * DAXM_EVENT_DEV_LOST_MEMORY per device that lost memory, then one
 * DAXM_EVENT_RELEASED listing the extents given back.
 * @tag: optional; NULL = untagged.
 *
 * Returns 0, or -EINVAL (NULL region, @length 0, the range wraps, unknown
 * flags, or the range touches an extent whose tag is not @tag: nothing is
 * released), -EOPNOTSUPP (not sparse), -ENODEV.
 */
int daxm_region_release_extents(struct daxm_region *region, uint64_t offset,
				uint64_t length, const uint8_t *tag,
				unsigned int flags);

/* daxm_extent_get_first / daxm_extent_get_next - a sparse region's
 * accepted and releasing extents, in acceptance order; NULL at the end. */
struct daxm_extent *daxm_extent_get_first(struct daxm_region *region);
struct daxm_extent *daxm_extent_get_next(struct daxm_extent *extent);

/*
 * daxm_extent_get_by_id - the accepted or releasing extent regionR/extent@id
 * (borrowed), or NULL: no such extent (released, or never accepted), a
 * region that is not sparse, NULL or deleted @region (daxm_last_error()
 * then says why). O(1).
 */
struct daxm_extent *daxm_extent_get_by_id(struct daxm_region *region, int id);

/*
 * daxm_extent_get_by_offset - the accepted or releasing extent holding the
 * byte at region offset @offset (borrowed), or NULL as for
 * daxm_extent_get_by_id(). O(log n) in the region's extents.
 */
struct daxm_extent *daxm_extent_get_by_offset(struct daxm_region *region, uint64_t offset);

/* daxm_extent_ref / daxm_extent_unref - keep the handle valid after the
 * extent is released or the context freed (see the general rules); this
 * is not a reference on the memory: that is daxm_extent_get(). */
struct daxm_extent *daxm_extent_ref(struct daxm_extent *extent);
void daxm_extent_unref(struct daxm_extent *extent);

/* daxm_extent_get_region - the owning region, or NULL. */
struct daxm_region *daxm_extent_get_region(struct daxm_extent *extent);

/* daxm_extent_get_id - K of regionR/extentK, or -EINVAL / -ENODEV. K is
 * the lowest id free when the extent was accepted, so a released
 * extent's id is handed to a later one, as device ids are. */
int daxm_extent_get_id(struct daxm_extent *extent);

/* daxm_extent_get_offset / _length - region-relative start and length in
 * bytes; DAXM_INVALID for NULL or a freed context. Still readable after
 * the extent is released. */
uint64_t daxm_extent_get_offset(struct daxm_extent *extent);
uint64_t daxm_extent_get_length(struct daxm_extent *extent);

/* daxm_extent_get_tag - copy the tag into @tag. Returns 0, -EINVAL (NULL),
 * -ENODEV (the context was freed). */
int daxm_extent_get_tag(struct daxm_extent *extent, uint8_t tag[DAXM_TAG_SIZE]);

/* daxm_extent_get_sequence / _refcount / _state - the sequence number,
 * the reference count (device ranges inside it plus pins), the
 * DAXM_EXTENT_* state; or -EINVAL (NULL) / -ENODEV (the context was
 * freed). Like every extent getter they keep answering after the extent
 * is released (a pointer kept with daxm_extent_ref(), or one read before
 * the release): state DAXM_EXTENT_RELEASED, refcount 0. */
int daxm_extent_get_sequence(struct daxm_extent *extent);
int daxm_extent_get_refcount(struct daxm_extent *extent);
int daxm_extent_get_state(struct daxm_extent *extent);

/*
 * daxm_extent_get - pin the extent's memory: one more reference, which
 * defers any release until daxm_extent_put(). Returns 0, or -EBUSY (a
 * release is pending), -ENODEV (released), -EINVAL.
 */
int daxm_extent_get(struct daxm_extent *extent);

/*
 * daxm_extent_put - drop a pin; dropping the last reference of a
 * releasing extent completes its release (DAXM_EVENT_RELEASED).
 * Returns 0, or -EINVAL (no pin held), -ENODEV (released).
 */
int daxm_extent_put(struct daxm_extent *extent);

/*
 * daxm_extent_set_tag - re-tag the extent, or with DAXM_TAG_WHOLE_GROUP
 * every extent of its tag. Returns 0, or -EBUSY (an extent concerned is
 * referenced or releasing), -EEXIST (the new non-null tag already exists
 * on the host), -EINVAL (NULL, unknown flags), -ENODEV (released), -EPERM
 * (region0 of a fabric host's context: the tag is the device's, see
 * daxm_fabric_get_host(); writing regionR/extentK/tag there is refused
 * the same way).
 */
int daxm_extent_set_tag(struct daxm_extent *extent,
			const uint8_t tag[DAXM_TAG_SIZE], unsigned int flags);

/*
 * daxm_dev_set_tag - select the tag a sparse-region device allocates from
 * (daxR.N/tag); all-zero = untagged extents; NULL clears the selection.
 * Returns 0, or -EBUSY (the device has size), -EOPNOTSUPP (not a sparse
 * region), -EINVAL, -ENODEV.
 */
int daxm_dev_set_tag(struct daxm_dev *dev, const uint8_t *tag);

/*
 * daxm_dev_get_tag - copy the selected tag into @tag (zeroed when none).
 * Returns 1 (a tag is selected), 0 (none), or -EINVAL / -ENODEV.
 */
int daxm_dev_get_tag(struct daxm_dev *dev, uint8_t tag[DAXM_TAG_SIZE]);

/*
 * daxm_dev_claim_tag - size the device to a whole tag group in one step
 * (the kernel v11 daxR.N/uuid behaviour): every extent of @tag, one range
 * each; the device's tag becomes @tag. Range order: a group offered with
 * DAXM_GROUP_SHAREABLE is laid out by sequence number; any other group
 * (whose sequence field is reserved) in acceptance order, that is the
 * order the group offered its extents in. An all-zero @tag
 * claims one wholly free untagged extent, the first accepted.
 * Returns 0, or -ENOENT (no extent has that tag), -EBUSY (the device has
 * size or is bound, or part of the tag's capacity is used, pinned or
 * releasing), -EOPNOTSUPP (not sparse), -EINVAL, -ENODEV.
 */
int daxm_dev_claim_tag(struct daxm_dev *dev, const uint8_t tag[DAXM_TAG_SIZE]);

/* daxm_dev_get_lost_bytes - bytes the device lost to revoked extents;
 * DAXM_INVALID for NULL or deleted. */
uint64_t daxm_dev_get_lost_bytes(struct daxm_dev *dev);

/* Event types (struct daxm_event.type). */
#define DAXM_EVENT_GROUP            1 /* a group closed: the Add Dynamic
                                         Capacity Response; one record per
                                         offered extent, result 0 =
                                         accepted, else -errno            */
#define DAXM_EVENT_RELEASE_DEFERRED 2 /* referenced extents now releasing */
#define DAXM_EVENT_RELEASED         3 /* Release Dynamic Capacity: extents
                                         given back (or a range with none,
                                         acknowledged)                     */
#define DAXM_EVENT_FORCED_IGNORED   4 /* forced release logged, ignored   */
#define DAXM_EVENT_FORCED_APPLIED   5 /* forced release revoked extents   */
#define DAXM_EVENT_DEV_LOST_MEMORY  6 /* @device lost the listed ranges   */
#define DAXM_EVENT_KERNEL_WARNING   7 /* a write reached a kernel WARN:
                                         @device, the warn_* fields (see
                                         "Kernel warnings" below)         */

/*
 * struct daxm_extent_record - one extent in an event.
 * @result: 0 (accepted, released, or now releasing) or a negative errno
 *          (why a group rejected it).
 * @reason: a sentence, "" when there is nothing to say.
 */
struct daxm_extent_record {
	uint64_t offset;
	uint64_t length;
	uint8_t tag[DAXM_TAG_SIZE];
	uint16_t sequence;
	uint16_t reserved;
	int32_t result;
	const char *reason;
};

/*
 * struct daxm_event - what the host tells the device / fabric manager.
 * @request_id: the group or release request answered: a group's number,
 *          or the release request's (a deferred release completes later
 *          with the id of the request that deferred it). Ids increase.
 * @device: "daxR.N" for DAXM_EVENT_DEV_LOST_MEMORY, else NULL.
 * Everything the event points to lives until daxm_event_free().
 */
struct daxm_event {
	uint32_t type;
	int32_t region_id;
	uint64_t request_id;
	uint32_t nr_records;
	uint32_t reserved;
	const struct daxm_extent_record *records;
	const char *device;
	/* DAXM_EVENT_KERNEL_WARNING only (NULL and 0 for other types): */
	const char *warn_file;     /* "drivers/dax/bus.c", as the kernel logs it */
	const char *warn_function; /* "alloc_dev_dax_range", as logged          */
	const char *warn_message;  /* the line the kernel prints before its
	                              WARNING line; "" for a WARN_ON          */
	uint32_t warn_line;        /* line in the Debian kernel of the profile */
	uint32_t warn_flags;       /* DAXM_WARN_ONCE, DAXM_WARN_PANIC          */
};

/*
 * daxm_ctx_next_event - take the oldest event off the context's queue.
 * @out: receives an event the caller frees with daxm_event_free().
 * Returns 0, or -EAGAIN (the queue is empty; *@out is set to NULL),
 * -EINVAL (NULL argument), -ENOMEM.
 */
int daxm_ctx_next_event(struct daxm_ctx *ctx, struct daxm_event **out);

/*
 * daxm_event_fn - called after a call that queued events, on the thread
 * that made it, without the context lock (it may drain the queue with
 * daxm_ctx_next_event()). daxm_get_userdata(@ctx) finds the caller's state.
 */
typedef void (*daxm_event_fn)(struct daxm_ctx *ctx);

/* daxm_set_event_fn - install (NULL: remove) the event notification.
 * NULL @ctx is a no-op. */
void daxm_set_event_fn(struct daxm_ctx *ctx, daxm_event_fn fn);

/* daxm_ctx_get_nr_events - events waiting, or -EINVAL. */
int daxm_ctx_get_nr_events(struct daxm_ctx *ctx);

/* daxm_event_free - free an event from daxm_ctx_next_event(); NULL ok. */
void daxm_event_free(struct daxm_event *event);

/* ------------------------------------------------------------------ */
/* Views: mapping a device's memory                                    */
/* ------------------------------------------------------------------ */

/*
 * Each region has backing memory. By default it is emulated: one memfd
 * per region, as large as the region, where only touched pages cost
 * memory. A device whose path was set with daxm_dev_set_path() maps that
 * character device instead (a real /dev/daxR.N).
 *
 * A view is one contiguous mapping of a whole device, page offset 0 to
 * its size, aligned to the device's align. Emulated views map each range
 * MAP_SHARED|MAP_FIXED at its page offset inside one reserved window, so
 * two views of a device see the same bytes, and bytes written through a
 * device land at the region offsets of its ranges. While a device has a
 * view it is held like a bound device: resize, align, mapping, tag change,
 * claim and delete answer -EBUSY. Released sparse capacity is sanitized
 * (its pages are discarded) so it reads back as zeros (see
 * DAXM_REGION_NO_SANITIZE). To place a view's pages on a NUMA node, use
 * libnuma on its address (numa_tonode_memory(), or mbind() from
 * <numaif.h>); the region's node is daxm_region_get_target_node().
 */

/*
 * daxm_dev_map - map the device.
 * @prot: PROT_READ, optionally with PROT_WRITE (<sys/mman.h>); anything
 *        else (PROT_NONE, PROT_WRITE alone, PROT_EXEC) is -EINVAL.
 * The device need not be enabled: the model maps its ranges whatever the
 * bound state (a real /dev/daxR.N exists only while bound).
 * @view: out; receives the view, owned by the caller until
 *        daxm_view_unmap().
 * On a fabric host's region0 the view maps the fabric's memory, shared
 * with the other hosts (see "Fabric", "Memory").
 * Returns 0, or -ENXIO (size 0), -EINVAL (bad @prot, NULL), -ENODEV,
 * -ENOMEM, -EACCES (PROT_WRITE on a fabric host's device holding capacity
 * of a Read-Only DC region: map it PROT_READ, as mmap(2) answers a
 * writable shared map of a read-only file), or the errno of
 * open(2)/mmap(2) for a real device (a device refuses MAP_PRIVATE and
 * lengths not a multiple of its align: -EINVAL).
 */
int daxm_dev_map(struct daxm_dev *dev, int prot, struct daxm_view **view);

/*
 * daxm_dev_set_path - back the device with a real character device
 * (e.g. "/dev/dax0.1"), which later views open and mmap; NULL returns to
 * emulated memory. The path is kept as bytes, unchanged (Linux paths need
 * not be UTF-8), and saved with the model. Returns 0, or -EBUSY (the device has a view), -EINVAL
 * (NULL @dev, an empty path, or a path longer than 4095 bytes; the path set
 * before is kept), -ENODEV.
 */
int daxm_dev_set_path(struct daxm_dev *dev, const char *path);

/* daxm_view_get_addr / _size - start and length of the mapping; NULL / 0
 * for NULL. */
void *daxm_view_get_addr(struct daxm_view *view);
uint64_t daxm_view_get_size(struct daxm_view *view);

/* daxm_view_get_dev - the mapped device (NULL once the context is gone). */
struct daxm_dev *daxm_view_get_dev(struct daxm_view *view);

/*
 * daxm_view_unmap - unmap the view and free it; the device is no longer
 * held by it. NULL is a no-op returning -EINVAL. Returns 0.
 */
int daxm_view_unmap(struct daxm_view *view);

/* ------------------------------------------------------------------ */
/* Kernel warnings                                                     */
/* ------------------------------------------------------------------ */

/*
 * A few sysfs writes that Linux answers with an ordinary errno also reach
 * a WARN in the kernel: a stack dump in the kernel log, and on a host
 * booted with panic_on_warn=1 a panic. The model names each one when the
 * write runs, with the kernel's errno unchanged:
 *
 *  - a DAXM_EVENT_KERNEL_WARNING event: @region_id and @device name the
 *    device, warn_file / warn_function / warn_line the site as the kernel
 *    logs it ("WARNING: ... at <file>:<line> <function>+0x..."), and
 *    warn_message the line printed before it;
 *  - a log line at LOG_WARNING (the default log priority, so it is shown
 *    unless the caller lowers the priority), e.g.
 *    "dax0.1: kernel WARN at drivers/dax/bus.c:816 alloc_dev_dax_range:
 *    dax dax0.1: 0-size allocation must be first (once per boot; with
 *    panic_on_warn=1 the host panics here)".
 *
 * The sites, for both profiles (lines: Debian's 6.1.192 / 6.12.118):
 *
 *  drivers/dax/bus.c:816/854 alloc_dev_dax_range (dev_WARN_ONCE) - a
 *    `mapping` write of length 0 (end = start - 1, or 0-ffffffffffffffff)
 *    on a device that has ranges; the write fails -EBUSY either way.
 *  mm/memremap.c:183/184 and :190/191 memremap_pages (WARN) - a probe
 *    (`bind`, or `new_id` probing every matching unbound device) of a
 *    device whose range's first (183/184) or last (190/191) 4 KiB page is
 *    a page of a bound device's range or of an earlier range of the same
 *    device: "Conflicting mapping in same section"; the probe fails
 *    -ENOMEM. Only sub-page `mapping` starts make this possible.
 *  arch/x86/include/asm/pgalloc.h:108 phys_pud_init (WARN_ON_ONCE) - a
 *    probe maps part of a 1 GiB-aligned GiB that an earlier failed probe
 *    (of a range holding that whole GiB) left mapped as one 1 GiB page;
 *    the probe goes on, and may bind: an aligned probe returns 0 with
 *    this warning. The model assumes the CPU has pdpe1gb (1 GiB pages in
 *    the direct map), as x86-64 servers and QEMU's -cpu max do; on one
 *    without it such a failed probe leaves 2 MiB pages instead.
 *  arch/x86/include/asm/pgalloc.h:75 phys_pmd_init (WARN_ON_ONCE) - a
 *    probe maps part of a 2 MiB block that an earlier failed probe left
 *    mapped as one 2 MiB page (the kernel's direct map keeps it for the
 *    boot); the probe goes on. A probe's range is mapped in address
 *    order, GiB by GiB: each GiB's phys_pud_init before its blocks'
 *    phys_pmd_init. A 2 MiB block under a 1 GiB page is no 2 MiB page.
 *  mm/memory_hotplug.c:328/414 __add_pages (WARN) - a probe of a range
 *    whose start or length is not a whole number of 2 MiB in 4 KiB pages:
 *    "Misaligned __add_pages start: 0x<pfn> end: #<pfn>" (6.12:
 *    "end: 0x<pfn>"); the probe fails -EINVAL, and then
 *  arch/x86/mm/init_64.c:978/986 add_pages (WARN_ON_ONCE) follows.
 *
 * A failed probe leaves the device unable to bind until it is deleted
 * (the kernel keeps its stale page map), so the probe warnings come at
 * most once per device. `new_id` returns success whatever its probes do;
 * `bind` returns the probe's errno. _ONCE sites warn only the first time
 * in a context (a boot), until daxm_clear_warn_once(). Sparse regions are
 * this library's own design and never warn.
 */
#define DAXM_WARN_ONCE  0x1 /* the site warns once per boot               */
#define DAXM_WARN_PANIC 0x2 /* this warning panicked the context          */

/*
 * daxm_set_panic_on_warn - behave like a host booted with panic_on_warn=1
 * (@on non-zero) or not (0, the default). Once panicked - at the first
 * warning printed (an _ONCE site that already warned prints nothing and
 * does not panic) - the context answers every later call, and the call
 * that warned, with -EHOSTDOWN (NULL or DAXM_INVALID where the function
 * returns those) until it is freed; only daxm_ref(), daxm_unref(), the
 * log, userdata and event-function setters, daxm_last_error(), the event queue
 * (daxm_ctx_next_event(), daxm_ctx_get_nr_events(): the warning is the
 * last event), daxm_ctx_save(), daxm_get_panic_on_warn() and
 * daxm_ctx_get_panic() still work. The panicked state is saved.
 * Returns 0, or -EINVAL (NULL @ctx), -EHOSTDOWN (already panicked).
 */
int daxm_set_panic_on_warn(struct daxm_ctx *ctx, int on);

/* daxm_get_panic_on_warn - 1 or 0, or -EINVAL. */
int daxm_get_panic_on_warn(struct daxm_ctx *ctx);

/*
 * daxm_ctx_get_panic - whether the context panicked: 0 (no), 1 (yes: the
 * warning's log text is copied into @buf, truncated to @len - 1 bytes and
 * NUL-terminated; @buf may be NULL when @len is 0), or -EINVAL (NULL @ctx,
 * or NULL @buf with @len > 0).
 */
int daxm_ctx_get_panic(struct daxm_ctx *ctx, char *buf, size_t len);

/*
 * daxm_clear_warn_once - forget which _ONCE sites warned, as a write to
 * the kernel's /sys/kernel/debug/clear_warn_once does. Returns 0, or
 * -EINVAL, -EHOSTDOWN.
 */
int daxm_clear_warn_once(struct daxm_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Saved state                                                         */
/* ------------------------------------------------------------------ */

/*
 * daxm_ctx_save - write the whole model (regions, extents with tags and
 * states, devices with ranges, bound state and paths, the open group, the
 * events not yet taken) to @path as a versioned JSON document. Saving is
 * atomic: a temporary file in the same directory, fsync, rename, fsync of
 * the directory; a process killed at any point leaves the old file or the
 * new one. Each save writes a temporary of its own (created exclusively),
 * so saves racing from several threads, contexts or processes never mix:
 * the file is always one whole document. @path is used byte for byte.
 * Every document saved loads back into the same model (a device path that
 * is not UTF-8 is saved as an array of its bytes). Views and log settings
 * are not saved.
 * Returns 0, or -EINVAL (NULL or empty @path), -ENAMETOOLONG (no NUL in
 * @path's first 4096 bytes), or the errno of the file operation that
 * failed.
 */
int daxm_ctx_save(struct daxm_ctx *ctx, const char *path);

/*
 * daxm_ctx_load - create a context from a document written by
 * daxm_ctx_save(). Every field is validated and the rebuilt model is
 * checked whole; a damaged or hand-edited file is refused with -EINVAL and
 * a daxm_last_error() message naming the bad field.
 * @ctx: out; receives the new context (one reference), NULL on failure.
 * Loading takes time linear in the document's size (plus n log n to
 * order regions). Beyond daxm_ctx_save()'s own output the loader accepts
 * request ids from 1 (after 2^64-1 the next is 1), extent orders below
 * 2^63, ids 0..INT_MAX (ids below the highest stay free, lowest handed out
 * first), and an open group no larger than max_extents_per_group.
 * Returns 0, or -EINVAL, -EFBIG (larger than 256 MiB), -ENAMETOOLONG, or
 * the errno of opening or reading @path.
 */
int daxm_ctx_load(const char *path, struct daxm_ctx **ctx);

/* ------------------------------------------------------------------ */
/* Importing a real /sys/bus/dax                                       */
/* ------------------------------------------------------------------ */

/*
 * daxm_ctx_import_sysfs - add to @ctx the dax regions found under @root
 * ("/" for this machine, or a directory holding a captured copy that keeps
 * sysfs's relative symlinks: sys/bus/dax/devices/daxR.N -> the region's
 * parent device directory with dax_region/ and daxR.N/). Each region keeps
 * the kernel's id, size and align; it is dynamic when dax_region has
 * available_size, static otherwise; its profile follows
 * @root/proc/sys/kernel/osrelease (before 6.9: DAXM_PROFILE_6_1, else
 * DAXM_PROFILE_6_12; 6.12 when absent). Devices keep their ids, aligns,
 * ranges with page offsets and bound state (a `driver` link); seed and
 * youngest come from dax_region/seed and create. Views of imported devices
 * map @root/dev/daxR.N ("/dev/daxR.N" for "/"). The region start, which
 * sysfs does not show, is taken from an idle device's `resource`, or from
 * ranges that cover both ends of the region. @root is used byte for byte.
 * Returns the number of regions imported (> 0), or -ENAMETOOLONG (@root,
 * or a device path under it, of 4096 bytes or more), -ENOENT (nothing to
 * read, or an attribute missing), -EINVAL (an inconsistent tree, named in
 * daxm_last_error(), or a region start that cannot be told), -EEXIST (a
 * region id already in @ctx), -EBUSY (addresses overlap a region in @ctx);
 * on failure regions imported before the failing one stay.
 */
int daxm_ctx_import_sysfs(struct daxm_ctx *ctx, const char *root);

/* ------------------------------------------------------------------ */
/* Fabric: one Dynamic Capacity device, its fabric manager, its hosts  */
/* ------------------------------------------------------------------ */

/*
 * A fabric is one CXL Dynamic Capacity Device (DCD) shared by several
 * hosts (logical devices LD 0..N-1) and driven by one fabric manager (FM)
 * through the FM API's Dynamic Capacity commands (command set 56h):
 *
 *   daxm_fabric ─┬─ DC regions 0..7 (base, decode length, block size,
 *                │    Sharable, Read-Only, sanitize on release)
 *                ├─ tags (capacity, per-host extent lists, references)
 *                ├─ host N: an ordinary struct daxm_ctx whose sparse
 *                │    region0 is bound to LD N (daxm_fabric_get_host())
 *                └─ the manager's event queue (daxm_fabric_next_event())
 *
 * Naming: the commands are libcxlmi's (the FM client library fabric
 * managers are written with), so a manager ports call for call:
 *
 *   libcxlmi                                 libdaxmodel
 *   cxlmi_cmd_fmapi_<command>(ep, ti, ...)   daxm_fmapi_<command>(fabric, ...)
 *   struct cxlmi_cmd_fmapi_<payload>         struct daxm_fmapi_<payload>
 *   CXLMI_RET_<code> (enum cxlmi_cmd_retcode) DAXM_CXL_RC_<name>, same values
 *   cxlmi_cmd_retcode_tostr(code)            daxm_retcode_tostr(code)
 *
 * with one addition: where libcxlmi's request or response struct ends in a
 * flexible array (extents[], tags_list[]), the call takes the struct's
 * size in bytes, as the caller allocated it, right after it
 * (DAXM_FMAPI_SIZE() computes it), and never reads or writes past it.
 * Field names, order and meaning are libcxlmi's, i.e. the spec's payload
 * fields; as in libcxlmi's returned structs, lengths are in bytes
 * (decode_len, total_dynamic_capacity are not in 256 MiB units). The
 * structs are not packed: the model has no wire, so their sizes are not
 * the payload sizes. Reserved fields (rsvd*) are ignored on input and
 * zero on output.
 *
 * Returns, as libcxlmi: 0 for success; a positive CXL return code
 * (DAXM_CXL_RC_*) when the device refuses the command, changing nothing,
 * with a daxm_last_error() message naming the field at fault; a negative
 * errno when the call itself is wrong: -EINVAL (NULL fabric or struct, a
 * request size below its struct or its count of extents), -ERANGE (a
 * response size that cannot hold the count the request asks for). A
 * response struct is written only on success. Every failure is also sent
 * to the fabric's log function (daxm_fabric_set_log_fn()), except for a
 * NULL fabric, which has none.
 *
 * Where the spec is silent or unconfirmed the model chooses (each choice
 * is listed in Sources/DaxModel/Fabric/README.md of the source tree):
 *  - Prescriptive add of blocks pending or owned for another host, or
 *    shared by a tag: Invalid Extent List (as for the same LD);
 *  - a Free, Contiguous or Prescriptive add with a non-null tag that
 *    already exists: Invalid Input (a new allocation needs a new tag;
 *    Enable Shared Access reaches an existing one); the device numbers
 *    each tag's extents 0..n-1 in list order (shared_seq given is ignored);
 *  - one add stays in one DC region (a list across regions: Invalid
 *    Extent List); Enable Shared Access before a first host accepted the
 *    tag: Invalid Input;
 *  - Free and Contiguous take the lowest free blocks first (Free splits
 *    across holes, one extent per piece): deterministic;
 *  - Tag-based release takes the host's whole share of the tag (length 0
 *    or exactly that; smaller: Invalid Input, larger: Resources
 *    Exhausted); a forced Prescriptive release of part of an extent:
 *    Invalid Input (extents are not split); a forced release touching
 *    part of a pending offer kills the whole offer;
 *  - a forced release never answers Retry Required: Forced Capacity
 *    Release records that do not fit the host's log are dropped; it gives
 *    the manager no record (no host answered);
 *  - Set DC Region Config posts Region Configuration Updated to every
 *    host (Retry Required, changing nothing, if one host's log is full);
 *  - Remove Reference when the manager holds none: Success, no change;
 *  - hosts ignore Forced Capacity Release as Linux does (their view keeps
 *    the extent), unless the fabric was made with DAXM_FABRIC_HOSTS_REVOKE.
 *
 * When messages move. The device and its hosts exchange only messages,
 * and only inside daxm_fabric_deliver() and daxm_fabric_run():
 *  - a command changes the device and appends records to the addressed
 *    host's DC event log (an add: Add Capacity records chained with More;
 *    an unforced release: Release Capacity records); the host sees
 *    nothing yet, and its region0 is unchanged;
 *  - delivering to host N lets it read its log and answer by itself, as
 *    its kernel's event handler would. An offer goes through the host
 *    model's checks (alignment, host-wide tag uniqueness, all-or-nothing
 *    tag groups, sequence numbers): accepted extents appear in region0 of
 *    the host's context, whose queue gets one DAXM_EVENT_GROUP event, and
 *    the host's Add Dynamic Capacity Response goes to the device, which
 *    posts an Add Capacity Response chain with the host id to the
 *    manager's queue. A release request is applied to region0 as
 *    daxm_region_release_extents() would (deferred while a device maps
 *    the extents); the extents the host gives back go to the device as
 *    Release Dynamic Capacity, which posts a Capacity Released chain;
 *  - a release the host completes later (its last device on the tag
 *    shrunk or deleted, a pin put, through the host context) waits in the
 *    host until the next delivery to it: calls on a host context never
 *    touch the fabric.
 * Between deliveries an offer stays pending, as on a real fabric while the
 * host has not read its log, so a manager can act in that window: a forced
 * release of a pending offer kills it; the host's answer then gets Invalid
 * Physical Address and the manager an Add Capacity Response of length 0.
 *
 * Memory. The device's capacity is memory the hosts share: a view of a
 * device on a host context (daxm_dev_map()) maps the fabric's memory (one
 * sparse shared-memory file per fabric, created at the first map), each
 * device range piece by piece through that host's decoding, i.e. the
 * physical capacity behind each of its accepted extents. Hosts sharing a
 * tag (Enable Shared Access) therefore read and write the same bytes, even
 * when a host reaches them at other DPAs than the first one (another
 * region, another order): a store through one host's view is seen at once
 * through every other's. Rules:
 *  - capacity of a Read-Only DC region: a PROT_WRITE view is -EACCES; a
 *    PROT_READ view reads it;
 *  - a forced release takes the host's access when the command runs: its
 *    views that map that capacity are revoked (inaccessible: an access
 *    faults), whether the host keeps the extent (Linux) or drops it at its
 *    next delivery (DAXM_FABRIC_HOSTS_REVOKE); a new view of a device on
 *    an extent the host kept maps nothing there (inaccessible);
 *  - bytes go only when the device frees capacity and sanitizes it (the
 *    region's sanitize on release, or a release asking for it with
 *    DAXM_FMAPI_RELEASE_SANITIZE): they then read back as zeros. Capacity
 *    freed without sanitize keeps its bytes for the next host it is
 *    offered to, as on a device without sanitize. Shared capacity keeps
 *    its bytes while any host holds or is offered the tag or the manager
 *    holds a reference; one host giving its share back changes nothing
 *    for the others;
 *  - pending and dead offers map nothing; a host context that is closed
 *    (a host that is down) has its views of fabric memory revoked.
 * A host's views of its other regions (made with daxm_region_new() on the
 * host context) keep the context's private emulated memory.
 *
 * Threads: any call from any thread. Commands, deliveries and the
 * manager's queue are serialized by the fabric's lock; each host context
 * keeps its own. A delivery takes the fabric's lock, then the host's,
 * never the other way round, and calls on a host context take only the
 * host's lock (daxm_dev_map() also takes the fabric memory's own lock,
 * which nothing is taken under). What a host's views need of the device
 * (its decoding) is handed to the host under both locks, inside the
 * delivery that changes it and at the end of the command that does.
 * Callbacks (the fabric's event function, a host context's event and log
 * functions) run once every lock is released, on the thread of the call,
 * and may call back into the library.
 *
 * Lifetime: the fabric keeps its host contexts (the hosts run while the
 * fabric exists, whether or not the caller holds their contexts); a host
 * context does not keep the fabric. The fabric's last daxm_fabric_unref()
 * closes every host context: calls on it and on its objects then answer
 * -ENODEV (NULL, DAXM_INVALID), as after a context's last daxm_unref(),
 * and a host context pointer the caller took stays valid until the
 * caller's own last daxm_unref() of it. References may be dropped in any
 * order.
 *
 * Sanitizing is the device's (a region's sanitize on release, a release's
 * sanitize flag; see "Memory" above): a host's region0 does not discard
 * the bytes of capacity it gives back, as DAXM_REGION_NO_SANITIZE regions
 * do not.
 */
struct daxm_fabric;

/* Profiles (struct daxm_fabric_spec.profile): the device imitated. */
#define DAXM_FABRIC_PROFILE_SPEC  1 /* CXL r3.2 as the model reads it:
                                       1-256 hosts, every policy, sharing,
                                       references and List Tags        */
#define DAXM_FABRIC_PROFILE_QEMU  2 /* upstream QEMU's DCD emulation: one
                                       host (Host ID ignored except by
                                       5603h), Prescriptive add and
                                       release only, no Sharable or
                                       sanitizing region, no tag budget
                                       (0 tags; tags dropped on accept:
                                       5603h lists them null), no
                                       manager events, generation number
                                       always 0, no 5606h-5608h
                                       (Unsupported), an 8-record event
                                       log that drops what does not fit
                                       (never Retry Required); every
                                       difference: Sources/DaxModel/
                                       Fabric/README.md, Profiles       */
#define DAXM_FABRIC_PROFILE_MHSLD 3 /* QEMU's multi-headed single logical
                                       device: 1-8 heads, no Sharable
                                       region, no Enable Shared Access
                                       (Invalid Input), no references or
                                       List Tags (Unsupported)          */

#define DAXM_FABRIC_MAX_REGIONS 8
#define DAXM_FABRIC_MAX_HOSTS 256 /* the spec profile's; mhsld: 8; qemu: 1 */

/* struct daxm_fabric_region.flags (the DSMAS flags and Attributes2). */
#define DAXM_FABRIC_REGION_SHARABLE   0x1u /* Enable Shared Access may reach
                                              its capacity (spec profile) */
#define DAXM_FABRIC_REGION_READ_ONLY  0x2u /* reported in Attributes1;
                                              hosts map it read-only (a
                                              writable view: -EACCES)     */
#define DAXM_FABRIC_REGION_SANITIZE   0x4u /* sanitize on release         */
#define DAXM_FABRIC_REGION_SANITIZE_FIXED 0x8u /* Set DC Region Config cannot
                                              change sanitize on release, and
                                              a release cannot ask for it
                                              unless it is on             */

/* struct daxm_fabric_spec.flags */
#define DAXM_FABRIC_HOSTS_REVOKE 0x1u /* hosts drop force-released extents
                                         at once (their region0 is made with
                                         DAXM_REGION_REVOKE); otherwise they
                                         log and ignore them, as Linux does */

/*
 * struct daxm_fabric_region - one DC region.
 * @base:       start DPA; a multiple of 256 MiB. Regions are given in
 *              increasing DPA order and must not overlap.
 * @decode_len: bytes; a non-zero multiple of 256 MiB, base + decode_len
 *              must not pass 2^64.
 * @block_size: a power of two from 64 bytes to 2^51, in
 *              @supported_blk_sz_mask; default 2 MiB.
 * @supported_blk_sz_mask: bit n = block size 2^n supported (bits 5:0 and
 *              63:52 zero); 0 (default) = only @block_size.
 * @flags:      DAXM_FABRIC_REGION_*.
 */
struct daxm_fabric_region {
	uint64_t base;
	uint64_t decode_len;
	uint64_t block_size;
	uint64_t supported_blk_sz_mask;
	uint32_t flags;
	uint32_t reserved;
};

/*
 * struct daxm_fabric_spec - how to build a fabric. Fill it with
 * daxm_fabric_spec_init() first, then set what you need.
 * @struct_size: sizeof(struct daxm_fabric_spec) as the caller compiled
 *               it; set by daxm_fabric_spec_init().
 * @profile:     DAXM_FABRIC_PROFILE_* (default SPEC).
 * @num_regions: 1..8 (default 0: the caller must set it and the regions).
 * @num_hosts:   hosts 0..num_hosts-1: 1 to the profile's maximum
 *               (default 1).
 * @regions:     the first @num_regions are used.
 * @max_extents_per_host: extents each LD supports, accepted and pending
 *               together: 1..16777216 (default 512, as QEMU).
 * @max_tags_per_host: distinct tags each LD supports (default 64; 0 = the
 *               hosts can hold only untagged capacity).
 * @event_log_depth: records each LD's DC event log holds, >= 1 (default
 *               64; QEMU's is 8). A command that would overflow it
 *               answers Retry Required.
 * @flags:       DAXM_FABRIC_HOSTS_REVOKE.
 */
struct daxm_fabric_spec {
	uint32_t struct_size;
	uint32_t profile;
	uint32_t num_regions;
	uint32_t num_hosts;
	struct daxm_fabric_region regions[DAXM_FABRIC_MAX_REGIONS];
	uint32_t max_extents_per_host;
	uint32_t max_tags_per_host;
	uint32_t event_log_depth;
	uint32_t flags;
};

/*
 * daxm_fabric_spec_init - fill @spec with the defaults listed at struct
 * daxm_fabric_spec and struct daxm_fabric_region (every region's base
 * and decode_len 0: the caller sets them). NULL is a no-op.
 */
void daxm_fabric_spec_init(struct daxm_fabric_spec *spec);

/*
 * daxm_fabric_new - build a fabric: the device, and one host context per
 * LD, each holding one sparse region0 that spans the DPA range from
 * region 0's base to the last region's end (so an extent's region offset
 * on a host is its DPA minus region 0's base), with no capacity yet.
 * @fabric: out; receives the fabric, holding one reference; NULL on
 *          failure.
 * Returns 0, or -EINVAL (NULL argument, struct_size too small, unknown
 * profile or flags, 0 or more than 8 regions, a base or decode_len not a
 * multiple of 256 MiB, regions out of order or overlapping, a bad block
 * size or mask, a host count out of 1..the profile's maximum, a budget
 * out of range, a Sharable region in a profile without sharing, a
 * sanitizing region under qemu), -ENOMEM.
 * daxm_last_error() names the field.
 */
int daxm_fabric_new(const struct daxm_fabric_spec *spec,
		    struct daxm_fabric **fabric);

/* daxm_fabric_ref - one more reference on @fabric; returns it (NULL stays
 * NULL). */
struct daxm_fabric *daxm_fabric_ref(struct daxm_fabric *fabric);

/*
 * daxm_fabric_unref - drop one reference; the last one frees the fabric
 * and closes its host contexts (see "Lifetime" above). NULL is a no-op.
 */
void daxm_fabric_unref(struct daxm_fabric *fabric);

/* daxm_fabric_get_nr_hosts - the number of hosts (1..256), or -EINVAL. */
int daxm_fabric_get_nr_hosts(struct daxm_fabric *fabric);

/*
 * daxm_fabric_get_host - host @host_id's context, with one reference the
 * caller drops with daxm_unref(). It is an ordinary struct daxm_ctx:
 * every daxm_* call works on it (regions, devices, tags, extents, events,
 * views, attributes, save, log and event functions), and the same pointer
 * is returned each time. Its region0 (sparse, align 2 MiB, profile
 * DAXM_PROFILE_6_12) gets its capacity only from the fabric:
 * daxm_region_add_extents() and daxm_region_release_extents() on it answer
 * -EPERM, and so does daxm_extent_set_tag() (the device, the manager and
 * the hosts sharing a tag know the capacity by its tag). A host context that panicked (daxm_set_panic_on_warn()) or that
 * the caller closed with unbalanced daxm_unref() calls is a host that is
 * down: deliveries to it do nothing, and its log keeps its records.
 * @ctx: out; NULL on failure.
 * Returns 0, or -EINVAL (NULL argument), -ENOENT (@host_id is not below
 * the number of hosts), -ENODEV (the host's context was closed by
 * unbalanced daxm_unref() calls).
 */
int daxm_fabric_get_host(struct daxm_fabric *fabric, unsigned int host_id,
			 struct daxm_ctx **ctx);

/*
 * daxm_fabric_deliver - let host @host_id read its DC event log and
 * answer, as described in "When messages move" above; also sends the
 * releases that host completed since its last delivery.
 * Returns the number of answers the host sent to the device (>= 0; each
 * gave the manager one record chain, or, for an answer the device refused,
 * none except for a dead offer), or -EINVAL (NULL), -ENOENT (no such
 * host).
 */
int daxm_fabric_deliver(struct daxm_fabric *fabric, unsigned int host_id);

/*
 * daxm_fabric_get_log_overflows - records host @host_id's DC event log
 * dropped because it was full: the spec's Overflow Error Count, which a
 * host reads with Get Event Records (Linux only logs it). Under spec and
 * mhsld only Forced Capacity Release records are ever dropped (every other
 * command answers Retry Required instead); the host then keeps the
 * revoked extents and may later name them in an answer the device
 * refuses. Under qemu any record past the log's depth is dropped. The
 * count never decreases and is saved with the fabric.
 * Returns the count (>= 0, clamped to INT_MAX), or -EINVAL (NULL),
 * -ENOENT (no such host).
 */
int daxm_fabric_get_log_overflows(struct daxm_fabric *fabric,
				  unsigned int host_id);

/*
 * daxm_fabric_run - deliver to every host, in host order, round after
 * round until a round sends nothing and every log is empty (at most 8
 * rounds). Returns the number of answers sent (>= 0), or -EINVAL.
 */
int daxm_fabric_run(struct daxm_fabric *fabric);

/* CXL command return codes (the spec's Command Return Codes table; the
 * values of libcxlmi's CXLMI_RET_*), the ones this model returns. */
#define DAXM_CXL_RC_SUCCESS                  0x00
#define DAXM_CXL_RC_INVALID_INPUT            0x02 /* CXLMI_RET_INPUT    */
#define DAXM_CXL_RC_UNSUPPORTED              0x03
#define DAXM_CXL_RC_INTERNAL_ERROR           0x04
#define DAXM_CXL_RC_RETRY_REQUIRED           0x05 /* CXLMI_RET_RETRY    */
#define DAXM_CXL_RC_BUSY                     0x06
#define DAXM_CXL_RC_INVALID_PHYSICAL_ADDRESS 0x0f /* CXLMI_RET_PADDR    */
#define DAXM_CXL_RC_INVALID_SECURITY_STATE   0x13
#define DAXM_CXL_RC_INVALID_PAYLOAD_LENGTH   0x16
#define DAXM_CXL_RC_RESOURCES_EXHAUSTED      0x1d
#define DAXM_CXL_RC_INVALID_EXTENT_LIST      0x1e /* CXLMI_RET_EXTLIST  */

/*
 * daxm_retcode_tostr - the spec's name of CXL return code @code
 * ("Invalid Input"), static storage; NULL for a code this library does
 * not define (negative errnos included).
 */
const char *daxm_retcode_tostr(int code);

/* Selection policies (struct daxm_fmapi_initiate_dc_add_req.selection_policy,
 * bits 3:0). Free, Contiguous and Prescriptive are the bits 0-2 of
 * capacity_selection_policies; Enable Shared Access is never advertised. */
#define DAXM_FMAPI_SELECTION_POLICY_FREE                 0x0
#define DAXM_FMAPI_SELECTION_POLICY_CONTIGUOUS           0x1
#define DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE         0x2
#define DAXM_FMAPI_SELECTION_POLICY_ENABLE_SHARED_ACCESS 0x3

/* struct daxm_fmapi_initiate_dc_release_req.flags: bits 3:0 the removal
 * policy (bit n of capacity_removal_policies), bit 4 forced removal,
 * bit 5 sanitize on release. */
#define DAXM_FMAPI_REMOVAL_POLICY_TAG_BASED    0x0
#define DAXM_FMAPI_REMOVAL_POLICY_PRESCRIPTIVE 0x1
#define DAXM_FMAPI_RELEASE_FORCED              0x10
#define DAXM_FMAPI_RELEASE_SANITIZE            0x20

/* Region attributes (struct daxm_fmapi_dc_region_config). */
#define DAXM_FMAPI_REGION_FLAG_SHARABLE  0x08 /* flags bit 3 (Attributes1) */
#define DAXM_FMAPI_REGION_FLAG_READ_ONLY 0x40 /* flags bit 6 (Attributes1) */
#define DAXM_FMAPI_REGION_SANITIZE_ON_RELEASE 0x01 /* sanitize_on_release bit 0 */

/* List Tags (struct daxm_fmapi_dc_tag_info.flags, validity_bitmap). */
#define DAXM_FMAPI_TAG_FM_HOLDS_REFERENCE 0x01
#define DAXM_FMAPI_TAGS_REF_BITMAPS_VALID         0x01
#define DAXM_FMAPI_TAGS_PENDING_REF_BITMAPS_VALID 0x02

/*
 * DAXM_FMAPI_SIZE - bytes of a request or response @type whose flexible
 * array @member holds @n entries, e.g.
 *   size_t sz = DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_add_req,
 *                               extents, 2);
 *   req = calloc(1, sz); ... daxm_fmapi_initiate_dc_add(fabric, req, sz);
 */
#define DAXM_FMAPI_SIZE(type, member, n) \
	(sizeof(type) + (size_t)(n) * sizeof(((type *)0)->member[0]))

/*
 * struct daxm_fmapi_extent - one Dynamic Capacity extent (the spec's
 * 40-byte extent record): start DPA (in the addressed host's DPA space),
 * length in bytes, tag (all zero = untagged), shared extent sequence
 * number. The element of every extents[] below.
 */
struct daxm_fmapi_extent {
	uint64_t start_dpa;
	uint64_t len;
	uint8_t tag[0x10];
	uint16_t shared_seq;
	uint8_t rsvd[6];
};

/* 5600h Get DCD Info: what the device supports. */
struct daxm_fmapi_get_dcd_info_rsp {
	uint8_t num_hosts;                 /* 1..255 (a 256-host fabric
	                                      reports 255: the field is 8 bits;
	                                      daxm_fabric_get_nr_hosts() is
	                                      exact)                          */
	uint8_t num_supported_dc_regions;  /* 1..8                            */
	uint8_t rsvd1[0x2];
	uint16_t capacity_selection_policies; /* bit n: policy n              */
	uint8_t rsvd2[0x2];
	uint16_t capacity_removal_policies;   /* bit n: policy n              */
	uint8_t sanitize_on_release_config_mask; /* bit n: region n's sanitize
	                                      on release can be configured    */
	uint8_t rsvd3;
	uint64_t total_dynamic_capacity;   /* bytes (a multiple of 256 MiB)   */
	/* Bit n: block size 2^n; only the first num_supported_dc_regions are
	 * valid, the others are 0. */
	uint64_t region_0_supported_blk_sz_mask;
	uint64_t region_1_supported_blk_sz_mask;
	uint64_t region_2_supported_blk_sz_mask;
	uint64_t region_3_supported_blk_sz_mask;
	uint64_t region_4_supported_blk_sz_mask;
	uint64_t region_5_supported_blk_sz_mask;
	uint64_t region_6_supported_blk_sz_mask;
	uint64_t region_7_supported_blk_sz_mask;
};

/*
 * daxm_fmapi_get_dcd_info - Get DCD Info (5600h). Always succeeds on a
 * live fabric. Returns 0, or -EINVAL (NULL argument).
 */
int daxm_fmapi_get_dcd_info(struct daxm_fabric *fabric,
			    struct daxm_fmapi_get_dcd_info_rsp *ret);

/* 5601h Get Host DC Region Configuration. */
struct daxm_fmapi_get_host_dc_region_config_req {
	uint16_t host_id;
	uint8_t region_cnt;      /* at most 8 are returned */
	uint8_t start_region_id;
};

struct daxm_fmapi_dc_region_config {
	uint64_t base;
	uint64_t decode_len;      /* bytes                                    */
	uint64_t region_len;
	uint64_t block_size;
	uint8_t flags;            /* Attributes1: DAXM_FMAPI_REGION_FLAG_*    */
	uint8_t rsvd[3];
	uint8_t sanitize_on_release; /* Attributes2 bit 0                     */
	uint8_t rsvd2[3];
};

struct daxm_fmapi_get_host_dc_region_config_rsp {
	uint16_t host_id;
	uint8_t num_regions;      /* regions the device has                   */
	uint8_t regions_returned; /* entries of region_configs filled; the
	                             others are zero                          */
	struct daxm_fmapi_dc_region_config region_configs[8];
	/* This host's (LD's) budgets: accepted and pending extents count. */
	uint32_t num_extents_supported;
	uint32_t num_extents_available;
	uint32_t num_tags_supported;
	uint32_t num_tags_available;
};

/*
 * daxm_fmapi_get_dc_reg_config - Get Host DC Region Configuration
 * (5601h): regions from start_region_id, at most region_cnt (and 8), and
 * host_id's budgets. Returns 0, DAXM_CXL_RC_INVALID_INPUT (no such host;
 * start_region_id not below the number of regions), or -EINVAL (NULL).
 */
int daxm_fmapi_get_dc_reg_config(struct daxm_fabric *fabric,
		const struct daxm_fmapi_get_host_dc_region_config_req *in,
		struct daxm_fmapi_get_host_dc_region_config_rsp *ret);

/* 5602h Set DC Region Configuration. */
struct daxm_fmapi_set_dc_region_config_req {
	uint8_t region_id;
	uint8_t rsvd[3];
	uint64_t block_sz;
	uint8_t sanitize_on_release; /* bit 0; other bits reserved */
	uint8_t rsvd2[3];
};

/*
 * daxm_fmapi_set_dc_region_config - Set DC Region Configuration (5602h).
 * Checks, in order: DAXM_CXL_RC_INVALID_INPUT (no such region; block_sz
 * not a power of two in the region's mask, or not dividing its length);
 * DAXM_CXL_RC_UNSUPPORTED (a sanitize change on a region made with
 * DAXM_FABRIC_REGION_SANITIZE_FIXED; any block of the region allocated,
 * pending or held by a manager reference, or any host DPA of it in use);
 * DAXM_CXL_RC_RETRY_REQUIRED (a host's log is full). The same
 * configuration succeeds with no event; a change posts Region
 * Configuration Updated to every host's log. Returns 0, one of those, or
 * -EINVAL (NULL).
 */
int daxm_fmapi_set_dc_region_config(struct daxm_fabric *fabric,
		const struct daxm_fmapi_set_dc_region_config_req *in);

/* 5603h Get DC Region Extent Lists. */
struct daxm_fmapi_get_dc_region_ext_list_req {
	uint16_t host_id;
	uint8_t rsvd[2];
	uint32_t extent_count;    /* at most this many; 0: only the totals   */
	uint32_t start_ext_index;
};

struct daxm_fmapi_get_dc_region_ext_list_rsp {
	uint16_t host_id;
	uint8_t rsvd1[2];
	uint32_t start_ext_index;
	uint32_t extents_returned;
	uint32_t total_extents;
	uint32_t list_generation_num; /* changes whenever the host's list does
	                                 (wraps at 2^32)                      */
	uint8_t rsvd2[4];
	struct daxm_fmapi_extent extents[];
};

/*
 * daxm_fmapi_get_dc_region_ext_list - Get DC Region Extent Lists (5603h):
 * host_id's accepted extents (never pending or dead ones) in DPA order,
 * from start_ext_index, at most extent_count of them. To read a whole list
 * consistently, page until total_extents and start again if
 * list_generation_num changed between pages.
 * @ret_size: bytes at @ret; at least
 *            DAXM_FMAPI_SIZE(struct daxm_fmapi_get_dc_region_ext_list_rsp,
 *            extents, in->extent_count).
 * Returns 0, DAXM_CXL_RC_INVALID_INPUT (no such host; start_ext_index
 * past total_extents), -EINVAL (NULL), -ERANGE (@ret_size too small).
 */
int daxm_fmapi_get_dc_region_ext_list(struct daxm_fabric *fabric,
		const struct daxm_fmapi_get_dc_region_ext_list_req *in,
		struct daxm_fmapi_get_dc_region_ext_list_rsp *ret,
		size_t ret_size);

/* 5604h Initiate Dynamic Capacity Add. */
struct daxm_fmapi_initiate_dc_add_req {
	uint16_t host_id;
	uint8_t selection_policy; /* bits 3:0: DAXM_FMAPI_SELECTION_POLICY_* */
	uint8_t region_num;       /* reserved for Prescriptive               */
	uint64_t length;          /* reserved for Prescriptive and Enable
	                             Shared Access                           */
	uint8_t tag[0x10];        /* reserved for Prescriptive (each extent
	                             carries its own)                        */
	uint32_t ext_count;       /* Prescriptive only                       */
	struct daxm_fmapi_extent extents[]; /* Prescriptive only             */
};

/*
 * daxm_fmapi_initiate_dc_add - Initiate Dynamic Capacity Add (5604h):
 * offer capacity to host_id. Success means the offer started: the blocks
 * are reserved and the records are in that host's log. The host answers
 * at the next delivery; the manager learns the outcome from its Add
 * Capacity Response record (length 0: nothing was accepted).
 * Policies: Free (the device picks blocks of region_num, lowest first,
 * splitting across holes), Contiguous (one run), Prescriptive (the
 * extents listed; their shared_seq is ignored: the device numbers each
 * tag's extents 0..n-1 in list order), Enable Shared Access (tag's
 * existing capacity, accepted by a first host, in Sharable region_num;
 * the host gets its own DPAs: the tag's own when region_num is the tag's
 * region and they are free on that host, else lowest first fit, with
 * sequence numbers 0..n-1 in the tag's order).
 * Checks, in order (the first failure changes nothing):
 *  1. DAXM_CXL_RC_INVALID_INPUT: no such host; a policy the profile does
 *     not offer; Free/Contiguous: no such region, length 0 or not a
 *     multiple of the block size, a non-null tag that already exists;
 *     Prescriptive: an extent's non-null tag that already exists; Enable
 *     Shared Access: a null or unknown tag, a region that does not exist
 *     or is not Sharable, a tag mapped through a non-Sharable region, a
 *     tag whose capacity is not a multiple of the region's block size, a
 *     tag no host accepted yet, a host that holds or is offered it;
 *  2. DAXM_CXL_RC_INVALID_EXTENT_LIST (Prescriptive): ext_count 0 or over
 *     the host's extent budget; an extent empty, not block aligned, not
 *     inside one DC region, in another region than the first, overlapping
 *     an earlier one, overlapping DPAs accessible or pending to the host,
 *     or on blocks allocated to another host or tag;
 *  3. DAXM_CXL_RC_RESOURCES_EXHAUSTED: too few free blocks (no run long
 *     enough for Contiguous), no room in the host's DPA space (Enable
 *     Shared Access), or the host's extent or tag budget exceeded;
 *  4. DAXM_CXL_RC_RETRY_REQUIRED: the host's log lacks room for the
 *     records.
 * @in_size: bytes at @in: at least sizeof(*in), and for Prescriptive at
 *           least DAXM_FMAPI_SIZE(struct daxm_fmapi_initiate_dc_add_req,
 *           extents, in->ext_count) (extents are read only then).
 * Returns 0, one of those, or -EINVAL (NULL, or @in_size too small).
 */
int daxm_fmapi_initiate_dc_add(struct daxm_fabric *fabric,
		const struct daxm_fmapi_initiate_dc_add_req *in, size_t in_size);

/* 5605h Initiate Dynamic Capacity Release. */
struct daxm_fmapi_initiate_dc_release_req {
	uint16_t host_id;
	uint8_t flags;    /* DAXM_FMAPI_REMOVAL_POLICY_* | DAXM_FMAPI_RELEASE_*;
	                     bits 7:6 reserved                              */
	uint8_t rsvd;
	uint64_t length;  /* Tag-based: 0 or the host's whole share of the
	                     tag; reserved for Prescriptive                 */
	uint8_t tag[0x10];/* Tag-based only                                 */
	uint32_t ext_count;                 /* Prescriptive only            */
	struct daxm_fmapi_extent extents[]; /* Prescriptive only: start_dpa
	                                       and len (tag and shared_seq
	                                       are ignored)                 */
};

/*
 * daxm_fmapi_initiate_dc_release - Initiate Dynamic Capacity Release
 * (5605h). Unforced, it only asks: Release Capacity records go to the
 * host's log, and nothing changes until the host gives the capacity back
 * (at a delivery; the manager then gets Capacity Released). Forced, the
 * device acts at once: accepted capacity is revoked (Forced Capacity
 * Release records are posted, or dropped if the log is full), and a
 * pending offer it touches is dead (no record; its Add Capacity records
 * stay in the log). Shared capacity (a tag in a Sharable region) and its
 * tag stay until no host holds or is offered it and the manager holds no
 * reference; it is then freed, and sanitized if the region or a release
 * asked.
 * Checks, in order (the first failure changes nothing):
 *  1. DAXM_CXL_RC_INVALID_INPUT: no such host; a removal policy the
 *     profile lacks; Tag-based: a null tag, or one the host holds no
 *     capacity of;
 *  2. Tag-based: DAXM_CXL_RC_RESOURCES_EXHAUSTED (length over the host's
 *     share of the tag), DAXM_CXL_RC_INVALID_INPUT (a length other than 0
 *     below it), DAXM_CXL_RC_INVALID_PHYSICAL_ADDRESS (part of it still
 *     pending, unforced);
 *     Prescriptive: DAXM_CXL_RC_INVALID_EXTENT_LIST (ext_count 0 or over
 *     the host's extent budget; an extent empty, not block aligned or not
 *     inside one DC region), DAXM_CXL_RC_INVALID_PHYSICAL_ADDRESS (a DPA
 *     neither accessible nor pending to the host; pending capacity,
 *     unforced), DAXM_CXL_RC_INVALID_INPUT (the list covers part of the
 *     host's share of a Sharable tag; forced, part of an accepted extent);
 *  3. DAXM_CXL_RC_INVALID_INPUT: sanitize asked on a region that cannot
 *     sanitize;
 *  4. DAXM_CXL_RC_RETRY_REQUIRED (unforced): the host's log lacks room.
 * @in_size: bytes at @in, as for daxm_fmapi_initiate_dc_add() (extents
 *           are read only for Prescriptive).
 * Returns 0, one of those, or -EINVAL (NULL, @in_size too small).
 */
int daxm_fmapi_initiate_dc_release(struct daxm_fabric *fabric,
		const struct daxm_fmapi_initiate_dc_release_req *in,
		size_t in_size);

/* 5606h Dynamic Capacity Add Reference, 5607h Remove Reference. */
struct daxm_fmapi_dc_add_ref_req {
	uint8_t tag[0x10];
};

struct daxm_fmapi_dc_remove_ref_req {
	uint8_t tag[0x10];
};

/*
 * daxm_fmapi_dc_add_reference - Dynamic Capacity Add Reference (5606h):
 * the manager keeps a Sharable tag's capacity (and bytes) even when no
 * host holds it. Idempotent. Returns 0, DAXM_CXL_RC_UNSUPPORTED (the
 * profile has no references), DAXM_CXL_RC_INVALID_INPUT (no Sharable
 * capacity has that tag), or -EINVAL (NULL).
 */
int daxm_fmapi_dc_add_reference(struct daxm_fabric *fabric,
				const struct daxm_fmapi_dc_add_ref_req *in);

/*
 * daxm_fmapi_dc_remove_reference - Dynamic Capacity Remove Reference
 * (5607h): drops the manager's reference; when no host holds or is offered
 * the tag, its capacity is freed (sanitized if asked) and the tag is gone.
 * Removing a reference not held succeeds and changes nothing. Returns as
 * daxm_fmapi_dc_add_reference().
 */
int daxm_fmapi_dc_remove_reference(struct daxm_fabric *fabric,
				   const struct daxm_fmapi_dc_remove_ref_req *in);

/* 5608h Dynamic Capacity List Tags. */
struct daxm_fmapi_dc_list_tags_req {
	uint32_t start_idx;
	uint32_t tags_count; /* at most this many; 0: only the totals */
};

struct daxm_fmapi_dc_tag_info {
	uint8_t tag[0x10];
	uint8_t flags;                  /* DAXM_FMAPI_TAG_FM_HOLDS_REFERENCE */
	uint8_t rsvd[3];
	uint8_t ref_bitmap[0x20];       /* bit n (byte n/8, bit n%8): LD n
	                                   accepted the capacity            */
	uint8_t pending_ref_bitmap[0x20]; /* LD n was offered it and has not
	                                   answered yet                     */
};

struct daxm_fmapi_dc_list_tags_rsp {
	uint32_t generation_num;    /* changes whenever the rest of the
	                               payload would (wraps at 2^32)          */
	uint32_t total_num_tags;
	uint32_t num_tags_returned;
	uint8_t validity_bitmap;    /* both DAXM_FMAPI_TAGS_*_VALID bits     */
	uint8_t rsvd[3];
	struct daxm_fmapi_dc_tag_info tags_list[];
};

/*
 * daxm_fmapi_dc_list_tags - Dynamic Capacity List Tags (5608h): the live
 * tags in creation order, from start_idx, at most tags_count, with the
 * hosts that accepted or are offered each and the manager's reference: what
 * a manager needs to rebuild its state after a restart (with
 * daxm_fmapi_get_dc_region_ext_list() per host).
 * @ret_size: bytes at @ret; at least
 *            DAXM_FMAPI_SIZE(struct daxm_fmapi_dc_list_tags_rsp,
 *            tags_list, in->tags_count).
 * Returns 0, DAXM_CXL_RC_UNSUPPORTED (the profile has no List Tags),
 * DAXM_CXL_RC_INVALID_INPUT (start_idx past total_num_tags), -EINVAL
 * (NULL), -ERANGE (@ret_size too small).
 */
int daxm_fmapi_dc_list_tags(struct daxm_fabric *fabric,
			    const struct daxm_fmapi_dc_list_tags_req *in,
			    struct daxm_fmapi_dc_list_tags_rsp *ret,
			    size_t ret_size);

/* Dynamic Capacity event types (struct daxm_fabric_event.event_type).
 * 0-3 go to a host's DC event log (read by the host at a delivery);
 * 4 and 5 are reported only to the manager. */
#define DAXM_DC_EVENT_ADD_CAPACITY             0x00
#define DAXM_DC_EVENT_RELEASE_CAPACITY         0x01
#define DAXM_DC_EVENT_FORCED_CAPACITY_RELEASE  0x02
#define DAXM_DC_EVENT_REGION_CONFIG_UPDATED    0x03
#define DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE    0x04
#define DAXM_DC_EVENT_CAPACITY_RELEASED        0x05

/* struct daxm_fabric_event.flags */
#define DAXM_DC_EVENT_MORE 0x01 /* the chain goes on with the next record */

/*
 * struct daxm_fabric_event - one record of the manager's queue (the
 * spec's Dynamic Capacity Event Record): a host answered.
 * @event_type:   DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE (the host accepted
 *                @extent; one record of length 0 when it accepted nothing
 *                or answered a dead offer) or DAXM_DC_EVENT_CAPACITY_RELEASED
 *                (the host gave @extent back).
 * @region_index: the extent's DC region (0 for a length-0 record).
 * @host_id:      the host that answered.
 * @flags:        DAXM_DC_EVENT_MORE on every record of a chain but the
 *                last: one host answer is one chain.
 * @extent:       in that host's DPA space; shared_seq is the host's.
 * @num_avail_extents, @num_avail_tags: that host's budgets left when the
 *                record was posted.
 */
struct daxm_fabric_event {
	uint8_t event_type;
	uint8_t region_index;
	uint16_t host_id;
	uint32_t flags;
	struct daxm_fmapi_extent extent;
	uint32_t num_avail_extents;
	uint32_t num_avail_tags;
};

/*
 * daxm_fabric_next_event - take the oldest record off the manager's queue
 * into @out (the caller's storage). Records are queued only by deliveries.
 * Returns 0, or -EAGAIN (the queue is empty; @out is zeroed), -EINVAL
 * (NULL argument).
 */
int daxm_fabric_next_event(struct daxm_fabric *fabric,
			   struct daxm_fabric_event *out);

/* daxm_fabric_get_nr_events - records waiting in the manager's queue
 * (clamped to INT_MAX), or -EINVAL. */
int daxm_fabric_get_nr_events(struct daxm_fabric *fabric);

/*
 * daxm_fabric_event_fn - called after a delivery (daxm_fabric_deliver(),
 * daxm_fabric_run()) that queued manager records, on the thread that made
 * it, with no lock held (it may drain the queue).
 * daxm_fabric_get_userdata(@fabric) finds the caller's state.
 */
typedef void (*daxm_fabric_event_fn)(struct daxm_fabric *fabric);

/* daxm_fabric_set_event_fn - install (NULL: remove) the notification.
 * NULL @fabric is a no-op. */
void daxm_fabric_set_event_fn(struct daxm_fabric *fabric,
			      daxm_fabric_event_fn fn);

/* daxm_fabric_set_userdata / daxm_fabric_get_userdata - one caller
 * pointer per fabric, for its event and log functions. NULL @fabric:
 * no-op / NULL. */
void daxm_fabric_set_userdata(struct daxm_fabric *fabric, void *userdata);
void *daxm_fabric_get_userdata(struct daxm_fabric *fabric);

/*
 * daxm_fabric_log_fn - the fabric's log callback: daxm_log_fn's shape with
 * the fabric in place of the context. Commands the device refuses are
 * logged at LOG_INFO, misuse of the C API at LOG_ERR (the message is
 * daxm_last_error()'s); in debug builds a broken internal invariant is
 * logged at LOG_ERR from @fn "verifyAfterCall". Called with no lock held.
 */
typedef void (*daxm_fabric_log_fn)(struct daxm_fabric *fabric, int priority,
				   const char *file, int line, const char *fn,
				   const char *msg);

/* daxm_fabric_set_log_fn - replace the fabric's logger; NULL restores the
 * default ("libdaxmodel: <fn>: <message>" on stderr). Only messages at or
 * below the log priority are delivered; it starts at LOG_WARNING, or at
 * the environment variable DAXM_LOG (as daxm_new()). NULL @fabric is a
 * no-op. Host contexts keep their own log settings. */
void daxm_fabric_set_log_fn(struct daxm_fabric *fabric, daxm_fabric_log_fn fn);

/* daxm_fabric_get_log_priority - the current priority, or -EINVAL.
 * daxm_fabric_set_log_priority - set it (0..7; others clamp). */
int daxm_fabric_get_log_priority(struct daxm_fabric *fabric);
void daxm_fabric_set_log_priority(struct daxm_fabric *fabric, int priority);

/*
 * daxm_fabric_save - write the whole fabric to @path as one versioned JSON
 * document (format "libdaxmodel-fabric-state"): the device (its profile,
 * regions' current configuration, every LD's budgets, DC event log, extent
 * list with generation and unanswered offers, every tag with its
 * references and bitmaps, the manager's unread records), and every host:
 * its context's whole model as daxm_ctx_save() writes it, plus what the
 * host has not told the device yet (releases it completed since its last
 * delivery, answers in flight). The same rules as daxm_ctx_save(): saving
 * is atomic (a temporary of its own, created exclusively, in the same
 * directory; fsync; rename; fsync of the directory), so saves racing from
 * several threads or processes never mix and a process killed at any
 * point leaves the old file or the new one; @path is used byte for byte;
 * every document saved loads back into the same fabric, unless a host
 * context was used around the fabric (an extent of its region0 re-tagged
 * with daxm_extent_set_tag() or its tag attribute: the host then holds
 * what the device does not list, which daxm_fabric_load() refuses). The
 * document is taken under the fabric's lock and each host context's lock
 * (fabric first, as a delivery), so it is one consistent moment of the
 * device and every host; the file is written after the locks are
 * released. Not
 * saved, as for a context: log and event functions, userdata, log
 * priorities (of the fabric and of each host context), views.
 * Returns 0, or -EINVAL (NULL @fabric, NULL or empty @path),
 * -ENAMETOOLONG (no NUL in @path's first 4096 bytes), -ENODEV (a host
 * context was closed by unbalanced daxm_unref() calls: its model is gone),
 * or the errno of the file operation that failed.
 */
int daxm_fabric_save(struct daxm_fabric *fabric, const char *path);

/*
 * daxm_fabric_load - create a fabric from a document written by
 * daxm_fabric_save(). As daxm_ctx_load(): every field is validated, then
 * the device and each host (whose part is a context's state document,
 * checked with daxm_ctx_load()'s rules) are rebuilt and checked whole,
 * and the hosts against the device (each host's extents are the device's
 * list for it, except for messages still on their way); a damaged or
 * hand-edited file is refused with -EINVAL and a daxm_last_error()
 * message naming the bad field ("hosts[1].bus.regions[0]...", "device.
 * tags[0]..."). A context's state file is refused with -EINVAL (and
 * daxm_ctx_load() refuses a fabric's), the message naming the loader to
 * use. A refused load leaves nothing allocated.
 * @fabric: out; receives the new fabric (one reference), NULL on failure.
 * The loaded fabric is a new one, with new host contexts: it continues
 * exactly where the saved one was (the same answers to every FM command,
 * the same host sysfs, the manager's unread records, pending offers and
 * deferred releases; a later save of it may differ from the saved
 * fabric's only in the internal order numbers of extents and devices made
 * after the load, which rank the same), but it shares nothing with the
 * fabric that was saved. A host context pointer taken from that fabric
 * (daxm_fabric_get_host()) still belongs to it, not to the loaded one:
 * take the loaded fabric's hosts with daxm_fabric_get_host(). Its log
 * priority starts as daxm_fabric_new()'s (LOG_WARNING, or DAXM_LOG), and
 * so do its host contexts'. Loading takes time n log n in the document's
 * size.
 * Returns 0, or -EINVAL (NULL argument, a document refused),
 * -EFBIG (larger than 256 MiB), -ENAMETOOLONG, or the errno of opening
 * or reading @path.
 */
int daxm_fabric_load(const char *path, struct daxm_fabric **fabric);

/* ------------------------------------------------------------------ */
/* Iteration                                                           */
/* ------------------------------------------------------------------ */

#define daxm_region_foreach(ctx, region)                                   \
	for (region = daxm_region_get_first(ctx); region != NULL;          \
	     region = daxm_region_get_next(region))

#define daxm_region_foreach_safe(ctx, region, _region)                     \
	for (region = daxm_region_get_first(ctx),                          \
	     _region = region ? daxm_region_get_next(region) : NULL;       \
	     region != NULL;                                               \
	     region = _region,                                             \
	     _region = _region ? daxm_region_get_next(_region) : NULL)

#define daxm_dev_foreach(region, dev)                                      \
	for (dev = daxm_dev_get_first(region); dev != NULL;                \
	     dev = daxm_dev_get_next(dev))

/* Safe against destroying @dev inside the loop. */
#define daxm_dev_foreach_safe(region, dev, _dev)                           \
	for (dev = daxm_dev_get_first(region),                             \
	     _dev = dev ? daxm_dev_get_next(dev) : NULL;                   \
	     dev != NULL;                                                  \
	     dev = _dev, _dev = _dev ? daxm_dev_get_next(_dev) : NULL)

#define daxm_extent_foreach(region, extent)                                \
	for (extent = daxm_extent_get_first(region); extent != NULL;       \
	     extent = daxm_extent_get_next(extent))

#define daxm_mapping_foreach(dev, mapping)                                 \
	for (mapping = daxm_mapping_get_first(dev); mapping != NULL;       \
	     mapping = daxm_mapping_get_next(mapping))

/* Safe against shrinking away @mapping inside the loop. */
#define daxm_mapping_foreach_safe(dev, mapping, _mapping)                  \
	for (mapping = daxm_mapping_get_first(dev),                        \
	     _mapping = mapping ? daxm_mapping_get_next(mapping) : NULL;   \
	     mapping != NULL;                                              \
	     mapping = _mapping,                                           \
	     _mapping = _mapping ? daxm_mapping_get_next(_mapping) : NULL)

#ifdef __cplusplus
}
#endif

#endif /* DAXMODEL_H */
