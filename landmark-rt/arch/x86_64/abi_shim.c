/* abi_shim.c: the x86_64 half of the single-IR ABI bridge.
 *
 * The program's IR is produced once, by clang for aarch64 against aarch64
 * musl headers (DESIGN.md decision 3). Lowered for x86_64 it still holds
 * aarch64's view of a few libc interfaces. llvm-pass (isa/x64.rs) redirects
 * those calls here, in the x86_64 executable only, and this file - compiled
 * natively against x86_64 musl - converts between the two views:
 *   - va_list: AAPCS64 layout in the program, SysV x86_64 layout in libc;
 *   - struct stat: different field order and sizes;
 *   - open/fcntl flags: O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE values;
 *   - fenv: FE_* exception and rounding-mode values.
 */
#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <fenv.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

/* ---- va_list ---------------------------------------------------------- */

/* AAPCS64 va_list, as clang's aarch64 va_arg code in the program reads it. */
struct a64_va_list {
	void *stack;  /* next stacked argument */
	char *gr_top; /* end of the general-register save area */
	char *vr_top; /* end of the vector-register save area */
	int gr_offs;  /* negative offset from gr_top of the next GP register */
	int vr_offs;  /* negative offset from vr_top of the next vector register */
};
_Static_assert(sizeof(struct a64_va_list) == 32, "AAPCS64 va_list is 32 bytes");

/* SysV x86_64 va_list element, as the x86_64 backend's va_start writes it. */
struct x86_va_list {
	unsigned gp_offset; /* 0..48: next of 6 saved GP registers */
	unsigned fp_offset; /* 48..176: next of 8 saved XMM registers */
	void *overflow_arg_area;
	char *reg_save_area; /* 6 GP registers (48 bytes), then 8 XMM (128 bytes) */
};
_Static_assert(sizeof(struct x86_va_list) == 24, "x86_64 va_list is 24 bytes");

enum { GP_AREA = 48, REG_AREA = 176 };

/* Called right after llvm.va_start: rewrites the x86_64 list in place as the
 * AAPCS64 list over the same register save area. Both ABIs use 8-byte GP
 * slots and 16-byte vector slots with the value in the low bytes, and 8-byte
 * stack slots, so the aarch64 va_arg code then reads the right values. */
void __mig_va_start_x86(void *ap)
{
	struct x86_va_list x = *(struct x86_va_list *)ap;
	struct a64_va_list *a = ap;
	a->stack = x.overflow_arg_area;
	a->gr_top = x.reg_save_area + GP_AREA;
	a->vr_top = x.reg_save_area + REG_AREA;
	a->gr_offs = (int)x.gp_offset - GP_AREA;
	a->vr_offs = (int)x.fp_offset - REG_AREA;
}

/* The inverse, for passing the program's list to x86_64 libc. */
static void to_x86(va_list out, const struct a64_va_list *a)
{
	struct x86_va_list *x = (struct x86_va_list *)out;
	x->reg_save_area = a->gr_top - GP_AREA;
	x->gp_offset = a->gr_offs >= 0 ? GP_AREA : GP_AREA + a->gr_offs;
	x->fp_offset = a->vr_offs >= 0 ? REG_AREA : REG_AREA + a->vr_offs;
	x->overflow_arg_area = a->stack;
}

#define VA_WRAP(ret, name, params, args)                                 \
	ret __mig_##name params                                          \
	{                                                                \
		va_list x;                                               \
		to_x86(x, ap);                                           \
		return name args;                                        \
	}
#define VA_WRAP_VOID(name, params, args)                                 \
	void __mig_##name params                                         \
	{                                                                \
		va_list x;                                               \
		to_x86(x, ap);                                           \
		name args;                                               \
	}

typedef struct a64_va_list *a64_ap;
VA_WRAP(int, vprintf, (const char *f, a64_ap ap), (f, x))
VA_WRAP(int, vfprintf, (FILE *s, const char *f, a64_ap ap), (s, f, x))
VA_WRAP(int, vsprintf, (char *b, const char *f, a64_ap ap), (b, f, x))
VA_WRAP(int, vsnprintf, (char *b, size_t n, const char *f, a64_ap ap), (b, n, f, x))
VA_WRAP(int, vdprintf, (int fd, const char *f, a64_ap ap), (fd, f, x))
VA_WRAP(int, vasprintf, (char **b, const char *f, a64_ap ap), (b, f, x))
VA_WRAP(int, vscanf, (const char *f, a64_ap ap), (f, x))
VA_WRAP(int, vfscanf, (FILE *s, const char *f, a64_ap ap), (s, f, x))
VA_WRAP(int, vsscanf, (const char *s, const char *f, a64_ap ap), (s, f, x))
VA_WRAP_VOID(vsyslog, (int p, const char *f, a64_ap ap), (p, f, x))
VA_WRAP_VOID(verr, (int e, const char *f, a64_ap ap), (e, f, x))
VA_WRAP_VOID(verrx, (int e, const char *f, a64_ap ap), (e, f, x))
VA_WRAP_VOID(vwarn, (const char *f, a64_ap ap), (f, x))
VA_WRAP_VOID(vwarnx, (const char *f, a64_ap ap), (f, x))

/* ---- struct stat ------------------------------------------------------ */

/* aarch64 musl's struct stat (bits/stat.h), which the program was compiled
 * against. */
