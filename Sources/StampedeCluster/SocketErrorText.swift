import Foundation
import NIOCore

/// A one-line reason for a failed bind or connect: the system's text for the errno
/// ("Address already in use") instead of NIO's description of the syscall.
public enum SocketErrorText {
    public static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return "\(error)"
    }
}
