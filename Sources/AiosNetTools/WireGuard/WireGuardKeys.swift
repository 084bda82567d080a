import AiosCore
import AiosLinux
import Crypto
import Foundation

/// Curve25519 keys in the forms WireGuard uses: 32 bytes, base64 (44 characters) in configs and
/// output, 64 hex characters on the UAPI.
enum WireGuardKey {
    /// 32 key bytes from standard base64.
    static func decode(_ base64: String) -> [UInt8]? {
        guard base64.count == 44, let data = Data(base64Encoded: base64), data.count == 32 else { return nil }
        return [UInt8](data)
    }

    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined()
    }

    static func fromHex(_ hex: String) -> [UInt8]? {
        guard hex.count == 64 else { return nil }
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        return out
    }

    /// The public key of a private key (X25519 with clamping, what `wg pubkey` computes).
    static func publicKey(of privateKey: [UInt8]) throws -> [UInt8] {
        let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKey)
        return [UInt8](key.publicKey.rawRepresentation)
    }

    /// A fresh private key.
    static func generate() -> [UInt8] { [UInt8](Curve25519.KeyAgreement.PrivateKey().rawRepresentation) }
}

/// Where the daemon keeps interface private keys: one 0600 file per interface in a 0700
/// directory. They are never printed, never in events or output, never sent to the LLM.
struct WireGuardKeyStore: Sendable {
    let directory: String
    let redactor: Redactor?

    func path(_ interface: String) -> String { "\(directory)/\(interface).key" }

    /// The interface's private key, created (or imported from `reference`, a file holding a
    /// base64 key) when there is none.
    /// - Throws: `AiosError` when the reference cannot be read or is not a key.
    func privateKey(for interface: String, importing reference: String? = nil) throws -> [UInt8] {
        let fm = FileManager.default
        try? fm.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if let reference {
            // As ssh does with a private key others can read: refused, not taken quietly.
            let mode = (try? fm.attributesOfItem(atPath: reference)[.posixPermissions] as? NSNumber)?.intValue ?? 0
            if mode & 0o077 != 0 {
                throw AiosError(
                    .invalidInput,
                    "\(reference) is readable by others (mode \(String(mode, radix: 8))): the key may be exposed; make it 0600 (chmod 600) or generate a new one",
                    location: InputLocation(field: "input.private_key_ref"))
            }
            guard let text = try? String(contentsOfFile: reference, encoding: .utf8),
                let key = WireGuardKey.decode(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else {
                throw AiosError(
                    .invalidInput, "\(reference) does not hold a base64 WireGuard private key",
                    location: InputLocation(field: "input.private_key_ref"))
            }
            try store(key, for: interface)
            return key
        }
        if let text = try? String(contentsOfFile: path(interface), encoding: .utf8),
            let key = WireGuardKey.decode(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            register(key)
            return key
        }
        let key = WireGuardKey.generate()
        try store(key, for: interface)
        return key
    }

    /// True when the interface has a key already.
    func hasKey(_ interface: String) -> Bool { FileManager.default.fileExists(atPath: path(interface)) }

    /// Forgets the interface's key.
    func delete(_ interface: String) { try? FileManager.default.removeItem(atPath: path(interface)) }

    private func store(_ key: [UInt8], for interface: String) throws {
        register(key)
        do {
            try AtomicFile.write(WireGuardKey.base64(key) + "\n", to: path(interface), mode: 0o600)
        } catch {
            throw AiosError(.unavailable, "cannot store the private key of \(interface): \(error)", cause: error)
        }
    }

    /// Both textual forms go to the redactor, so a slip anywhere prints `<redacted>`.
    private func register(_ key: [UInt8]) {
        redactor?.register(WireGuardKey.base64(key))
        redactor?.register(WireGuardKey.hex(key))
    }
}
