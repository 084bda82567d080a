import Testing

@testable import AiosNetTools

@Suite("failover metrics: the winner and the loser swap")
struct FailoverMetricTests {
    @Test("flapping between two routes returns to the same two metrics every time")
    func noCreep() {
        var eth0: UInt32 = 100
        var eth1: UInt32 = 200
        for _ in 0..<50 {
            let over = FailoverTool.metrics(ours: eth1, best: eth0)
            (eth1, eth0) = (over.winner, over.demoted ?? eth0)
            #expect(eth1 < eth0)
            let back = FailoverTool.metrics(ours: eth0, best: eth1)
            (eth0, eth1) = (back.winner, back.demoted ?? eth1)
            #expect(eth0 < eth1)
        }
        #expect(eth0 == 100 && eth1 == 200)
    }

    @Test("without a route of its own (or tied) the winner goes just below the best; at 0 the best moves up")
    func edges() {
        #expect(FailoverTool.metrics(ours: nil, best: 100) == (99, nil))
        #expect(FailoverTool.metrics(ours: nil, best: 0) == (0, 1))
        #expect(FailoverTool.metrics(ours: nil, best: nil) == (100, nil))
        #expect(FailoverTool.metrics(ours: 50, best: 100) == (50, nil))
        #expect(FailoverTool.metrics(ours: 100, best: 100) == (99, nil))
    }
}
