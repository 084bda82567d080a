internal import CCurl

/// Facts about the linked libcurl. HTTPS requests arrive with the agent issue.
public enum CurlLibrary {
    /// libcurl's version line, e.g. `libcurl/7.88.1 OpenSSL/3.0.17 …`.
    public static var version: String { String(cString: curl_version()) }
}
