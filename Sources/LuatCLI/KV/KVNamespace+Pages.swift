import KVCore

extension KVNamespace {
    /// Lists page after page from `options`, following cursors, and gives each page to
    /// `body` until the last page or until `body` returns false. Returns the last page read.
    @discardableResult
    func eachPage(_ options: ListOptions, _ body: (ListResult) throws -> Bool) throws -> ListResult {
        var options = options
        while true {
            let page = try list(options)
            if try !body(page) || page.listComplete { return page }
            options.cursor = page.cursor
        }
    }

    /// How many live keys start with `prefix`.
    func countKeys(prefix: String?) throws -> Int {
        var count = 0
        try eachPage(ListOptions(prefix: prefix)) { count += $0.keys.count; return true }
        return count
    }
}
