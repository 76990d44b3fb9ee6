#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.1.0"
#endif
