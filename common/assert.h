#ifndef METRONOME_COMMON_ASSERT_H_
#define METRONOME_COMMON_ASSERT_H_

#include <cstdio>
#include <cstdlib>

// METRONOME_ASSERT checks one of our own invariants. It is on in every build,
// release included: a process whose invariants fail must stop, not continue in a
// state nobody reasoned about. Never use it for peer or user input; reject that as
// data instead.
#define METRONOME_ASSERT(condition)                                       \
  do {                                                                    \
    if (!(condition)) {                                                   \
      std::fprintf(stderr,                                                \
                   "{\"level\":\"fatal\",\"msg\":\"assertion failed\","   \
                   "\"condition\":\"%s\",\"file\":\"%s\",\"line\":%d}\n", \
                   #condition, __FILE__, __LINE__);                       \
      std::fflush(stderr);                                                \
      std::abort();                                                       \
    }                                                                     \
  } while (false)

#endif  // METRONOME_COMMON_ASSERT_H_
