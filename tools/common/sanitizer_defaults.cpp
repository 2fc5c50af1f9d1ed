// Linked into the programs only in a build with AddressSanitizer (LIBWATCH_SANITIZE): the tests
// start them thousands of times, and LeakSanitizer's scan at each exit cost 30 ms a process on a
// 2-core CI machine (the sanitizer suite: 162 s with it, 97 s without). The test programs, which
// run libwatch and the tools' code in-process, keep the leak check; ASAN_OPTIONS=detect_leaks=1
// in the environment turns it back on for the programs too.
extern "C" const char* __asan_default_options();
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
