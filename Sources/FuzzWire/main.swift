// libFuzzer target (docs/fuzzing.md, scripts/fuzz.sh). The fuzz build links libFuzzer, which calls
// LLVMFuzzerTestOneInput; a plain build replays the files given as arguments.
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    WireFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

// The only top-level code: SwiftPM renames this file's entry point and links it as `main`, which
// shadows libFuzzer's own, so FuzzMain starts libFuzzer's driver (or the replay).
FuzzMain.start(name: "FuzzWire", fuzz)
