import Crypto
import Foundation

/// Challenge–response authentication with the cluster token (docs/protocol.md, "Authentication").
/// The token never crosses the wire: the worker proves it knows it with an HMAC over the challenge.
public enum ClusterAuth {
    /// 32 random bytes, hex.
    public static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The worker's proof: `hex(HMAC-SHA256(token, "stampede-worker\n" ‖ coordinator nonce ‖ "\n" ‖ worker nonce ‖ "\n" ‖ worker id))`.
    public static func workerProof(token: String, coordinatorNonce: String, workerNonce: String, workerId: String) -> String {
        hex(mac(token: token, message: workerMessage(coordinatorNonce: coordinatorNonce, workerNonce: workerNonce, workerId: workerId)))
    }

    /// The coordinator's proof: `hex(HMAC-SHA256(token, "stampede-coordinator\n" ‖ worker nonce ‖ "\n" ‖ coordinator nonce ‖ "\n" ‖ worker id))`.
    /// The role prefix keeps one side's proof from ever being valid as the other's.
    public static func coordinatorProof(token: String, workerNonce: String, coordinatorNonce: String, workerId: String) -> String {
        hex(mac(token: token, message: coordinatorMessage(workerNonce: workerNonce, coordinatorNonce: coordinatorNonce, workerId: workerId)))
    }

    /// Constant-time check of a worker's proof.
    public static func verifyWorker(proof: String, token: String, coordinatorNonce: String, workerNonce: String, workerId: String) -> Bool {
        verify(proof, token: token, message: workerMessage(coordinatorNonce: coordinatorNonce, workerNonce: workerNonce, workerId: workerId))
    }

    /// Constant-time check of a coordinator's proof.
    public static func verifyCoordinator(proof: String, token: String, workerNonce: String, coordinatorNonce: String, workerId: String) -> Bool {
        verify(proof, token: token, message: coordinatorMessage(workerNonce: workerNonce, coordinatorNonce: coordinatorNonce, workerId: workerId))
    }

    static func workerMessage(coordinatorNonce: String, workerNonce: String, workerId: String) -> Data {
        Data("stampede-worker\n\(coordinatorNonce)\n\(workerNonce)\n\(workerId)".utf8)
    }

    static func coordinatorMessage(workerNonce: String, coordinatorNonce: String, workerId: String) -> Data {
        Data("stampede-coordinator\n\(workerNonce)\n\(coordinatorNonce)\n\(workerId)".utf8)
    }

    static func mac(token: String, message: Data) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(token.utf8))))
    }

    static func verify(_ proof: String, token: String, message: Data) -> Bool {
        guard let bytes = unhex(proof) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: message, using: SymmetricKey(data: Data(token.utf8)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func unhex(_ text: String) -> [UInt8]? {
        guard text.count % 2 == 0, text.count <= 256 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

/// Where the cluster token comes from: `--token-file PATH` or the variable named by `--token-env`.
public enum ClusterToken {
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The token, or nil when neither source has one. The file wins over the environment.
    public static func load(envName: String, file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let file {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw LoadError(description: "--token-file: cannot read \(file)")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw LoadError(description: "--token-file: \(file) is empty") }
            return token
        }
        guard let token = environment[envName]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else { return nil }
        return token
    }
}
