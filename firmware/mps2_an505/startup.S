/* Cortex-M33 startup for QEMU's mps2-an505 (secure state, as the board resets).
 *
 * Reset_Handler, in assembly so that nothing runs before the FPU is enabled (with
 * -mfloat-abi=hard the compiler may use FP registers even in integer code, e.g. for copies):
 *   1. MSPLIM = __stack_limit: a stack overflow becomes a UsageFault (STKOF), not silent corruption
 *   2. CPACR: full access to CP10/CP11 (the FPU), then DSB/ISB
 *   3. copy .data from its load address in the code region, zero .bss, paint the main stack
 *   4. board_init() (board.cc: SysTick, static constructors), main(), board_exit(main's result)
 * The vector table lives in board.cc (section .vectors, placed at 0x10000000 = INITSVTOR).
 */
  .syntax unified
  .thumb
  .section .text.Reset_Handler, "ax", %progbits
  .global Reset_Handler
  .type Reset_Handler, %function
  .thumb_func
Reset_Handler:
  ldr   r0, =__stack_limit
  msr   msplim, r0
  /* CPACR (0xE000ED88) |= CP10, CP11 full access (bits 20-23). */
  ldr   r0, =0xE000ED88
  ldr   r1, [r0]
  orr   r1, r1, #(0xF << 20)
  str   r1, [r0]
  dsb
  isb
  /* .data: copy [__data_load, ...) to [__data_start, __data_end). */
  ldr   r0, =__data_load
  ldr   r1, =__data_start
  ldr   r2, =__data_end
1:
  cmp   r1, r2
  bhs   2f
  ldr   r3, [r0], #4
  str   r3, [r1], #4
  b     1b
2:
  /* .bss: zero [__bss_start, __bss_end). */
  ldr   r1, =__bss_start
  ldr   r2, =__bss_end
  movs  r3, #0
3:
  cmp   r1, r2
  bhs   4f
  str   r3, [r1], #4
  b     3b
4:
  /* Paint the main stack below the current SP (for board_stack_used()). */
  ldr   r1, =__stack_limit
  mov   r2, sp
  ldr   r3, =0x5EEDC0DE
6:
  cmp   r1, r2
  bhs   7f
  str   r3, [r1], #4
  b     6b
7:
  bl    board_init
  bl    main
  bl    board_exit   /* r0 = main's return value; does not return */
5:
  b     5b
  .size Reset_Handler, . - Reset_Handler

/* Every fault: r0 = the stack frame the exception pushed (MSP or PSP by EXC_RETURN bit 2),
 * r1 = EXC_RETURN; board_fault() prints the fault status and exits. It runs on its own stack
 * (__fault_stack_top, with no limit) so that a stack overflow fault can still print. */
  .section .text.Fault_Handler, "ax", %progbits
  .global Fault_Handler
  .type Fault_Handler, %function
  .thumb_func
Fault_Handler:
  tst   lr, #4
  ite   eq
  mrseq r0, msp
  mrsne r0, psp
  mov   r1, lr
  movs  r2, #0
  msr   msplim, r2
  ldr   r2, =__fault_stack_top
  msr   msp, r2
  isb
  b     board_fault
  .size Fault_Handler, . - Fault_Handler
