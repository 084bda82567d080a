import Foundation

/// Real TCP traffic between lab namespaces: listeners that answer each connection with the peer
/// address they saw (so a test can tell masquerading from routing), and connects with a timeout.
public enum Traffic {
    static let listener = """
        import socket, selectors, sys
        sel = selectors.DefaultSelector()
        for port in sys.argv[2:]:
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((sys.argv[1], int(port))); s.listen(64); sel.register(s, selectors.EVENT_READ)
        print("listening", flush=True)
        while True:
            for key, _ in sel.select():
                conn, peer = key.fileobj.accept()
                try: conn.sendall((peer[0] + "\\n").encode())
                except OSError: pass
                conn.close()
        """

    static let client = """
        import socket, sys
        src = (sys.argv[3], 0) if len(sys.argv) > 3 else None
        c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1, source_address=src)
        print(c.recv(100).decode().strip())
        """

    /// Starts a listener in `namespace` on `ports` (bound to `address`, all by default) and waits
    /// until it listens.
    @discardableResult
    public static func listen(_ lab: Lab, in namespace: String, ports: [Int], address: String = "0.0.0.0") throws
        -> LabProcess
    {
        let process = try lab.spawn(
            ["ip", "netns", "exec", namespace, "python3", "-c", listener, address] + ports.map(String.init),
            name: "listen-\(namespace)-\(ports.map(String.init).joined(separator: "-"))")
        guard Poll.until(seconds: 10, { process.stdout.contains("listening") }) else {
            throw LabError.command(["listener", namespace], -1, process.stderr)
        }
        return process
    }

    /// Connects from `namespace` to `host`:`port` (1 s timeout), optionally from `source`.
    /// - Returns: the peer address the listener saw, or nil when the connection failed.
    public static func connect(from namespace: String, to host: String, port: Int, source: String? = nil) throws
        -> String?
    {
        var arguments = ["ip", "netns", "exec", namespace, "python3", "-c", client, host, "\(port)"]
        if let source { arguments.append(source) }
        let result = try Shell.run(arguments)
        return result.status == 0 ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }
}
