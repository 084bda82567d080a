import AiosTesting
import Foundation
import Testing

/// An HTTPS server in a lab namespace with a self-signed certificate for its address (the lab's
/// own CA: the daemon trusts it through `--ca-file`). It serves a directory and logs each request
/// line to its standard error.
struct LabHTTPS {
    var certificate: String
    var key: String
    var address: String
    var port: Int

    /// Makes the certificate for `address` in the lab directory.
    init(_ lab: Lab, address: String, port: Int = 8443) throws {
        certificate = "\(lab.directory)/cert-\(address).pem"
        key = "\(lab.directory)/key-\(address).pem"
        self.address = address
        self.port = port
        try Shell.check([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=\(address)",
            "-addext", "subjectAltName=IP:\(address)", "-keyout", key, "-out", certificate,
        ])
    }

    /// Starts serving `directory` from `namespace`; returns once it listens.
    func serve(_ lab: Lab, namespace: String, directory: String) throws -> LabProcess {
        let server = try lab.spawn(
            [
                "ip", "netns", "exec", namespace, "python3", "-c", LabPrograms.httpsServer, directory, certificate, key,
                address,
                String(port),
            ], name: "https-\(address)")
        #expect(Poll.until(seconds: 10) { server.stdout.contains("serving") }, "\(server.stderr)")
        return server
    }
}
