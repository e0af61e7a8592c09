/* Functions wasi-libc declares but does not define, which Lua's io library references. */
#include <errno.h>
#include <stdio.h>

FILE *tmpfile(void) {
    errno = ENOTSUP; /* io.tmpfile() returns nil plus this error's message */
    return NULL;
}

#include <stdlib.h>

/* No shell: os.execute() reports that none is available, os.execute(cmd) fails. */
int system(const char *command) {
    if (command == NULL) return 0;
    errno = ENOSYS;
    return -1;
}

/* Embedded Swift's Double(String) (the JSON parser's numbers) calls this runtime hook, which
 * the Embedded stdlib leaves to the platform: musl's strtod, correctly rounded, "C" locale. */
const char *_swift_stdlib_strtod_clocale(const char *nptr, double *outResult) {
    char *end = NULL;
    *outResult = strtod(nptr, &end);
    return end;
}
