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

    /// `hex(HMAC-SHA256(key: token, message: nonce + "\n" + workerId))`.
    public static func proof(token: String, nonce: String, workerId: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data((nonce + "\n" + workerId).utf8), using: SymmetricKey(data: Data(token.utf8)))
        return hex(Array(code))
    }

    /// Constant-time check of a worker's proof.
    public static func verify(proof: String, token: String, nonce: String, workerId: String) -> Bool {
        guard let bytes = unhex(proof) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: Data((nonce + "\n" + workerId).utf8),
                                                      using: SymmetricKey(data: Data(token.utf8)))
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
