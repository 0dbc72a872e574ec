/* files.c: the open files of a checkpointed process, recorded by path, flags
 * and offset, and reopened on restore (DESIGN.md, the open-files trap).
 *
 * Record (native byte order, each 8-byte aligned):
 *   int32 fd, int32 status flags (F_GETFL), int32 fd flags (F_GETFD), int32 kind,
 *   int64 offset, uint64 dev, uint64 ino, uint32 path length (with its NUL),
 *   uint32 0, path.
 * Kinds: regular file, directory, character device (reopened by path), and
 * standard streams that are something else (a terminal, a pipe: the restored
 * process uses its own). stdin, stdout and stderr are never reopened: a
 * restored program reads and writes the restorer's; if its stdin is the
 * same regular file, it continues reading at the recorded offset.
 * Refused, with the reason: sockets, pipes and FIFOs beyond the standard
 * streams, anonymous inodes (eventfd, epoll, ...), files deleted since they
 * were opened.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rt.h"


static const char *kind_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFSOCK:
		return "a socket";
	case S_IFIFO:
		return "a pipe or FIFO";
	default:
		return "not a file, directory or device";
	}
}

static int add_record(int fd, int kind, const struct stat *st, const char *path, char *buf,
		      size_t cap, size_t *len)
{
	struct file_record r = {0};
	r.fd = fd;
	r.flags = fcntl(fd, F_GETFL);
	r.fd_flags = fcntl(fd, F_GETFD);
	r.kind = kind;
	r.offset = kind == FILE_DEVICE ? 0 : lseek(fd, 0, SEEK_CUR);
	if (r.offset < 0)
		r.offset = 0;
	r.dev = st->st_dev;
	r.ino = st->st_ino;
	r.path_len = (uint32_t)strlen(path) + 1;
	size_t need = sizeof r + ((r.path_len + 7) & ~7u);
	if (*len + need > cap)
		return -1;
	memcpy(buf + *len, &r, sizeof r);
	memset(buf + *len + sizeof r, 0, need - sizeof r);
	memcpy(buf + *len + sizeof r, path, r.path_len);
	*len += need;
	return 0;
}

/* One open descriptor; 0, or -1 with `err` set. */
static int record_fd(int fd, char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return 0; /* closed meanwhile */
	char link[32], path[4096];
	landmark_format(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n < 0)
		n = 0;
	path[n] = 0;
	int kind = S_ISREG(st.st_mode)	 ? FILE_REGULAR
		   : S_ISDIR(st.st_mode) ? FILE_DIRECTORY
		   : S_ISCHR(st.st_mode) ? FILE_DEVICE
					 : 0;
	if (fd <= 2) {
		if (kind != FILE_REGULAR)
			kind = FILE_STREAM;
	} else if (!kind || path[0] != '/') {
		landmark_format(err, errlen, "file descriptor %d (%s) is %s, which cannot be checkpointed", fd,
			 n ? path : "?", kind ? "not a path in the file system" : kind_name(st.st_mode));
		return -1;
	}
	static const char deleted[] = " (deleted)";
	size_t dl = sizeof deleted - 1;
	if (kind != FILE_STREAM && (size_t)n > dl && !strcmp(path + n - dl, deleted)) {
		landmark_format(err, errlen, "file descriptor %d: %s was deleted while open", fd, path);
		return -1;
	}
	if (add_record(fd, kind, &st, path, buf, cap, len) != 0) {
		landmark_format(err, errlen, "too many open files to record");
		return -1;
	}
	return 0;
}

int landmark_collect_files(char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
	*len = 0;
	/* getdents64 directly: opendir would allocate from the program's heap. */
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0) {
		landmark_format(err, errlen, "cannot list open files: /proc/self/fd: %s", strerror(errno));
		return -1;
	}
	char ents[4096];
	long got;
	int rc = 0;
	while (rc == 0 && (got = syscall(SYS_getdents64, dir, ents, sizeof ents)) > 0) {
		for (long off = 0; off < got;) {
			struct dirent *d = (struct dirent *)(ents + off);
			off += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			int fd = 0;
			for (const char *p = d->d_name; *p; p++)
				fd = fd * 10 + (*p - '0');
			if (fd == dir)
				continue;
			if (record_fd(fd, buf, cap, len, err, errlen) != 0) {
				rc = -1;
				break;
			}
		}
	}
	close(dir);
	return rc;
}

/* Puts a reopened descriptor at number `fd` with the recorded state. */
static int place(int opened, const struct file_record *r)
{
	if (opened != r->fd) {
		if (dup2(opened, r->fd) < 0)
			return -1;
		close(opened);
	}
	if (r->kind == FILE_REGULAR && lseek(r->fd, r->offset, SEEK_SET) < 0)
		return -1;
	return fcntl(r->fd, F_SETFD, r->fd_flags);
}

int landmark_reopen_files(const char *buf, size_t len, char *err, size_t errlen)
{
	for (size_t off = 0; off + sizeof(struct file_record) <= len;) {
		struct file_record r;
		memcpy(&r, buf + off, sizeof r);
		const char *path = buf + off + sizeof r;
		off += sizeof r + ((r.path_len + 7) & ~7u);
		if (off > len || !r.path_len || path[r.path_len - 1]) {
			landmark_format(err, errlen, "the image's open-files record is corrupt");
			return -1;
		}
		if (r.fd <= 2) {
			/* The restorer's own stream. An input file continues where the
			 * program had read to; outputs are left where the restorer
			 * opened them (appending or truncated: the user's choice). */
			struct stat st;
			if (r.fd == 0 && r.kind == FILE_REGULAR && fstat(0, &st) == 0 &&
			    st.st_dev == r.dev && st.st_ino == r.ino)
				lseek(0, r.offset, SEEK_SET);
			continue;
		}
		int flags = r.flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
		int fd = open(path, flags);
		if (fd < 0) {
			landmark_format(err, errlen, "cannot reopen %s (file descriptor %d): %s", path, r.fd,
				 strerror(errno));
			return -1;
		}
		if (place(fd, &r) != 0) {
			landmark_format(err, errlen, "cannot restore file descriptor %d (%s): %s", r.fd, path,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}
