import AiosCore
@_spi(Bench) import AiosFirewallTools
import Foundation

/// Planning of one allow batch alone (validation, records, elements, their text), in-process:
///
///   .build/release/aios-bench planning [--sizes 10000,100000]
enum PlanningFigures {
    static func run(arguments: [String]) async throws {
        let sizes =
            arguments.firstIndex(of: "--sizes").map { arguments[$0 + 1].split(separator: ",").compactMap { Int($0) } }
            ?? [10_000, 100_000]
        for size in sizes {
            let entries: [JSONValue] = (0..<size).map { index in
                ["source": .string("10.\((index >> 16) & 255).\((index >> 8) & 255).\(index & 255)"), "port": 8080]
            }
            let input: JSONValue = ["entries": .array(entries), "expires": "1h", "comment": "bench"]
            let runs = try await PlanningBench.run(input, times: 7)
            // The first pass runs cold (fresh memory, ~20k page faults at 100k), as a daemon's
            // call between other big work mostly does.
            print("N=\(size)  passes (ms): " + runs.map { String(format: "%.0f", $0 * 1000) }.joined(separator: " "))
            let times = runs.sorted()
            print(
                String(
                    format: "N=%6d  planning %7.1f ms (median of 7; min %7.1f; first %7.1f)   %5.2f µs per entry", size,
                    times[3] * 1000, times[0] * 1000, runs[0] * 1000, times[3] * 1e6 / Double(size)))
        }
    }
}
