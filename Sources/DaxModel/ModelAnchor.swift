/// The one object every model object of a bus holds strongly: the
/// embedder's per-model state. An embedder (the C ABI's context)
/// subclasses it and anchors the bus to the subclass before the bus holds
/// any object; the model never looks inside. From any region, device,
/// range or extent the embedder then reaches its own state with one load:
/// no weak reference, no cast, no lookup, which is what keeps a C call
/// close to a plain mutex call.
///
/// Lifetime: objects keep their anchor alive, so an embedder that still
/// holds an object after tearing its model down can answer for it (with
/// -ENODEV) without touching freed memory.
open class ModelAnchor: @unchecked Sendable {
    public init() {}
}
