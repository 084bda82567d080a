import Testing

@testable import AiosFirewallTools

@Suite("runs: chunks read as one collection")
struct RunsTests {
    static func runs(_ values: [Int]) -> Runs<Int> {
        var runs = Runs<Int>()
        for value in values { runs.append(value) }
        return runs
    }

    @Test("appended runs read in order by position, empty runs left out")
    func order() {
        var all = Self.runs([0, 1, 2])
        all.append(runs: Runs())
        all.append(runs: Self.runs([3, 4]))
        var later = Self.runs([5])
        later.append(runs: Self.runs([6, 7]))
        all.append(runs: later)
        all.append(8)
        #expect(all.count == 9 && Array(all) == Array(0..<9))
        #expect((0..<9).allSatisfy { all[$0] == $0 })
        #expect(Runs<Int>().isEmpty)
        var first = Runs<Int>()
        first.append(runs: Self.runs([1, 2]))
        #expect(Array(first) == [1, 2] && first.last == 2)
    }
}
