internal import CUnbound

/// Facts about the linked libunbound. Lookups arrive with the dns issue.
public enum UnboundLibrary {
    /// libunbound's version string, e.g. `1.17.1`.
    public static var version: String { String(cString: ub_version()) }
}
