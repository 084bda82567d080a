extension Array where Element == UInt8 {
    /// Appends a non-negative integer's decimal digits, with no String in between (a 100k batch
    /// writes several per entry). Inlinable, so callers in other modules get it specialised.
    @inlinable
    public mutating func appendDecimal(_ value: Int) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
