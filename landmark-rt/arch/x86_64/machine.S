/* machine.S (x86_64): the runtime's entry and exit points that registers
 * pass through. Layout of struct landmark_regs: src/rt.h. */

/* void __landmark_hit(unsigned id): what a landmark calls. Saves the
 * callee-saved registers, the stack pointer and return address the caller
 * will have when this returns (DESIGN.md decision 8) and the floating-point
 * control words, then calls landmark_hit(id, &regs) in C. */
	.section .text.__landmark_hit,"ax",@progbits
	.globl __landmark_hit
	.type __landmark_hit,@function
	.p2align 4
__landmark_hit:
	.cfi_startproc
	sub $88, %rsp			/* 80-byte struct; keeps rsp 16-aligned */
	.cfi_def_cfa_offset 96
	mov %rbx, 0(%rsp)
	mov %rbp, 8(%rsp)
	mov %r12, 16(%rsp)
	mov %r13, 24(%rsp)
	mov %r14, 32(%rsp)
	mov %r15, 40(%rsp)
	lea 96(%rsp), %rax		/* rsp once this returns */
	mov %rax, 48(%rsp)
	mov 88(%rsp), %rax		/* the return address */
	mov %rax, 56(%rsp)
	stmxcsr 64(%rsp)
	fnstcw 68(%rsp)
	mov %rsp, %rsi
	call landmark_hit
	add $88, %rsp
	.cfi_def_cfa_offset 8
	ret
	.cfi_endproc
	.size __landmark_hit, .-__landmark_hit

/* void __landmark_start_main(int argc, char **argv, char **envp, void *top):
 * runs main on the stack that ends at `top` (in the migration window) and
 * exits with its result. The outermost frame of every migrated stack: its
 * return address is undefined, so debuggers stop here. */
	.section .text.__landmark_start_main,"ax",@progbits
	.globl __landmark_start_main
	.type __landmark_start_main,@function
	.p2align 4
__landmark_start_main:
	.cfi_startproc
	.cfi_undefined rip
	mov %rcx, %rsp
	xor %ebp, %ebp
	call main
	.globl __landmark_main_returned
__landmark_main_returned:
	mov %eax, %edi
	call exit
	hlt
	.cfi_endproc
	.size __landmark_start_main, .-__landmark_start_main

/* _Noreturn void __landmark_resume(const struct landmark_regs *r): continues
 * the program at r->rip with r's registers: a landmark call returning. */
	.section .text.__landmark_resume,"ax",@progbits
	.globl __landmark_resume
	.type __landmark_resume,@function
	.p2align 4
__landmark_resume:
	mov 0(%rdi), %rbx
	mov 8(%rdi), %rbp
	mov 16(%rdi), %r12
	mov 24(%rdi), %r13
	mov 32(%rdi), %r14
	mov 40(%rdi), %r15
	ldmxcsr 64(%rdi)
	fldcw 68(%rdi)
	mov 48(%rdi), %rsp
	mov 56(%rdi), %rax
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	jmp *%rax
	.size __landmark_resume, .-__landmark_resume

/* uint64_t __landmark_thread_pointer(void): musl keeps the thread pointer's
 * own value at %fs:0. */
	.section .text.__landmark_thread_pointer,"ax",@progbits
	.globl __landmark_thread_pointer
	.type __landmark_thread_pointer,@function
	.p2align 4
__landmark_thread_pointer:
	mov %fs:0, %rax
	ret
	.size __landmark_thread_pointer, .-__landmark_thread_pointer

/* long __landmark_syscall(long n, long a, long b, long c, long d, long e,
 * long f): a system call that touches no memory of its own (musl's
 * syscall() checks a stack-protector canary, which restore replaces
 * under it). Returns the kernel's result (-errno on failure). */
	.section .text.__landmark_syscall,"ax",@progbits
	.globl __landmark_syscall
	.type __landmark_syscall,@function
	.p2align 4
__landmark_syscall:
	mov %rdi, %rax
	mov %rsi, %rdi
	mov %rdx, %rsi
	mov %rcx, %rdx
	mov %r8, %r10
	mov %r9, %r8
	mov 8(%rsp), %r9
	syscall
	ret
	.size __landmark_syscall, .-__landmark_syscall

	.section .note.GNU-stack,"",@progbits
