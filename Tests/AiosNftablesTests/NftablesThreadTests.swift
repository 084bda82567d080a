import AiosTesting
import Foundation
import Testing

@testable import AiosNftables

@Suite("libnftables on its own thread")
struct NftablesThreadTests {
    @Test("concurrent callers each get their own command's answer (a syntax error is refused before netlink)")
    func concurrentCallers() async throws {
        let nft = try Nftables()
        let answers = await withTaskGroup(of: (Int, String).self) { group in
            for caller in 0..<8 {
                group.addTask {
                    do {
                        _ = try nft.run("frobnicate table_\(caller)")
                        return (caller, "no error")
                    } catch {
                        return (caller, "\(error)")
                    }
                }
            }
            var answers: [Int: String] = [:]
            for await (caller, message) in group { answers[caller] = message }
            return answers
        }
        #expect(answers.count == 8)
        for (caller, message) in answers {
            #expect(message.contains("syntax error"), "caller \(caller): \(message)")
            #expect(message.contains("frobnicate table_\(caller)"), "caller \(caller) got another's answer: \(message)")
        }
    }

    @Test("memory is given back once, after the idle time following a big command; small ones schedule nothing")
    func retentionTrimsWhenIdle() async throws {
        let small = MemoryRetention(idle: .milliseconds(50))
        small.used(bytes: 1000)
        let retention = MemoryRetention(idle: .milliseconds(50))
        retention.used(bytes: 2 << 20)
        retention.used(bytes: 2 << 20)
        _ = await Poll.until(seconds: 10) { () async in retention.trims > 0 }
        #expect(retention.trims == 1)
        // The big one's trim came at least the idle time after both started.
        #expect(small.trims == 0)
    }
}
