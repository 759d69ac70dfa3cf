#include "CFuzzDriver.h"

// libFuzzer's entry point for programs that have a main of their own (LLVM 11 and later). Weak:
// a plain build has no libFuzzer, and the reference resolves to NULL.
extern int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size))
    __attribute__((weak));

int stampede_fuzz_driver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size)) {
    if (!LLVMFuzzerRunDriver) return -1;
    return LLVMFuzzerRunDriver(argc, argv, callback);
}
