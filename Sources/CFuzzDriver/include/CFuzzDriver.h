#ifndef STAMPEDE_CFUZZDRIVER_H
#define STAMPEDE_CFUZZDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver (LLVMFuzzerRunDriver) with `callback` as the fuzz target, when the
/// binary was linked with -sanitize=fuzzer; returns -1 without doing anything otherwise.
int stampede_fuzz_driver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
