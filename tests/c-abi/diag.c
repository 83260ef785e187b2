/*
 * diag.c - diagnostics: the per-thread daxm_last_error(), the log
 * callback with its priority filter, userdata and the default logger.
 */
#include "ctest.h"

#include <pthread.h>
#include <syslog.h>
#include <unistd.h>

/* ---- daxm_last_error ------------------------------------------------------ */

static struct daxm_ctx *le_ctx;
static struct daxm_dev *le_marker;
static char le_saved[1024];

/* Leave a known message (a refused align on a device no test touches). */
static void mark(void)
{
	int rc = daxm_dev_set_align(le_marker, 12345);
	(void)rc;
	snprintf(le_saved, sizeof(le_saved), "%s", daxm_last_error());
}

/* The failing @expr replaced the marker's message with a non-empty one,
 * which names @object if given. */
static void check_new_message(const char *file, int line, const char *expr,
			      const char *object)
{
	const char *msg = daxm_last_error();
	char what[300];

	snprintf(what, sizeof(what), "daxm_last_error() after %s", expr);
	t_result(msg != NULL && msg[0] != '\0', file, line, what, "empty");
	t_result(msg != NULL && strcmp(msg, le_saved) != 0, file, line, what,
		 "still the previous failure's message");
	if (object && msg) {
		char detail[1200];
		snprintf(detail, sizeof(detail), "\"%.1000s\" does not name %s", msg, object);
		t_result(strstr(msg, object) != NULL, file, line, what, detail);
	}
}

#define CHECK_FAILS_WITH_MESSAGE(expr, err, object) \
	do { \
		mark(); \
		CHECK_INT(expr, -(err)); \
		check_new_message(__FILE__, __LINE__, #expr, object); \
	} while (0)

static void *fresh_thread_error(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)(daxm_last_error() != NULL && daxm_last_error()[0] == '\0');
}

struct per_thread {
	struct daxm_dev *dev;
	const char *name;
	int ok;
};

static void *own_error(void *arg)
{
	struct per_thread *p = arg;

	p->ok = 1;
	for (int i = 0; i < 2000 && p->ok; i++) {
		int rc = daxm_dev_set_size(p->dev, 3 * MiB);
		const char *msg = daxm_last_error();
		p->ok = rc == -EINVAL && msg && strstr(msg, p->name) != NULL;
	}
	return NULL;
}

