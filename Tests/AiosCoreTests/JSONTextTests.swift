import AiosCore
import Testing

@Suite("JSON text written and read back")
struct JSONTextTests {
    @Test("compact, sorted keys, integers without a fraction, escapes only where needed")
    func written() throws {
        let value: JSONValue = [
            "b": 1, "a": [-12, 0, 0.5, 1e20, "plain", "say \"hi\"\n\t\\ \u{1}"],
            "c": ["z": .null, "y": true],
        ]
        #expect(
            value.jsonText
                == #"{"a":[-12,0,0.5,1e+20,"plain","say \"hi\"\n\t\\ \u0001"],"b":1,"c":{"y":true,"z":null}}"#)
        #expect(try JSONValue(parsing: value.jsonText) == value)
        #expect(JSONValue.number(-0.0).jsonText == "0" && JSONValue.number(65535).jsonText == "65535")
    }

    @Test("objects of many members read back whole")
    func manyMembers() throws {
        let members = Dictionary(uniqueKeysWithValues: (0..<40).map { ("k\($0)", JSONValue.number(Double($0))) })
        let value = JSONValue.object(members)
        #expect(try JSONValue(parsing: value.jsonText) == value)
        #expect(try JSONValue(parsing: #"{"a":1,"a":2}"#) == ["a": 2], "a repeated member: the last one holds")
    }
}
