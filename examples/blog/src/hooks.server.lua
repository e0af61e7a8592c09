-- Runs once in each Lua state of `luat serve`, before any route file, in the shared
-- global environment: globals defined here are visible to every route.
require("helpers")
