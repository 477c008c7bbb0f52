/* The blob's first bytes (offset 0, placed first by restorer.lds) and
 * the two places that must not be C: a clone3 whose child starts on a
 * fresh stack, and the jump into rt_sigreturn. */
#include <asm/unistd.h>

	.section .text.entry, "ax"
	.globl	blob_entry
	.hidden	blob_entry
	.type	blob_entry, @function
/* void blob_entry(struct restore_args *args): still on the engine's stack,
 * which is about to be unmapped; move to the main thread's own stack. */
blob_entry:
	movq	%rdi, %rbx
	andq	$-16, %rsp
	call	blob_main_stack_top
	movq	%rax, %rsp
	xorl	%ebp, %ebp
	movq	%rbx, %rdi
	call	restore_main
	ud2
	.size	blob_entry, . - blob_entry

	.text
	.globl	blob_clone3_thread
	.hidden	blob_clone3_thread
	.type	blob_clone3_thread, @function
/* long blob_clone3_thread(struct clone_args *ca, size_t size,
 *			  void (*fn)(void *), void *arg)
 * The child starts on ca->stack + ca->stack_size with the parent's
 * registers, so fn and arg ride in r12/r13 (saved here for the parent). */
blob_clone3_thread:
	pushq	%r12
	pushq	%r13
	movq	%rdx, %r12
	movq	%rcx, %r13
	movl	$__NR_clone3, %eax
	syscall
	testq	%rax, %rax
	jnz	1f
	xorl	%ebp, %ebp		/* child */
	andq	$-16, %rsp
	movq	%r13, %rdi
	call	*%r12
	movl	$__NR_exit, %eax
	xorl	%edi, %edi
	syscall
	ud2
1:	popq	%r13
	popq	%r12
	ret
	.size	blob_clone3_thread, . - blob_clone3_thread

	.globl	blob_sigreturn
	.hidden	blob_sigreturn
	.type	blob_sigreturn, @function
/* void blob_sigreturn(u64 sp): sp is the address of the frame's uc; the
 * kernel finds the frame at sp - 8 and never comes back here. */
blob_sigreturn:
	movq	%rdi, %rsp
	movl	$__NR_rt_sigreturn, %eax
	syscall
	ud2
	.size	blob_sigreturn, . - blob_sigreturn

	.section .note.GNU-stack, "", @progbits
