/* buildid.c: the build-id of the running executable (ld --build-id), read
 * from its loaded PT_NOTE segment. An image records it; restore and the
 * translator compare it with the executable they are given. */
#include <elf.h>
#include <string.h>
#include <sys/auxv.h>

#include "rt.h"

const unsigned char *landmark_build_id(size_t *len)
{
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	size_t n = getauxval(AT_PHNUM);
	for (size_t i = 0; ph && i < n; i++) {
		if (ph[i].p_type != PT_NOTE)
			continue;
		const unsigned char *p = (const unsigned char *)ph[i].p_vaddr;
		const unsigned char *end = p + ph[i].p_filesz;
		while (p + sizeof(Elf64_Nhdr) <= end) {
			Elf64_Nhdr h;
			memcpy(&h, p, sizeof h);
			const unsigned char *name = p + sizeof h;
			const unsigned char *desc = name + ((h.n_namesz + 3) & ~3u);
			if (h.n_type == NT_GNU_BUILD_ID && h.n_namesz == 4 && !memcmp(name, "GNU", 4)) {
				*len = h.n_descsz;
				return desc;
			}
			p = desc + ((h.n_descsz + 3) & ~3u);
		}
	}
	*len = 0;
	return 0;
}
