/// Every validation rule of the store, in one place. Each failure is a `KVError` whose
/// message names the argument and the limit it broke.
public enum KVRules {
    /// Namespace names: 1–512 bytes of UTF-8.
    public static func validateNamespace(_ name: [UInt8]) throws(KVError) {
        if name.isEmpty { throw KVError(.invalidNamespace, "namespace name must not be empty") }
        if name.count > KVLimits.maxNamespaceBytes {
            throw KVError(.invalidNamespace, "namespace name exceeds \(KVLimits.maxNamespaceBytes) bytes (got \(name.count))")
        }
        if !UTF8Validation.isValid(name) { throw KVError(.invalidNamespace, "namespace name must be valid UTF-8") }
    }

    /// Keys: 1–512 bytes of UTF-8, and not `.` or `..`.
    public static func validateKey(_ key: [UInt8]) throws(KVError) {
        if let problem = key.withUnsafeBytes({ keyProblem($0) }) { throw problem }
    }

    /// Keys given as a borrowed buffer (the same rules).
    public static func validateKey(_ key: UnsafeRawBufferPointer) throws(KVError) {
        if let problem = keyProblem(key) { throw problem }
    }

    static func keyProblem(_ key: UnsafeRawBufferPointer) -> KVError? {
        if key.isEmpty { return KVError(.invalidKey, "key must not be empty") }
        if key.count > KVLimits.maxKeyBytes {
            return KVError(.invalidKey, "key exceeds \(KVLimits.maxKeyBytes) bytes (got \(key.count))")
        }
        if key[0] == 0x2E, key.count == 1 || (key.count == 2 && key[1] == 0x2E) {
            return KVError(.invalidKey, "key must not be \".\" or \"..\"")
        }
        if !UTF8Validation.isValid(key.assumingMemoryBound(to: UInt8.self)) { return KVError(.invalidKey, "key must be valid UTF-8") }
        return nil
    }

    /// Values: any bytes, at most 25 MiB.
    public static func validateValue(byteCount: Int) throws(KVError) {
        if byteCount > KVLimits.maxValueBytes {
            throw KVError(.invalidValue, "value exceeds \(KVLimits.maxValueBytes) bytes (got \(byteCount))")
        }
    }

    /// Metadata: one JSON value whose serialised form is at most 1,024 bytes.
    public static func validateMetadata(_ json: [UInt8]) throws(KVError) {
        if json.count > KVLimits.maxMetadataBytes {
            throw KVError(.invalidMetadata, "metadata exceeds \(KVLimits.maxMetadataBytes) bytes when serialised (got \(json.count))")
        }
        do {
            _ = try JSONValue.parse(json)
        } catch {
            throw KVError(.invalidMetadata, "metadata is not valid JSON: \(error.message)")
        }
    }

    /// `expiration` / `expirationTtl`: whole seconds greater than zero.
    public static func validatePositiveSeconds(_ seconds: Int64, option: String) throws(KVError) {
        if seconds <= 0 {
            throw KVError(.invalidExpiration, "\(option) must be a positive integer number of seconds (got \(seconds))")
        }
    }

    /// Converts a number given by a dynamic caller (Lua, JSON) into whole seconds for
    /// `option`: it must be finite, integral and greater than zero.
    public static func seconds(fromNumber number: Double, option: String) throws(KVError) -> Int64 {
        guard number.isFinite, number == number.rounded(.towardZero), number > 0, number < 9.0e15 else {
            throw KVError(.invalidExpiration, "\(option) must be a positive integer number of seconds (got \(describe(number)))")
        }
        return Int64(number)
    }

    /// `seconds(fromNumber:option:)` for an integer: the same range, the integer shown as is.
    public static func seconds(fromInteger number: Int64, option: String) throws(KVError) -> Int64 {
        guard number > 0, number < 9_000_000_000_000_000 else {
            throw KVError(.invalidExpiration, "\(option) must be a positive integer number of seconds (got \(number))")
        }
        return number
    }

    /// The absolute expiration a put stores: `expirationTtl` wins over `expiration`.
    /// It must lie after `now`: an entry that would be born expired is refused.
    public static func resolveExpiration(expiration: Int64?, expirationTtl: Int64?, now: Int64) throws(KVError) -> Int64? {
        if let ttl = expirationTtl {
            try validatePositiveSeconds(ttl, option: "expirationTtl")
            let (sum, overflow) = now.addingReportingOverflow(ttl)
            if overflow { throw KVError(.invalidExpiration, "expirationTtl is too large (got \(ttl))") }
            return sum
        }
        if let expiration {
            try validatePositiveSeconds(expiration, option: "expiration")
            if expiration <= now {
                throw KVError(.invalidExpiration, "expiration must be in the future (got \(expiration), now \(now)); use expirationTtl for a relative time")
            }
            return expiration
        }
        return nil
    }

