/* Runtime helpers for clang's `-mllvm -wasm-enable-sjlj` lowering of setjmp/longjmp.
 *
 * The compiler turns each function that calls setjmp into one that records, per setjmp
 * call site, a label plus an id of the current invocation (`__wasm_setjmp`), and wraps its
 * calls in a `try` that catches the `__c_longjmp` exception thrown by `__wasm_longjmp`.
 * On catch it asks `__wasm_setjmp_test` whether the jmp_buf belongs to this invocation;
 * a zero answer rethrows to the next frame up.
 */
#include <stdint.h>
#include <setjmp.h>

struct luat_jmp_record {
    void *invocation;   /* which function invocation called setjmp */
    uint32_t label;     /* which setjmp call site in it */
    struct { void *env; int val; } arg; /* what the catching frame reads */
};

_Static_assert(sizeof(struct luat_jmp_record) <= sizeof(jmp_buf), "jmp_buf too small");

void __wasm_setjmp(void *env, uint32_t label, void *invocation) {
    struct luat_jmp_record *r = env;
    r->invocation = invocation;
    r->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *invocation) {
    struct luat_jmp_record *r = env;
    return r->invocation == invocation ? r->label : 0;
}

void __wasm_longjmp(void *env, int val) {
    struct luat_jmp_record *r = env;
    r->arg.env = env;
    r->arg.val = val == 0 ? 1 : val;
    __builtin_wasm_throw(1, &r->arg); /* tag 1: __c_longjmp */
}
