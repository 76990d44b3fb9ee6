/* waiter: prints "ready", waits for SIGTERM, prints "got SIGTERM" and exits 42. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_term(int sig)
{
    (void)sig;
    got = 1;
}

int main(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    puts("ready");
    fflush(stdout);
    while (!got)
        pause();
    puts("got SIGTERM");
    return 42;
}
