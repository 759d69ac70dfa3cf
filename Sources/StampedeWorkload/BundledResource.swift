import Foundation

/// Finds files in this module's resource bundle without trapping.
///
/// SwiftPM's generated `Bundle.module` calls `fatalError` when the bundle is in neither of the two
/// places it looks (next to the executable, or the absolute build directory it was compiled in).
/// A worker started from a copied binary would crash there, so we look first and only touch
/// `Bundle.module` when its bundle is known to be next to the executable; otherwise we search the
/// directories of the executable and of every loaded bundle (the test bundle on macOS) ourselves.
enum BundledResource {
    static let bundleNames = ["stampede_StampedeWorkload.resources", "stampede_StampedeWorkload.bundle"]

    /// The URL of `name.ext` in the resource bundle, or nil when no bundle holds it.
    static func url(forResource name: String, withExtension ext: String) -> URL? {
        let fileManager = FileManager.default
        let mainDirectory = Bundle.main.bundleURL
        if bundleNames.contains(where: { fileManager.fileExists(atPath: mainDirectory.appendingPathComponent($0).path) }) {
            return Bundle.module.url(forResource: name, withExtension: ext)
        }
        for directory in searchDirectories() {
            for bundleName in bundleNames {
                let bundleURL = directory.appendingPathComponent(bundleName)
                guard fileManager.fileExists(atPath: bundleURL.path), let bundle = Bundle(url: bundleURL) else { continue }
                if let url = bundle.url(forResource: name, withExtension: ext) { return url }
            }
        }
        return nil
    }

    /// Where a copied install may keep the bundle, most specific first.
    static func searchDirectories() -> [URL] {
        var directories: [URL] = []
        if let executable = Bundle.main.executableURL {
            directories.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        directories += Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
        return directories
    }

    /// A message naming where the bundle should be.
    static var missingMessage: String {
        "\(bundleNames[0]) (holding sonnets.txt) must sit next to the stampede executable in \(Bundle.main.bundleURL.path)"
    }
}
