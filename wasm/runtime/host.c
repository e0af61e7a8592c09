/* The C half of the engine's exports: memory for the host's requests, stdio flushing. */
#include <stdio.h>
#include <stdlib.h>
#include "luat_host.h"

__attribute__((export_name("luat_alloc")))
void *luat_alloc(size_t size) { return malloc(size ? size : 1); }

__attribute__((export_name("luat_free")))
void luat_free(void *pointer) { free(pointer); }

void luat_flush_stdio(void) {
    fflush(stdout);
    fflush(stderr);
}
