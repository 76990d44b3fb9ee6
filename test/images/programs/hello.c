/* hello [EXIT_CODE]: prints which C library it runs on, then exits with EXIT_CODE (default 0). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef __GLIBC__
#define LIBC "glibc"
#else
#define LIBC "musl"
#endif

int main(int argc, char **argv)
{
    printf("hello from %s pid=%ld uid=%ld\n", LIBC, (long)getpid(), (long)getuid());
    return argc > 1 ? atoi(argv[1]) : 0;
}