void test_last_error(void)
{
	struct daxm_region_spec spec;
	struct daxm_region *r, *full;
	struct daxm_dev *d0, *d1, *dead;
	pthread_t th;
	void *res = NULL;
	char buf[32], copy[1024];

	/* A thread that has not failed yet reads "". */
	CHECK(pthread_create(&th, NULL, fresh_thread_error, NULL) == 0);
	pthread_join(th, &res);
	CHECK(res == (void *)1);

	le_ctx = new_ctx();
	r = add_region(le_ctx, 0, DAXM_REGION_DYNAMIC, S0, GiB, DAXM_REGION_IDLE,
		       DAXM_PROFILE_6_12);
	full = add_region(le_ctx, 1, DAXM_REGION_DYNAMIC, S0 + GiB, GiB, 0,
			  DAXM_PROFILE_6_12);
	d0 = daxm_dev_get_first(r);
	d1 = new_dev(r, 2 * MiB);
	le_marker = new_dev(r, 0);
	dead = daxm_dev_ref(new_dev(r, 0));
	CHECK_STR(daxm_dev_get_devname(dead), "dax0.3");
	CHECK_OK(daxm_region_destroy_dev(r, dead));
	daxm_region_spec_init(&spec);
	spec.start = S0;
	spec.size = GiB;

	/* Each failure leaves its own message; device failures name the device. */
	CHECK_FAILS_WITH_MESSAGE(daxm_dev_set_size(d1, 3 * MiB), EINVAL, "dax0.1");
	CHECK_FAILS_WITH_MESSAGE(daxm_dev_set_size(d1, 2 * GiB), ENOSPC, "dax0.1");
	CHECK_FAILS_WITH_MESSAGE(daxm_dev_set_align(d1, GiB), EINVAL, "dax0.1");
	CHECK_FAILS_WITH_MESSAGE(daxm_dev_set_mapping(d1, S0, S0 + 2 * MiB - 1), ENOMEM, "dax0.1");
	CHECK_FAILS_WITH_MESSAGE(daxm_dev_enable(d0), ENXIO, "dax0.0");
	CHECK_FAILS_WITH_MESSAGE(daxm_dev_disable(d1), ENODEV, "dax0.1");
	CHECK_FAILS_WITH_MESSAGE(daxm_region_destroy_dev(r, d0), EBUSY, "dax0.0");
	CHECK_FAILS_WITH_MESSAGE(daxm_dev_set_size(dead, 0), ENODEV, "dax0.3");
	CHECK_FAILS_WITH_MESSAGE(daxm_attr_write(le_ctx, "dax0.1/size", "2M"), EINVAL, "dax0.1");
	CHECK_FAILS_WITH_MESSAGE(daxm_attr_write(le_ctx, "dax0.1/size", "4096"), EINVAL, "dax0.1");
	CHECK_FAILS_WITH_MESSAGE(daxm_attr_write(le_ctx, "region0/delete", "dax0.0"), EBUSY, "dax0.0");
	CHECK_FAILS_WITH_MESSAGE(daxm_region_create_dev(full, NULL), ENOSPC, "region1");
	CHECK_FAILS_WITH_MESSAGE(daxm_attr_write(le_ctx, "region1/create", "1"), ENOSPC, "region1");
	CHECK_FAILS_WITH_MESSAGE(daxm_attr_write(le_ctx, "region0/bogus", "1"), ENOENT, NULL);
	CHECK_FAILS_WITH_MESSAGE(daxm_attr_read(le_ctx, "region0/bogus", buf, sizeof(buf)), ENOENT, NULL);
	CHECK_FAILS_WITH_MESSAGE(daxm_attr_read(le_ctx, "region0/size", buf, 2), ERANGE, NULL);
	CHECK_FAILS_WITH_MESSAGE(daxm_region_new(le_ctx, &spec, NULL), EBUSY, NULL);
	/* ... also without any object to name. */
	CHECK_FAILS_WITH_MESSAGE(daxm_new(NULL), EINVAL, NULL);
	CHECK_FAILS_WITH_MESSAGE(daxm_region_new(le_ctx, NULL, NULL), EINVAL, NULL);
	CHECK_FAILS_WITH_MESSAGE(daxm_dev_set_size(NULL, 0), EINVAL, NULL);
	CHECK_FAILS_WITH_MESSAGE(daxm_attr_write(NULL, "region0/create", "1"), EINVAL, NULL);
	CHECK_FAILS_WITH_MESSAGE(daxm_region_destroy_dev(r, NULL), EINVAL, NULL);

	/* A success does not erase the last failure's message. */
	CHECK_ERR(daxm_dev_set_size(d1, 3 * MiB), EINVAL);
	snprintf(copy, sizeof(copy), "%s", daxm_last_error());
	CHECK_OK(daxm_dev_set_size(d1, 4 * MiB));
	CHECK(daxm_attr_read(le_ctx, "region0/size", buf, sizeof(buf)) > 0);
	CHECK_STR(daxm_last_error(), copy);

	/* Cleared by hand (errno's rule), so a caller can tell whether a call
	 * left a message: a lookup that finds nothing does, a success not. */
	daxm_clear_last_error();
	CHECK_STR(daxm_last_error(), "");
	CHECK(daxm_dev_get_by_name(le_ctx, "dax0.1") != NULL);
	CHECK_STR(daxm_last_error(), "");
	CHECK_PTR(daxm_extent_get_by_id(r, 0), NULL);
	CHECK(strstr(daxm_last_error(), "not sparse") != NULL);
	CHECK_ERR(daxm_dev_set_size(d1, 3 * MiB), EINVAL);
	CHECK(strstr(daxm_last_error(), "dax0.1") != NULL);
	daxm_clear_last_error();
	CHECK_STR(daxm_last_error(), "");

	/* A very long bad path still gives a bounded, readable message. */
	{
		static char longpath[10000];
		memset(longpath, 'p', sizeof(longpath) - 1);
		CHECK_FAILS_WITH_MESSAGE(daxm_attr_write(le_ctx, longpath, "1"), ENOENT, NULL);
	}

	/* Messages are per thread: two threads failing on their own devices
	 * at the same time each read their own. */
	{
		struct per_thread a = { d1, "dax0.1", 0 }, b = { le_marker, "dax0.2", 0 };
		pthread_t ta, tb;
		CHECK(pthread_create(&ta, NULL, own_error, &a) == 0);
		CHECK(pthread_create(&tb, NULL, own_error, &b) == 0);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		CHECK(a.ok);
		CHECK(b.ok);
	}
	daxm_dev_unref(dead);
	daxm_unref(le_ctx);
}

