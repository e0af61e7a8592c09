/// A problem with the routes folder, said in one line.
public struct RouteError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
