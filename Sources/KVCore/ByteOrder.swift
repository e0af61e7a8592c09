/// Byte-wise (memcmp) ordering of keys, the order `list` returns them in.
public enum ByteOrder {
    /// Whether `a` sorts strictly before `b` as unsigned bytes.
    @inline(__always)
    public static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let n = min(pa.count, pb.count)
                var i = 0
                while i < n {
                    let x = pa[i], y = pb[i]
                    if x != y { return x < y }
                    i += 1
                }
                return pa.count < pb.count
            }
        }
    }

    /// The smallest byte string greater than every string that starts with `prefix`,
    /// or nil when there is none (empty prefix, or all bytes 0xFF).
    public static func successor(ofPrefix prefix: [UInt8]) -> [UInt8]? {
        var bytes = prefix
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return nil
    }

    /// Whether `bytes` starts with `prefix`.
    public static func hasPrefix(_ bytes: [UInt8], _ prefix: [UInt8]) -> Bool {
        guard bytes.count >= prefix.count else { return false }
        var i = 0
        while i < prefix.count {
            if bytes[i] != prefix[i] { return false }
            i += 1
        }
        return true
    }
}
