/* pedantic.c - the public header alone, compiled as strict C99 and as
 * C++ by `make check-header`: users may build with either. */
#include <mark.h>

int main(void)
{
    mark_ctx *ctx = 0;
    int rc = mark_ctx_new(&ctx, 0);

    mark_ctx_free(ctx);
    return rc == MARK_OK ? 0 : 1;
}
