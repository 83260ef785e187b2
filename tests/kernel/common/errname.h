/*
 * errname.h - errno names as the guest recorder prints them and the host
 * comparison reads and prints them; shared so both sides agree.
 */
#ifndef DAXM_KERNEL_ERRNAME_H
#define DAXM_KERNEL_ERRNAME_H

#include <errno.h>
#include <stdio.h>

static inline const char *errname(int e)
{
	static char buf[16];

	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EHOSTDOWN: return "EHOSTDOWN";	/* a model that panicked (panic_on_warn) */
	default:
		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
}

#endif
