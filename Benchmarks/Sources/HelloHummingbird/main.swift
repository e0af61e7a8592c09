import Hummingbird

// The start-up baseline of issue 7, target 7: the smallest Hummingbird 2 server, answering
// `GET /` with a fixed text. Usage: HelloHummingbird PORT
let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 8080
let router = Router()
router.get("/") { _, _ in "Hello, world!" }
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
