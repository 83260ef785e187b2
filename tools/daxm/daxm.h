/*
 * daxm.h - what the files of the daxm command-line tool share.
 *
 * daxm is a daxctl-like tool over a saved libdaxmodel state file: each
 * invocation loads the model (daxm_ctx_load), runs one command and saves
 * the model again when the command changed it (daxm_ctx_save).
 *
 * Conventions of every command:
 *  - results go to stdout as a JSON array (json-c), only once the state
 *    is saved; notes ("created 1 device") go to stderr;
 *  - a refusal prints "daxm CMD: ENAME: message" on stderr and exits 1
 *    (the message is daxm_last_error() for library refusals);
 *  - a usage error prints the command's usage and exits 2.
 */
#ifndef DAXM_CLI_H
#define DAXM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <daxmodel.h>
#include <json-c/json.h>

#define DAXM_EXIT_OK    0
#define DAXM_EXIT_FAIL  1
#define DAXM_EXIT_USAGE 2

/* One invocation: the model, where it lives, and what to hand back. */
struct daxm_cli {
	struct daxm_ctx *ctx;
	const char *state_path;
	/* `daxm fabric ...`: the fabric and its file (ctx is then one of its
	 * host contexts, for `fabric host N VERB`, or NULL). */
	struct daxm_fabric *fabric;
	const char *fabric_path;
	const char *cmd;      /* "create-device", "extent add", ... (messages) */
	const char *usage;    /* the running command's usage text */
	bool dirty;           /* the model changed: save it before exiting */
	json_object *out;     /* printed on stdout after a successful save */
	char note[256];       /* printed on stderr after a successful save */
};

/* A command: argv[0] is the command word (or the sub-command word). */
typedef int (*daxm_cmd_fn)(struct daxm_cli *cli, int argc, char **argv);

/* The command table (main.c). */
struct daxm_command {
	const char *name;
	daxm_cmd_fn fn;
	bool reads_only;  /* shared lock, never saves */
	bool own_state;   /* loads, locks and saves its own file (fabric) */
	const char *usage;
};

/* The command called @name, or NULL. */
const struct daxm_command *daxm_find_command(const char *name);

/* The log function daxm gives every context (main.c): kernel warnings on
 * stderr (and the state marked dirty: the boot remembers them), the rest
 * only with DAXM_LOG. The context's userdata is the struct daxm_cli. */
void daxm_cli_log(struct daxm_ctx *ctx, int priority, const char *file, int line,
		  const char *fn, const char *msg);

/* flock(2) the directory holding @path (shared or exclusive); the
 * descriptor to close, or -1 when it cannot be opened. */
int daxm_lock_state_dir(const char *path, bool shared);

/* ---- util.c: errors ------------------------------------------------- */

/* "EINVAL" for 22 or -22; "E<n>" for an errno without a name here. */
const char *daxm_errno_name(int err);

/* A library call returned @rc (< 0): print the errno name and
 * daxm_last_error(). Returns DAXM_EXIT_FAIL. */
int daxm_fail(struct daxm_cli *cli, int rc);

/* A fabric command returned @rc: a negative errno as daxm_fail(), or a
 * positive CXL return code printed by name ("Invalid Input") with
 * daxm_last_error(). Returns DAXM_EXIT_FAIL. */
int daxm_fail_cxl(struct daxm_cli *cli, int rc);

/* A refusal found by the tool itself (no such device ...), with an errno
 * to name it. Returns DAXM_EXIT_FAIL. */