    /// `limit` of `list`: 1–1000.
    public static func validateListLimit(_ limit: Int) throws(KVError) {
        if limit < 1 || limit > KVLimits.maxListLimit {
            throw KVError(.invalidListOptions, "limit must be an integer from 1 to \(KVLimits.maxListLimit) (got \(limit))")
        }
    }

    /// Converts a dynamic number into a `list` limit.
    public static func listLimit(fromNumber number: Double) throws(KVError) -> Int {
        guard number.isFinite, number == number.rounded(.towardZero), number >= 1, number <= Double(KVLimits.maxListLimit) else {
            throw KVError(.invalidListOptions, "limit must be an integer from 1 to \(KVLimits.maxListLimit) (got \(describe(number)))")
        }
        return Int(number)
    }

    /// Bulk get: 1–100 keys.
    public static func validateBulkCount(_ count: Int) throws(KVError) {
        if count > KVLimits.maxBulkGetKeys {
            throw KVError(.tooManyKeys, "too many keys (got \(count), at most \(KVLimits.maxBulkGetKeys))")
        }
        if count == 0 { throw KVError(.invalidKey, "keys must not be empty") }
    }

    // MARK: atomic commits and counters

    /// Checks of one atomic commit: at most `KVLimits.maxAtomicChecks`.
    public static func validateAtomicChecks(_ count: Int) throws(KVError) {
        if count > KVLimits.maxAtomicChecks {
            throw KVError(.invalidAtomic, "too many checks in one atomic commit (got \(count), at most \(KVLimits.maxAtomicChecks))")
        }
    }

    /// Mutations of one atomic commit: at most `KVLimits.maxAtomicMutations`.
    public static func validateAtomicMutations(_ count: Int) throws(KVError) {
        if count > KVLimits.maxAtomicMutations {
            throw KVError(.invalidAtomic, "too many mutations in one atomic commit (got \(count), at most \(KVLimits.maxAtomicMutations))")
        }
    }

    /// Bytes (keys, values, metadata) one atomic commit writes: at most `KVLimits.maxAtomicBytes`.
    public static func validateAtomicBytes(_ count: Int) throws(KVError) {
        if count > KVLimits.maxAtomicBytes {
            throw KVError(.invalidAtomic, "atomic commit writes more than \(KVLimits.maxAtomicBytes) bytes of keys, values and metadata (got \(count))")
        }
    }

    /// A version given to a check, in its text form.
    public static func version(fromText text: String) throws(KVError) -> KVVersion {
        guard let version = KVVersion(text) else {
            var shown = text
            if shown.utf8.count > 40 { shown = String(decoding: Array(shown.utf8.prefix(40)), as: UTF8.self) + "..." }
            throw KVError(.invalidAtomic, "version must be a version string from getWithMetadata or commit, or nil (got \"\(shown)\")")
        }
        return version
    }

    /// A counter's value: decimal integer text (an optional `-`, then 1–19 digits), within
    /// 64 bits. `key` names the entry in the error.
    public static func counterValue(_ bytes: [UInt8], key: [UInt8]) throws(KVError) -> Int64 {
        var digits = bytes[...]
        let negative = digits.first == 0x2D
        if negative { digits = digits.dropFirst() }
        var magnitude: UInt64 = 0
        var valid = !digits.isEmpty
        for digit in digits where valid {
            guard digit >= 0x30 && digit <= 0x39 else { valid = false; break }
            let (times, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (plus, o2) = times.addingReportingOverflow(UInt64(digit - 0x30))
            if o1 || o2 { valid = false; break }
            magnitude = plus
        }
        if valid {
            if negative, magnitude <= UInt64(Int64.max) + 1 { return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude) }
            if !negative, magnitude <= UInt64(Int64.max) { return Int64(magnitude) }
        }
        throw KVError(.invalidCounter, "value of key \"\(String(decoding: key, as: UTF8.self))\" is not a 64-bit decimal integer, cannot add to it")
    }

    /// `value + delta` for the counter under `key`; overflow is an error naming the key.
    public static func counterSum(_ value: Int64, _ delta: Int64, key: [UInt8]) throws(KVError) -> Int64 {
        let (sum, overflow) = value.addingReportingOverflow(delta)
        if overflow {
            throw KVError(.invalidCounter, "counter \"\(String(decoding: key, as: UTF8.self))\" would overflow 64 bits (\(value) + \(delta))")
        }
        return sum
    }

    /// Converts a dynamic number into a counter delta: an integer within 64 bits.
    public static func counterDelta(fromNumber number: Double) throws(KVError) -> Int64 {
        guard number.isFinite, number == number.rounded(.towardZero), abs(number) < 9.2e18 else {
            throw KVError(.invalidCounter, "n must be an integer (got \(describe(number)))")
        }
        return Int64(number)
    }

    /// A number as a person would write it: integers without a fraction.
    static func describe(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        if number == number.rounded(.towardZero), abs(number) < 9.0e15 { return "\(Int64(number))" }
        return JSONValue.formatDouble(number)
    }
}
