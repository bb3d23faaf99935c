/* version.h: the project's version, that each program's --version says. */
#ifndef LIB_VERSION_H
#define LIB_VERSION_H

#define CRASHONLY_VERSION "0.1.0"

#endif
