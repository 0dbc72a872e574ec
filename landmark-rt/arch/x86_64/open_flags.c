#include "abi.h"
#include <fcntl.h>

static const struct {
	int a64, x86;
} flag_map[] = {
	{A64_O_DIRECTORY, O_DIRECTORY},
	{A64_O_NOFOLLOW, O_NOFOLLOW},
	{A64_O_DIRECT, O_DIRECT},
	{A64_O_LARGEFILE, O_LARGEFILE},
};
enum { FLAGS = sizeof flag_map / sizeof flag_map[0] };

/* The flags are permuted between the ISAs: clear all, then set mapped bits. */
int __mig_flags_to_x86(int f)
{
	int out = f;
	for (int i = 0; i < FLAGS; i++)
		out &= ~flag_map[i].a64;
	for (int i = 0; i < FLAGS; i++)
		if (f & flag_map[i].a64)
			out |= flag_map[i].x86;
	return out;
}

int __mig_flags_to_a64(int f)
{
	int out = f;
	for (int i = 0; i < FLAGS; i++)
		out &= ~flag_map[i].x86;
	for (int i = 0; i < FLAGS; i++)
		if (f & flag_map[i].x86)
			out |= flag_map[i].a64;
	return out;
}
