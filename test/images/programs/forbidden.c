/* forbidden: the program the test policies deny; it must never get to print. */
#include <stdio.h>

int main(void)
{
    puts("forbidden ran");
    return 0;
}
