-- Every page's data starts with this (a page's own keys win).
function load(ctx)
    return { site = "Luat Blog" }
end
