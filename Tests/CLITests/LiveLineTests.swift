import Foundation
import StampedeTestSupport
import Testing

/// The live line on a real terminal: `script` gives `stampede run` a pseudo-terminal 60 columns wide.
/// The line must redraw in place (carriage return, clear line) and never be wider than the terminal,
/// so it cannot wrap into a second line; the report follows on a cleared line.
@Suite("Live line on a terminal")
struct LiveLineTests {
    static let script = ["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.timeLimit(.minutes(2)),
          .enabled(if: StampedeBinary.path != nil && script != nil, "needs the stampede binary and util-linux's script"))
    func redrawsInPlaceWithinTheWidth() async throws {
        let command = "stty cols 60 rows 20; exec '\(StampedeBinary.path!)' run --users 2 --spawn-rate 2 --run-time 4s "
            + "--mean-output-tokens 10 --stddev-output-tokens 0 --itl-ms 5"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.script!)
        process.arguments = ["-q", "-e", "-c", command, "/dev/null"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(String(decoding: data, as: UTF8.self))")
        let output = String(decoding: data, as: UTF8.self)
        let redraw = "\r\u{1B}[2K"
        // Before the report: the live line's frames, each one after a redraw.
        let head = output.components(separatedBy: "Stampede report:").first ?? ""
        let frames = head.components(separatedBy: redraw).dropFirst().filter { !$0.isEmpty }
        #expect(frames.count >= 2, "live frames: \(frames)")
        for frame in frames {
            #expect(frame.hasPrefix("["), "a frame is the live line: \(frame.debugDescription)")
            #expect(!frame.contains("\n"), "a frame never breaks the line: \(frame.debugDescription)")
            #expect(frame.count <= 59, "a frame fits in 60 columns: \(frame.count) \(frame.debugDescription)")
        }
        #expect(head.hasSuffix(redraw), "the live line is cleared before the report")
    }
}