/* ---- log callback ------------------------------------------------------- */

struct capture {
	int calls;
	int max_priority;
	int over_priority; /* delivered above the context's priority */
	int bad_args;      /* NULL fn/msg, or a trailing newline */
	int reentered;     /* calls back into the library worked */
	char msg[512];
	char fn[128];
};

static void capture_log(struct daxm_ctx *ctx, int priority, const char *file,
			int line, const char *fn, const char *msg)
{
	struct capture *c = daxm_get_userdata(ctx);
	size_t len;

	(void)file, (void)line;
	if (!c)
		return;
	c->calls++;
	if (priority > c->max_priority)
		c->max_priority = priority;
	if (priority > daxm_get_log_priority(ctx))
		c->over_priority++;
	if (!fn || !msg || !fn[0] || !msg[0]) {
		c->bad_args++;
		return;
	}
	len = strlen(msg);
	if (msg[len - 1] == '\n')
		c->bad_args++;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	snprintf(c->fn, sizeof(c->fn), "%s", fn);
	/* No lock is held: the library can be called from here. */
	c->reentered = daxm_region_get_first(ctx) != NULL &&
		       daxm_dev_get_by_name(ctx, "dax0.0") != NULL &&
		       daxm_region_get_available_size(daxm_region_get_first(ctx)) != DAXM_INVALID;
}

/* The priority a context starts with, with DAXM_LOG set to @value. */
static int priority_from_env(const char *value)
{
	struct daxm_ctx *ctx = NULL;
	int prio;

	if (value)
		setenv("DAXM_LOG", value, 1);
	else
		unsetenv("DAXM_LOG");
	if (daxm_new(&ctx) != 0)
		return -1000;
	prio = daxm_get_log_priority(ctx);
	daxm_unref(ctx);
	unsetenv("DAXM_LOG");
	return prio;
}