struct a64_stat {
	dev_t st_dev;
	ino_t st_ino;
	mode_t st_mode;
	unsigned int st_nlink;
	uid_t st_uid;
	gid_t st_gid;
	dev_t st_rdev;
	unsigned long __pad;
	off_t st_size;
	int st_blksize;
	int __pad2;
	blkcnt_t st_blocks;
	struct timespec st_atim;
	struct timespec st_mtim;
	struct timespec st_ctim;
	unsigned __unused[2];
};
_Static_assert(sizeof(struct a64_stat) == 128, "aarch64 struct stat is 128 bytes");

static int stat_result(int r, const struct stat *s, struct a64_stat *out)
{
	if (r != 0)
		return r;
	*out = (struct a64_stat){
		.st_dev = s->st_dev,
		.st_ino = s->st_ino,
		.st_mode = s->st_mode,
		.st_nlink = (unsigned int)s->st_nlink,
		.st_uid = s->st_uid,
		.st_gid = s->st_gid,
		.st_rdev = s->st_rdev,
		.st_size = s->st_size,
		.st_blksize = (int)s->st_blksize,
		.st_blocks = s->st_blocks,
		.st_atim = s->st_atim,
		.st_mtim = s->st_mtim,
		.st_ctim = s->st_ctim,
	};
	return r;
}

int __mig_stat(const char *path, struct a64_stat *out)
{
	struct stat s;
	return stat_result(stat(path, &s), &s, out);
}

int __mig_lstat(const char *path, struct a64_stat *out)
{
	struct stat s;
	return stat_result(lstat(path, &s), &s, out);
}

int __mig_fstat(int fd, struct a64_stat *out)
{
	struct stat s;
	return stat_result(fstat(fd, &s), &s, out);
}

int __mig_fstatat(int dirfd, const char *path, struct a64_stat *out, int flags)
{
	struct stat s;
	return stat_result(fstatat(dirfd, path, &s, flags), &s, out);
}

/* ---- open/fcntl flags ------------------------------------------------- */

/* aarch64 values of the flags whose values differ (bits/fcntl.h). */
enum {
	A64_O_DIRECTORY = 040000,
	A64_O_NOFOLLOW = 0100000,
	A64_O_DIRECT = 0200000,
	A64_O_LARGEFILE = 0400000,
	TMPFILE_BIT = 020000000, /* __O_TMPFILE, same on both */
};

static const struct {
	int a64, x86;
} flag_map[] = {
	{A64_O_DIRECTORY, O_DIRECTORY},
	{A64_O_NOFOLLOW, O_NOFOLLOW},
	{A64_O_DIRECT, O_DIRECT},
	{A64_O_LARGEFILE, O_LARGEFILE},
};

static int flags_to_x86(int f)
{
	int out = f;
	for (unsigned i = 0; i < sizeof flag_map / sizeof flag_map[0]; i++)
		out &= ~flag_map[i].a64;
	for (unsigned i = 0; i < sizeof flag_map / sizeof flag_map[0]; i++)
		if (f & flag_map[i].a64)
			out |= flag_map[i].x86;
	return out;
}

static int flags_to_a64(int f)
{
	int out = f;
	for (unsigned i = 0; i < sizeof flag_map / sizeof flag_map[0]; i++)
		out &= ~flag_map[i].x86;
	for (unsigned i = 0; i < sizeof flag_map / sizeof flag_map[0]; i++)
		if (f & flag_map[i].x86)
			out |= flag_map[i].a64;
	return out;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | TMPFILE_BIT)) ? va_arg(ap, mode_t) : 0;
}

int __mig_open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return open(path, flags_to_x86(flags), mode);
}

int __mig_openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = mode_arg(flags, ap);
	va_end(ap);
	return openat(dirfd, path, flags_to_x86(flags), mode);
}

int __mig_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	if (cmd == F_SETFL)
		arg = (unsigned long)flags_to_x86((int)arg);
	int r = fcntl(fd, cmd, arg);
	if (cmd == F_GETFL && r >= 0)
		r = flags_to_a64(r);
	return r;
}

/* ---- fenv ------------------------------------------------------------- */

/* aarch64 values (bits/fenv.h). */
static const struct {
	int a64, x86;
} except_map[] = {
	{1, FE_INVALID}, {2, FE_DIVBYZERO}, {4, FE_OVERFLOW}, {8, FE_UNDERFLOW}, {16, FE_INEXACT},
}, round_map[] = {
	{0, FE_TONEAREST}, {0x800000, FE_DOWNWARD}, {0x400000, FE_UPWARD}, {0xc00000, FE_TOWARDZERO},
};

static int excepts_to_x86(int e)
{
	int out = 0;
	for (unsigned i = 0; i < 5; i++)
		if (e & except_map[i].a64)
			out |= except_map[i].x86;
	return out;
}

static int excepts_to_a64(int e)
{
	int out = 0;
	for (unsigned i = 0; i < 5; i++)
		if (e & except_map[i].x86)
			out |= except_map[i].a64;
	return out;
}

int __mig_feclearexcept(int e) { return feclearexcept(excepts_to_x86(e)); }
int __mig_feraiseexcept(int e) { return feraiseexcept(excepts_to_x86(e)); }
int __mig_fetestexcept(int e) { return excepts_to_a64(fetestexcept(excepts_to_x86(e))); }

int __mig_fegetround(void)
{
	int r = fegetround();
	for (unsigned i = 0; i < 4; i++)
		if (round_map[i].x86 == r)
			return round_map[i].a64;
	return -1;
}

int __mig_fesetround(int r)
{
	for (unsigned i = 0; i < 4; i++)
		if (round_map[i].a64 == r)
			return fesetround(round_map[i].x86);
	return -1;
}
