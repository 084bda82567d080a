import Foundation

/// Paths of the package's shipped files and this target's fixtures.
enum Paths {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/"
            && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path)
        {
            url = url.deletingLastPathComponent()
        }
        return url.path
    }()

    static func fixture(_ name: String) -> String { "\(root)/Tests/AiosDaemonTests/Fixtures/\(name)" }

    static func files(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "\(root)/\(folder)").sorted().map {
            "\(root)/\(folder)/\($0)"
        }
    }
}
