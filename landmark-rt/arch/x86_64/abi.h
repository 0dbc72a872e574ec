/* abi.h: the x86_64 half of the single-IR ABI bridge, shared definitions.
 *
 * The program's IR is produced once, by clang for aarch64 against aarch64
 * musl headers (DESIGN.md decision 3). Lowered for x86_64 it still holds
 * aarch64's view of a few libc interfaces. llvm-pass (isa/x64.rs) redirects
 * those calls to the __mig_* functions of this directory, in the x86_64
 * executable only; they are compiled natively against x86_64 musl and
 * convert between the two views:
 *   - va_list: AAPCS64 layout in the program, SysV x86_64 layout in libc;
 *   - struct stat: different field order and sizes;
 *   - open/fcntl flags: O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE values;
 *   - fenv: FE_* exception and rounding-mode values.
 *
 * One wrapper per file, like musl: an archive member is linked only when the
 * program uses it, so the x86_64 executable pulls in exactly the libc members
 * the aarch64 one does (an extra member can replace one of musl's weak
 * defaults, such as __stdin_used, and the two executables would differ).
 */
#ifndef MIGRATE_ABI_H
#define MIGRATE_ABI_H

#define _GNU_SOURCE
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

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

typedef struct a64_va_list *a64_ap;

/* The program's AAPCS64 list as an x86_64 list for libc. The list was made
 * by __mig_va_start_x86 over an x86_64 register save area, so it converts
 * back exactly. */
static inline void to_x86(va_list out, const struct a64_va_list *a)
{
	struct x86_va_list *x = (struct x86_va_list *)out;
	x->reg_save_area = a->gr_top - GP_AREA;
	x->gp_offset = a->gr_offs >= 0 ? GP_AREA : GP_AREA + a->gr_offs;
	x->fp_offset = a->vr_offs >= 0 ? REG_AREA : REG_AREA + a->vr_offs;
	x->overflow_arg_area = a->stack;
}

/* Defines __mig_NAME taking the program's va_list and calling NAME. */
#define VA_WRAP(ret, name, params, args)                                 \
	ret __mig_##name params                                          \
	{                                                                \
		va_list x;                                               \
		to_x86(x, ap);                                           \
		return name args;                                        \
	}

/* aarch64 musl's struct stat (bits/stat.h), which the program uses. */
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

/* Returns r; on success also converts s into the program's layout. */
static inline int stat_result(int r, const struct stat *s, struct a64_stat *out)
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

/* open/fcntl flags whose values differ: aarch64 value, x86_64 value. */
#define A64_O_DIRECTORY 040000
#define A64_O_NOFOLLOW 0100000
#define A64_O_DIRECT 0200000
#define A64_O_LARGEFILE 0400000
#define TMPFILE_BIT 020000000 /* __O_TMPFILE, the same on both */

int __mig_flags_to_x86(int aarch64_flags);
int __mig_flags_to_a64(int x86_flags);

#endif
