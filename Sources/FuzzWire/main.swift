// libFuzzer entry point (scripts/fuzz.sh). No top-level code: a plain `swift build` links an empty
// main; the fuzz build (-sanitize=fuzzer -parse-as-library) links libFuzzer's main, which calls this.
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    WireFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
