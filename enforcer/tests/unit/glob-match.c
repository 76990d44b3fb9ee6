/* Reads "GLOB<TAB>PATH" lines on stdin and prints 1 or 0 per line: the enforcer's
 * own matcher, for the cases shared with the TypeScript one (test/fixtures/glob-cases.json). */
#include <stdio.h>
#include <string.h>

#include "../../src/glob.h"

int main(void)
{
    char line[9000];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab) {
            fprintf(stderr, "glob-match: expected GLOB<TAB>PATH\n");
            return 2;
        }
        *tab = '\0';
        const char *why = glob_invalid(line);
        printf("%s\n", why ? "invalid" : glob_match(line, tab + 1) ? "1" : "0");
    }
    return 0;
}