int daxm_fail_msg(struct daxm_cli *cli, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Bad command line: print the message and the command's usage.
 * Returns DAXM_EXIT_USAGE. */
int daxm_usage_error(struct daxm_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* An unknown option or a missing option argument, as getopt_long saw it. */
int daxm_bad_option(struct daxm_cli *cli, char **argv);

/* ---- util.c: parsing ------------------------------------------------ */

/*
 * Sizes and addresses as daxctl reads them (util/size.c): any strtoull
 * base ("0x200000", "2097152"), then an optional k/m/g/t suffix (either
 * case, powers of 1024). Signs, blanks, other suffixes and values past
 * 2^64-1 are refused. Returns 0 or -EINVAL / -ERANGE.
 */
int daxm_parse_size(const char *text, uint64_t *out);

/* A decimal integer in [min, max]. Returns 0 or -EINVAL / -ERANGE. */
int daxm_parse_long(const char *text, long min, long max, long *out);

/* A tag: a UUID, "untagged", or (with @allow_zero) "0". 0 or -EINVAL. */
int daxm_parse_tag(const char *text, bool allow_zero, uint8_t tag[DAXM_TAG_SIZE]);

/* Option values with the usage error already printed on failure:
 * return 0, or DAXM_EXIT_USAGE. @what names the option. */
int daxm_opt_size(struct daxm_cli *cli, const char *what, const char *text, uint64_t *out);
int daxm_opt_long(struct daxm_cli *cli, const char *what, const char *text,
		  long min, long max, long *out);
int daxm_opt_tag(struct daxm_cli *cli, const char *what, const char *text,
		 bool allow_zero, uint8_t tag[DAXM_TAG_SIZE]);

/* ---- util.c: finding objects ---------------------------------------- */

/* A region filter: "all" (*id = -1), "N" or "regionN". 0 or -EINVAL. */
int daxm_parse_region_name(const char *text, bool allow_all, int *id);

/* A device filter: "all" (*region = *dev = -1), "daxR.N" or "R.N". */
int daxm_parse_dev_name(const char *text, bool allow_all, int *region, int *dev);

/* The region / device an argument names. NULL after printing the error;
 * *@rc is then the exit status (usage error or not found). */
struct daxm_region *daxm_find_region(struct daxm_cli *cli, const char *text, int *rc);
struct daxm_dev *daxm_find_dev(struct daxm_cli *cli, const char *text, int *rc);

/* ---- json.c: objects in daxctl's shapes ------------------------------ */

#define DAXM_JSON_MAPPINGS 0x1u /* devices: "mappings" (list -M)          */
#define DAXM_JSON_EXTENTS  0x2u /* regions: "extents"; devices: "tag" (-E) */

/* `daxctl list -D` device object; "tag" (sparse devices with a tag) with
 * DAXM_JSON_EXTENTS, "mappings" (when it has ranges) with DAXM_JSON_MAPPINGS. */
json_object *daxm_dev_to_json(struct daxm_dev *dev, unsigned int flags);

/* `daxctl list -R` region object. @jdevs (taken over; may be NULL) becomes
 * "devices" when it is not empty; sparse regions get "extents" with
 * DAXM_JSON_EXTENTS. */
json_object *daxm_region_to_json(struct daxm_region *region, json_object *jdevs,
				 unsigned int flags);

/* One event of daxm_ctx_next_event(). */
json_object *daxm_event_to_json(const struct daxm_event *event);

/* Whether a device is listed without -i: it has size. */
bool daxm_dev_is_listed(struct daxm_dev *dev, bool idle);

/* Print @obj (an array, or the one object of `fabric list`) on stdout,
 * pretty, with a final newline.
 * Returns 0, or -EIO when stdout cannot take it. */
int daxm_print_json(json_object *obj);

/* ---- commands ------------------------------------------------------- */

int daxm_cmd_list(struct daxm_cli *cli, int argc, char **argv);          /* list.c   */
int daxm_cmd_read(struct daxm_cli *cli, int argc, char **argv);          /* attr.c   */
int daxm_cmd_write(struct daxm_cli *cli, int argc, char **argv);         /* attr.c   */
int daxm_cmd_region(struct daxm_cli *cli, int argc, char **argv);        /* region.c */
int daxm_cmd_create_device(struct daxm_cli *cli, int argc, char **argv); /* device.c */
int daxm_cmd_destroy_device(struct daxm_cli *cli, int argc, char **argv);
int daxm_cmd_reconfigure_device(struct daxm_cli *cli, int argc, char **argv);
int daxm_cmd_enable_device(struct daxm_cli *cli, int argc, char **argv);
int daxm_cmd_disable_device(struct daxm_cli *cli, int argc, char **argv);
int daxm_cmd_extent(struct daxm_cli *cli, int argc, char **argv);        /* extent.c */
int daxm_cmd_events(struct daxm_cli *cli, int argc, char **argv);        /* extent.c */
int daxm_cmd_fabric(struct daxm_cli *cli, int argc, char **argv);        /* fabric.c */

/* ---- fabric_json.c: the fabric as JSON ---------------------------------- */

#define DAXM_FABRIC_LIST_DEVICE 0x1u /* "device": 5600h, regions (5601h)   */
#define DAXM_FABRIC_LIST_HOSTS  0x2u /* "hosts": 5601h budgets, 5603h list,
                                        and the host's region0 as daxm list */
#define DAXM_FABRIC_LIST_TAGS   0x4u /* "tags": 5608h                      */
#define DAXM_FABRIC_LIST_IDLE   0x8u /* hosts' devices of size 0 too       */

/* `fabric list`: one object with the sections @flags asks for; only host
 * @host (-1: every host). NULL after printing the error (*@rc the exit
 * status). */
json_object *daxm_fabric_to_json(struct daxm_cli *cli, unsigned int flags, int host, int *rc);

/* One record of daxm_fabric_next_event(). */
json_object *daxm_fabric_event_to_json(const struct daxm_fabric_event *event);

/* A tag as JSON text (UUID). */
json_object *daxm_tag_to_json(const uint8_t tag[DAXM_TAG_SIZE]);

/* Usage texts, also printed together by `daxm help`. */
extern const char daxm_usage_list[];
extern const char daxm_usage_read[];
extern const char daxm_usage_write[];
extern const char daxm_usage_region_add[];
extern const char daxm_usage_create_device[];
extern const char daxm_usage_destroy_device[];
extern const char daxm_usage_reconfigure_device[];
extern const char daxm_usage_enable_device[];
extern const char daxm_usage_disable_device[];
extern const char daxm_usage_extent_add[];
extern const char daxm_usage_extent_close[];
extern const char daxm_usage_extent_release[];
extern const char daxm_usage_events[];
extern const char daxm_usage_fabric[];

#endif /* DAXM_CLI_H */
