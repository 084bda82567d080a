/// A short, stable digest of a text (64-bit FNV-1a, hex): a config's fingerprint, a goal
/// document's generation. Not for security: only to tell two texts apart.
public enum Fingerprint {
    /// The digest of `text`.
    public static func of(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }
}
