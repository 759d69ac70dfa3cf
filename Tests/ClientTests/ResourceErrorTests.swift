import Foundation
import NIOCore
@testable import StampedeClient
import StampedeCore
import Testing

/// Running out of descriptors or ports is the generator's problem, not the server's: its own class.
@Suite("Resource errors")
struct ResourceErrorTests {
    @Test("EMFILE, ENFILE, EADDRNOTAVAIL and ENOBUFS are `resource`; a refused connect stays `connect`")
    func classes() {
        for errno in [EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS] {
            let (errorClass, message) = ErrorClassifier.transport(IOError(errnoCode: errno, reason: "socket"), phase: .beforeHead)
            #expect(errorClass == .resource, "\(message)")
            #expect(message.hasPrefix("out of a local resource: "))
        }
        #expect(ErrorClassifier.transport(IOError(errnoCode: ECONNREFUSED, reason: "connect"), phase: .beforeHead).0 == .connect)
    }
}
