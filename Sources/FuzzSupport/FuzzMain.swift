import CFuzzDriver
import Foundation

/// The entry point of the fuzz executables. SwiftPM links every executable with
/// `--defsym main=<module>_main` (so tests can link against it), which shadows libFuzzer's own
/// `main`, so the executable's top-level code calls this in both builds:
/// - fuzz build (`-sanitize=fuzzer`): hands the command line to libFuzzer (`LLVMFuzzerRunDriver`);
/// - plain build: replays the files (or folders of files) named on the command line through the
///   target once each, so `swift build && .build/debug/FuzzWire Fuzz/corpus/wire` checks the corpus
///   without the instrumented build. A trap is a crash, as under the fuzzer.
public enum FuzzMain {
    public typealias Target = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// Runs libFuzzer or the replay, then exits with its status.
    public static func start(name: String, _ target: Target) -> Never {
        exit(run(name: name, target))
    }

    static func run(name: String, _ target: Target) -> Int32 {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        let rc = withUnsafeMutablePointer(to: &argc) { argcPointer in
            withUnsafeMutablePointer(to: &argv) { argvPointer in
                stampede_fuzz_driver(argcPointer, argvPointer, target)
            }
        }
        if rc != -1 { return rc }
        return replay(name: name, arguments: Array(CommandLine.arguments.dropFirst()), target)
    }

    static func replay(name: String, arguments: [String], _ target: Target) -> Int32 {
        if arguments.isEmpty || arguments.contains(where: { $0.hasPrefix("-") }) {
            let stderr = FileHandle.standardError
            stderr.write(Data("""
            usage: \(name) FILE|DIR...   (this build has no libFuzzer: it replays inputs once each)
            Fuzzing needs the fuzz build: scripts/fuzz.sh (docs/fuzzing.md).

            """.utf8))
            return arguments.isEmpty ? 0 : 2
        }
        var count = 0
        for path in arguments {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("\(name): cannot read \(file)\n".utf8))
                    return 2
                }
                data.withUnsafeBytes { bytes in
                    _ = target(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count)
                }
                count += 1
            }
        }
        print("\(name): replayed \(count) inputs, no crash")
        return 0
    }

    /// `path` itself, or the regular files in it (not README.md), sorted.
    static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { !$0.hasSuffix(".md") && !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
    }
}