/* Run @fn with stderr redirected to a file; return what it printed. */
static const char *capture_stderr(void (*fn)(void *), void *arg)
{
	static char out[4096];
	FILE *tmp = tmpfile();
	int saved;
	size_t n;

	out[0] = '\0';
	if (!tmp)
		return out;
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void fail_size(void *dev)
{
	int rc = daxm_dev_set_size(dev, 3 * MiB);
	(void)rc;
}

void test_log(void)
{
	struct capture cap = { 0 }, other_cap = { 0 };
	struct daxm_ctx *ctx, *other;
	struct daxm_region *r;
	struct daxm_dev *d1;
	const char *err;
	int calls;

	/* Priority: LOG_WARNING (kernel warnings show) unless DAXM_LOG says
	 * otherwise. */
	CHECK_INT(priority_from_env(NULL), LOG_WARNING);
	CHECK_INT(priority_from_env("err"), LOG_ERR);
	CHECK_INT(priority_from_env("warning"), LOG_WARNING);
	CHECK_INT(priority_from_env("info"), LOG_INFO);
	CHECK_INT(priority_from_env("debug"), LOG_DEBUG);
	CHECK_INT(priority_from_env("5"), 5);

	ctx = new_ctx();
	CHECK_PTR(daxm_get_userdata(ctx), NULL);
	daxm_set_log_priority(ctx, 99);
	CHECK_INT(daxm_get_log_priority(ctx), LOG_DEBUG);
	daxm_set_log_priority(ctx, -5);
	CHECK_INT(daxm_get_log_priority(ctx), 0);
	daxm_set_log_priority(ctx, LOG_WARNING);
	CHECK_INT(daxm_get_log_priority(ctx), LOG_WARNING);
	daxm_set_log_priority(ctx, LOG_ERR);

	r = add_region(ctx, 0, DAXM_REGION_DYNAMIC, S0, GiB, DAXM_REGION_IDLE,
		       DAXM_PROFILE_6_12);
	d1 = new_dev(r, 0);

	/*
	 * Every failure is sent to the log function; the header does not say
	 * at which priority, so tests that expect delivery run at LOG_DEBUG.
	 * The default logger: "libdaxmodel: <fn>: <message>" on stderr
	 * (new_ctx() installed a quiet one; NULL restores the default).
	 */
	daxm_set_log_priority(ctx, LOG_DEBUG);
	daxm_set_log_fn(ctx, NULL);
	err = capture_stderr(fail_size, d1);
	CHECK(strstr(err, "libdaxmodel: daxm_dev_set_size: ") != NULL);
	CHECK(strstr(err, daxm_last_error()) != NULL);

	daxm_set_userdata(ctx, &cap);
	CHECK_PTR(daxm_get_userdata(ctx), &cap);
	daxm_set_log_fn(ctx, capture_log);

	/* A failure is delivered, formatted, naming the device. */
	CHECK_ERR(daxm_dev_set_size(d1, 3 * MiB), EINVAL);
	CHECK(cap.calls >= 1);
	CHECK(cap.max_priority >= LOG_EMERG && cap.max_priority <= LOG_DEBUG);
	CHECK(strstr(cap.msg, "dax0.1") != NULL);
	CHECK_STR(cap.msg, daxm_last_error());
	CHECK_STR(cap.fn, "daxm_dev_set_size");
	CHECK(cap.fn[0] != '\0');
	CHECK_INT(cap.reentered, 1);
	CHECK_INT(cap.bad_args, 0);
	CHECK(strstr(capture_stderr(fail_size, d1), "libdaxmodel: ") == NULL); /* replaced */

	/* Successes log nothing at LOG_ERR. */
	daxm_set_log_priority(ctx, LOG_ERR);
	calls = cap.calls;
	CHECK_OK(daxm_dev_set_size(d1, 2 * MiB));
	CHECK_OK(daxm_dev_set_size(d1, 0));
	CHECK_INT(cap.calls, calls);

	/* Filtering: at LOG_EMERG failures are not delivered, but still leave
	 * their message. */
	daxm_set_log_priority(ctx, LOG_EMERG);
	calls = cap.calls;
	CHECK_ERR(daxm_dev_set_size(d1, 4 * KiB), EINVAL);
	CHECK_INT(cap.calls, calls);
	CHECK(strstr(daxm_last_error(), "dax0.1") != NULL);

	/* At LOG_DEBUG anything may come, never above the priority. */
	daxm_set_log_priority(ctx, LOG_DEBUG);
	calls = cap.calls;
	CHECK_OK(daxm_dev_set_size(d1, 2 * MiB));
	CHECK_ERR(daxm_dev_set_size(d1, 3 * MiB), EINVAL);
	CHECK(cap.calls > calls);
	CHECK_INT(cap.over_priority, 0);
	CHECK_INT(cap.bad_args, 0);

	/* Callbacks and userdata are per context. */
	other = new_ctx();
	add_region(other, 0, DAXM_REGION_DYNAMIC, S0, GiB, DAXM_REGION_IDLE, DAXM_PROFILE_6_12);
	daxm_set_userdata(other, &other_cap);
	daxm_set_log_fn(other, capture_log);
	daxm_set_log_priority(other, LOG_DEBUG);
	calls = cap.calls;
	CHECK_ERR(daxm_dev_set_size(daxm_dev_get_by_name(other, "dax0.0"), 3 * MiB), EINVAL);
	CHECK_INT(cap.calls, calls);
	CHECK(other_cap.calls >= 1);
	CHECK(strstr(other_cap.msg, "dax0.0") != NULL);
	daxm_unref(other);

	/* NULL userdata: the callback is still called (and copes). */
	daxm_set_userdata(ctx, NULL);
	CHECK_PTR(daxm_get_userdata(ctx), NULL);
	CHECK_ERR(daxm_dev_set_size(d1, 3 * MiB), EINVAL);

	/* NULL restores the default logger. */
	daxm_set_userdata(ctx, &cap);
	daxm_set_log_fn(ctx, NULL);
	calls = cap.calls;
	err = capture_stderr(fail_size, d1);
	CHECK(strstr(err, "libdaxmodel: ") != NULL);
	CHECK_INT(cap.calls, calls);
	daxm_unref(ctx);
}
