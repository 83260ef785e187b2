// The README's Swift example: a dynamic region, two devices carved the
// kernel's way, and the sysfs text the kernel would show.
import DaxModel

let bus = DaxBus()
var spec = RegionSpec(start: 0x1_0000_0000, size: 1 << 30)
spec.kind = .dynamic
spec.idle = true
let region = try bus.addRegion(spec)
let a = try region.createDevice()
try a.resize(to: 256 << 20)
let b = try region.createDevice()
try b.resize(to: 128 << 20)
try bus.writeAttribute("\(a.name)/size", Array("0".utf8))
print(region.name, "available", region.availableSize >> 20, "MiB")
print(b.name, try bus.readAttribute("\(b.name)/mapping0/start"), terminator: "")
print(bus.checkInvariants().isEmpty ? "consistent" : "inconsistent")
