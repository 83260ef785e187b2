// CProgramTests.swift - runs the C programs SwiftPM builds next to this test
// bundle: daxm-ctest (tests/c-abi, the C ABI contract from C) and daxm-demo
// (examples/demo). Both must exit 0; their output is part of any failure.

import Foundation
import Testing

/// Where SwiftPM put the products of this build (.build/<triple>/debug).
private func productDirectories() -> [URL] {
    var dirs: [URL] = []
    // The test runner itself lives there (daxmodelPackageTests.xctest on Linux).
    let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    dirs.append(argv0.deletingLastPathComponent())
    if let exe = Bundle.main.executableURL {
        dirs.append(exe.resolvingSymlinksInPath().deletingLastPathComponent())
    }
    // Fallback: walk up from this source file to the package's .build/debug.
    var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    for _ in 0..<4 {
        for config in ["debug", "release"] {
            dirs.append(dir.appendingPathComponent(".build").appendingPathComponent(config))
        }
        dir = dir.deletingLastPathComponent()
    }
    return dirs
}

private func findProduct(_ name: String) -> URL? {
    for d in productDirectories() {
        let u = d.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: u.path) { return u }
    }
    return nil
}

/// Run @exe with a time limit; return (exit status, stdout + stderr).
private func run(_ exe: URL, _ args: [String] = [], timeout: TimeInterval = 120) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = exe
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["DAXM_LOG"] = env["DAXM_LOG"] ?? "err"
    p.environment = env
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    p.standardInput = FileHandle.nullDevice
    let reader = OutputReader(out.fileHandleForReading)
    try p.run()
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    var timedOut = false
    if p.isRunning {
        timedOut = true
        p.terminate()
        p.waitUntilExit()
    }
    let text = reader.finish()
    if timedOut { return (-1, "TIMED OUT after \(Int(timeout)) s\n" + text) }
    let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
    return (status, text)
}

/// Drains a pipe on a background thread so a chatty child never blocks.
private final class OutputReader: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)

    init(_ h: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = h.availableData
                if chunk.isEmpty { break }
                lock.lock(); data.append(chunk); lock.unlock()
            }
            done.signal()
        }
    }

    func finish() -> String {
        _ = done.wait(timeout: .now() + 10)
        lock.lock(); defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite("C programs built with the package")
struct CProgramTests {
    @Test("daxm-ctest (tests/c-abi) exits 0", arguments: ["daxm-ctest"])
    func ctest(_ name: String) throws {
        let exe = try #require(findProduct(name), "\(name) not found in \(productDirectories().map(\.path))")
        let (status, output) = try run(exe)
        #expect(status == 0, "\(exe.path) exited \(status):\n\(output)")
    }

    @Test("C example programs exit 0", arguments: ["daxm-demo", "dax-map", "dax-jobs", "dax-fabric"])
    func demo(_ name: String) throws {
        let exe = try #require(findProduct(name), "\(name) not found in \(productDirectories().map(\.path))")
        let (status, output) = try run(exe)
        #expect(status == 0, "\(exe.path) exited \(status):\n\(output)")
    }
}
