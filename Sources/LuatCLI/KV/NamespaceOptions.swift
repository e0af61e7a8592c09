import ArgumentParser
import KVCore

/// The store options and the NAMESPACE argument every `luat kv` command on one namespace takes.
struct NamespaceOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions

    @Argument(help: "The namespace.")
    var namespace: String

    /// Opens the store (as `StoreOptions.openStore` does) and the namespace in it.
    func open(clock: any KVClock = SystemClock()) throws -> KVNamespace {
        try store.openStore(clock: clock).namespace(namespace)
    }
}
