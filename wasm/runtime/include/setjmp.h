/* setjmp/longjmp for wasm32, which wasi-libc does not provide.
 * Calls to setjmp/longjmp are rewritten by clang's `-mllvm -wasm-enable-sjlj` into WebAssembly
 * exception handling plus the three helpers in sjlj.c; no other code ever calls them. */
#ifndef LUAT_WASM_SETJMP_H
#define LUAT_WASM_SETJMP_H

/* Room for the helpers' record (invocation id, label, and the longjmp argument). */
typedef struct { void *slots[8]; } jmp_buf[1];

int setjmp(jmp_buf env) __attribute__((returns_twice));
void longjmp(jmp_buf env, int val) __attribute__((noreturn));

#endif
