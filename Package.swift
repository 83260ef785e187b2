// swift-tools-version:6.0
// SwiftPM build for development: `swift build`, `swift test`.
// The build C users install is CMakeLists.txt (SONAME, version script,
// pkg-config, CMake package); see README.md.
import PackageDescription

let package = Package(
    name: "daxmodel",
    products: [
        // The model for Swift programs: `import DaxModel`. No unsafe flags,
        // so other packages can depend on it by URL and version.
        .library(name: "DaxModel", targets: ["DaxModel"]),
        // The C libraries, for development: the build C users install is
        // CMake's (it exports only the daxm_* ABI; these export every
        // Swift symbol too, and their linker flags need unsafeFlags).
        .library(name: "daxmodel", type: .dynamic, targets: ["CDaxModel"]),
        .library(name: "daxmodel-static", type: .static, targets: ["CDaxModel"]),
    ],
    targets: [
        // Header-only C target: include/ holds daxmodel.h and module.modulemap,
        // so Swift imports the very declarations C programs include.
        .target(name: "DaxModelHeader", path: "include", publicHeadersPath: "."),
        // The pure model: regions, devices, the kernel's allocator, sysfs text.
        .target(name: "DaxModel", path: "Sources/DaxModel", exclude: ["Fabric/README.md"],
                swiftSettings: [.define("DAXMODEL_INTERNAL_CHECKS", .when(configuration: .debug))]),
        // The C ABI: @implementation @c functions checked against daxmodel.h.
        .target(
            name: "CDaxModel",
            dependencies: ["DaxModel", "DaxModelHeader"],
            path: "Sources/CDaxModel",
            swiftSettings: [.define("DAXMODEL_INTERNAL_CHECKS", .when(configuration: .debug))],
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "-soname=libdaxmodel.so.0", "-Xlinker", "-z", "-Xlinker", "nodelete"]),
            ]),
        // C programs (SwiftPM links the library's objects into them).
        .executableTarget(name: "daxm-demo", dependencies: ["CDaxModel"], path: "examples/demo",
                          linkerSettings: [.linkedLibrary("json-c")]),
        .executableTarget(name: "daxm-ctest", dependencies: ["CDaxModel"], path: "tests/c-abi",
                          linkerSettings: [.linkedLibrary("pthread")]),
        .executableTarget(name: "dax-map", dependencies: ["CDaxModel"], path: "examples/dax-map",
                          linkerSettings: [.linkedLibrary("numa")]),
        .executableTarget(name: "dax-jobs", dependencies: ["CDaxModel"], path: "examples/dax-jobs",
                          linkerSettings: [.linkedLibrary("numa"), .linkedLibrary("json-c")]),
        .executableTarget(name: "dax-fabric", dependencies: ["CDaxModel"], path: "examples/dax-fabric",
                          exclude: ["README.md"], linkerSettings: [.linkedLibrary("json-c")]),
        // daxm: the daxctl-like CLI over a saved model (tools/daxm; ctest daxm_cli).
        .executableTarget(name: "daxm", dependencies: ["CDaxModel"], path: "tools/daxm",
                          exclude: ["CMakeLists.txt", "README.md", "test-daxm.sh"],
                          linkerSettings: [.linkedLibrary("json-c")]),
        .testTarget(
            name: "DaxModelTests",
            dependencies: ["DaxModel", "CDaxModel", "DaxModelHeader", "daxm-ctest", "daxm-demo",
                           "dax-map", "dax-jobs", "dax-fabric"],
            path: "tests/swift"),
    ]
)
