-- GET /v1/Users/{identity}, rotating over the seeded identities BENCH_PREFIX .. 0 .. BENCH_USERS-1
-- (made of characters that need no percent-encoding).
dofile((os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/common.lua")

local prefix, n, i

function init(args)
   prefix = os.getenv("BENCH_PREFIX") or "bench-user-"
   n = tonumber(os.getenv("BENCH_USERS"))
   i = start_offset(n)
end

function request()
   i = i + 1
   return wrk.format("GET", "/v1/Users/" .. prefix .. (i % n))
end
