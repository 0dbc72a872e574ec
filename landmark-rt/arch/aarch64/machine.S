/* machine.S (aarch64): the runtime's entry and exit points that registers
 * pass through. Layout of struct landmark_regs: src/rt.h (x19..x29 at 0,
 * sp 88, pc 96, d8..d15 104, fpcr 168, fpsr 176). */

/* void __landmark_hit(unsigned id): what a landmark calls. Saves the
 * callee-saved registers, the stack pointer and return address the caller
 * will have when this returns (DESIGN.md decision 8) and the floating-point
 * control registers, then calls landmark_hit(id, &regs) in C. */
	.section .text.__landmark_hit,"ax",@progbits
	.globl __landmark_hit
	.type __landmark_hit,%function
	.p2align 4
__landmark_hit:
	.cfi_startproc
	sub sp, sp, #208
	.cfi_def_cfa_offset 208
	stp x29, x30, [sp, #192]
	.cfi_offset w30, -8
	.cfi_offset w29, -16
	stp x19, x20, [sp, #0]
	stp x21, x22, [sp, #16]
	stp x23, x24, [sp, #32]
	stp x25, x26, [sp, #48]
	stp x27, x28, [sp, #64]
	str x29, [sp, #80]
	add x9, sp, #208		/* sp once this returns */
	str x9, [sp, #88]
	str x30, [sp, #96]		/* the return address */
	stp d8, d9, [sp, #104]
	stp d10, d11, [sp, #120]
	stp d12, d13, [sp, #136]
	stp d14, d15, [sp, #152]
	mrs x9, fpcr
	str x9, [sp, #168]
	mrs x9, fpsr
	str x9, [sp, #176]
	add x29, sp, #192
	mov x1, sp
	bl landmark_hit
	ldp x29, x30, [sp, #192]
	add sp, sp, #208
	.cfi_def_cfa_offset 0
	ret
	.cfi_endproc
	.size __landmark_hit, .-__landmark_hit

/* void __landmark_start_main(int argc, char **argv, char **envp, void *top):
 * runs main on the stack that ends at `top` (in the migration window) and
 * exits with its result. The outermost frame of every migrated stack: its
 * return address is undefined, so debuggers stop here. */
	.section .text.__landmark_start_main,"ax",%progbits
	.globl __landmark_start_main
	.type __landmark_start_main,%function
	.p2align 4
__landmark_start_main:
	.cfi_startproc
	.cfi_undefined x30
	mov sp, x3
	mov x29, #0
	bl main
	.globl __landmark_main_returned
__landmark_main_returned:
	bl exit
	brk #0
	.cfi_endproc
	.size __landmark_start_main, .-__landmark_start_main

/* _Noreturn void __landmark_resume(const struct landmark_regs *r): continues
 * the program at r->pc with r's registers: a landmark call returning. */
	.section .text.__landmark_resume,"ax",%progbits
	.globl __landmark_resume
	.type __landmark_resume,%function
	.p2align 4
__landmark_resume:
	ldp x19, x20, [x0, #0]
	ldp x21, x22, [x0, #16]
	ldp x23, x24, [x0, #32]
	ldp x25, x26, [x0, #48]
	ldp x27, x28, [x0, #64]
	ldr x29, [x0, #80]
	ldp d8, d9, [x0, #104]
	ldp d10, d11, [x0, #120]
	ldp d12, d13, [x0, #136]
	ldp d14, d15, [x0, #152]
	ldr x9, [x0, #168]
	msr fpcr, x9
	ldr x9, [x0, #176]
	msr fpsr, x9
	ldr x9, [x0, #88]
	mov sp, x9
	ldr x30, [x0, #96]
	mov x0, #0
	mov x1, #0
	ret
	.size __landmark_resume, .-__landmark_resume

/* uint64_t __landmark_thread_pointer(void) */
	.section .text.__landmark_thread_pointer,"ax",%progbits
	.globl __landmark_thread_pointer
	.type __landmark_thread_pointer,%function
	.p2align 4
__landmark_thread_pointer:
	mrs x0, tpidr_el0
	ret
	.size __landmark_thread_pointer, .-__landmark_thread_pointer

/* long __landmark_syscall(long n, long a, long b, long c, long d, long e,
 * long f): a system call that touches no memory of its own (musl's
 * syscall() may check a stack-protector canary, which restore replaces
 * under it). Returns the kernel's result (-errno on failure). */
	.section .text.__landmark_syscall,"ax",%progbits
	.globl __landmark_syscall
	.type __landmark_syscall,%function
	.p2align 4
__landmark_syscall:
	mov x8, x0
	mov x0, x1
	mov x1, x2
	mov x2, x3
	mov x3, x4
	mov x4, x5
	mov x5, x6
	svc #0
	ret
	.size __landmark_syscall, .-__landmark_syscall

	.section .note.GNU-stack,"",%progbits
