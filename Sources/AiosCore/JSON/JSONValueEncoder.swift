/// Encodes `Encodable` types straight into a `JSONValue` tree (no text round trip).
enum JSONValueEncoding {
    static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        let root = Node()
        try value.encode(to: TreeEncoder(node: root, codingPath: []))
        return root.resolved
    }
}

/// A value being built; containers write into nodes (mutated in place, never copied), the tree
/// is resolved at the end.
final class Node {
    var value: JSONValue?
    var object: [String: Node]?
    var array: [Node]?

    var resolved: JSONValue {
        if let value { return value }
        if let array { return .array(array.map(\.resolved)) }
        return .object((object ?? [:]).mapValues(\.resolved))
    }

    func child(_ key: String) -> Node {
        if object == nil { object = [:] }
        if let node = object![key] { return node }
        let node = Node()
        object![key] = node
        return node
    }

    func append() -> Node {
        if array == nil { array = [] }
        let node = Node()
        array!.append(node)
        return node
    }

    func makeObject() {
        if object == nil { object = [:] }
    }

    func makeArray() {
        if array == nil { array = [] }
    }

    var count: Int { array?.count ?? 0 }
}

struct TreeEncoder: Encoder {
    let node: Node
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.makeObject()
        return KeyedEncodingContainer(KeyedWriter<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.makeArray()
        return UnkeyedWriter(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleWriter(node: node, codingPath: codingPath)
    }

    static func put<T: Encodable>(_ value: T, into node: Node, path: [any CodingKey]) throws {
        switch value {
        case let json as JSONValue: node.value = (json)
        case let flag as Bool: node.value = (.bool(flag))
        case let text as String: node.value = (.string(text))
        case let number as Double: node.value = (.number(number))
        case let number as Float: node.value = (.number(Double(number)))
        case let number as Int: node.value = (.number(Double(number)))
        case let number as Int64: node.value = (.number(Double(number)))
        case let number as Int32: node.value = (.number(Double(number)))
        case let number as UInt32: node.value = (.number(Double(number)))
        case let number as UInt64: node.value = (.number(Double(number)))
        case let number as UInt16: node.value = (.number(Double(number)))
        case let number as UInt8: node.value = (.number(Double(number)))
        case let number as Int16: node.value = (.number(Double(number)))
        case let number as Int8: node.value = (.number(Double(number)))
        case let number as UInt: node.value = (.number(Double(number)))
        default: try value.encode(to: TreeEncoder(node: node, codingPath: path))
        }
    }
}

private struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.child(key.stringValue).value = (.null) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try TreeEncoder.put(value, into: node.child(key.stringValue), path: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        TreeEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        TreeEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        TreeEncoder(node: node.child("super"), codingPath: codingPath + [AnyKey(stringValue: "super")])
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TreeEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key])
    }
}

private struct UnkeyedWriter: UnkeyedEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]
    var count: Int { node.count }

    mutating func encodeNil() throws { node.append().value = (.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = codingPath + [AnyKey(intValue: count)]
        try TreeEncoder.put(value, into: node.append(), path: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let path = codingPath + [AnyKey(intValue: count)]
        return TreeEncoder(node: node.append(), codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = codingPath + [AnyKey(intValue: count)]
        return TreeEncoder(node: node.append(), codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let path = codingPath + [AnyKey(intValue: count)]
        return TreeEncoder(node: node.append(), codingPath: path)
    }
}

private struct SingleWriter: SingleValueEncodingContainer {
    let node: Node
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.value = (.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try TreeEncoder.put(value, into: node, path: codingPath)
    }
}
