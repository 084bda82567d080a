import AiosLinux

/// Record data in the text form people read (`dig` style).
public enum DNSRecordText {
    /// Type numbers by name (`A` → 1), for the types lookups take.
    public static let types: [String: Int] = [
        "A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33, "ANY": 255,
    ]

    /// `rdata` of a record of `type` as text; unknown types as `\# length hex` (RFC 3597).
    public static func format(type: Int, rdata: [UInt8]) -> String {
        switch type {
        case 1 where rdata.count == 4, 28 where rdata.count == 16:
            return IPAddressText.format(rdata) ?? hex(rdata)
        case 2, 5, 12:
            return name(rdata, at: 0).0
        case 15 where rdata.count > 2:
            return "\(Int(rdata[0]) << 8 | Int(rdata[1])) \(name(rdata, at: 2).0)"
        case 16:
            var parts: [String] = []
            var index = 0
            while index < rdata.count {
                let length = Int(rdata[index])
                let end = min(rdata.count, index + 1 + length)
                parts.append("\"" + String(decoding: rdata[(index + 1)..<end], as: UTF8.self) + "\"")
                index = end
            }
            return parts.joined(separator: " ")
        case 33 where rdata.count > 6:
            let priority = Int(rdata[0]) << 8 | Int(rdata[1])
            let weight = Int(rdata[2]) << 8 | Int(rdata[3])
            let port = Int(rdata[4]) << 8 | Int(rdata[5])
            return "\(priority) \(weight) \(port) \(name(rdata, at: 6).0)"
        default:
            return hex(rdata)
        }
    }

    /// An uncompressed wire-format name starting at `offset`, and the offset after it.
    static func name(_ bytes: [UInt8], at offset: Int) -> (String, Int) {
        var labels: [String] = []
        var index = offset
        while index < bytes.count {
            let length = Int(bytes[index])
            index += 1
            if length == 0 || length & 0xC0 != 0 { break }
            let end = min(bytes.count, index + length)
            labels.append(String(decoding: bytes[index..<end], as: UTF8.self))
            index = end
        }
        return (labels.joined(separator: ".") + ".", index)
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        "\\# \(bytes.count) " + bytes.map { String(format2: $0) }.joined()
    }
}

extension String {
    fileprivate init(format2 byte: UInt8) {
        let text = String(byte, radix: 16)
        self = text.count == 1 ? "0" + text : text
    }
}
