/* What the Swift side of the WASM engine needs from its host (JavaScript) and from C. */
#ifndef LUAT_HOST_H
#define LUAT_HOST_H

/* Milliseconds since the Unix epoch, from the host (`Date.now()` unless the engine was given
 * another clock). The KV store's clock and Lua's os.time() both read it. */
__attribute__((import_module("luat"), import_name("now_ms")))
double luat_host_now_ms(void);

/* Flushes Lua's stdout and stderr into the host (print writes through stdio). */
void luat_flush_stdio(void);

#endif
