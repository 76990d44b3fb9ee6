/* try-exec PATH [PATH...]: runs each PATH in turn (fork + execv, no shell) and reports on stdout
 *   PATH: exit N            the program ran and exited with N
 *   PATH: signal N          the program died of signal N
 *   PATH: errno NAME        execv itself failed (e.g. EACCES when Landlock refuses it)
 * then exits with the last program's status (126 when execv failed with EACCES, 127 otherwise).
 * This is how the shell-less images run "a denied command, then the next one". */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errno_name(int e)
{
    switch (e) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ENOEXEC: return "ENOEXEC";
    case ENOSYS: return "ENOSYS";
    default: return "OTHER";
    }
}

int main(int argc, char **argv)
{
    int last = 0;
    for (int i = 1; i < argc; i++) {
        int pipefd[2];
        if (pipe(pipefd) != 0)
            return 70;
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
            return 70;
        if (pid == 0) {
            close(pipefd[0]);
            char *args[] = {argv[i], NULL};
            execv(argv[i], args);
            int e = errno;
            (void)!write(pipefd[1], &e, sizeof e);
            _exit(e == ENOENT ? 127 : 126);
        }
        close(pipefd[1]);
        int e = 0;
        ssize_t n = read(pipefd[0], &e, sizeof e);
        close(pipefd[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (n == (ssize_t)sizeof e) {
            printf("%s: errno %s\n", argv[i], errno_name(e));
            last = e == ENOENT ? 127 : 126;
        } else if (WIFSIGNALED(status)) {
            printf("%s: signal %d\n", argv[i], WTERMSIG(status));
            last = 128 + WTERMSIG(status);
        } else {
            printf("%s: exit %d\n", argv[i], WEXITSTATUS(status));
            last = WEXITSTATUS(status);
        }
        fflush(stdout);
    }
    return last;
}
