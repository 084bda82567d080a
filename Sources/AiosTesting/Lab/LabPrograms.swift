/// Small programs (`python3 -c`) the namespace labs of the tests and the benchmarks run.
public enum LabPrograms {
    /// Sends a datagram to an unused address (argument 1) every 100 ms, so the link carries ARP
    /// requests: the traffic the DHCP fallback infers a subnet and a gateway from.
    public static let chatter = """
        import socket, sys, time
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        while True:
            try: s.sendto(b"x", (sys.argv[1], 9))
            except OSError: pass
            time.sleep(0.1)
        """

    /// An HTTPS server: arguments directory, certificate, key, address, port. Prints `serving`
    /// once it listens; logs each request line to its standard error.
    public static let httpsServer = """
        import http.server, ssl, sys, functools
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        srv = http.server.ThreadingHTTPServer((sys.argv[4], int(sys.argv[5])), handler)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        print("serving", flush=True); srv.serve_forever()
        """
}
